"""Sample diversity: a run notices a collapsed generator (every latent, one image) and says so, in the
progress line, metrics.jsonl, eval.json and the end-of-run summary; a healthy run does not."""

from __future__ import annotations

import dataclasses
import json
import logging
import math

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_RUN

from infogan_tf import config as config_lib
from infogan_tf import evaluate, gan, models, train
from infogan_tf.latent import LatentSpec
from infogan_tf.train import train_and_evaluate

# 50 steps (the collapse warning's batch-norm warm-up), logged at 25 and 50, evaluated at the end.
LONGER = {**TINY_RUN, "steps": 50, "log_every": 25, "checkpoint_every": 50, "sample_every": 50, "eval_every": 50}


def test_pixel_spread_is_the_per_pixel_std_across_the_batch():
    assert evaluate.pixel_spread(np.full((5, 3, 3, 1), 0.7)) == 0.0  # one image, five times
    # Two images, one black and one white: every pixel's std (ddof 0) is 0.5.
    assert evaluate.pixel_spread(np.stack([np.zeros((3, 3, 1)), np.ones((3, 3, 1))])) == 0.5
    # Half the pixels differ: the mean over pixels halves it.
    half = np.zeros((2, 2, 1, 1))
    half[1, 0] = 1.0
    assert evaluate.pixel_spread(half) == 0.25


def _capture_info(caplog) -> None:
    """Captures absl's INFO lines, whatever another test in this process set absl's verbosity to."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="absl")


def _messages(records) -> tuple[list[str], list[str]]:
    """The progress lines and the end-of-run summary among log `records`."""
    messages = [record.getMessage() for record in records]
    return [m for m in messages if m.startswith("step ")], [m for m in messages if m.startswith("Done at step")]


def _rows(workdir) -> list[dict]:
    return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def test_a_collapsed_generator_is_named_at_every_log_step_and_in_the_summary(tmp_path, monkeypatch, caplog):
    # Collapse provoked: G's last layer zeroed and G's learning rate ~0, so every latent draws the same image.
    build_models = gan.build_models

    def collapsed(config, sync_bn=False):
        generator, discriminator = build_models(config, sync_bn=sync_bn)
        generator.to_image.kernel.assign(tf.zeros_like(generator.to_image.kernel))
        return generator, discriminator

    monkeypatch.setattr(gan, "build_models", collapsed)
    _capture_info(caplog)
    config = dataclasses.replace(config_lib.PRESETS["digits"], **LONGER, lr_g=1e-12)
    train_and_evaluate(config, str(tmp_path / "run"))
    rows = _rows(tmp_path / "run")
    assert [row["step"] for row in rows] == [25, 50] and all(row["diversity_ratio"] < 1e-3 for row in rows)
    assert rows[0]["real_diversity"] == pytest.approx(0.104, abs=0.01)  # scikit-learn's digits, as measured
    progress, summary = _messages(caplog.records)
    # Not before the batch-norm warm-up (step 50), then a sentence naming the step.
    assert ["COLLAPSE" in line for line in progress] == [False, True], progress
    assert (
        "COLLAPSE at step 50: G's samples vary 0.00x as much as real images, under --diversity_floor=0.1"
        in (progress[1])
    )
    assert len(summary) == 1 and "G COLLAPSED at step 50: its samples varied 0.00x" in summary[0], summary
    evaluation = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert evaluation["diversity_ratio"] < 1e-3


@pytest.fixture(scope="module")
def healthy_run(tmp_path_factory):
    """The digits preset's 50 steps, once for the tests below: (workdir, config, progress lines, summary)."""
    records = []
    handler = logging.Handler(level=logging.INFO)
    handler.emit = records.append
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.addHandler(handler)
    absl_logger.setLevel(logging.INFO)
    try:
        workdir = tmp_path_factory.mktemp("healthy") / "run"
        config = dataclasses.replace(config_lib.PRESETS["digits"], **LONGER)
        train_and_evaluate(config, str(workdir))
    finally:
        absl_logger.removeHandler(handler)
        absl_logger.setLevel(level)
    return workdir, config, *_messages(records)


