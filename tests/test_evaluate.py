"""Evaluation metrics on constructed cases with known answers."""

import numpy as np
import pytest
import tensorflow as tf

from infogan_tf import evaluate
from infogan_tf.latent import LatentSpec


def test_permuted_clusters_have_accuracy_one():
    labels = np.random.default_rng(0).integers(0, 10, size=500)
    permutation = np.random.default_rng(1).permutation(10)
    assert evaluate.matched_accuracy(permutation[labels], labels) == 1.0


def test_independent_clusters_are_near_chance():
    rng = np.random.default_rng(0)
    accuracy = evaluate.matched_accuracy(rng.integers(0, 3, 30_000), rng.integers(0, 3, 30_000))
    assert 1 / 3 - 0.01 < accuracy < 1 / 3 + 0.02  # the matching picks the best of 6 permutations.


def test_partial_agreement_is_counted_exactly():
    # Cluster 0 -> label 1 for 3 of 4 examples; cluster 1 -> label 0 for both of its examples.
    predictions = np.array([0, 0, 0, 0, 1, 1])
    labels = np.array([1, 1, 1, 0, 0, 0])
    assert evaluate.matched_accuracy(predictions, labels) == pytest.approx(5 / 6)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="must be equal"):
        evaluate.matched_accuracy(np.zeros(3, int), np.zeros(4, int))


class _OracleQ:
    """A stand-in D/Q whose categorical logits are one-hot of a permutation of the true label."""

    def __init__(self, labels, permutation, k_other):
        self.labels, self.permutation, self.k_other = labels, permutation, k_other

    def __call__(self, images, training=False):
        labels = self.labels[images[:, 0].astype(int)]
        first = tf.one_hot(self.permutation[labels], len(self.permutation))
        second = tf.zeros([len(labels), self.k_other])  # an uninformative second code
        return {"cat_logits": tf.concat([first, second], axis=1)}


def test_categorical_accuracy_reports_each_code_and_the_best():
    labels = np.random.default_rng(0).integers(0, 3, size=300)
    images = np.arange(300, dtype=np.float32)[:, None]  # each "image" is its own index
    spec = LatentSpec(noise_dim=2, categorical=(3, 4), continuous=1)
    q = _OracleQ(labels, np.array([2, 0, 1]), k_other=4)
    results = evaluate.categorical_accuracy(q, spec, images, labels, batch_size=64)
    assert results["categorical_accuracy/cat0"] == 1.0
    assert results["categorical_accuracy/cat1"] == pytest.approx(np.bincount(labels).max() / 300)
    assert results["categorical_accuracy"] == 1.0
