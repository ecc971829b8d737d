"""Losses and the InfoGAN bound against values worked out by hand (arXiv:1606.03657, Sec. 5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from infogan_tf import losses
from infogan_tf.latent import LatentSpec

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_categorical_bound_is_log_k_minus_cross_entropy():
    logits = tf.constant([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    codes = tf.constant([1, 0])
    # softmax([0, ln 3]) = [1/4, 3/4]; L_I = ln K + log Q(c|x).
    expected = [math.log(2) + math.log(3 / 4), math.log(2) + math.log(1 / 4)]
    np.testing.assert_allclose(losses.categorical_info_lower_bound(logits, codes), expected, rtol=1e-6)


def test_categorical_bound_is_zero_for_uniform_q_and_ln_k_for_a_certain_q():
    uniform = losses.categorical_info_lower_bound(tf.constant([[1.0, 1.0, 1.0]]), tf.constant([2]))
    certain = losses.categorical_info_lower_bound(tf.constant([[0.0, 0.0, 40.0]]), tf.constant([2]))
    np.testing.assert_allclose(uniform, [0.0], atol=1e-6)
    np.testing.assert_allclose(certain, [math.log(3)], rtol=1e-6)


def test_continuous_bound_with_fixed_sigma():
    mean = tf.constant([[0.5, -1.0]])
    codes = tf.constant([[0.0, 0.5]])
    # ln(high - low) + log N(c; mu, 1) = ln 2 - (c - mu)^2 / 2 - ln(2 pi) / 2.
    expected = [[math.log(2) - 0.5 * 0.5**2 - HALF_LOG_2PI, math.log(2) - 0.5 * 1.5**2 - HALF_LOG_2PI]]
    np.testing.assert_allclose(losses.continuous_info_lower_bound(mean, codes), expected, rtol=1e-6)


def test_continuous_bound_with_learned_sigma():
    mean = tf.constant([[0.5, -1.0]])
    codes = tf.constant([[0.0, 0.5]])
    log_std = tf.constant([[math.log(0.5), math.log(2.0)]])
    # log N(c; mu, sigma) = -((c - mu) / sigma)^2 / 2 - ln sigma - ln(2 pi) / 2.
    expected = [
        [
            math.log(2) - 0.5 * (0.5 / 0.5) ** 2 - math.log(0.5) - HALF_LOG_2PI,
            math.log(2) - 0.5 * (1.5 / 2.0) ** 2 - math.log(2.0) - HALF_LOG_2PI,
        ]
    ]
    np.testing.assert_allclose(losses.continuous_info_lower_bound(mean, codes, log_std), expected, rtol=1e-6)


def test_continuous_bound_uses_the_prior_width():
    bound = losses.continuous_info_lower_bound(tf.constant([[1.0]]), tf.constant([[1.0]]), low=0.0, high=4.0)
    np.testing.assert_allclose(bound, [[math.log(4) - HALF_LOG_2PI]], rtol=1e-6)


def test_discriminator_loss_is_minus_log_d_real_minus_log_one_minus_d_fake():
    real, fake = [0.0, 2.0], [1.0, -3.0]
    expected = [-math.log(sigmoid(r)) - math.log(1 - sigmoid(f)) for r, f in zip(real, fake, strict=True)]
    np.testing.assert_allclose(losses.discriminator_loss(tf.constant(real), tf.constant(fake)), expected, rtol=1e-6)


def test_generator_loss_is_non_saturating():
    fake = [0.0, 2.0, -3.0]
    expected = [-math.log(sigmoid(f)) for f in fake]
    np.testing.assert_allclose(losses.generator_loss(tf.constant(fake)), expected, rtol=1e-6)


def test_weighted_bound_uses_separate_lambdas():
    bounds = {
        "cat0": tf.constant([1.0, 2.0]),
        "cat1": tf.constant([0.5, 0.5]),
        "cont0": tf.constant([4.0, -4.0]),
        "cont1": tf.constant([1.0, 1.0]),
    }
    expected = [1.0 + 0.5 + 0.1 * (4.0 + 1.0), 2.0 + 0.5 + 0.1 * (-4.0 + 1.0)]
    np.testing.assert_allclose(losses.weighted_info_lower_bound(bounds, 1.0, 0.1), expected, rtol=1e-6)
    only_cont = [0.5 * (4.0 + 1.0), 0.5 * (-4.0 + 1.0)]
    np.testing.assert_allclose(losses.weighted_info_lower_bound(bounds, 0.0, 0.5), only_cont, rtol=1e-6)


def test_weighted_bound_without_codes_is_zero():
    assert float(losses.weighted_info_lower_bound({}, 1.0, 1.0)) == 0.0


@pytest.mark.parametrize("learned_std", [False, True])
def test_info_lower_bounds_splits_two_categorical_codes_of_different_size(learned_std):
    # cat0 is Cat(2) with logits [0, ln 3]; cat1 is Cat(3) with logits [0, 0, ln 2].
    cat_logits = tf.constant([[0.0, math.log(3.0), 0.0, 0.0, math.log(2.0)]] * 2)
    latent = {
        "categorical": tf.constant([[1, 2], [0, 0]]),
        "continuous": tf.constant([[0.0], [1.0]]),
    }
    q_outputs = {"cat_logits": cat_logits, "cont_mean": tf.constant([[0.5], [0.5]])}
    sigma = 1.0
    if learned_std:
        sigma = 2.0
        q_outputs["cont_log_std"] = tf.constant([[math.log(2.0)], [math.log(2.0)]])
    bounds = losses.info_lower_bounds(q_outputs, latent, (2, 3))

    assert sorted(bounds) == ["cat0", "cat1", "cont0"]
    np.testing.assert_allclose(
        bounds["cat0"], [math.log(2) + math.log(3 / 4), math.log(2) + math.log(1 / 4)], rtol=1e-6
    )
    np.testing.assert_allclose(
        bounds["cat1"], [math.log(3) + math.log(2 / 4), math.log(3) + math.log(1 / 4)], rtol=1e-6
    )
    cont = [math.log(2) - 0.5 * (0.5 / sigma) ** 2 - math.log(sigma) - HALF_LOG_2PI] * 2
    np.testing.assert_allclose(bounds["cont0"], cont, rtol=1e-6)


def test_info_lower_bounds_names_every_continuous_code():
    q_outputs = {"cat_logits": tf.zeros([1, 0]), "cont_mean": tf.constant([[0.0, 1.0, -1.0]])}
    latent = {"categorical": tf.zeros([1, 0], tf.int32), "continuous": tf.constant([[0.0, 0.0, 0.0]])}
    bounds = losses.info_lower_bounds(q_outputs, latent, ())
    assert sorted(bounds) == ["cont0", "cont1", "cont2"]
    np.testing.assert_allclose(bounds["cont1"], [math.log(2) - 0.5 - HALF_LOG_2PI], rtol=1e-6)
    np.testing.assert_allclose(bounds["cont2"], [math.log(2) - 0.5 - HALF_LOG_2PI], rtol=1e-6)


def test_entropies_are_ln_k_for_categorical_and_ln_2_for_uniform_codes():
    entropies = LatentSpec(noise_dim=5, categorical=(10, 3), continuous=2).entropies()
    assert entropies.keys() == {"cat0", "cat1", "cont0", "cont1"}
    assert entropies["cat0"] == pytest.approx(math.log(10))
    assert entropies["cat1"] == pytest.approx(math.log(3))
    assert entropies["cont0"] == pytest.approx(math.log(2))
    assert entropies["cont1"] == pytest.approx(math.log(2))


def test_nt_xent_by_hand():
    # Two pairs of 2-d vectors; NT-Xent normalises them, so the lengths do not matter.
    first = np.array([[2.0, 0.0], [0.0, 1.0]], np.float32)
    second = np.array([[1.0, 1.0], [0.0, 3.0]], np.float32)
    unit = np.concatenate([first, second]) / np.linalg.norm(np.concatenate([first, second]), axis=1, keepdims=True)
    temperature = 0.5
    expected = []
    for i in range(4):
        others = [j for j in range(4) if j != i]
        logits = np.array([unit[i] @ unit[j] / temperature for j in others])
        positive = others.index((i + 2) % 4)
        expected.append(-(logits[positive] - np.log(np.exp(logits).sum())))
    got = losses.nt_xent(tf.constant(first), tf.constant(second), temperature).numpy()
    np.testing.assert_allclose(got, [(expected[0] + expected[2]) / 2, (expected[1] + expected[3]) / 2], rtol=1e-5)
    # Identical pairs of orthogonal vectors: each positive scores 1/T against 0s for the negatives.
    eye = np.eye(3, dtype=np.float32)
    chance = np.log(np.exp(1.0) + 4)
    np.testing.assert_allclose(losses.nt_xent(eye, eye, 1.0).numpy(), [chance - 1.0] * 3, rtol=1e-5)
