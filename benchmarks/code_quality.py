"""What the codes of finished runs capture, read from their checkpoints: the table behind BUILD_NOTES.

python benchmarks/code_quality.py --workdirs=runs/a,runs/b [--heldout_npz=test.npz] [--out=quality.json]

For each workdir (its latest checkpoint; G and D/Q in inference mode):
- `categorical_accuracy`: Q's Cat code on the labelled real images, Hungarian-matched, read through
  the BatchNorm moving statistics stored in the checkpoint (what eval.json, `encode` and the explorer
  use);
- `categorical_accuracy_real_statistics`: the same after D's moving statistics are estimated anew
  from real batches only, as training does with `--bn_statistics=real` (an exponential average with
  BN's momentum over `--bn_batches` real batches from zero);
- `categorical_accuracy_batch_statistics`: Q in training mode, each batch of 256 real images
  normalised with its own statistics (nothing is updated);
- `categorical_accuracy_heldout`: with `--heldout_npz`, the same on labelled images no run trained on
  (an .npz with `images` and `labels`, as `--dataset=npz` reads it), matched on those images;
- `info_lb/<code>`: L_I per code on 2,048 fresh samples;
- `spearman_slant/cont<j>`, `spearman_width/cont<j>`: the paper's Fig. 2c/d as numbers
  (`evaluate.traversal_correlations`).
Labels are only read, never used to choose anything.
"""

from __future__ import annotations

import json

import numpy as np
import tensorflow as tf
from absl import app, flags

from infogan_tf import datasets, evaluate, local_data
from infogan_tf.export import restore
from infogan_tf.latent import LatentSpec
from infogan_tf.models import BatchNormalization

FLAGS = flags.FLAGS
flags.DEFINE_list("workdirs", None, "Finished training workdirs.", required=True)
flags.DEFINE_integer("bn_batches", 100, "Real batches for the re-estimated moving statistics.")
flags.DEFINE_string("out", None, "Also write the results here as JSON.")
flags.DEFINE_string("heldout_npz", None, "Labelled images ('images', 'labels') the runs never saw: Q's accuracy.")


def _batch_statistics_accuracy(discriminator, spec: LatentSpec, images, labels) -> float:
    logits = np.concatenate(
        [
            discriminator(images[i : i + 256], training=True, update_statistics=False)["cat_logits"].numpy()
            for i in range(0, len(images), 256)
        ]
    )
    return evaluate.matched_accuracy(np.argmax(logits[:, : spec.categorical[0]], axis=-1), labels)


def _estimate_real_statistics(discriminator, images, batches: int, batch_size: int, seed: int) -> None:
    """D's BN moving statistics from zero mean / unit variance, averaged over real batches only."""
    norms = [layer for layer in discriminator.layers if isinstance(layer, BatchNormalization)]
    for layer in norms:
        layer.moving_mean.assign(tf.zeros_like(layer.moving_mean))
        layer.moving_variance.assign(tf.ones_like(layer.moving_variance))
    rng = np.random.default_rng(seed)
    for _ in range(batches):
        discriminator(images[rng.choice(len(images), batch_size, replace=False)], training=True)


def heldout_accuracy(discriminator, spec: LatentSpec, config, path: str) -> float:
    """Q's categorical accuracy (stored statistics) on an .npz of labelled images the run never saw."""
    images, labels, _ = local_data.load_npz(path)
    if labels is None or images.shape[1:] != tuple(config.image_shape):
        raise SystemExit(f"error: --heldout_npz={path} needs 'labels' and images of shape {config.image_shape}.")
    return evaluate.categorical_accuracy(discriminator, spec, images.astype(np.float32) / 255.0, labels)[
        "categorical_accuracy"
    ]


def measure(workdir: str, bn_batches: int, heldout_npz: str | None = None) -> dict:
    config, generator, discriminator, checkpoint = restore(workdir)
    spec = LatentSpec.from_config(config)
    results = {"workdir": workdir, "checkpoint": checkpoint, "bn_statistics": config.bn_statistics}
    if heldout_npz and spec.categorical:  # before the statistics below are re-estimated
        results["categorical_accuracy_heldout"] = heldout_accuracy(discriminator, spec, config, heldout_npz)
    results.update(
        evaluate.info_bound(generator, discriminator, spec, tf.random.Generator.from_seed(config.seed + 2), 2048)
    )
    if spec.continuous and config.image_shape[-1] == 1:
        rng = tf.random.Generator.from_seed(config.seed + 5)
        results.update(evaluate.traversal_correlations(generator, spec, rng))
    labelled = datasets.get(config.dataset).labelled_eval_set(config, 1 << 20)
    if labelled is not None and spec.categorical:
        images, labels = labelled
        results["categorical_accuracy"] = evaluate.categorical_accuracy(discriminator, spec, images, labels)[
            "categorical_accuracy/cat0"
        ]
        results["categorical_accuracy_batch_statistics"] = _batch_statistics_accuracy(
            discriminator, spec, images, labels
        )
        _estimate_real_statistics(discriminator, images, bn_batches, config.batch_size, config.seed)
        results["categorical_accuracy_real_statistics"] = evaluate.categorical_accuracy(
            discriminator, spec, images, labels
        )["categorical_accuracy/cat0"]
    return results


def main(argv):
    del argv
    rows = [measure(workdir, FLAGS.bn_batches, FLAGS.heldout_npz) for workdir in FLAGS.workdirs]
    for row in rows:
        print(json.dumps(row, sort_keys=True))
    if FLAGS.out:
        with open(FLAGS.out, "w") as f:
            json.dump(rows, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    app.run(main)
