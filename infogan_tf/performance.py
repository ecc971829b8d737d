"""The fast defaults: `--jit_compile` and `--mixed_precision` resolved for the devices a run has.

`--jit_compile` unset means XLA whenever the step runs on one replica: measured on the MNIST step
on 2 CPU cores, XLA runs 1.5x the images/s of the graph executor (BUILD_NOTES.md, "Performance").
With several replicas the step's all-reduces cannot sit inside a compiled function, and under
`--deterministic` XLA stays off, as Keras's own `jit_compile="auto"` does, since op determinism
is guaranteed for TensorFlow's kernels, not for XLA's.

`--mixed_precision=auto` means float32 on every device for now: bf16 (`--mixed_precision=bf16`) runs
on GPUs of compute capability 8.0 and later and on CPUs with AVX-512 BF16 or AMX, but it becomes a
default only once a run on digits shows that it learns the codes as float32 does (L_I and accuracy over
seeds), which the CPU this was built on cannot measure. With bf16, losses and the information bound
are still computed in float32 (`losses`), as are D's and Q's heads and G's sigmoid (`models`).
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import keras
import tensorflow as tf
from absl import logging

from infogan_tf.config import Config

_POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16", "none": "float32"}


def resolve(config: Config, strategy: tf.distribute.Strategy) -> Config:
    """`config` with `jit_compile` (None: auto) and `mixed_precision` ("auto") decided for `strategy`."""
    jit_compile = config.jit_compile
    if jit_compile is None:
        jit_compile = strategy.num_replicas_in_sync == 1 and not config.deterministic
    mixed_precision = "none" if config.mixed_precision == "auto" else config.mixed_precision
    if (jit_compile, mixed_precision) != (config.jit_compile, config.mixed_precision):
        logging.info("Resolved --jit_compile=%s --mixed_precision=%s for this machine.", jit_compile, mixed_precision)
    return dataclasses.replace(config, jit_compile=jit_compile, mixed_precision=mixed_precision)


def set_precision_policy(mixed_precision: str) -> None:
    """Sets Keras's global dtype policy for `--mixed_precision` (before the models are built)."""
    keras.mixed_precision.set_global_policy(_POLICIES[mixed_precision])


def forward_graph(function, *specs: tf.TensorSpec) -> tf.Graph:
    """The graph `function` traces for inputs of `specs` (e.g. a model's forward pass)."""
    return tf.function(function).get_concrete_function(*specs).graph


def _forward_flops(function, *specs: tf.TensorSpec) -> int:
    graph = forward_graph(function, *specs)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops


def generator_flops(generator, batch: int) -> int:
    """FLOPs of one G forward pass on `batch` latents, from TensorFlow's per-op counts."""
    return _forward_flops(lambda latent: generator(latent, training=False), generator.spec.tensor_specs(batch))


def step_flops(generator, discriminator, config: Config) -> int:
    """Model FLOPs of one training step of `config.batch_size` images.

    The step runs G forward and backward (3 forward passes' worth: a backward pass costs two), D/Q
    forward on real and fake and backward through both (6), then D forward again and backward to the
    images for G's update (2): 3 G + 8 D, counted from one forward pass of each.
    """
    images = tf.TensorSpec([config.batch_size, *config.image_shape])
    d_flops = _forward_flops(lambda images: discriminator(images, training=False), images)
    return 3 * generator_flops(generator, config.batch_size) + 8 * d_flops


def matmul_peak_gflop_per_s(size: int = 2048, repeats: int = 10) -> float:
    """This machine's float32 matmul rate (XLA, square `size` matrices): the ceiling for G and D."""
    a, b = tf.random.normal([size, size]), tf.random.normal([size, size])
    matmul = tf.function(lambda a, b: tf.reduce_sum(a @ b), jit_compile=True)
    matmul(a, b).numpy()
    return 2 * size**3 / median_seconds(lambda: matmul(a, b).numpy(), repeats) / 1e9


def median_seconds(call, repeats: int) -> float:
    """The median wall time of `repeats` calls of `call()`."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)
