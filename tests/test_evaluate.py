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
        return {"cat_logits": tf.concat([first, second], axis=1), "cont_mean": tf.zeros([len(labels), 1])}


def test_categorical_scores_report_each_code_and_the_best():
    labels = np.random.default_rng(0).integers(0, 3, size=300)
    images = np.arange(300, dtype=np.float32)[:, None]  # each "image" is its own index
    spec = LatentSpec(noise_dim=2, categorical=(3, 4), continuous=1)
    q = _OracleQ(labels, np.array([2, 0, 1]), k_other=4)
    results = evaluate.categorical_scores(q, spec, images, labels, batch_size=64)
    assert results["categorical_accuracy/cat0"] == 1.0
    assert results["categorical_accuracy/cat1"] == pytest.approx(np.bincount(labels).max() / 300)
    assert results["categorical_accuracy"] == 1.0
    # cat1 reads 0 for every image: a majority vote gives it the most common label; it tells nothing.
    assert results["categorical_majority_accuracy/cat0"] == results["categorical_majority_accuracy"] == 1.0
    assert results["categorical_majority_accuracy/cat1"] == pytest.approx(np.bincount(labels).max() / 300)
    assert results["categorical_nmi/cat0"] == pytest.approx(1.0) and results["categorical_nmi/cat1"] == 0.0
    # Fitted on images whose labels are shifted by one, every value maps to the wrong label.
    fitted = evaluate.categorical_scores(q, spec, images, labels, fit=(images, (labels + 1) % 3), batch_size=64)
    assert fitted["categorical_majority_accuracy/cat0"] == 0.0
    assert fitted["categorical_accuracy/cat0"] == 1.0 and fitted["categorical_nmi/cat0"] == pytest.approx(1.0)


def test_majority_accuracy_by_hand():
    # Fitting: value 0 holds labels 5, 5, 7 (-> 5); value 1 holds 7 (-> 7); value 2 holds 3, 4 (a tie -> 3).
    fit_predictions, fit_labels = [0, 0, 0, 1, 2, 2], [5, 5, 7, 7, 3, 4]
    # Scored: 0 -> 5 right, 0 -> 5 against 7 wrong, 1 -> 7 right, 2 -> 3 right, 3 never fitted: wrong.
    predictions, labels = [0, 0, 1, 2, 3], [5, 7, 7, 3, 3]
    assert evaluate.majority_accuracy(fit_predictions, fit_labels, predictions, labels) == pytest.approx(3 / 5)
    # Many values may take one label (one-to-one matching would allow one of them).
    assert evaluate.majority_accuracy([0, 1, 2], [4, 4, 4], [0, 1, 2], [4, 4, 4]) == 1.0
    assert evaluate.matched_accuracy(np.array([0, 1, 2]), np.array([4, 4, 4])) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="equal, non-empty"):
        evaluate.majority_accuracy([0], [1, 2], [0], [1])


def _factors(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, k, n) for k in (3, 6, 10, 8)], axis=1)


def test_identity_code_has_mig_near_one_and_factor_vae_one():
    factors = _factors()
    codes = factors.astype(np.float32) + np.random.default_rng(1).normal(0, 0.01, factors.shape)
    assert evaluate.mig(codes, factors) > 0.95
    assert evaluate.factor_vae(codes, factors, np.random.default_rng(2)) == 1.0


def test_independent_random_code_scores_near_zero_mig_and_chance_factor_vae():
    factors = _factors()
    codes = np.random.default_rng(3).normal(size=(len(factors), 5))
    assert evaluate.mig(codes, factors) < 0.02
    # Votes go to random codes: the majority classifier is right about as often as chance (1/4 here),
    # never near 1.
    assert evaluate.factor_vae(codes, factors, np.random.default_rng(4)) < 0.45


def test_factor_vae_prunes_on_the_standard_deviation_as_disentanglement_lib():
    factors = _factors()
    rng = np.random.default_rng(5)
    codes = factors.astype(float) + rng.normal(0, 0.01, factors.shape)
    # Factor 0 (3 values, std ~0.8) scaled by 0.1: a std of ~0.08 keeps the code active (>= 0.05), though
    # its variance (~0.007) is below 0.05; pruned, its votes would go elsewhere and the score drop to ~3/4.
    codes[:, 0] *= 0.1
    assert 0.05 < codes[:, 0].std() and codes[:, 0].var() < 0.05
    assert evaluate.factor_vae(codes, factors, np.random.default_rng(6)) == 1.0
    codes[:, 0] *= 0.5  # std ~0.04: now inactive, and factor 0's votes are lost
    assert evaluate.factor_vae(codes, factors, np.random.default_rng(6)) == pytest.approx(0.75, abs=0.03)


def test_factor_vae_votes_compare_batch_variance_to_the_global_variance():
    # One code per factor, at very different scales: dividing by the global variance makes each
    # code's batch variance comparable, so the score stays 1; unnormalised, the small-scale code
    # would win every vote.
    factors = _factors()
    codes = factors.astype(float) * np.array([100.0, 1.0, 0.1, 10.0]) + np.random.default_rng(7).normal(
        0, 1e-3, factors.shape
    )
    assert evaluate.factor_vae(codes, factors, np.random.default_rng(8)) == 1.0


