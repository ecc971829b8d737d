"""ModelCentrality (`infogan_tf.selection`, `python reproduce.py --recipe=select`): pair scores on constructed
codes, the medoid by hand, a scrambled Q among real models, the recipe end to end on tiny runs, bad inputs."""

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_recipes import TINY  # 2-step runs, no XLA compile time

from infogan_tf import config as config_lib
from infogan_tf import export as export_lib
from infogan_tf import recipes, selection
from infogan_tf.config import ConfigError
from infogan_tf.latent import LatentSpec
from infogan_tf.models import LEAKY_SLOPE, build_models


def _codes(spec: LatentSpec, num_samples: int = 2048, seed: int = 0) -> np.ndarray:
    latent = selection.grid_latents(spec, num_samples, seed)
    return np.concatenate([latent["categorical"].numpy(), latent["continuous"].numpy()], axis=1)


@pytest.mark.parametrize("categorical, continuous", [((3, 10), 2), ((10,), 0), ((), 3)])
def test_a_q_reading_every_code_up_to_relabelling_and_scale_scores_exactly_one(categorical, continuous):
    spec = LatentSpec(noise_dim=4, categorical=categorical, continuous=continuous)
    codes = _codes(spec)
    rng = np.random.default_rng(0)
    reading = codes.copy()
    for k, size in enumerate(categorical):  # Q's categories are its own names for G's: any permutation
        reading[:, k] = rng.permutation(size)[codes[:, k].astype(np.int64)]
    reading[:, len(categorical) :] = 1.7 * codes[:, len(categorical) :] - 0.3
    assert not np.array_equal(reading, codes)
    score = selection.pair_score(reading, codes, len(categorical))
    assert score["score"] == 1.0
    assert set(score) == {"score"} | ({"categorical"} if categorical else set()) | (
        {"factor_vae"} if continuous else set()
    )
    # Continuous codes lie on the grid, every value shared by ~N / BINS examples (FactorVAE's votes).
    for column in codes[:, len(categorical) :].T:
        assert len(np.unique(column)) == selection.BINS


def test_a_q_reading_nothing_scores_chance():
    spec = LatentSpec(noise_dim=4, categorical=(3,), continuous=2)
    codes = _codes(spec)
    rng = np.random.default_rng(1)
    reading = np.concatenate([rng.integers(0, 3, (len(codes), 1)), rng.uniform(-1, 1, (len(codes), 2))], axis=1)
    score = selection.pair_score(reading, codes, 1)
    # Chance: 1/3 for Cat(3) (a little above after the best matching) and ~1/3 for FactorVAE's 3 factors.
    assert 0.3 < score["categorical"] < 0.4 and score["factor_vae"] < 0.5, score


def test_centrality_and_medoid_match_the_hand_computation():
    scores = [
        [0.1, 0.8, 0.2],  # the diagonal (a run reading itself) never counts: run 0's 0.1, run 2's 1.0
        [0.6, 1.0, 0.6],
        [0.4, 0.2, 1.0],
    ]
    symmetric, centrality, chosen = selection.medoid(scores)
    # (S + S^T) / 2 off the diagonal: 0-1 (0.8 + 0.6) / 2 = 0.7, 0-2 0.3, 1-2 (0.6 + 0.2) / 2 = 0.4.
    np.testing.assert_allclose(symmetric, [[0.1, 0.7, 0.3], [0.7, 1.0, 0.4], [0.3, 0.4, 1.0]])
    np.testing.assert_allclose(centrality, [(0.7 + 0.3) / 2, (0.7 + 0.4) / 2, (0.3 + 0.4) / 2])
    assert chosen == 1


@pytest.mark.parametrize("scrambled", range(5))
def test_a_scrambled_run_among_agreeing_runs_is_never_the_medoid(scrambled):
    rng = np.random.default_rng(scrambled)
    for _ in range(200):
        scores = rng.normal(0.9, 0.05, (5, 5))  # four runs reading each other's codes well...
        scores[scrambled, :] = rng.normal(0.35, 0.05, 5)  # ...and one at chance both ways
        scores[:, scrambled] = rng.normal(0.35, 0.05, 5)
        _, centrality, chosen = selection.medoid(np.clip(scores, 0, 1))
        assert chosen != scrambled and centrality[scrambled] == centrality.min()


