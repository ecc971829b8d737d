"""Training throughput of the MNIST preset's real step (`infogan_tf.train.InfoGAN`) on in-memory data.

python benchmarks/train_throughput.py                        # exactly what `train.py --dataset=mnist` runs
python benchmarks/train_throughput.py --jit_compile --batch_size=128
python benchmarks/train_throughput.py --mixed_precision=bf16

The step is the project's own: `InfoGAN.train_steps`, several steps per `tf.function` call (as many as
train.py runs between two log lines), fed by `input_pipeline.in_memory_dataset` from random uint8
MNIST-shaped images. One untimed call traces and compiles; then `--repeats` calls of `--steps` steps are
timed. Prints the median's detail, then one final line `images_per_s=<N>`.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from infogan_tf import config as config_lib
from infogan_tf import input_pipeline
from infogan_tf.train import InfoGAN

PRESET = config_lib.PRESETS["mnist"]
FLAGS = flags.FLAGS
flags.DEFINE_integer("batch_size", PRESET.batch_size, "Global batch size.")
flags.DEFINE_boolean("jit_compile", PRESET.jit_compile, "XLA-compile the step.")
flags.DEFINE_enum("mixed_precision", PRESET.mixed_precision, config_lib.MIXED_PRECISION, "Mixed precision.")
flags.DEFINE_integer("steps", PRESET.log_every, "Steps per timed tf.function call (train.py: --log_every).")
flags.DEFINE_integer("repeats", 3, "Timed calls; the median is reported.")


def measure(config: config_lib.Config, steps: int, repeats: int) -> dict[str, float]:
    """Images per second of `InfoGAN.train_steps(steps)` under `config`: the median of `repeats` calls."""
    if config.mixed_precision != "none":
        keras.mixed_precision.set_global_policy(
            {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}[config.mixed_precision]
        )
    images = np.random.default_rng(0).integers(0, 256, (4096, *config.image_shape), dtype=np.uint8)
    iterator = iter(input_pipeline.in_memory_dataset(images, config.batch_size, config.seed))
    model = InfoGAN(config, tf.distribute.get_strategy())
    model.train_steps(iterator, steps)  # trace and compile, untimed
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        _, done = model.train_steps(iterator, steps)  # returns after the values are on the host
        seconds.append(time.perf_counter() - start)
        assert done == steps
    median = statistics.median(seconds)
    return {"seconds_per_step": median / steps, "images_per_s": config.batch_size * steps / median}


def main(argv):
    del argv
    config = dataclasses.replace(
        PRESET, batch_size=FLAGS.batch_size, jit_compile=FLAGS.jit_compile, mixed_precision=FLAGS.mixed_precision
    )
    result = measure(config, FLAGS.steps, FLAGS.repeats)
    print(
        f"infogan_tf tf-{tf.__version__} batch={config.batch_size} jit_compile={config.jit_compile} "
        f"mixed_precision={config.mixed_precision} steps_per_call={FLAGS.steps} "
        f"s_per_step={result['seconds_per_step']:.4f}"
    )
    print(f"images_per_s={result['images_per_s']:.1f}")


if __name__ == "__main__":
    app.run(main)
