"""Evaluation with G and Q in inference mode.

- `info_bound`: the information lower bound L_I per code on fresh samples.
- `categorical_accuracy`: how well a categorical code classifies real labelled images, its K
  values matched to the labels by the assignment that maximises agreement (the paper's unsupervised
  MNIST classification).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from scipy import optimize

from infogan_tf import losses
from infogan_tf.latent import LatentSpec


def info_bound(
    generator, discriminator, spec: LatentSpec, rng: tf.random.Generator, num_samples: int, batch_size: int = 256
):
    """Mean L_I per code (`info_lb/<code>`) and their sum (`info_lb`) over `num_samples` fresh latents."""
    totals = {name: 0.0 for name in spec.code_names}
    done = 0
    while done < num_samples:
        n = min(batch_size, num_samples - done)
        latent = spec.sample(rng, n)
        q = discriminator(generator(latent, training=False), training=False)
        for name, value in losses.info_lower_bounds(q, latent, spec.categorical).items():
            totals[name] += float(tf.reduce_sum(value))
        done += n
    result = {f"info_lb/{name}": total / num_samples for name, total in totals.items()}
    result["info_lb"] = sum(result.values())
    return result


def matched_accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of cluster ids `predictions` against `labels` under the best one-to-one matching.

    The matching is the assignment (Hungarian algorithm) maximising the number of agreements;
    with more clusters than labels (or the reverse) the unmatched ones count as errors.
    """
    predictions, labels = np.asarray(predictions).ravel(), np.asarray(labels).ravel()
    if predictions.shape != labels.shape or predictions.size == 0:
        raise ValueError(f"predictions {predictions.shape} and labels {labels.shape} must be equal, non-empty.")
    counts = np.zeros((predictions.max() + 1, labels.max() + 1), np.int64)
    np.add.at(counts, (predictions, labels), 1)
    rows, cols = optimize.linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / labels.size)


def categorical_accuracy(discriminator, spec: LatentSpec, images, labels, batch_size: int = 256) -> dict[str, float]:
    """Q's most likely value of each categorical code on real `images` against integer `labels`,
    after matching values to labels (`matched_accuracy`): `categorical_accuracy/cat<i>` per code and
    `categorical_accuracy`, the best code's."""
    logits = np.concatenate(
        [
            np.asarray(discriminator(images[i : i + batch_size], training=False)["cat_logits"])
            for i in range(0, len(images), batch_size)
        ]
    )
    results, start = {}, 0
    for index, k in enumerate(spec.categorical):
        predictions = np.argmax(logits[:, start : start + k], axis=-1)
        results[f"categorical_accuracy/cat{index}"] = matched_accuracy(predictions, np.asarray(labels))
        start += k
    if results:
        results["categorical_accuracy"] = max(results.values())
    return results