def _infogan_cr_codes(spec: LatentSpec, std_samples: int = 1000, groups: int = 500, group_size: int = 100):
    """(the std sample's codes [S, C], the groups' codes [M, L, C], fixed [M]) of `infogan_cr_latents`."""
    latent, fixed = selection.infogan_cr_latents(spec, std_samples, groups, group_size)
    codes = np.concatenate([latent["categorical"].numpy(), latent["continuous"].numpy()], axis=1)
    return codes[:std_samples], codes[std_samples:].reshape(groups, group_size, codes.shape[1]), fixed


def test_the_papers_groups_share_one_code_each_in_round_robin_and_draw_the_rest_freshly():
    spec = LatentSpec(noise_dim=4, categorical=(3,), continuous=2)
    std_codes, groups, fixed = _infogan_cr_codes(spec)
    # Group m shares code m mod 3 (as their `i % 5` over dSprites' five codes): 167, 167 and 166 groups.
    np.testing.assert_array_equal(fixed, np.arange(500) % 3)
    for group, code in zip(groups, fixed, strict=True):
        assert len(np.unique(group[:, code])) == 1
        assert all(len(np.unique(group[:, other])) > 1 for other in range(3) if other != code)
    # Continuous codes come from the prior, not a grid; the std sample shares nothing.
    assert len(np.unique(std_codes[:, 1])) == 1000 and len(np.unique(std_codes[:, 0])) == 3


def test_the_papers_score_is_one_for_a_perfect_reader_and_the_majority_rate_for_a_constant_one():
    spec = LatentSpec(noise_dim=4, categorical=(3,), continuous=2)
    std_codes, groups, fixed = _infogan_cr_codes(spec)

    def score(read):  # the same reader on the std sample and on every group
        return selection.infogan_cr_pair_score(read(std_codes), std_codes, read(groups), fixed, 1)

    relabel = np.array([2, 0, 1])

    def perfect(codes):  # Q's own names for the categories, its own scale for the continuous codes
        return np.concatenate([relabel[codes[..., :1].astype(np.int64)], 1.7 * codes[..., 1:] - 0.3], axis=-1)

    assert score(perfect) == {"categorical": 1.0, "factor_vae": 1.0, "score": 1.0}
    # Swapping the two continuous codes: each group's votes still all go to one code, and the majority
    # vote ignores which: exactly 1 again.
    assert score(lambda codes: perfect(codes)[..., [0, 2, 1]])["factor_vae"] == 1.0
    # A constant reading: every code is constant, each spread NaN, np.argmin takes code 0 for every vote,
    # and the classifier gets right the groups of the factor code 0 was given most: 167 of 500.
    assert score(lambda codes: np.zeros_like(codes))["factor_vae"] == 167 / 500
    # One dead code among readers: no pruning, so it wins every vote as well (their code's arithmetic).
    dead = score(lambda codes: np.concatenate([perfect(codes)[..., :2], np.full(codes[..., 2:].shape, 0.3)], -1))
    assert dead["factor_vae"] == 167 / 500 and dead["categorical"] == 1.0


def test_the_papers_score_divides_by_the_std_and_is_the_accuracy_on_the_votes_it_was_fitted_on():
    # Two codes; their standard deviations (ddof 0) over the std sample are 10 and 0.1.
    std_reading = np.array([[-10.0, -0.1], [10.0, 0.1]])
    # Four groups of two, fixing factors 0, 1, 0, 1. Spread within each group after the division:
    # [1/10, 0.05/0.1] = [0.1, 0.5] for the first three (votes to code 0), [5/10, 0.001/0.1] = [0.5, 0.01]
    # for the last (code 1). Undivided, code 1 (0.05 < 1) would take the first three votes.
    usual, last = [[-1.0, -0.05], [1.0, 0.05]], [[-5.0, -0.001], [5.0, 0.001]]
    group_readings = np.array([usual, usual, usual, last])
    fixed = np.array([0, 1, 0, 1])
    # Votes: code 0 <- factor 0 twice, factor 1 once; code 1 <- factor 1 once. The majority classifier
    # (code 0 -> 0, code 1 -> 1), scored on those same four votes: 3 of 4. (Undivided: code 1 gets
    # 0, 1, 0 and code 0 the last: 2 of 4.)
    assert selection.infogan_cr_factor_vae(std_reading, group_readings, fixed) == 0.75


