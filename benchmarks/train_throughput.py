"""Training throughput of a preset's real step (`infogan_tf.gan.InfoGAN`) on in-memory data.

python benchmarks/train_throughput.py                        # exactly what `train.py --dataset=mnist` runs
python benchmarks/train_throughput.py --nojit_compile --batch_size=128
python benchmarks/train_throughput.py --mixed_precision=bf16 --dataset=chairs
python benchmarks/train_throughput.py --consistency_weight=1  # a regulariser's cost: every one switched on runs

The step is the project's own: `InfoGAN.train_steps`, several steps per `tf.function` call (as many as
train.py runs between two log lines), fed by `datasets.base.in_memory_dataset` (the pipeline of every
dataset but `shapes`) from random uint8 images of the preset's shape. Unset, `--jit_compile` and
`--mixed_precision` are resolved as train.py resolves them (`infogan_tf.performance`). One untimed call
traces and compiles; then `--repeats` calls of `--steps` steps are timed. Also reported:
- `dispatch_overhead`: the time of a call that runs no step (Python, tf.function dispatch, reading the
  metrics back) as a fraction of a timed call: what is not the step;
- `input_images_per_s`: the input pipeline alone, drained as fast as it goes (median of the repeats);
- `gflop_per_s`: the step's model FLOPs (`infogan_tf.performance.step_flops`) per second, and
  `peak_gflop_per_s`, a large float32 matmul's rate on this machine (`--peak`).
The last line is `images_per_s=<N>`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from absl import app, flags

from infogan_tf import cli, performance
from infogan_tf import config as config_lib
from infogan_tf.datasets.base import in_memory_dataset
from infogan_tf.gan import InfoGAN

# train.py's flags, read as train.py reads them; here --dataset defaults to mnist and --steps is the
# number of steps per timed call (default: the preset's --log_every, as train.py runs them).
FLAGS = flags.FLAGS
FLAGS.set_default("dataset", "mnist")
flags.DEFINE_integer("repeats", 3, "Timed calls; the median is reported.")
flags.DEFINE_boolean("peak", True, "Also measure a 2048^3 float32 matmul, the machine's peak.")


def measure(config: config_lib.Config, steps: int, repeats: int) -> dict[str, float]:
    """Images per second of `InfoGAN.train_steps(steps)` under `config` (resolved as train.py does):
    the median of `repeats` calls, with the dispatch overhead and the input pipeline's own rate."""
    strategy = tf.distribute.get_strategy()
    config = performance.resolve(config, strategy)
    performance.set_precision_policy(config.mixed_precision)
    images = np.random.default_rng(0).integers(0, 256, (4096, *config.image_shape), dtype=np.uint8)
    dataset = in_memory_dataset(images, config.batch_size, config.seed)
    model = InfoGAN(config, strategy)
    for regulariser in model.regularisers:  # e.g. the augmented pairs of --elastic_weight, --consistency_weight
        dataset = regulariser.prepare_dataset(dataset)
    regularised = tuple(r.name for r in model.regularisers)  # every one switched on, from its start on
    iterator = iter(dataset)
    metrics, _ = model.train_steps(iterator, steps, regularised)  # trace and compile, untimed
    step_seconds = performance.median_seconds(lambda: model.train_steps(iterator, steps, regularised), repeats)
    dispatch_seconds = performance.median_seconds(lambda: model.train_steps(iterator, 0, regularised), max(repeats, 5))
    batches = iter(dataset)
    next(batches)
    input_seconds = performance.median_seconds(lambda: [next(batches) for _ in range(steps)], repeats)
    flops = performance.step_flops(model.generator, model.discriminator, config)
    return {
        "jit_compile": config.jit_compile,
        "mixed_precision": config.mixed_precision,
        "seconds_per_step": step_seconds / steps,
        "images_per_s": config.batch_size * steps / step_seconds,
        "dispatch_overhead": dispatch_seconds / step_seconds,
        "input_images_per_s": config.batch_size * steps / input_seconds,
        "gflop_per_s": flops * steps / step_seconds / 1e9,
        "metrics": sorted(metrics),  # what the step reports: the regularisers' metrics among them
    }


def main(argv):
    del argv
    config = cli.exit_on_user_error(cli.config_from_flags)
    steps = FLAGS.steps or config.log_every
    result = measure(config, steps, FLAGS.repeats)
    print(
        f"infogan_tf tf-{tf.__version__} dataset={config.dataset} batch={config.batch_size} "
        f"jit_compile={result['jit_compile']} mixed_precision={result['mixed_precision']} "
        f"steps_per_call={steps} s_per_step={result['seconds_per_step']:.4f} "
        f"dispatch_overhead={result['dispatch_overhead']:.4f} input_images_per_s={result['input_images_per_s']:.0f} "
        f"gflop_per_s={result['gflop_per_s']:.1f}"
        + (f" peak_gflop_per_s={performance.matmul_peak_gflop_per_s():.1f}" if FLAGS.peak else "")
    )
    print(f"images_per_s={result['images_per_s']:.1f}")


if __name__ == "__main__":
    app.run(main)