def test_a_healthy_run_reports_its_diversity_and_does_not_warn(healthy_run):
    workdir, config, progress, summary = healthy_run
    rows = _rows(workdir)
    assert rows[-1]["diversity_ratio"] > config.diversity_floor, rows
    assert len(progress) == 2 and not any("COLLAPSE" in line for line in progress), progress
    ratio = json.loads((workdir / "eval.json").read_text())["diversity_ratio"]
    assert f"sample diversity {ratio:.2f}x the real images'" in summary[0] and "COLLAPSED" not in summary[0]


def test_the_floor_decides_when_to_warn(healthy_run):
    # The healthy run's logged ratios (under 1: samples vary less than the data) against a floor of 0.99:
    # collapsed past the warm-up (step 50), not before it (step 25), and the summary says so.
    workdir, config, _, _ = healthy_run
    rows = _rows(workdir)
    assert [row["step"] for row in rows] == [25, 50] and all(row["diversity_ratio"] < 0.99 for row in rows)
    assert [train._collapsed(row["step"], row["diversity_ratio"], 0.99) for row in rows] == [False, True]
    metrics_path = str(workdir / "metrics.jsonl")
    assert train._first_collapse(metrics_path, config.diversity_floor) is None
    assert train._first_collapse(metrics_path, 0.99) == (50, rows[1]["diversity_ratio"])
    results = json.loads((workdir / "eval.json").read_text())
    line = train.summary_line(results, {}, str(workdir), (50, rows[1]["diversity_ratio"]))
    assert "COLLAPSED at step 50" in line


def test_real_images_that_do_not_vary_give_a_ratio_of_one():
    # Nothing is less varied than data that does not vary: no division by zero, no warning.
    constant = {"z": tf.zeros([4, 62]), "categorical": tf.zeros([4, 1], tf.int32), "continuous": tf.zeros([4, 2])}

    def generator(latent, training=False):
        return tf.zeros([4, 28, 28, 1])

    assert evaluate.sample_diversity(generator, constant, 0.0) == {
        "sample_diversity": 0.0,
        "real_diversity": 0.0,
        "diversity_ratio": 1.0,
    }


TEN_CODES = (10,) * 10


def _spec(preset: str, **overrides) -> config_lib.Config:
    return dataclasses.replace(config_lib.PRESETS[preset], **overrides)


def test_many_codes_with_batch_norm_in_d_name_the_flags_to_set():
    # 10 x Cat(10) on the MNIST networks as --dataset=npz / folder give them: batch norm in D/Q, N(0, 0.02).
    warning = train.many_codes_warning(_spec("npz", categorical=TEN_CODES, continuous=0))
    assert warning == (
        "--categorical=10,10,10,10,10,10,10,10,10,10 (23.0 nats of categorical codes) with batch norm in D/Q: "
        "such specs collapsed G to one image on MNIST and colour images while Q read the codes from a batch's "
        "statistics alone; set --nod_batch_norm --weight_init=keras (docs/training.md)."
    )
    # Without batch norm but with DCGAN's kernels, only the init is left to set.
    warning = train.many_codes_warning(_spec("npz", categorical=TEN_CODES, d_batch_norm=False))
    assert warning.endswith("set --weight_init=keras (docs/training.md).") and "without batch norm" in warning
    # Both set: nothing to say.
    assert (
        train.many_codes_warning(_spec("npz", categorical=TEN_CODES, d_batch_norm=False, weight_init="keras")) is None
    )