def test_normalised_mutual_information_names_the_factor_each_code_carries():
    factors = _factors()
    codes = factors[:, [2, 0]].astype(float)  # code 0 carries factor 2, code 1 factor 0
    table = evaluate.normalised_mutual_information(codes, factors)
    assert table.shape == (2, 4) and list(np.argmax(table, axis=1)) == [2, 0]
    np.testing.assert_allclose([table[0, 2], table[1, 0]], 1.0)
    assert np.all(np.delete(table[0], 2) < 0.01)


def test_a_factor_captured_by_two_codes_has_no_gap():
    factors = _factors()
    separate = factors.astype(float)
    duplicated = np.concatenate([separate, separate[:, :1]], axis=1)  # factor 0 in two codes
    # MIG's gap for factor 0 is 0, the other three stay ~1: the mean falls by about a quarter.
    assert evaluate.mig(duplicated, factors) == pytest.approx(evaluate.mig(separate, factors) - 0.25, abs=0.02)


def _bar(top_x: float, bottom_x: float, half_width: float, size: int = 28) -> np.ndarray:
    """A white bar from (top_x, row 4) to (bottom_x, row 23) on black, `2 * half_width` pixels wide."""
    image = np.zeros((size, size, 1), np.float32)
    for row in range(4, 24):
        centre = top_x + (bottom_x - top_x) * (row - 4) / 19
        columns = np.arange(size)
        image[row, :, 0] = (np.abs(columns - centre) <= half_width).astype(np.float32)
    return image


def test_slant_and_width_of_bars():
    upright, leaning, wide = _bar(14, 14, 1), _bar(17, 11, 0.5), _bar(14, 14, 3)
    slant, width = evaluate.slant_and_width(np.stack([upright, leaning, wide]))
    assert slant[0] == pytest.approx(0.0, abs=1e-9)
    assert slant[1] == pytest.approx(np.arctan2(6, 19), abs=0.03)  # the top leans right by 6 px over 19 rows
    assert slant[2] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_array_equal(width, [3, 7, 7])  # columns 13-15, 11-17 and 11-17
    assert evaluate.slant_and_width(np.zeros((1, 28, 28, 1)))[1][0] == 0


def test_slant_share_is_the_part_of_the_slant_the_categories_explain():
    right, left, upright = _bar(17, 11, 0.5), _bar(11, 17, 0.5), _bar(14, 14, 0.5)
    images = np.stack([right, right, left, left])
    # A category per lean explains all of it; categories each holding one of either, none of it.
    assert evaluate.slant_share([0, 0, 1, 1], images) == pytest.approx(1.0)
    assert evaluate.slant_share([0, 1, 0, 1], images) == pytest.approx(0.0, abs=1e-12)
    # Three of each lean and two upright bars, one category holding two right-leaning bars and the rest
    # another: category means (+a, -a/3) around the overall mean 0, so η² = (1/4 a² + 3/4 a²/9) / (6/8 a²).
    images = np.stack([right] * 3 + [left] * 3 + [upright] * 2)
    assert evaluate.slant_share([1, 1, 0, 0, 0, 0, 0, 0], images) == pytest.approx((1 / 4 + 3 / 4 / 9) / (6 / 8))
    assert evaluate.slant_share([0, 0], np.stack([upright, upright])) == 0.0


def test_traversal_correlations_find_the_code_that_moves_each_measure():
    spec = LatentSpec(noise_dim=2, categorical=(), continuous=2)

    def generator(latent, training=False):
        del training
        codes = latent["continuous"].numpy()
        # cont0 sets the width monotonically, cont1 the lean; the noise does nothing.
        return tf.constant(np.stack([_bar(14 + 3 * b, 14 - 3 * b, 1 + 2 * (a + 2)) for a, b in codes]))

    rhos = evaluate.traversal_correlations(generator, spec, tf.random.Generator.from_seed(0), rows=4)
    assert rhos["spearman_width/cont0"] == pytest.approx(1.0)
    assert rhos["spearman_slant/cont1"] == pytest.approx(1.0)
    assert rhos["spearman_slant/cont0"] == 0.0  # the slant is constant along cont0's traversal
    assert abs(rhos["spearman_width/cont1"]) < 0.8


# Hand-computed values from disentanglement_lib's definitions (google-research/disentanglement_lib, read not
# run: evaluation/metrics/mig.py `compute_mig`, utils.py `_histogram_discretize`, `discrete_mutual_info`,
# `discrete_entropy`; evaluation/metrics/factor_vae.py `compute_factor_vae`, `_prune_dims` at the
# unsupervised_study_v1 threshold 0.05). Mutual information in nats, as sklearn's mutual_info_score.