def test_the_papers_score_keeps_a_code_that_disentanglement_libs_prunes():
    spec = LatentSpec(noise_dim=4, categorical=(3,), continuous=2)
    std_codes, groups, fixed = _infogan_cr_codes(spec)
    scale = np.array([1.0, 0.01, 1.0])  # cont0 read at 1/100 of its scale: std ~0.006, below 0.05
    assert selection.infogan_cr_factor_vae(std_codes * scale, groups * scale, fixed) == 1.0
    # The default score prunes it (`evaluate.factor_vae`), and the third of the votes that fix cont0 go
    # to the other two codes, whose classifier entries are their own factors': ~2/3.
    codes = _codes(spec)
    assert selection.pair_score(codes * scale, codes, 1)["factor_vae"] == pytest.approx(2 / 3, abs=0.03)


def _read_codes_exactly(generator, discriminator, spec: LatentSpec, seed: int = 1) -> None:
    """Sets D's Q head to the least-squares read-out of G's codes from Q's hidden layer, fitted on 512
    latents drawn with `seed` (a Q that reads G as a well-trained InfoGAN's does; 2 training steps teach
    it nothing)."""
    latent = selection.grid_latents(spec, 512, seed=seed)  # not the sample the scores are computed on
    features = discriminator(generator(latent, training=False), training=False)["features"]
    hidden = keras.ops.leaky_relu(discriminator.q_bn(discriminator.q_fc(features), training=False), LEAKY_SLOPE)
    inputs = np.concatenate([np.asarray(hidden), np.ones((512, 1))], axis=1)
    one_hot = np.eye(spec.categorical[0])[latent["categorical"].numpy()[:, 0]]
    targets = np.concatenate([one_hot, latent["continuous"].numpy()], axis=1)
    weights = np.linalg.lstsq(inputs, targets, rcond=None)[0].astype(np.float32)
    discriminator.q_head.set_weights([weights[:-1], weights[-1]])


def _reader_and_scrambled(copy_weights):
    """(spec, G, a Q that reads G's codes, the same Q with its head's input rows permuted)."""
    keras.utils.set_random_seed(0)
    # Little noise, so G's images depend mostly on the codes a linear Q head can then read.
    config = config_lib.Config(noise_dim=2, categorical=(3,), continuous=2, jit_compile=False)
    spec = LatentSpec.from_config(config)
    generator, reader = build_models(config)
    _read_codes_exactly(generator, reader, spec)
    _, scrambled = build_models(config)
    copy_weights(reader, scrambled)
    kernel, bias = scrambled.q_head.get_weights()
    scrambled.q_head.set_weights([kernel[np.random.default_rng(0).permutation(len(kernel))], bias])
    return spec, generator, reader, scrambled


def test_a_run_whose_q_is_scrambled_scores_chance_and_is_not_chosen(copy_weights):
    spec, generator, reader, scrambled = _reader_and_scrambled(copy_weights)
    # Same G everywhere: only Q differs, so run 1 is scored down for its Q alone.
    matrices = selection.cross_scores([(generator, reader), (generator, scrambled), (generator, reader)], spec, 256)
    _, centrality, chosen = selection.medoid(matrices["score"])
    assert chosen != 1 and centrality[1] < centrality[0] == centrality[2]
    assert np.all(matrices["score"][[0, 2]] > 0.95), matrices  # a reading Q scores ~1 on every G
    assert np.all(matrices["categorical"][1] < 0.45) and np.all(matrices["factor_vae"][1] < 0.55), matrices


