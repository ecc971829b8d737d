"""Picking one run among several without labels: ModelCentrality (Lin, Thekumparampil, Fanti, Oh, "InfoGAN-CR
and ModelCentrality", ICML 2020, arXiv:1906.06034, Sec. 5).

Runs that found the data's factors agree with each other, while bad runs each fail in their own way and
agree with none: so every run's Q is scored on every other run's generated images, and the run most similar
to the others (the medoid) is chosen. The score of the ordered pair (i, j), rows i = the reading run's Q, columns
j = the generating run's G, is in [0, 1] (1: Q_i reads G_j's codes perfectly) and is the mean of

- `categorical`: for each categorical code k, Q_i's most likely value of code k on G_j's images against
  the value of code k that made them, after matching values one-to-one (`evaluate.matched_accuracy`);
  the mean over codes. Code k is matched to code k only, a simplification: two runs whose categorical codes
  carry the same factors in another order score low (with one categorical code, as on MNIST, it never
  arises). The paper's models have no categorical code; this part is ours, the same under both scores;
- `factor_vae`: a FactorVAE metric with G_j as the ground-truth simulator, its latent codes as the factors
  and Q_i as the encoder, whose representation is `evaluate.representation`'s (categorical argmaxes, then
  continuous means: the one of eval.json's `factor_vae`). Computed when the model has a continuous code
  and at least two codes (with one factor FactorVAE is always 1). Two variants, `score`:

  - `"dislib"` (the default, and the score of every selection published before the choice existed):
    disentanglement_lib's FactorVAE as `evaluate.factor_vae` computes it, on ONE shared pool of
    `NUM_SAMPLES` (2,048) latents drawn once (fixed by `SAMPLE_SEED`) for every pair: codes whose
    standard deviation over the pool is below 0.05 are pruned; each code's variance over the pool
    (ddof 1) normalises it; a vote fixes a factor at a random example's value, draws 64 examples sharing
    it from the pool (with replacement), and goes to the active code of least normalised variance; a
    majority-vote classifier code -> factor is fitted on 10,000 votes and the score is its accuracy on
    5,000 more. It is not the paper's score: that one prunes nothing, holds no votes out and draws
    fresh latents for every vote.
    Votes need examples that share one factor's value while the others vary, so the pool's continuous
    codes are drawn on a grid of `bins` values (the centres of `bins` equal bins of Unif(-1, 1)): every
    value is shared by ~N / bins examples whose other codes and noise vary freely, as on dSprites' grid.
  - `"infogan_cr"`: the paper's own score, as its code computes it (fjxmlzn/InfoGAN-CR,
    `InfoGAN-CR_dSprites/gan_task_mc_generate_metric_data.py` draws the data, `FactorVAE_dSprites/gan/
    metric.py`'s `FactorVAEMetric` scores it; `infogan_cr_factor_vae`): `GROUPS` (500) votes, vote m fixing
    code m mod C (round robin over the C codes) at the value of the first of `GROUP_SIZE` (100) fresh
    prior latents, the other codes and the noise drawn freshly for each; no pruning (a code constant over
    the images wins every vote, as their arithmetic gives); every code divided by its standard deviation
    (ddof 0) over `STD_SAMPLES` more fresh latents; the vote goes to the code of least standard deviation
    (ddof 0) within the group; the score is the accuracy of the majority-vote classifier on the very votes
    it was fitted on (no held-out votes). Continuous codes are drawn from the prior, not a grid; the
    latents are fixed by `SAMPLE_SEED`, the same for every pair; the `categorical` part is read on the
    `STD_SAMPLES` latents. One difference: the paper's standard deviations come from a tenth of dSprites
    (73,728 latents), ours from 10,000 (the relative standard error of a standard deviation from N
    samples, ~1/sqrt(2N), is 0.7 % there). It costs more: 60,000 images per G, each read by every Q
    (three digits runs: ~4 min on two cores, against seconds for `"dislib"`).

`pair_score`, `infogan_cr_pair_score` and `medoid` work on arrays only; `cross_scores` runs the models and
`select_workdirs` restores finished workdirs (their latest checkpoints, or with `checkpoint="best"` the ones
`--keep_best` kept in `checkpoints/best/`) and returns every score.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from infogan_tf import config as config_lib
from infogan_tf import evaluate
from infogan_tf import export as export_lib
from infogan_tf.config import ConfigError
from infogan_tf.latent import CONTINUOUS_HIGH, CONTINUOUS_LOW, LatentSpec

NUM_SAMPLES = 2048  # latents per ordered pair: ~100 examples per continuous code value with 20 bins.
BINS = 20  # grid values per continuous code (evaluate.discretize's default number of bins).
SAMPLE_SEED = 0  # one fixed latent sample (and FactorVAE vote draw) for every pair and every call.
# The pair score's FactorVAE variant (module docstring): disentanglement_lib's on one pool, or InfoGAN-CR's.
SCORES = ("dislib", "infogan_cr")
# Which checkpoint of each workdir is scored: the latest, or the one `--keep_best` kept in checkpoints/best/.
CHECKPOINTS = ("latest", "best")
GROUPS = 500  # InfoGAN-CR's M: votes per ordered pair, each one group of latents.
GROUP_SIZE = 100  # InfoGAN-CR's L: fresh latents per group.
STD_SAMPLES = 10_000  # fresh latents for each code's standard deviation under "infogan_cr".


def check_spec(spec: LatentSpec) -> None:
    """ConfigError unless the model has something to score: a categorical code, or two codes or more."""
    if not spec.categorical and spec.continuous < 2:
        raise ConfigError(
            f"--recipe=select scores how well one run's Q reads another run's codes, which needs a categorical "
            f"code or at least two continuous codes (this model has no categorical code and {spec.continuous} "
            "continuous); set --categorical or --continuous."
        )


def check_choices(score: str = "dislib", checkpoint: str = "latest") -> None:
    """ConfigError unless `score` is one of `SCORES` and `checkpoint` one of `CHECKPOINTS`."""
    if score not in SCORES:
        raise ConfigError(f"--select_score={score} must be one of {', '.join(SCORES)}.")
    if checkpoint not in CHECKPOINTS:
        raise ConfigError(f"--select_checkpoint={checkpoint} must be one of {', '.join(CHECKPOINTS)}.")


def categorical_agreement(reading: np.ndarray, codes: np.ndarray, num_categorical: int) -> float:
    """The mean over the first `num_categorical` columns of the matched accuracy of Q's reading of code k
    against the value of code k that made the image (`evaluate.matched_accuracy`)."""
    return float(
        np.mean(
            [
                evaluate.matched_accuracy(reading[:, k].astype(np.int64), codes[:, k].astype(np.int64))
                for k in range(num_categorical)
            ]
        )
    )


def pair_score(reading: np.ndarray, codes: np.ndarray, num_categorical: int, seed: int = SAMPLE_SEED) -> dict:
    """How well one run's Q reads the codes that made another run's images; no models involved.

    Args:
        reading: [N, n_cat + n_cont] Q_i's reading of G_j's images as `evaluate.representation` gives it:
            the most likely value of each categorical code, then the continuous means.
        codes: [N, n_cat + n_cont] the latent codes G_j made them from, in the same layout (categorical
            values, then continuous codes; continuous codes on a grid, see the module docstring).
        num_categorical: n_cat, how many leading columns are categorical.
        seed: seeds FactorVAE's draw of votes.

    Returns:
        `categorical` (when n_cat > 0), `factor_vae` (with a continuous code and two codes or more) and
        `score`, their mean, each in [0, 1].
    """
    reading, codes = np.asarray(reading), np.asarray(codes)
    if reading.shape != codes.shape or reading.ndim != 2 or not 0 <= num_categorical <= codes.shape[1]:
        raise ValueError(f"reading {reading.shape} and codes {codes.shape} must be equal [N, C] with C >= n_cat.")
    parts = {}
    if num_categorical:
        parts["categorical"] = categorical_agreement(reading, codes, num_categorical)
    if codes.shape[1] > num_categorical and codes.shape[1] >= 2:
        factors = evaluate.discrete_factors(codes, bins=BINS)
        parts["factor_vae"] = evaluate.factor_vae(reading, factors, np.random.default_rng(seed))
    if not parts:
        raise ValueError(f"codes {codes.shape} with {num_categorical} categorical: nothing to score (check_spec).")
    return {**parts, "score": float(np.mean(list(parts.values())))}


def infogan_cr_factor_vae(std_reading: np.ndarray, group_readings: np.ndarray, fixed: np.ndarray) -> float:
    """InfoGAN-CR's FactorVAE metric (their `FactorVAEMetric.evaluate`) on an encoder's readings; no models.

    Args:
        std_reading: [S, C] the encoder's reading of S images made from fresh prior latents; each code's
            standard deviation over them (ddof 0) divides that code everywhere below.
        group_readings: [M, L, C] its reading of M groups of L images each; in group m factor `fixed[m]`
            took one value while every other factor varied.
        fixed: [M] the factor each group fixed.

    Returns:
        The share of the M votes that the majority-vote classifier code -> factor, fitted on these same
        votes, gets right: the sum over codes of the most votes any one factor gave the code, over M. Vote m
        goes to the code of least standard deviation (ddof 0) within group m. Nothing is pruned: a code
        constant over the S images has standard deviation 0, its divided readings are infinite or NaN and
        so is its spread, which `np.argmin`, as in their code, takes for the least: the (first) constant
        code wins every vote. Constancy is tested exactly (max == min), as float rounding can leave a
        constant's computed standard deviation a hair above 0, which would make the outcome an accident.
    """
    std_reading = np.asarray(std_reading, np.float64)
    group_readings = np.asarray(group_readings, np.float64)
    fixed = np.asarray(fixed, np.int64)
    if (
        std_reading.ndim != 2
        or group_readings.ndim != 3
        or group_readings.shape[2] != std_reading.shape[1]
        or fixed.shape != group_readings.shape[:1]
        or not len(fixed)
    ):
        raise ValueError(
            f"std_reading {std_reading.shape}, group_readings {group_readings.shape} and fixed {fixed.shape} must "
            "be [S, C], [M, L, C] and [M] with M > 0."
        )
    scale = np.std(std_reading, axis=0)
    scale[np.ptp(std_reading, axis=0) == 0] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant code: x / 0, kept as their code keeps it
        spread = np.std(group_readings / scale, axis=1)  # [M, C]
    votes = np.zeros((std_reading.shape[1], fixed.max() + 1), np.int64)
    np.add.at(votes, (np.argmin(spread, axis=1), fixed), 1)
    return float(votes.max(axis=1).sum() / len(fixed))


def infogan_cr_pair_score(
    std_reading: np.ndarray,
    std_codes: np.ndarray,
    group_readings: np.ndarray,
    fixed: np.ndarray,
    num_categorical: int,
) -> dict:
    """`pair_score` under `score="infogan_cr"`: how well one run's Q reads another run's codes; no models.

    Args:
        std_reading: [S, n_cat + n_cont] Q_i's reading (`evaluate.representation`'s) of G_j's images made
            from S fresh prior latents.
        std_codes: [S, n_cat + n_cont] those latents' codes, categorical values then continuous codes.
        group_readings: [M, L, n_cat + n_cont] Q_i's reading of G_j's images of M groups of L latents; in
            group m, code `fixed[m]` (categorical codes first) is shared and the rest drawn freshly.
        fixed: [M] the code each group shares.
        num_categorical: n_cat, how many leading columns are categorical.

    Returns:
        `categorical` (when n_cat > 0; matched accuracy on the S images, as `pair_score`'s),
        `factor_vae` (`infogan_cr_factor_vae`, with a continuous code and two codes or more) and `score`,
        their mean, each in [0, 1].
    """
    std_reading, std_codes = np.asarray(std_reading), np.asarray(std_codes)
    if std_reading.shape != std_codes.shape or std_reading.ndim != 2 or not 0 <= num_categorical <= std_codes.shape[1]:
        raise ValueError(
            f"std_reading {std_reading.shape} and std_codes {std_codes.shape} must be equal [S, C] with C >= n_cat."
        )
    parts = {}
    if num_categorical:
        parts["categorical"] = categorical_agreement(std_reading, std_codes, num_categorical)
    if std_codes.shape[1] > num_categorical and std_codes.shape[1] >= 2:
        parts["factor_vae"] = infogan_cr_factor_vae(std_reading, group_readings, fixed)
    if not parts:
        raise ValueError(f"codes {std_codes.shape} with {num_categorical} categorical: nothing to score (check_spec).")
    return {**parts, "score": float(np.mean(list(parts.values())))}


def medoid(scores) -> tuple[np.ndarray, np.ndarray, int]:
    """The run most similar to the others under the pair scores `scores` [n, n] (n >= 2).

    Returns the symmetrised matrix (S + S^T) / 2, each run's centrality (its mean symmetrised score with
    the n - 1 other runs, the diagonal excluded: the total similarity the paper ranks by, divided by
    n - 1 to stay in [0, 1]) and the index of the most central run (the first one on a tie).
    """
    scores = np.asarray(scores, np.float64)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1] or scores.shape[0] < 2:
        raise ValueError(f"scores {scores.shape} must be a square matrix of at least two runs.")
    symmetric = (scores + scores.T) / 2
    centrality = (symmetric.sum(axis=1) - np.diag(symmetric)) / (len(scores) - 1)
    return symmetric, centrality, int(np.argmax(centrality))


def grid_latents(spec: LatentSpec, num_samples: int, seed: int = SAMPLE_SEED, bins: int = BINS):
    """`num_samples` latents from the prior, continuous codes moved to the centre of their bin of `bins`."""
    latent = spec.sample(tf.random.Generator.from_seed(seed), num_samples)
    edges = np.linspace(CONTINUOUS_LOW, CONTINUOUS_HIGH, bins + 1)
    centres = ((edges[:-1] + edges[1:]) / 2).astype(np.float32)
    latent["continuous"] = tf.constant(centres[np.digitize(latent["continuous"].numpy(), edges[1:-1])])
    return latent


def infogan_cr_latents(
    spec: LatentSpec,
    std_samples: int = STD_SAMPLES,
    groups: int = GROUPS,
    group_size: int = GROUP_SIZE,
    seed: int = SAMPLE_SEED,
) -> tuple[dict[str, tf.Tensor], np.ndarray]:
    """The latents `score="infogan_cr"` reads: `std_samples` from the prior, then `groups` groups of
    `group_size`, group m sharing code m mod C (`code_names`' order) at its first latent's value.

    Returns the latents (the `std_samples` first, then the groups', group by group) and `fixed` [groups],
    the code each group shares.
    """
    num_codes = len(spec.categorical) + spec.continuous
    latent = spec.sample(tf.random.Generator.from_seed(seed), std_samples + groups * group_size)
    fixed = np.arange(groups) % num_codes  # round robin, as their `i % 5` over dSprites' five codes
    rows = np.arange(groups)
    for name, first in (("categorical", 0), ("continuous", len(spec.categorical))):
        values = np.array(latent[name])
        grouped = values[std_samples:].reshape(groups, group_size, values.shape[1])  # a view: edits reach `values`
        mine = (fixed >= first) & (fixed < first + values.shape[1])
        column = fixed[mine] - first
        grouped[rows[mine], :, column] = grouped[rows[mine], 0, column][:, None]
        latent[name] = tf.constant(values)
    return latent, fixed


def cross_scores(
    runs: Sequence[tuple],
    spec: LatentSpec,
    num_samples: int | None = None,
    seed: int = SAMPLE_SEED,
    bins: int = BINS,
    batch_size: int = 256,
    score: str = "dislib",
    groups: int | None = None,
    group_size: int | None = None,
) -> dict[str, np.ndarray]:
    """Every run's Q on every run's images: `pair_score` (or `infogan_cr_pair_score`) of each ordered pair,
    in inference mode.

    Args:
        runs: (generator, discriminator) per run, all of latent spec `spec` and one image shape.
        spec: the runs' latent spec.
        num_samples: with `score="dislib"` the latents of the one pool every pair is scored on (default
            `NUM_SAMPLES`); with `"infogan_cr"` the fresh latents of the standard deviations (default
            `STD_SAMPLES`). The same latents (fixed by `seed`) for every G.
        seed: seeds the latents and FactorVAE's votes.
        bins: grid values per continuous code (`"dislib"` only).
        batch_size: images per G or D call.
        score: `"dislib"` or `"infogan_cr"` (module docstring).
        groups, group_size: `"infogan_cr"`'s votes per pair and latents per vote (default `GROUPS`,
            `GROUP_SIZE`; read when called, so a test can shrink them).

    Returns:
        `{part: [n, n] matrix}` for `score` and each of its parts; entry [i, j] is Q_i reading G_j.
    """
    check_choices(score=score)
    if score == "infogan_cr":
        return _infogan_cr_cross_scores(
            runs, spec, num_samples or STD_SAMPLES, groups or GROUPS, group_size or GROUP_SIZE, seed, batch_size
        )
    num_samples = num_samples or NUM_SAMPLES
    latent = grid_latents(spec, num_samples, seed, bins)
    codes = np.concatenate([latent["categorical"].numpy(), latent["continuous"].numpy()], axis=1)
    matrices: dict[str, np.ndarray] = {}
    for j, (generator, _) in enumerate(runs):
        # One run's images at a time: n image sets of 2,048 64x64 images would hold 33 MB each.
        images = np.concatenate(
            [
                generator({name: value[start : start + batch_size] for name, value in latent.items()}, training=False)
                for start in range(0, num_samples, batch_size)
            ]
        )
        for i, (_, discriminator) in enumerate(runs):
            reading = evaluate.representation(discriminator, spec, images, batch_size)
            for name, value in pair_score(reading, codes, len(spec.categorical), seed).items():
                matrices.setdefault(name, np.zeros((len(runs), len(runs))))[i, j] = value
    return matrices


def _infogan_cr_cross_scores(
    runs: Sequence[tuple], spec: LatentSpec, std_samples: int, groups: int, group_size: int, seed: int, batch_size: int
) -> dict[str, np.ndarray]:
    """`cross_scores` under `score="infogan_cr"`."""
    latent, fixed = infogan_cr_latents(spec, std_samples, groups, group_size, seed)
    codes = np.concatenate([latent["categorical"].numpy(), latent["continuous"].numpy()], axis=1)[:std_samples]
    total = std_samples + groups * group_size
    matrices: dict[str, np.ndarray] = {}
    for j, (generator, _) in enumerate(runs):
        # Each batch of G_j's images is read by every Q at once and dropped: 60,000 64x64 images would
        # hold 1 GB, their readings a few MB.
        readings: list[list[np.ndarray]] = [[] for _ in runs]
        for start in range(0, total, batch_size):
            images = generator(
                {name: value[start : start + batch_size] for name, value in latent.items()}, training=False
            )
            for i, (_, discriminator) in enumerate(runs):
                readings[i].append(evaluate.representation(discriminator, spec, images, batch_size))
        for i, parts in enumerate(readings):
            reading = np.concatenate(parts)
            group_readings = reading[std_samples:].reshape(groups, group_size, reading.shape[1])
            pair = infogan_cr_pair_score(reading[:std_samples], codes, group_readings, fixed, len(spec.categorical))
            for name, value in pair.items():
                matrices.setdefault(name, np.zeros((len(runs), len(runs))))[i, j] = value
    return matrices


def _describe(config: config_lib.Config) -> str:
    return (
        f"noise {config.noise_dim}, categorical {list(config.categorical)}, continuous {config.continuous}, "
        f"images {list(config.image_shape)}"
    )


def best_dir(workdir: str) -> str:
    """Where `--keep_best` keeps a run's best checkpoint (train.BestCheckpoint)."""
    return os.path.join(workdir, "checkpoints", "best")


def check_workdirs(workdirs: Sequence[str], checkpoint: str = "latest") -> list[config_lib.Config]:
    """The configs of `workdirs`, each a finished run (config.json, a checkpoint; with `checkpoint="best"` one
    in `checkpoints/best/` too) of one latent spec and image shape, so every Q can read every G's images;
    ConfigError naming the directory otherwise."""
    check_choices(checkpoint=checkpoint)
    if len(workdirs) < 2:
        raise ConfigError(
            f"--workdirs={','.join(workdirs)} gives {len(workdirs)} run; ModelCentrality compares runs, give two "
            "or more."
        )
    configs = []
    for workdir in workdirs:
        if not os.path.isdir(workdir):
            raise ConfigError(f"--workdirs: {workdir} is not a directory; give the workdirs of finished training runs.")
        config = config_lib.read_workdir_config(workdir)
        if config is None:
            raise ConfigError(f"--workdirs: {workdir} has no config.json; give the workdirs of finished training runs.")
        first = configs[0] if configs else config
        if (LatentSpec.from_config(config), config.image_shape) != (LatentSpec.from_config(first), first.image_shape):
            raise ConfigError(
                f"--workdirs: {workdir} has {_describe(config)} but {workdirs[0]} has {_describe(first)}; select "
                "among runs of one latent spec and image shape."
            )
        configs.append(config)
    for workdir in workdirs:
        if not tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")):
            raise ConfigError(
                f"--workdirs: {workdir} has no checkpoint yet; train it first (python train.py --workdir={workdir})."
            )
    if checkpoint == "best":
        for workdir in workdirs:
            if not tf.train.latest_checkpoint(best_dir(workdir)):
                raise ConfigError(
                    f"--select_checkpoint=best: {workdir} has no checkpoint in checkpoints/best/, which only runs "
                    "trained with --keep_best keep; train it with --keep_best or give --select_checkpoint=latest."
                )
    check_spec(LatentSpec.from_config(configs[0]))
    return configs


def _run_names(workdirs: Sequence[str]) -> list[str]:
    """Each run's directory name, or the whole paths where two names are alike (e.g. a/run and b/run)."""
    names = [os.path.basename(os.path.normpath(workdir)) for workdir in workdirs]
    return names if len(set(names)) == len(names) else list(workdirs)


def _read_json(path: str) -> dict:
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def select_workdirs(
    workdirs: Sequence[str],
    num_samples: int | None = None,
    seed: int = SAMPLE_SEED,
    bins: int = BINS,
    score: str = "dislib",
    checkpoint: str = "latest",
) -> dict:
    """ModelCentrality over finished workdirs: every score, each run's centrality and the chosen run.

    Args:
        workdirs: finished training runs of one latent spec and image shape.
        num_samples, seed, bins: as `cross_scores` takes them.
        score: the pair score's FactorVAE variant, `"dislib"` or `"infogan_cr"` (module docstring).
        checkpoint: `"latest"`, each run's latest checkpoint, or `"best"`, the one `--keep_best` kept in
            `checkpoints/best/` (ConfigError naming a workdir without one).

    Labels play no part in the choice; each run's evaluation of the scored checkpoint (eval.json, or with
    `"best"` checkpoints/best/best.json: categorical accuracy on real labels, MIG / FactorVAE against true
    factors, L_I) is copied beside its centrality, to judge the pick by.
    """
    check_choices(score, checkpoint)
    configs = check_workdirs(workdirs, checkpoint)
    restored = [
        export_lib.restore(workdir, tf.train.latest_checkpoint(best_dir(workdir)) if checkpoint == "best" else None)
        for workdir in workdirs
    ]
    num_samples = num_samples or (STD_SAMPLES if score == "infogan_cr" else NUM_SAMPLES)
    matrices = cross_scores(
        [models[1:3] for models in restored], LatentSpec.from_config(configs[0]), num_samples, seed, bins, score=score
    )
    symmetric, centrality, chosen = medoid(matrices["score"])
    names = _run_names(workdirs)
    evaluations = [
        _read_json(
            os.path.join(best_dir(workdir), "best.json") if checkpoint == "best" else os.path.join(workdir, "eval.json")
        )
        for workdir in workdirs
    ]
    per_run = [
        {
            "name": name,
            "workdir": workdir,
            "seed": config.seed,
            "checkpoint": models[3],
            "centrality": float(centrality[i]),
            "eval": evaluation,
        }
        for i, (name, workdir, config, models, evaluation) in enumerate(
            zip(names, workdirs, configs, restored, evaluations, strict=True)
        )
    ]
    sizes = {"groups": GROUPS, "group_size": GROUP_SIZE} if score == "infogan_cr" else {"continuous_bins": bins}
    return {
        "method": "ModelCentrality (Lin et al. 2020, arXiv:1906.06034): the medoid of the symmetrised scores",
        "matrix_layout": "scores[i][j]: run i's Q reading run j's generated images",
        "pair_score": score,
        "checkpoint": checkpoint,
        "num_samples": num_samples,
        "sample_seed": seed,
        **sizes,
        "runs": per_run,
        "scores": {
            "raw": matrices["score"].tolist(),
            "symmetric": symmetric.tolist(),
            **{name: matrix.tolist() for name, matrix in matrices.items() if name != "score"},
        },
        "chosen": {"index": chosen, **{k: per_run[chosen][k] for k in ("name", "workdir", "seed", "centrality")}},
    }


def select_by_slant_share(workdirs: Sequence[str], images: np.ndarray) -> dict:
    """The run whose first categorical code explains the least of the real images' slant
    (`evaluate.slant_share` of each run's latest checkpoint reading `images`), without labels: on MNIST a
    Cat(10) that keeps every digit whole explains ~0.09 of it, one that cuts a pair of digits by how they lean
    0.15-0.21 (BUILD_NOTES, 2026-12-07). `images`: real one-channel training images [N, H, W, 1] in [0, 1].
    Returns `select_workdirs`' layout (each run's share beside its eval.json, the chosen run) without scores."""
    configs = check_workdirs(workdirs)
    names = _run_names(workdirs)
    runs = []
    for name, workdir, config in zip(names, workdirs, configs, strict=True):
        _, _, discriminator, checkpoint = export_lib.restore(workdir)
        categories = evaluate.representation(discriminator, LatentSpec.from_config(config), images)[:, 0]
        runs.append(
            {
                "name": name,
                "workdir": workdir,
                "seed": config.seed,
                "checkpoint": checkpoint,
                "slant_share": evaluate.slant_share(categories, images),
                "eval": _read_json(os.path.join(workdir, "eval.json")),
            }
        )
    chosen = int(np.argmin([run["slant_share"] for run in runs]))
    return {
        "method": "the lowest slant share: the run whose first categorical code explains the least of the real "
        "images' slant (evaluate.slant_share)",
        "checkpoint": "latest",
        "num_images": len(images),
        "runs": runs,
        "chosen": {"index": chosen, **{k: runs[chosen][k] for k in ("name", "workdir", "seed", "slant_share")}},
    }