def test_the_threshold_lies_under_the_smallest_spec_measured_to_collapse_on_each_network():
    # The MNIST networks (as --dataset=npz gives them at 28x28): the MNIST spec (2.3 nats), the SVHN
    # spec (9.2) and the chairs spec (9.0) trained with batch norm; ten codes (23.0) collapsed.
    assert train.many_codes_warning(_spec("mnist")) is None
    assert train.many_codes_warning(_spec("npz", categorical=(10, 10, 10, 10))) is None
    assert train.many_codes_warning(_spec("npz", categorical=(20, 20, 20))) is None
    assert "(23.0 nats of" in train.many_codes_warning(_spec("npz", categorical=TEN_CODES))
    # The svhn and chairs networks: their presets' specs collapsed with batch norm.
    for architecture, spec in (("svhn", (10, 10, 10, 10)), ("chairs", (20, 20, 20))):
        warning = train.many_codes_warning(_spec("npz", categorical=spec, architecture=architecture))
        assert "--nod_batch_norm --weight_init=keras" in warning
    # On the svhn network 2 x Cat(10) (4.6 nats) collapsed too; the MNIST spec (2.3) recovered.
    assert "(4.6 nats of" in train.many_codes_warning(_spec("npz", categorical=(10, 10), architecture="svhn"))
    assert train.many_codes_warning(_spec("npz", categorical=(10,), architecture="svhn")) is None


@pytest.mark.parametrize("preset", ["celeba", "svhn", "chairs"])
def test_the_many_code_presets_are_the_fix_and_the_old_one_is_one_flag_away(preset):
    config = config_lib.PRESETS[preset]
    assert config.d_batch_norm is False and config.weight_init == "keras"
    threshold = train.MANY_CODES_NATS.get(config.architecture, train.MANY_CODES_NATS_ELSEWHERE)
    assert sum(map(math.log, config.categorical)) > threshold
    assert train.many_codes_warning(config) is None
    assert "--nod_batch_norm" in train.many_codes_warning(dataclasses.replace(config, d_batch_norm=True))


def test_faces_keeps_the_papers_batch_norm():
    # No categorical codes: the chairs preset's reason to drop batch norm does not apply.
    faces = config_lib.PRESETS["faces"]
    assert faces.categorical == () and models.d_batch_norm(faces.architecture, faces.d_batch_norm)


def test_the_warning_is_logged_at_start_up(caplog):
    caplog.set_level(logging.WARNING, logger="absl")
    train.prepare(_spec("digits", **TINY_RUN, categorical=TEN_CODES))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if w.startswith("--categorical=10,10")] == [
        train.many_codes_warning(_spec("digits", categorical=TEN_CODES))
    ]


def test_code_effects_measure_what_each_code_and_the_noise_change_along_a_traversal():
    # Pixel 0 is set by cat0, pixel 1 by the first noise input; cat1 and cont0 change nothing.
    spec = LatentSpec(noise_dim=3, categorical=(4, 5), continuous=1)

    def generator(latent, training=False):
        cat0 = tf.cast(latent["categorical"][:, 0], tf.float32) / 3.0
        return tf.reshape(tf.stack([cat0, latent["z"][:, 0]], axis=1), [-1, 1, 2, 1])

    effects = evaluate.code_effects(generator, spec, tf.random.Generator.from_seed(0), rows=32)
    assert set(effects) == {"code_effect/cat0", "code_effect/cat1", "code_effect/cont0", "code_effect/z"}
    assert effects["code_effect/cat1"] == 0.0 and effects["code_effect/cont0"] == 0.0
    # The same draws by hand: the base rows, then ten fresh noises per row.
    rng = tf.random.Generator.from_seed(0)
    base = spec.sample(rng, 32)
    overall = (np.std(base["categorical"].numpy()[:, 0] / 3.0) + np.std(base["z"].numpy()[:, 0])) / 2
    along_cat0 = np.std(np.arange(4) / 3.0) / 2  # every row sweeps all four values; pixel 1 stays put
    assert effects["code_effect/cat0"] == pytest.approx(along_cat0 / overall, rel=1e-5)
    fresh = spec.sample(rng, 320)["z"].numpy()[:, 0].reshape(32, 10)
    along_z = np.mean(np.std(fresh, axis=1)) / 2
    assert effects["code_effect/z"] == pytest.approx(along_z / overall, rel=1e-5)