def test_the_papers_score_on_real_models_reads_the_reading_runs_fully_and_rejects_the_scrambled_one(copy_weights):
    spec, generator, reader, scrambled = _reader_and_scrambled(copy_weights)
    runs = [(generator, reader), (generator, scrambled), (generator, reader)]
    # 60 groups of 20 (20 per code) instead of 500 of 100: the same procedure, small enough for a test.
    matrices = selection.cross_scores(runs, spec, 256, score="infogan_cr", groups=60, group_size=20)
    assert set(matrices) == {"categorical", "factor_vae", "score"}
    # A Q that reads G's codes puts every group's vote on the code the group fixed: exactly 1 on every G.
    np.testing.assert_array_equal(matrices["factor_vae"][[0, 2]], 1.0)
    _, centrality, chosen = selection.medoid(matrices["score"])
    assert chosen == 0 and centrality[1] < centrality[0] == centrality[2]
    assert np.all(matrices["factor_vae"][1] < 0.5), matrices


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    """(config, workdir) of one real tiny digits run (~10 s) with `--keep_best`, so it has a latest and a
    best checkpoint; little noise (2 dims), so a linear Q head can read G's codes from its images."""
    base = dataclasses.replace(config_lib.PRESETS["digits"], **TINY, noise_dim=2, keep_best="categorical_accuracy")
    workdir = str(tmp_path_factory.mktemp("select") / "once")
    recipes._train(base, workdir)
    return base, workdir


def _rewrite_q(workdir: str, scrambled: bool, fit_seed: int, checkpoint: str | None = None) -> None:
    """Rewrites a checkpoint of `workdir` (its latest by default) in place with Q's head set to read G's
    codes (`_read_codes_exactly`, fitted on latents of `fit_seed`), its rows then permuted when `scrambled`
    (a Q that reads nothing)."""
    config, generator, discriminator, path = export_lib.restore(workdir, checkpoint)
    _read_codes_exactly(generator, discriminator, LatentSpec.from_config(config), fit_seed)
    if scrambled:
        kernel, bias = discriminator.q_head.get_weights()
        discriminator.q_head.set_weights([kernel[np.random.default_rng(0).permutation(len(kernel))], bias])
    tf.train.Checkpoint(generator=generator, discriminator=discriminator).write(path)


def test_the_default_pair_score_is_unchanged():
    spec = LatentSpec(noise_dim=4, categorical=(3,), continuous=2)
    codes = _codes(spec)
    reading = codes.copy()
    reading[:, 2] = np.random.default_rng(1).uniform(-1, 1, len(codes))  # cat0 and cont0 read, cont1 not
    # Recorded with selection.py as it was before `score` existed (commit 4b6702b): FactorVAE's votes for
    # cont1 are lost (3,866 of 5,000 held-out votes right); a change to the default path shows here.
    assert selection.pair_score(reading, codes, 1) == {"categorical": 1.0, "factor_vae": 0.7732, "score": 0.8866}


def test_select_recipe_trains_scores_writes_every_score_and_exports_the_choice(tmp_path, monkeypatch, trained_once):
    base, once = trained_once
    seeds_trained = []

    def train_a_run(config, workdir):
        # Stands for training seed `config.seed`: a copy of the one tiny run whose Q then reads its G's codes
        # (seeds 0 and 1: two runs that found the same factors, their read-outs fitted on different latents)
        # or is scrambled (seed 2: a run whose Q reads nothing, which the others cannot agree with).
        seeds_trained.append(config.seed)
        shutil.copytree(once, workdir)
        pathlib.Path(workdir, "config.json").write_text(config.to_json())
        _rewrite_q(workdir, scrambled=config.seed == 2, fit_seed=config.seed + 1)

    monkeypatch.setattr(recipes, "_train", train_a_run)
    trained = recipes.select(base, [0, 1, 2], str(tmp_path / "trained"), export=False, num_samples=256)
    run_dirs = [str(tmp_path / "trained" / f"seed{seed}") for seed in (0, 1, 2)]
    assert seeds_trained == [0, 1, 2] and [run["workdir"] for run in trained["runs"]] == run_dirs
    assert "export" not in trained
    # The same runs given as finished workdirs: nothing trained, the same scores, the choice exported.
    monkeypatch.setattr(recipes, "_train", None)
    results = recipes.select(base, [], str(tmp_path / "picked"), workdirs=run_dirs, tflite=False, num_samples=256)
    assert results == json.loads((tmp_path / "picked" / "results.json").read_text())
    assert results["scores"] == trained["scores"]
    # The defaults are the score and the checkpoints every selection was made with before they could be chosen.
    assert (results["pair_score"], results["checkpoint"], results["continuous_bins"]) == ("dislib", "latest", 20)
    assert [run["checkpoint"] for run in results["runs"]] == [
        os.path.join(d, "checkpoints", "ckpt-2") for d in run_dirs
    ]
    for name in ("raw", "symmetric", "categorical", "factor_vae"):
        matrix = np.asarray(results["scores"][name])
        assert matrix.shape == (3, 3) and np.all((matrix >= 0) & (matrix <= 1)), name
    # The scrambled run agrees with neither reading run: it has the lowest centrality and is not chosen.
    centrality = [run["centrality"] for run in results["runs"]]
    assert centrality[2] < min(centrality[:2]), centrality
    chosen = results["chosen"]
    assert chosen["index"] in (0, 1) and chosen["workdir"] == run_dirs[chosen["index"]]
    assert chosen["seed"] == chosen["index"] and [run["seed"] for run in results["runs"]] == [0, 1, 2]
    assert all("categorical_accuracy" in run["eval"] and "info_lb" in run["eval"] for run in results["runs"])
    saved_model = results["export"]["saved_model"]
    assert saved_model == os.path.join(chosen["workdir"], "export", "1")
    assert os.path.isfile(os.path.join(saved_model, "saved_model.pb"))
    table = recipes.select_table(results)
    assert f"**seed{chosen['index']}** (chosen)" in table and "categorical accuracy" in table
    lines = table.splitlines()
    assert len(lines) == 7 and lines[5] == ""  # header, rule, three runs; then what was scored
    assert lines[6].startswith("Pair score: dislib, FactorVAE as disentanglement_lib computes it")
    assert lines[6].endswith("checkpoints scored: latest.")


