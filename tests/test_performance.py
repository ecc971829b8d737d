"""The fast defaults (XLA decided per strategy, float32 unless bf16 is asked for) and bf16 training that learns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from infogan_tf import config as config_lib
from infogan_tf import performance
from infogan_tf.datasets.base import in_memory_dataset
from infogan_tf.gan import InfoGAN


def test_auto_resolves_to_xla_on_one_replica_and_float32(mnist_config):
    auto = dataclasses.replace(mnist_config, jit_compile=None, mixed_precision="auto")
    resolved = performance.resolve(auto, tf.distribute.get_strategy())
    # bf16 is a default nowhere until it is shown to learn the codes as float32 does.
    assert (resolved.jit_compile, resolved.mixed_precision) == (True, "none")
    # XLA cannot hold the replicas' all-reduces, and op determinism is not promised for XLA's kernels.
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert performance.resolve(auto, mirrored).jit_compile is False
    deterministic = dataclasses.replace(auto, deterministic=True)
    assert performance.resolve(deterministic, tf.distribute.get_strategy()).jit_compile is False
    # What the user set is kept.
    explicit = dataclasses.replace(mnist_config, jit_compile=False, mixed_precision="fp16")
    assert performance.resolve(explicit, tf.distribute.get_strategy()) == explicit


@pytest.fixture
def restore_policy():
    yield
    performance.set_precision_policy("none")


def _info_bound_curve(config: config_lib.Config, chunks: int, steps: int) -> list[float]:
    performance.set_precision_policy(config.mixed_precision)
    images = np.random.default_rng(0).integers(0, 256, (256, *config.image_shape), dtype=np.uint8)
    model = InfoGAN(config, tf.distribute.get_strategy())
    iterator = iter(in_memory_dataset(images, config.batch_size, config.seed))
    curve = []
    for _ in range(chunks):
        metrics, done = model.train_steps(iterator, steps)
        assert done == steps
        assert all(value.dtype == tf.float32 for value in metrics.values())  # losses and L_I in float32
        curve.append(float(metrics["info_lb/cat0"]))
    latent = model.spec.sample(tf.random.Generator.from_seed(1), 4)
    assert model.generator(latent).dtype == tf.float32  # images leave G in float32 ...
    expected = tf.bfloat16 if config.mixed_precision == "bf16" else tf.float32
    assert model.generator.fc2.compute_dtype == expected  # ... though its layers computed in bf16
    assert all(v.dtype == tf.float32 for v in model.generator.trainable_variables)
    return curve


def test_bf16_training_learns_the_code_as_float32_does(mnist_config, restore_policy):
    # The MNIST step (XLA, as the default) on random images: L_I of Cat(10) climbs from ~0 towards
    # ln 10 = 2.30 in a few dozen steps when G and Q learn to pass the code through the image.
    config = dataclasses.replace(mnist_config, batch_size=16, jit_compile=True)
    curves = {
        precision: _info_bound_curve(dataclasses.replace(config, mixed_precision=precision), chunks=4, steps=10)
        for precision in ("none", "bf16")
    }
    for precision, curve in curves.items():
        assert curve[-1] > 1.4 and curve[-1] > curve[0] + 0.8, (precision, curve)
    assert abs(curves["bf16"][-1] - curves["none"][-1]) < 0.5, curves
