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
  arises);
- `factor_vae`: the paper's ModelCentrality score, the FactorVAE metric (`evaluate.factor_vae`) with
  G_j as the ground-truth generator, its latent codes as the factors, and Q_i as the encoder, whose
  representation is `evaluate.representation`'s (categorical argmaxes, then continuous means: the one of
  eval.json's `factor_vae`). FactorVAE's votes need examples that share one factor's value while the
  others vary (its procedure fixes a factor and draws the rest); with G_j as the simulator that is exact
  when continuous codes are drawn on a grid of `bins` values (the centres of `bins` equal bins of
  Unif(-1, 1)): every value is shared by ~N / bins examples whose other codes and noise vary freely, as
  on dSprites' grid of factors, and one pre-drawn sample serves every pair. Computed when the model has
  a continuous code and at least two codes (with one factor FactorVAE is always 1).

`pair_score` and `medoid` work on arrays only; `cross_scores` runs the models and `select_workdirs`
restores finished workdirs and returns every score.
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


def check_spec(spec: LatentSpec) -> None:
    """ConfigError unless the model has something to score: a categorical code, or two codes or more."""
    if not spec.categorical and spec.continuous < 2:
        raise ConfigError(
            f"--recipe=select scores how well one run's Q reads another run's codes, which needs a categorical "
            f"code or at least two continuous codes (this model has no categorical code and {spec.continuous} "
            "continuous); set --categorical or --continuous."
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
        parts["categorical"] = float(
            np.mean(
                [
                    evaluate.matched_accuracy(reading[:, k].astype(np.int64), codes[:, k].astype(np.int64))
                    for k in range(num_categorical)
                ]
            )
        )
    if codes.shape[1] > num_categorical and codes.shape[1] >= 2:
        factors = evaluate.discrete_factors(codes, bins=BINS)
        parts["factor_vae"] = evaluate.factor_vae(reading, factors, np.random.default_rng(seed))
    if not parts:
        raise ValueError(f"codes {codes.shape} with {num_categorical} categorical: nothing to score (check_spec).")
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


def cross_scores(
    runs: Sequence[tuple],
    spec: LatentSpec,
    num_samples: int = NUM_SAMPLES,
    seed: int = SAMPLE_SEED,
    bins: int = BINS,
    batch_size: int = 256,
) -> dict[str, np.ndarray]:
    """Every run's Q on every run's images: `pair_score` of each ordered pair, in inference mode.

    Args:
        runs: (generator, discriminator) per run, all of latent spec `spec` and one image shape.
        spec: the runs' latent spec.
        num_samples: latents per pair, the same `num_samples` (fixed by `seed`) for every G.
        seed: seeds the latents and FactorVAE's votes.
        bins: grid values per continuous code.
        batch_size: images per G or D call.

    Returns:
        `{part: [n, n] matrix}` for `score` and each of its parts; entry [i, j] is Q_i reading G_j.
    """
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


def _describe(config: config_lib.Config) -> str:
    return (
        f"noise {config.noise_dim}, categorical {list(config.categorical)}, continuous {config.continuous}, "
        f"images {list(config.image_shape)}"
    )


def check_workdirs(workdirs: Sequence[str]) -> list[config_lib.Config]:
    """The configs of `workdirs`, each a finished run (config.json, a checkpoint) of one latent spec and
    image shape, so every Q can read every G's images; ConfigError naming the directory otherwise."""
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
    check_spec(LatentSpec.from_config(configs[0]))
    return configs


def _read_eval(workdir: str) -> dict:
    path = os.path.join(workdir, "eval.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def select_workdirs(
    workdirs: Sequence[str], num_samples: int = NUM_SAMPLES, seed: int = SAMPLE_SEED, bins: int = BINS
) -> dict:
    """ModelCentrality over finished workdirs: every score, each run's centrality and the chosen run.

    Labels play no part in the choice; each run's eval.json (categorical accuracy on real labels,
    MIG / FactorVAE against true factors, L_I) is copied beside its centrality, to judge the pick by.
    """
    configs = check_workdirs(workdirs)
    runs = [export_lib.restore(workdir)[1:3] for workdir in workdirs]
    matrices = cross_scores(runs, LatentSpec.from_config(configs[0]), num_samples, seed, bins)
    symmetric, centrality, chosen = medoid(matrices["score"])
    names = [os.path.basename(os.path.normpath(workdir)) for workdir in workdirs]
    if len(set(names)) < len(names):  # e.g. a/run and b/run: the whole paths tell them apart
        names = list(workdirs)
    per_run = [
        {
            "name": name,
            "workdir": workdir,
            "seed": config.seed,
            "centrality": float(centrality[i]),
            "eval": _read_eval(workdir),
        }
        for i, (name, workdir, config) in enumerate(zip(names, workdirs, configs, strict=True))
    ]
    return {
        "method": "ModelCentrality (Lin et al. 2020, arXiv:1906.06034): the medoid of the symmetrised scores",
        "matrix_layout": "scores[i][j]: run i's Q reading run j's generated images",
        "num_samples": num_samples,
        "sample_seed": seed,
        "continuous_bins": bins,
        "runs": per_run,
        "scores": {
            "raw": matrices["score"].tolist(),
            "symmetric": symmetric.tolist(),
            **{name: matrix.tolist() for name, matrix in matrices.items() if name != "score"},
        },
        "chosen": {"index": chosen, **{k: per_run[chosen][k] for k in ("name", "workdir", "seed", "centrality")}},
    }
