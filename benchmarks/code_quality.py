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
- `categorical_accuracy_heldout`, `categorical_majority_accuracy_heldout`, `categorical_nmi_heldout`: with
  `--heldout_npz` (default: an npz run's `--heldout_path`), on labelled images no run trained on (an .npz
  with `images` and `labels`, as `--dataset=npz` reads it): Hungarian-matched on those images, each value
  mapped to the label most common among its training images, and the normalized mutual information
  (`evaluate.categorical_scores`, the best code's); `cat0_contents_heldout`: for each value of the first
  categorical code, the three labels most common among the held-out images Q reads as it, with their shares
  (which digits a category mixes);
- `cat0_slant_share`: how much of the training images' slant the first categorical code's reading of them
  explains (`evaluate.slant_share`, label-free; one-channel images): ~0.09 where MNIST's Cat(10) keeps every
  digit whole, ~0.2 where it cuts a pair of digits by how they lean;
- `info_lb/<code>`: L_I per code on 2,048 fresh samples;
- `spearman_slant/cont<j>`, `spearman_width/cont<j>`: the paper's Fig. 2c/d as numbers
  (`evaluate.traversal_correlations`).
Labels are only read, never used to choose anything. After the runs, each number's mean ± sd (ddof 1),
minimum and maximum over them; `--out` holds {"runs": [...], "summary": {...}}.
"""

from __future__ import annotations

import dataclasses
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


def heldout_scores(discriminator, spec: LatentSpec, config, path: str, fit) -> dict:
    """Q's categorical scores (stored statistics; `evaluate.categorical_scores`, the best code's) on an .npz
    of labelled images the run never saw, the majority-vote mapping fitted on `fit`, training images."""
    images, labels, _ = local_data.load_npz(path, "--heldout_npz")
    if labels is None or images.shape[1:] != tuple(config.image_shape):
        raise SystemExit(f"error: --heldout_npz={path} needs 'labels' and images of shape {config.image_shape}.")
    images = images.astype(np.float32) / 255.0
    scores = evaluate.categorical_scores(discriminator, spec, images, labels, fit=fit)
    names = ("categorical_accuracy", "categorical_majority_accuracy", "categorical_nmi")
    results = {f"{name}_heldout": scores[name] for name in names}
    read = evaluate.representation(discriminator, spec, images)[:, 0].astype(int)
    contents = []
    for category in range(spec.categorical[0]):
        values, counts = np.unique(labels[read == category], return_counts=True)
        top = np.argsort(-counts, kind="stable")[:3]
        contents.append([[int(values[i]), round(float(counts[i] / counts.sum()), 3)] for i in top])
    results["cat0_contents_heldout"] = contents
    return results


def measure(workdir: str, bn_batches: int, heldout_npz: str | None = None) -> dict:
    config, generator, discriminator, checkpoint = restore(workdir)
    spec = LatentSpec.from_config(config)
    results = {"workdir": workdir, "checkpoint": checkpoint, "bn_statistics": config.bn_statistics}
    # The run's training data (not its --heldout_path): what today's accuracy and the mapping read.
    source, training = datasets.get(config.dataset), dataclasses.replace(config, heldout_path=None)
    labelled = source.labelled_eval_set(training, 1 << 20)
    heldout_npz = heldout_npz or (config.heldout_path if config.dataset == "npz" else None)
    if heldout_npz and spec.categorical and labelled is not None:  # before the statistics below are re-estimated
        fit = source.labelled_fit_set(training, 1 << 20) or labelled
        results.update(heldout_scores(discriminator, spec, config, heldout_npz, fit))
    results.update(
        evaluate.info_bound(generator, discriminator, spec, tf.random.Generator.from_seed(config.seed + 2), 2048)
    )
    if spec.continuous and config.image_shape[-1] == 1:
        rng = tf.random.Generator.from_seed(config.seed + 5)
        results.update(evaluate.traversal_correlations(generator, spec, rng))
    if labelled is not None and spec.categorical:
        images, labels = labelled
        read = evaluate.representation(discriminator, spec, images)[:, 0].astype(np.int64)  # the first code
        if config.image_shape[-1] == 1:
            results["cat0_slant_share"] = evaluate.slant_share(read, images)
        results["categorical_accuracy"] = evaluate.matched_accuracy(read, labels)
        results["categorical_accuracy_batch_statistics"] = _batch_statistics_accuracy(
            discriminator, spec, images, labels
        )
        _estimate_real_statistics(discriminator, images, bn_batches, config.batch_size, config.seed)
        results["categorical_accuracy_real_statistics"] = evaluate.categorical_scores(
            discriminator, spec, images, labels
        )["categorical_accuracy/cat0"]
    return results


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    """{key: {mean, sd, min, max, n}} over the runs of every number all of `rows` have (sd with ddof 1, 0
    for one run)."""
    keys = [k for k, v in rows[0].items() if isinstance(v, float | int) and not isinstance(v, bool)]
    table = {}
    for key in keys:
        if all(key in row for row in rows):
            values = np.asarray([row[key] for row in rows], np.float64)
            sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            table[key] = {
                "mean": float(values.mean()),
                "sd": sd,
                "min": float(values.min()),
                "max": float(values.max()),
            }
            table[key]["n"] = len(values)
    return table


def main(argv):
    del argv
    rows = [measure(workdir, FLAGS.bn_batches, FLAGS.heldout_npz) for workdir in FLAGS.workdirs]
    for row in rows:
        print(json.dumps(row, sort_keys=True))
    table = summary(rows)
    for key, cell in sorted(table.items()):
        print(
            f"{key}: {cell['mean']:.3f} ± {cell['sd']:.3f} "
            f"(min {cell['min']:.3f}, max {cell['max']:.3f}, n={cell['n']})"
        )
    if FLAGS.out:
        with open(FLAGS.out, "w") as f:
            json.dump({"runs": rows, "summary": table}, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    app.run(main)