def test_mig_of_two_factors_and_two_codes_matches_the_hand_computation():
    f0 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    f1 = np.array([0, 1, 0, 1, 0, 1, 0, 1])  # independent of f0: each (f0, f1) pair twice
    # 20 equal-width bins over each code's own range (np.histogram's edges, np.digitize on all but the
    # last): code 0's 0.00-0.03 fall in [0, 0.05) and 0.97-1.00 in [0.95, 1], so it discretises to f0;
    # code 1's -3 and 5 fall in its first and last bins: b = [0, 0, 0, 1, 1, 1, 1, 1].
    code0 = np.array([0.0, 0.01, 0.02, 0.03, 0.97, 0.98, 0.99, 1.0])
    code1 = np.array([-3.0, -3.0, -3.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    codes, factors = np.stack([code0, code1], axis=1), np.stack([f0, f1], axis=1)
    # I(f0; code0) = H(f0) = ln 2 and I(f1; code0) = 0.
    # I(f0; b), joint counts (f0, b): (0,0) 3, (0,1) 1, (1,1) 4 of 8; p(b=0) = 3/8, p(b=1) = 5/8:
    #   3/8 ln((3/8) / (1/2 * 3/8)) + 1/8 ln((1/8) / (1/2 * 5/8)) + 4/8 ln((4/8) / (1/2 * 5/8))
    #   = 3/8 ln 2 + 1/8 ln(2/5) + 1/2 ln(8/5) = 2 ln 2 - 5/8 ln 5 (0.3804).
    # I(f1; b), joint counts (f1, b): (0,0) 2, (1,0) 1, (0,1) 2, (1,1) 3:
    #   1/4 ln(4/3) + 1/8 ln(2/3) + 1/4 ln(4/5) + 3/8 ln(6/5) = 3/2 ln 2 - 5/8 ln 5 (0.0338).
    i_f0_b, i_f1_b = 2 * np.log(2) - 5 / 8 * np.log(5), 1.5 * np.log(2) - 5 / 8 * np.log(5)
    table = evaluate.normalised_mutual_information(codes, factors)
    np.testing.assert_allclose(table, np.array([[np.log(2), 0.0], [i_f0_b, i_f1_b]]) / np.log(2), atol=1e-12)
    # MIG: factor 0's gap (ln 2 - I(f0; b)) / ln 2, factor 1's (I(f1; b) - 0) / ln 2; their mean
    # (ln 2 - ln 2 / 2) / (2 ln 2) = 1/4 exactly.
    assert evaluate.mig(codes, factors) == pytest.approx(0.25, abs=1e-12)


def test_mig_divides_each_gap_by_its_own_factors_entropy():
    f0 = np.array([0, 0, 1, 1, 2, 2, 3, 3])  # H = ln 4
    f1 = np.array([0, 1, 0, 1, 0, 1, 0, 1])  # H = ln 2, independent of f0
    codes = np.stack([f0, f0 // 2, f1], axis=1).astype(float)  # 0-3 fall in 4 of the 20 bins, 0-1 in 2
    # Factor 0: I with the codes ln 4, ln 2 (f0 // 2 is a function of f0: I = H(f0 // 2)), 0; gap
    # (ln 4 - ln 2) / ln 4 = 1/2. Factor 1: ln 2, 0, 0 (the first two codes are independent of it); gap
    # ln 2 / ln 2 = 1. MIG (1/2 + 1) / 2 = 3/4 (1 if factor 0's gap were divided by ln 2 instead).
    assert evaluate.mig(codes, np.stack([f0, f1], axis=1)) == pytest.approx(0.75, abs=1e-12)


def test_factor_vae_prunes_a_constant_code_so_every_vote_stays_with_its_factor():
    factors = _factors()
    codes = np.concatenate([factors[:, :1], np.zeros((len(factors), 1)), factors[:, 1:]], axis=1).astype(float)
    # Code 1 is constant: standard deviation 0 < 0.05, pruned (`_prune_dims`), so it never takes a vote.
    # Fixing factor k leaves one code, the one equal to factor k, with batch variance 0 while every other
    # active code varies: each vote is (that code, k), each code's votes come from one factor, and the
    # majority classifier is right on every held-out vote: exactly 1. (Unpruned, the constant code's
    # 0 / 0 is NaN, which np.argmin takes for the least: it would take every vote, and the score fall to
    # the share of the most frequent factor, ~1/4.)
    assert evaluate.factor_vae(codes, factors, np.random.default_rng(9)) == 1.0


def test_factor_vae_is_zero_when_every_code_is_pruned():
    factors = _factors()
    # Factor 0 (values 0-2) scaled by 0.01: standard deviation ~0.008 < 0.05; factor 1 (0-5) by 0.01:
    # ~0.017. No active dimension: disentanglement_lib's `compute_factor_vae` returns eval_accuracy 0.
    codes = factors[:, :2].astype(float) * 0.01
    assert codes.std(axis=0, ddof=1).max() < 0.05
    assert evaluate.factor_vae(codes, factors, np.random.default_rng(10)) == 0.0
