"""ModelCentrality (`infogan_tf.selection`, `python reproduce.py --recipe=select`): pair scores on constructed
codes, the medoid by hand, a scrambled Q among real models, the recipe end to end on tiny runs, bad inputs."""

import dataclasses
import json
import os
import pathlib
import shutil

import keras
import numpy as np
import pytest
from test_recipes import TINY  # 2-step runs, no XLA compile time

from infogan_tf import config as config_lib
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


def _read_codes_exactly(generator, discriminator, spec: LatentSpec) -> None:
    """Sets D's Q head to the least-squares read-out of G's codes from Q's hidden layer (a Q that reads
    G as a well-trained InfoGAN's does; 2 training steps teach it nothing)."""
    latent = selection.grid_latents(spec, 512, seed=1)  # not the sample the scores are computed on
    features = discriminator(generator(latent, training=False), training=False)["features"]
    hidden = keras.ops.leaky_relu(discriminator.q_bn(discriminator.q_fc(features), training=False), LEAKY_SLOPE)
    inputs = np.concatenate([np.asarray(hidden), np.ones((512, 1))], axis=1)
    one_hot = np.eye(spec.categorical[0])[latent["categorical"].numpy()[:, 0]]
    targets = np.concatenate([one_hot, latent["continuous"].numpy()], axis=1)
    weights = np.linalg.lstsq(inputs, targets, rcond=None)[0].astype(np.float32)
    discriminator.q_head.set_weights([weights[:-1], weights[-1]])


def test_a_run_whose_q_is_scrambled_scores_chance_and_is_not_chosen(copy_weights):
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
    # Same G everywhere: only Q differs, so run 1 is scored down for its Q alone.
    matrices = selection.cross_scores([(generator, reader), (generator, scrambled), (generator, reader)], spec, 256)
    _, centrality, chosen = selection.medoid(matrices["score"])
    assert chosen != 1 and centrality[1] < centrality[0] == centrality[2]
    assert np.all(matrices["score"][[0, 2]] > 0.95), matrices  # a reading Q scores ~1 on every G
    assert np.all(matrices["categorical"][1] < 0.45) and np.all(matrices["factor_vae"][1] < 0.55), matrices


def test_select_recipe_trains_scores_writes_every_score_and_exports_the_choice(tmp_path, monkeypatch):
    base = dataclasses.replace(config_lib.PRESETS["digits"], **TINY)
    once = str(tmp_path / "once")
    recipes._train(base, once)  # one real tiny run (~10 s); copies of it stand for the other seeds' runs
    seeds_trained = []

    def copy_of_the_run(config, workdir):
        seeds_trained.append(config.seed)
        shutil.copytree(once, workdir)
        pathlib.Path(workdir, "config.json").write_text(config.to_json())

    monkeypatch.setattr(recipes, "_train", copy_of_the_run)
    trained = recipes.select(base, [0, 1], str(tmp_path / "trained"), export=False, num_samples=256)
    run_dirs = [str(tmp_path / "trained" / "seed0"), str(tmp_path / "trained" / "seed1")]
    assert seeds_trained == [0, 1] and [run["workdir"] for run in trained["runs"]] == run_dirs
    assert "export" not in trained
    # The same runs given as finished workdirs: nothing trained, the same scores, the choice exported.
    monkeypatch.setattr(recipes, "_train", None)
    results = recipes.select(base, [], str(tmp_path / "picked"), workdirs=run_dirs, tflite=False, num_samples=256)
    assert results == json.loads((tmp_path / "picked" / "results.json").read_text())
    assert results["scores"] == trained["scores"]
    for name in ("raw", "symmetric", "categorical", "factor_vae"):
        matrix = np.asarray(results["scores"][name])
        assert matrix.shape == (2, 2) and np.all((matrix >= 0) & (matrix <= 1)), name
    chosen = results["chosen"]
    assert chosen["workdir"] == run_dirs[chosen["index"]] and chosen["seed"] == chosen["index"]
    assert [run["seed"] for run in results["runs"]] == [0, 1]
    assert all("categorical_accuracy" in run["eval"] and "info_lb" in run["eval"] for run in results["runs"])
    saved_model = results["export"]["saved_model"]
    assert saved_model == os.path.join(chosen["workdir"], "export", "1")
    assert os.path.isfile(os.path.join(saved_model, "saved_model.pb"))
    table = recipes.select_table(results)
    assert f"**seed{chosen['index']}** (chosen)" in table and "categorical accuracy" in table
    assert len(table.splitlines()) == 4


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
    "seeds, overrides, expected",
    [([0], {}, "give two seeds or more"), ([0, 1], {"categorical": (), "continuous": 1}, "at least two continuous")],
)
def test_select_refuses_before_training_what_it_cannot_score(tmp_path, seeds, overrides, expected):
    base = dataclasses.replace(config_lib.PRESETS["digits"], **TINY, **overrides)
    with pytest.raises(ConfigError, match=expected):
        recipes.select(base, seeds, str(tmp_path))
    assert not os.listdir(tmp_path)