def test_select_checkpoint_best_scores_and_exports_the_checkpoints_keep_best_kept(tmp_path, monkeypatch, trained_once):
    base, once = trained_once
    run_dirs = []
    for seed in (0, 1, 2):
        workdir = str(tmp_path / f"seed{seed}")
        shutil.copytree(once, workdir)
        # Every latest checkpoint reads G's codes; the best one of run 2 alone is scrambled.
        _rewrite_q(workdir, scrambled=False, fit_seed=seed + 1)
        best = os.path.join(workdir, "checkpoints", "best", "ckpt-2")
        _rewrite_q(workdir, scrambled=seed == 2, fit_seed=seed + 1, checkpoint=best)
        run_dirs.append(workdir)
    latest = recipes.select(base, [], str(tmp_path / "latest"), workdirs=run_dirs, export=False, num_samples=256)
    exported = []

    def export(workdir, checkpoint=None, tflite=True):
        exported.append((workdir, checkpoint))
        return {"saved_model": os.path.join(workdir, "export", "1")}

    monkeypatch.setattr(recipes.export_lib, "export", export)
    best = recipes.select(base, [], str(tmp_path / "best"), workdirs=run_dirs, num_samples=256, checkpoint="best")
    # Scored on their latest checkpoints the three runs read alike; on the kept ones run 2 reads nothing.
    assert latest["checkpoint"] == "latest" and best["checkpoint"] == "best"
    assert [run["checkpoint"] for run in best["runs"]] == [
        os.path.join(d, "checkpoints", "best", "ckpt-2") for d in run_dirs
    ]
    centrality = [run["centrality"] for run in best["runs"]]
    assert centrality[2] < min(centrality[:2]) and best["chosen"]["index"] != 2, centrality
    assert [run["centrality"] for run in latest["runs"]] != centrality
    assert min(run["centrality"] for run in latest["runs"]) > centrality[2]
    # Each run's evaluation is the kept checkpoint's (best.json), and the kept checkpoint is exported.
    assert all(run["eval"]["keep_best"] == "categorical_accuracy" for run in best["runs"])
    chosen = best["runs"][best["chosen"]["index"]]
    assert exported == [(chosen["workdir"], chosen["checkpoint"])]
    assert "checkpoints scored: best." in recipes.select_table(best)
    # A run without checkpoints/best/: one sentence naming the flag and the workdir.
    shutil.rmtree(os.path.join(run_dirs[1], "checkpoints", "best"))
    with pytest.raises(ConfigError) as caught:
        recipes.select(base, [], str(tmp_path / "no"), workdirs=run_dirs, checkpoint="best")
    message = str(caught.value)
    assert message.startswith("--select_checkpoint=best: ") and f" {run_dirs[1]} has no checkpoint in" in message
    assert "--keep_best" in message and "\n" not in message and message.endswith(".")


