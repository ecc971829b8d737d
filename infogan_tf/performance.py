"""The fast defaults: `--jit_compile` and `--mixed_precision` resolved for the devices a run has.

`--jit_compile` unset means XLA whenever the step runs on one replica: measured on the MNIST step
on 2 CPU cores, XLA runs 1.5x the images/s of the graph executor (BUILD_NOTES.md, "Performance").
With several replicas the step's all-reduces cannot sit inside a compiled function, and under
`--deterministic` XLA stays off, as Keras's own `jit_compile="auto"` does, since op determinism
is guaranteed for TensorFlow's kernels, not for XLA's.

`--mixed_precision=auto` means bf16 where the hardware computes in it: GPUs of compute capability 8.0
and later, and CPUs with AVX-512 BF16 or AMX. A CPU without them (AVX2, as the machine this was
built on) would only emulate bf16, so it stays float32. Losses and the information bound are always
computed in float32 (`losses`), as are D's and Q's heads and G's sigmoid (`models`).
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
_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has bf16 arithmetic (AVX-512 BF16 or AMX); False where it cannot be read."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in _CPU_BF16_FLAGS)
    except OSError:
        pass
    return False


def _gpus_have_bf16() -> bool:
    gpus = tf.config.list_physical_devices("GPU")
    capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability") for gpu in gpus]
    return bool(gpus) and all(c is not None and tuple(c) >= (8, 0) for c in capabilities)


def _runs_on_gpu(strategy: tf.distribute.Strategy) -> bool:
    if strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        return bool(tf.config.list_logical_devices("GPU"))  # the default strategy places ops on GPU:0
    return any("GPU" in device.upper() for device in strategy.extended.worker_devices)


def resolve(config: Config, strategy: tf.distribute.Strategy) -> Config:
    """`config` with `jit_compile` (None: auto) and `mixed_precision` ("auto") decided for `strategy`."""
    jit_compile = config.jit_compile
    if jit_compile is None:
        jit_compile = strategy.num_replicas_in_sync == 1 and not config.deterministic
    mixed_precision = config.mixed_precision
    if mixed_precision == "auto":
        on_gpu = _runs_on_gpu(strategy)
        native = _gpus_have_bf16() if on_gpu else cpu_has_native_bf16()
        mixed_precision = "bf16" if native else "none"
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
