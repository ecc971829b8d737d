"""The categorical consistency term: its KL, which variables learn from it under each optimiser, its pairs
shared with Elastic-InfoGAN's term, and a run that records and guards it. (Mirrored equals one device:
tests/test_train.py.)"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_RUN
from scipy import stats

from infogan_tf import config as config_lib
from infogan_tf.gan import InfoGAN
from infogan_tf.latent import LatentSpec
from infogan_tf.regularisers import consistency, elastic
from infogan_tf.train import train_and_evaluate


def test_kl_per_example_summed_over_the_codes():
    rng = np.random.default_rng(0)
    target, logits = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    kl = consistency.categorical_kl(tf.constant(target), tf.constant(logits), (3, 4)).numpy()
    p, q = np.exp(target), np.exp(logits)
    expected = [
        stats.entropy(p[b, :3], q[b, :3]) + stats.entropy(p[b, 3:], q[b, 3:]) for b in range(5)
    ]  # scipy normalises each piece
    np.testing.assert_allclose(kl, expected, rtol=1e-6)
    assert consistency.categorical_kl(tf.constant(target), tf.constant(target), (3, 4)).numpy().max() < 1e-6


def _step_twins(mnist_config, copy_weights, copies=None, **flags):
    """(with the term, without it, the step's metrics): one step each from the same weights, images, latents."""
    plain = InfoGAN(
        dataclasses.replace(mnist_config, q_optimizer=flags.get("q_optimizer", "d")), tf.distribute.get_strategy()
    )
    with_term = InfoGAN(
        dataclasses.replace(mnist_config, consistency_weight=1.0, **flags), tf.distribute.get_strategy()
    )
    copy_weights(with_term.generator, plain.generator)
    copy_weights(with_term.discriminator, plain.discriminator)
    images = tf.constant(np.random.default_rng(0).random((8, 28, 28, 1)), tf.float32)
    copies = elastic.Augmentation(20.0)(images, tf.constant([1, 2], tf.int64)) if copies is None else copies(images)
    latent = LatentSpec.from_config(mnist_config).sample(tf.random.Generator.from_seed(0), 8)
    metrics = with_term.replica_step((images, copies), latent, {"consistency": None})
    plain.replica_step(images, latent)
    return with_term, plain, metrics


def _max_difference(a, b) -> float:
    return max(float(np.abs(x.numpy() - y.numpy()).max()) for x, y in zip(a, b, strict=True))


def test_with_d_optimizer_the_body_and_q_learn_from_it_and_d_head_does_not(mnist_config, copy_weights):
    model, plain, metrics = _step_twins(mnist_config, copy_weights)
    assert float(metrics["consistency_loss"]) > 1e-4
    discriminator, reference = model.discriminator, plain.discriminator
    assert _max_difference(discriminator.body_variables, reference.body_variables) > 1e-6
    assert _max_difference(discriminator.q_head.weights, reference.q_head.weights) > 1e-6
    assert _max_difference(discriminator.d_head.weights, reference.d_head.weights) == 0
    # It reads D in training mode on the pair but leaves BN's moving statistics as the plain step's.
    statistics = [v for v in discriminator.non_trainable_variables if "moving" in v.path]
    assert (
        statistics
        and _max_difference(statistics, [v for v in reference.non_trainable_variables if "moving" in v.path]) == 0
    )


def test_with_g_optimizer_only_q_own_layers_learn_from_it(mnist_config, copy_weights):
    model, plain, _ = _step_twins(mnist_config, copy_weights, q_optimizer="g")
    assert _max_difference(model.discriminator.body_variables, plain.discriminator.body_variables) == 0
    assert _max_difference(model.discriminator.q_head.weights, plain.discriminator.q_head.weights) > 1e-6


def test_an_unchanged_copy_costs_nothing_and_changes_nothing(mnist_config, copy_weights):
    model, plain, metrics = _step_twins(mnist_config, copy_weights, copies=tf.identity)
    assert float(metrics["consistency_loss"]) < 1e-6
    assert _max_difference(model.discriminator.weights, plain.discriminator.weights) < 1e-6
    # G then steps on a D equal to float rounding; Adam's first step (~lr_g = 1e-3 per weight) magnifies
    # rounding only where a gradient is near zero: well under a tenth of a step.
    assert _max_difference(model.generator.weights, plain.generator.weights) < 1e-4


def test_shares_the_pairs_with_elastic():
    dataset = tf.data.Dataset.from_tensors(np.zeros((2, 28, 28, 1), np.float32))
    paired = elastic.paired(dataset, seed=1, rotation=20.0)
    assert elastic.paired(paired, seed=2, rotation=20.0) is paired


def test_train_py_runs_it_and_reports_its_loss(tmp_path):
    config = dataclasses.replace(config_lib.PRESETS["digits"], **TINY_RUN, consistency_weight=1.0, elastic_weight=1.0)
    result = train_and_evaluate(config, str(tmp_path / "run"))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2] and result["step"] == 2
    assert all(0 < row["consistency_loss"] < 5 and row["elastic_loss"] > 0 for row in rows)
    stored = config_lib.Config.from_json((tmp_path / "run" / "config.json").read_text())
    assert stored.consistency_weight == 1.0
    # Without the pairs, a run cannot resume this one's checkpoint (its data iterator hands out pairs).
    with pytest.raises(config_lib.ConfigError, match=r"paired_data True there, False asked for \(pairs of real"):
        train_and_evaluate(
            dataclasses.replace(config, consistency_weight=0.0, elastic_weight=0.0, steps=3), str(tmp_path / "run")
        )