def test_select_recipe_with_the_papers_score_records_it(tmp_path, monkeypatch, trained_once):
    base, once = trained_once
    run_dirs = []
    for seed in (0, 1, 2):
        run_dirs.append(str(tmp_path / f"seed{seed}"))
        shutil.copytree(once, run_dirs[-1])
        _rewrite_q(run_dirs[-1], scrambled=seed == 2, fit_seed=seed + 1)
    monkeypatch.setattr(selection, "GROUPS", 60)  # 20 groups per code of 20 latents: a test's size
    monkeypatch.setattr(selection, "GROUP_SIZE", 20)
    results = recipes.select(
        None, [], str(tmp_path / "out"), workdirs=run_dirs, export=False, num_samples=256, score="infogan_cr"
    )
    assert (results["pair_score"], results["groups"], results["group_size"], results["num_samples"]) == (
        "infogan_cr",
        60,
        20,
        256,
    )
    assert "continuous_bins" not in results
    centrality = [run["centrality"] for run in results["runs"]]
    assert centrality[2] < min(centrality[:2]) and results["chosen"]["index"] != 2, centrality
    assert (
        recipes.select_table(results)
        .splitlines()[-1]
        .startswith("Pair score: infogan_cr, FactorVAE as InfoGAN-CR's code computes it")
    )


def _workdir(path, **fields) -> str:
    """A workdir with a config.json only (the checks refuse it before any restore)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(config_lib.Config(**fields).to_json())
    return str(path)


CASES = [
    ("a missing dir", lambda tmp: [_workdir(tmp / "a"), str(tmp / "nope")], "nope is not a directory"),
    (
        "mismatched latent specs",
        lambda tmp: [_workdir(tmp / "a"), _workdir(tmp / "b", categorical=(3,))],
        "b has noise 62, categorical [3], continuous 2, images [28, 28, 1] but",
    ),
    ("no checkpoint", lambda tmp: [_workdir(tmp / "a"), _workdir(tmp / "b")], "a has no checkpoint yet"),
    ("no config.json", lambda tmp: [_workdir(tmp / "a"), str(tmp)], "has no config.json"),
    ("one workdir", lambda tmp: [_workdir(tmp / "a")], "ModelCentrality compares runs"),
]


@pytest.mark.parametrize("given, workdirs, expected", CASES, ids=[case[0] for case in CASES])
def test_bad_workdirs_are_one_clear_sentence_naming_the_flag(tmp_path, given, workdirs, expected):
    with pytest.raises(ConfigError) as caught:
        recipes.select(config_lib.PRESETS["digits"], [], str(tmp_path / "out"), workdirs=workdirs(tmp_path))
    message = str(caught.value)
    assert expected in message and message.startswith("--workdirs") and "\n" not in message, message
    assert message.endswith("."), message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "seeds, overrides, choices, expected",
    [
        ([0], {}, {}, "give two seeds or more"),
        ([0, 1], {"categorical": (), "continuous": 1}, {}, "at least two continuous"),
        ([0, 1], {}, {"checkpoint": "best"}, r"^--select_checkpoint=best scores the checkpoint each run keeps with"),
        ([0, 1], {}, {"score": "paper"}, r"^--select_score=paper must be one of dislib, infogan_cr\.$"),
        ([0, 1], {}, {"checkpoint": "last"}, r"^--select_checkpoint=last must be one of latest, best\.$"),
    ],
)
def test_select_refuses_before_training_what_it_cannot_score(tmp_path, seeds, overrides, choices, expected):
    base = dataclasses.replace(config_lib.PRESETS["digits"], **TINY, **overrides)
    with pytest.raises(ConfigError, match=expected):
        recipes.select(base, seeds, str(tmp_path), **choices)
    assert not os.listdir(tmp_path)


def test_the_select_flags_are_refused_with_another_recipe(tmp_path):
    repo = pathlib.Path(__file__).resolve().parent.parent
    command = [sys.executable, "reproduce.py", "--recipe=seeds", "--select_score=infogan_cr", f"--workdir={tmp_path}/w"]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    expected = "error: --select_score is a choice of --recipe=select; give it only with --recipe=select."
    assert result.stderr.strip().endswith(expected), result.stderr[-2000:]
    assert not os.listdir(tmp_path)
