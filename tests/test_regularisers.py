"""The regulariser interface: a toy regulariser defined here uses every hook, and each hook reaches what it
says (extra latents, its own update before D/Q, a D/Q term on real images, a G term, metrics, checkpointed
objects, its start step). InfoGAN-CR's own tests are in test_cr.py."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_RUN

from infogan_tf import config as config_lib
from infogan_tf import regularisers
from infogan_tf.gan import InfoGAN
from infogan_tf.regularisers import base
from infogan_tf.train import train_and_evaluate


class Consistency(base.Regulariser):
    """A toy in the shape of the next regulariser: Q should read the same continuous codes from a real
    image and its left-right mirror image (a D/Q term on real images); G should make its images of
    mirrored continuous codes mirror images of each other (a G term on extra latents); and it counts its
    own updates in a checkpointed variable. `d_weight` / `g_weight` scale the two terms."""

    metric_names = ("consistency_d", "consistency_updates")
    d_weight, g_weight, first_step = 1.0, 1.0, 0

    def __init__(self, name, config, spec):
        super().__init__(name, config, spec)
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates")

    @classmethod
    def enabled(cls, config):
        return True  # registered by the tests that use it

    @property
    def start_step(self):
        return self.first_step

    def checkpoint_objects(self):
        return {"consistency_updates": self.updates}

    def sample(self, rng, batch_size):
        return {
            "z": rng.uniform([batch_size, self.spec.noise_dim], -1.0, 1.0),
            "categorical": tf.zeros([batch_size, len(self.spec.categorical)], tf.int32),
            "continuous": rng.uniform([batch_size, self.spec.continuous], -1.0, 1.0),
        }

    def generate(self, generator, extra):
        mirrored = dict(extra, continuous=-extra["continuous"])
        return generator(extra, training=True), generator(mirrored, training=True)

    def update(self, generated, extra, average, metrics):
        self.updates.assign_add(1)
        metrics["consistency_updates"] = average(tf.ones([tf.shape(generated[0])[0]]))

    def d_loss_term(self, discriminator, images, average, metrics):
        # D/Q's step already moved batch norm's statistics on these images: leave them be.
        batches = [images, tf.reverse(images, [2])]
        real, mirrored = discriminator.on_batches(batches, training=True, update_statistics=[False, False])
        per_example = tf.reduce_sum(tf.square(real["cont_mean"] - mirrored["cont_mean"]), axis=1)
        metrics["consistency_d"] = average(per_example)
        return self.d_weight * average(per_example)

    def g_loss_term(self, generated, extra, average):
        image, mirrored = generated
        per_example = tf.reduce_mean(tf.square(image - tf.reverse(mirrored, [2])), axis=[1, 2, 3])
        return self.g_weight * average(per_example)


@pytest.fixture
def consistency(monkeypatch):
    """The toy registered (one line) for one test, and gone after it; a subclass of its own, so a test
    can set its weights and start step."""
    toy = type("Consistency", (Consistency,), {})
    monkeypatch.setitem(regularisers.REGULARISERS.entries, "mirror_toy", toy)
    return toy


def _config(**overrides) -> config_lib.Config:
    config = config_lib.Config(noise_dim=4, categorical=(3,), continuous=2, batch_size=8, jit_compile=False)
    return dataclasses.replace(config, **overrides)


def test_the_toy_runs_from_its_start_step_reports_its_metrics_and_is_checkpointed(consistency, tmp_path):
    consistency.first_step = 1
    config = dataclasses.replace(config_lib.PRESETS["digits"], **{**TINY_RUN, "steps": 3, "checkpoint_every": 3})
    config = dataclasses.replace(config, noise_dim=4, eval_every=3, sample_every=3)
    results = train_and_evaluate(config, str(tmp_path / "run"))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # Not before its start step; then its metrics, the update count per example summing to 1 (the mean).
    assert [("consistency_d" in row) for row in rows] == [False, True, True]
    assert [row.get("consistency_updates") for row in rows] == [None, 1.0, 1.0]
    assert rows[-1]["consistency_d"] > 0 and "consistency_d" in results
    reader = tf.train.load_checkpoint(str(tmp_path / "run" / "checkpoints" / "ckpt-3"))
    assert reader.get_tensor("consistency_updates/.ATTRIBUTES/VARIABLE_VALUE") == 2  # steps 2 and 3
    # Resumed, the count goes on from the checkpoint.
    train_and_evaluate(dataclasses.replace(config, steps=4), str(tmp_path / "run"))
    reader = tf.train.load_checkpoint(str(tmp_path / "run" / "checkpoints" / "ckpt-4"))
    assert reader.get_tensor("consistency_updates/.ATTRIBUTES/VARIABLE_VALUE") == 3


def _one_step(model: InfoGAN, regularised: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
    model.rng.reset_from_seed(3)
    images = tf.random.stateless_uniform([8, 28, 28, 1], [1, 2])
    tf.function(model._sample_and_step)(images, regularised)
    return {name: [v.numpy() for v in getattr(model, name).variables] for name in ("generator", "discriminator")}


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("term", ["d", "g"])
def test_the_d_term_moves_d_q_and_the_g_term_only_g(consistency, term):
    # From the same weights and RNG state: one step without the toy, one with only its D/Q term, and one
    # with only its G term.
    consistency.d_weight, consistency.g_weight = (1.0, 0.0) if term == "d" else (0.0, 1.0)
    models = [InfoGAN(_config(), tf.distribute.get_strategy()) for _ in range(2)]
    for name in ("generator", "discriminator"):
        for a, b in zip(getattr(models[0], name).variables, getattr(models[1], name).variables, strict=True):
            b.assign(a)
    without, with_toy = _one_step(models[0], ()), _one_step(models[1], ("mirror_toy",))
    if term == "d":
        # Q's mirror consistency on real images reaches D/Q (and, through the updated D/Q, G's update).
        assert not _same(without["discriminator"], with_toy["discriminator"])
    else:
        # G's term reaches G only: D/Q's update is the same as without the toy, although the toy's extra
        # latents were drawn from the same RNG after the step's own.
        assert _same(without["discriminator"], with_toy["discriminator"])
        assert not _same(without["generator"], with_toy["generator"])
    assert int(models[1].regularisers[0].updates) == 1 and int(models[0].regularisers[0].updates) == 0
