"""Elastic-InfoGAN's regulariser: augmented pairs made in tf.data that resume exactly, and a term that trains
Q's own layers (with whichever optimiser holds them) and the shared body only when asked."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_RUN

from infogan_tf import config as config_lib
from infogan_tf import evaluate
from infogan_tf.gan import InfoGAN
from infogan_tf.latent import LatentSpec
from infogan_tf.regularisers import elastic
from infogan_tf.train import train_and_evaluate


def _digits(batch=6):
    images = np.zeros((batch, 28, 28, 1), np.float32)
    images[:, 6:22, 12:16] = 1.0  # a "1": a vertical bar
    return images


def test_pairs_are_augmented_per_image_per_batch_and_resume_exactly(tmp_path):
    dataset = elastic.paired(tf.data.Dataset.from_tensors(_digits()).repeat(4), seed=3, rotation=20.0)
    batches = [(a.numpy(), b.numpy()) for a, b in dataset]
    again = [b.numpy() for _, b in dataset]
    originals, copies = zip(*batches, strict=True)
    np.testing.assert_array_equal(originals[0], _digits())  # the images themselves pass unchanged
    for copy, same in zip(copies, again, strict=True):
        np.testing.assert_array_equal(copy, same)  # seeded by (seed, batch index): the same every pass
        assert copy.min() >= 0 and copy.max() <= 1 and copy.shape == (6, 28, 28, 1)
        assert np.abs(copy - _digits()).max() > 0.5  # moved
        assert len({c.tobytes() for c in copy}) == 6  # each image its own draw
    assert np.abs(copies[0] - copies[1]).max() > 0.5  # each batch its own draws
    other = [
        b.numpy() for _, b in elastic.paired(tf.data.Dataset.from_tensors(_digits()).repeat(1), seed=4, rotation=20.0)
    ]
    assert np.abs(other[0] - copies[0]).max() > 0.5  # and each run's seed its own
    # The iterator's checkpoint holds the batch index: a restored iterator augments batch 2 as before.
    iterator = iter(dataset)
    next(iterator), next(iterator)
    path = tf.train.Checkpoint(data=iterator).save(str(tmp_path / "it"))
    restored = iter(dataset)
    tf.train.Checkpoint(data=restored).restore(path)
    np.testing.assert_array_equal(next(restored)[1].numpy(), copies[2])


def test_copies_shift_each_way_and_rotate_as_far_as_asked():
    # A centred square's centroid moves by the shift alone (the zoom is about the centre): x and y are two draws.
    blocks = np.zeros((64, 28, 28, 1), np.float32)
    blocks[:, 12:16, 12:16] = 1.0
    moved = elastic.Augmentation(rotation=0.0)(blocks, tf.constant([7, 0], tf.int64)).numpy()[..., 0]
    ys, xs = np.mgrid[:28, :28]
    dx = (moved * xs).sum((1, 2)) / moved.sum((1, 2)) - 13.5
    dy = (moved * ys).sum((1, 2)) / moved.sum((1, 2)) - 13.5
    assert np.abs(dx).max() <= 0.1 * 28 + 0.5 and np.abs(dy).max() <= 0.1 * 28 + 0.5
    assert np.abs(dx - dy).max() > 1.5  # one draw for both would move every square along the diagonal
    assert abs(np.corrcoef(dx, dy)[0, 1]) < 0.5
    # A vertical bar leans by the rotation: up to ±20° by default, further when asked.
    bars = np.repeat(_digits(1), 64, axis=0)
    for rotation, least, most in ((20.0, 15.0, 21.0), (45.0, 35.0, 46.0)):
        copies = elastic.Augmentation(rotation)(bars, tf.constant([7, 1], tf.int64)).numpy()
        lean = np.degrees(np.abs(evaluate.slant_and_width(copies)[0]))
        assert least < lean.max() < most, (rotation, lean.max())


def _step_twins(mnist_config, copy_weights, **elastic_flags):
    """(with the term, without it): one step each from the same weights on the same images, copies and latents."""
    plain_config = dataclasses.replace(mnist_config, **{k: v for k, v in elastic_flags.items() if k == "q_optimizer"})
    with_term = InfoGAN(dataclasses.replace(mnist_config, **elastic_flags), tf.distribute.get_strategy())
    plain = InfoGAN(plain_config, tf.distribute.get_strategy())
    copy_weights(with_term.generator, plain.generator)
    copy_weights(with_term.discriminator, plain.discriminator)
    images = tf.constant(np.random.default_rng(0).random((8, 28, 28, 1)), tf.float32)
    copies = elastic.Augmentation(20.0)(images, tf.constant([1, 2], tf.int64))
    latent = LatentSpec.from_config(mnist_config).sample(tf.random.Generator.from_seed(0), 8)
    metrics = with_term.replica_step((images, copies), latent, {"elastic": None})
    plain.replica_step(images, latent)
    return with_term, plain, metrics


def _same(a, b) -> bool:
    return all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("q_optimizer", ["d", "g"])
def test_the_term_trains_q_and_not_the_body(mnist_config, copy_weights, q_optimizer):
    flags = {"elastic_weight": 10.0, "q_optimizer": q_optimizer}
    model, plain, metrics = _step_twins(mnist_config, copy_weights, **flags)
    # At the start Q's features are nearly alike for any image: the loss is about ln(2B - 1).
    assert float(metrics["elastic_loss"]) == pytest.approx(np.log(15), abs=0.3)
    assert _same(model.discriminator.body_variables, plain.discriminator.body_variables)
    assert _same(model.discriminator.d_head.weights, plain.discriminator.d_head.weights)
    assert not _same(model.discriminator.q_fc.weights, plain.discriminator.q_fc.weights)


def test_elastic_body_lets_the_body_learn_from_it(mnist_config, copy_weights):
    model, plain, _ = _step_twins(mnist_config, copy_weights, elastic_weight=10.0, elastic_body=True)
    assert not _same(model.discriminator.body_variables, plain.discriminator.body_variables)


def test_train_py_runs_it_and_reports_its_loss(tmp_path):
    config = dataclasses.replace(config_lib.PRESETS["digits"], **TINY_RUN, elastic_weight=10.0, consistency_weight=0.0)
    result = train_and_evaluate(config, str(tmp_path / "run"))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2] and all(0 < row["elastic_loss"] < 10 for row in rows)
    assert result["step"] == 2
    stored = config_lib.Config.from_json((tmp_path / "run" / "config.json").read_text())
    assert (stored.elastic_weight, stored.elastic_temperature, stored.elastic_body) == (10.0, 1.0, False)
    # A run without the term (nor the consistency term) cannot resume this one's checkpoint (its data
    # iterator hands out pairs).
    with pytest.raises(config_lib.ConfigError, match="different model"):
        train_and_evaluate(dataclasses.replace(config, elastic_weight=0.0, steps=3), str(tmp_path / "run"))
