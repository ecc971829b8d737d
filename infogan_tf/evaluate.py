"""Evaluation with G and Q in inference mode.

- `info_bound`: the information lower bound L_I per code on fresh samples.
- `categorical_scores`: how well a categorical code classifies real labelled images: its K values
  matched one-to-one to the labels by the assignment that maximises agreement (the paper's unsupervised
  MNIST classification), by majority vote on training images, and their normalized mutual information.
- `pixel_spread`, `sample_diversity`: how much G's images differ from one another, against real images:
  a collapsed G draws one image for every latent.
- `code_effects`: how much each code, and the noise, changes G's image along a traversal with the rest
  of the latent fixed, against how much all latents together change it.
- `traversal_correlations`: the paper's Fig. 2c/d as numbers: how monotonically each continuous code
  moves the generated image's slant and width along a traversal.
- `mig`, `factor_vae`: disentanglement of Q's codes against ground-truth factors.

What "disentanglement_lib's definitions" means here: `mig`, `factor_vae` and `discretize` were written
from a reading of google-research/disentanglement_lib's source (`evaluation/metrics/mig.py`,
`factor_vae.py`, `utils.py` and the `unsupervised_study_v1` metric configs: 20 histogram bins, MIG on
10,000 points, FactorVAE with 10,000 points for the variances, batches of 64, 10,000 training and 5,000
evaluation votes, pruning threshold 0.05). disentanglement_lib is not a dependency: it is neither imported
nor run, and no number was compared with one it printed. What backs the claim is that reading, the
differences each function's docstring lists, and tests/test_evaluate.py's cases whose expected values are
worked out by hand from those definitions on tiny arrays.
"""

from __future__ import annotations

import warnings

import numpy as np
import tensorflow as tf
from scipy import optimize, stats
from sklearn.metrics import mutual_info_score, normalized_mutual_info_score

from infogan_tf import losses
from infogan_tf.latent import LatentSpec, traverse_code


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


def majority_accuracy(fit_predictions, fit_labels, predictions, labels) -> float:
    """Accuracy of cluster ids `predictions` against `labels` when each id takes the label most common
    among the fitting examples holding it (`fit_predictions`, `fit_labels`; the smallest such label on a
    tie). Several ids may take one label; an id no fitting example holds counts as an error. Fitted on
    training images and scored on held-out ones, this is kcobbe/gans_mnist's mapping."""
    fit_predictions, fit_labels = np.asarray(fit_predictions).ravel(), np.asarray(fit_labels).ravel()
    predictions, labels = np.asarray(predictions).ravel(), np.asarray(labels).ravel()
    if fit_predictions.shape != fit_labels.shape or predictions.shape != labels.shape or not labels.size:
        raise ValueError("majority_accuracy needs predictions and labels of equal, non-empty shapes.")
    ids = max(fit_predictions.max(initial=0), predictions.max()) + 1
    counts = np.zeros((ids, max(fit_labels.max(initial=0), labels.max()) + 1), np.int64)
    np.add.at(counts, (fit_predictions, fit_labels), 1)
    mapping = np.where(counts.sum(axis=1) > 0, np.argmax(counts, axis=1), -1)
    return float(np.mean(mapping[predictions] == labels))


def categorical_scores(
    discriminator, spec: LatentSpec, images, labels, fit=None, batch_size: int = 256
) -> dict[str, float]:
    """How well each categorical code classifies real labelled `images` (Q's most likely value against
    integer `labels`), per code `cat<i>` and for the best code (the key without `/cat<i>`):
    - `categorical_accuracy`: one-to-one matching of values to labels (`matched_accuracy`, the paper's);
    - `categorical_majority_accuracy`: each value takes the label most common among the images of
      `fit` = (images, labels) holding it (`majority_accuracy`; `fit` None: fitted on `images`);
    - `categorical_nmi`: scikit-learn's normalized mutual information of values and labels (arithmetic
      mean of the entropies).
    """
    codes = representation(discriminator, spec, images, batch_size)[:, : len(spec.categorical)].astype(np.int64)
    labels = np.asarray(labels)
    fit_codes, fit_labels = codes, labels
    if fit is not None:
        fit_codes = representation(discriminator, spec, fit[0], batch_size)[:, : len(spec.categorical)].astype(np.int64)
        fit_labels = np.asarray(fit[1])
    results = {}
    for i in range(len(spec.categorical)):
        results[f"categorical_accuracy/cat{i}"] = matched_accuracy(codes[:, i], labels)
        results[f"categorical_majority_accuracy/cat{i}"] = majority_accuracy(
            fit_codes[:, i], fit_labels, codes[:, i], labels
        )
        results[f"categorical_nmi/cat{i}"] = float(normalized_mutual_info_score(labels, codes[:, i]))
    for name in ("categorical_accuracy", "categorical_majority_accuracy", "categorical_nmi"):
        if spec.categorical:
            results[name] = max(results[f"{name}/cat{i}"] for i in range(len(spec.categorical)))
    return results


def slant_and_width(images, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The slant and the width of the ink in each of `images` [N, H, W, 1] (ink high, in [0, 1]).

    Returns:
      slant [N]: the angle in radians between the ink's principal axis (its intensity-weighted second
        moments) and the vertical, positive when the top leans right; 0 for an image without ink.
      width [N]: the ink's horizontal extent in pixels, from the first to the last column holding a
        pixel >= `threshold`; 0 without such a pixel.
    """
    ink = np.asarray(images, np.float64)[..., 0]
    height, width = ink.shape[1:]
    ys, xs = np.mgrid[:height, :width]
    mass = np.maximum(ink.sum(axis=(1, 2)), 1e-12)
    mean_x = (ink * xs).sum(axis=(1, 2)) / mass
    mean_y = (ink * ys).sum(axis=(1, 2)) / mass
    dx, dy = xs[None] - mean_x[:, None, None], ys[None] - mean_y[:, None, None]
    mu20, mu02, mu11 = ((ink * d).sum(axis=(1, 2)) / mass for d in (dx * dx, dy * dy, dx * dy))
    # Rows grow downwards, so a top leaning right has negative covariance of x and y.
    slant = 0.5 * np.arctan2(-2.0 * mu11, mu02 - mu20)
    columns = (ink >= threshold).any(axis=1)
    first, last = columns.argmax(axis=1), width - 1 - columns[:, ::-1].argmax(axis=1)
    return slant, np.where(columns.any(axis=1), last - first + 1, 0).astype(np.float64)


def slant_share(categories, images) -> float:
    """How much of the real images' slant (`slant_and_width`) the categorical code's reading of them
    explains: the correlation ratio η², the variance of the per-category mean slants (weighted by each
    category's share) over the variance of all slants; 0 when every category leans alike, 1 when each
    holds one slant. Label-free. On MNIST a Cat(10) that keeps every digit whole explains ~0.09 of the
    slant; one that cuts a pair of digits (4 and 9) by how they lean, ~0.2 (BUILD_NOTES, 2026-12-06)."""
    slant = slant_and_width(images)[0]
    categories = np.asarray(categories).astype(int).ravel()
    if slant.var() == 0:
        return 0.0
    means = np.bincount(categories, weights=slant) / np.maximum(np.bincount(categories), 1)
    return float(np.mean((means[categories] - slant.mean()) ** 2) / slant.var())


def pixel_spread(images) -> float:
    """The diversity of a batch of images [N, H, W, C]: each pixel's standard deviation across the batch,
    averaged over pixels and channels. 0 when every image is the same."""
    return float(np.mean(np.std(np.asarray(images, np.float64), axis=0)))


def sample_diversity(generator, latent: dict[str, tf.Tensor], real_spread: float) -> dict[str, float]:
    """`sample_diversity`: `pixel_spread` of G's images (inference mode) of a batch of latents;
    `real_diversity`: `real_spread`, the same of real images; `diversity_ratio`: the first over the second
    (about 1 for a G that varies as the data does, near 0 for a collapsed one; 1 when the real images do
    not vary at all, as nothing is then less varied than the data)."""
    spread = pixel_spread(generator(latent, training=False))
    ratio = spread / real_spread if real_spread > 0 else 1.0
    return {"sample_diversity": spread, "real_diversity": real_spread, "diversity_ratio": ratio}


def traversal_sweeps(spec: LatentSpec, base: dict[str, tf.Tensor], rng: tf.random.Generator, draws: int = 10):
    """{code: (latent batch, columns)}: each row of `base` with one code swept over its values and the rest
    fixed (`traverse_code`), and for `z` (with noise) `draws` fresh noises per row with the codes fixed."""
    sweeps = {code: traverse_code(spec, code, base) for code in spec.code_names}
    if spec.noise_dim:
        latent = {key: tf.repeat(value, draws, axis=0) for key, value in base.items()}
        latent["z"] = spec.sample(rng, int(base["z"].shape[0]) * draws)["z"]
        sweeps["z"] = (latent, draws)
    return sweeps


def code_effects(generator, spec: LatentSpec, rng: tf.random.Generator, rows: int = 32) -> dict[str, float]:
    """How visibly each code changes G's image (G in inference mode), as the traversal figures show it.

    For each code, every one of `rows` fresh latents is repeated with the code swept over its values
    (`traverse_code`: all K categories; a continuous code over -2..2, 9 values), the rest fixed; the
    code's effect is the `pixel_spread` along a row, averaged over rows, over the `pixel_spread` of the
    `rows` latents themselves. `code_effect/z` does the same with 10 fresh draws of the noise z in each
    row and the codes fixed (`traversal_sweeps`). 0: the code changes nothing; about 1: it alone varies
    the image as much as the whole latent does (a continuous code's -2..2 reaches past its prior, so it
    can exceed 1).
    """
    base = spec.sample(rng, rows)
    overall = pixel_spread(generator(base, training=False))

    def effect(latent: dict[str, tf.Tensor], cols: int) -> float:
        images = np.asarray(generator(latent, training=False), np.float64).reshape(rows, cols, -1)
        along = float(np.mean(np.std(images, axis=1)))
        return along / overall if overall > 0 else 0.0

    return {f"code_effect/{code}": effect(*sweep) for code, sweep in traversal_sweeps(spec, base, rng).items()}


def traversal_correlations(generator, spec: LatentSpec, rng: tf.random.Generator, rows: int = 64) -> dict[str, float]:
    """Fig. 2c/d as numbers: for each continuous code, the Spearman correlation between the code's value
    and the generated image's slant and width (`slant_and_width`) along a traversal over -2..2 (9
    values, the paper's range) with everything else fixed, averaged over `rows` fresh latents.

    Returns `spearman_slant/cont<j>` and `spearman_width/cont<j>` in [-1, 1] (0 where the measure does
    not change along a traversal).
    """
    base = spec.sample(rng, rows)
    results = {}
    for j in range(spec.continuous):
        latent, cols = traverse_code(spec, f"cont{j}", base)
        images = generator(latent, training=False).numpy()
        values = latent["continuous"].numpy()[:, j].reshape(rows, cols)
        for name, measure in zip(("slant", "width"), slant_and_width(images), strict=True):
            measure = measure.reshape(rows, cols)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", stats.ConstantInputWarning)
                rhos = [stats.spearmanr(v, m).statistic for v, m in zip(values, measure, strict=True)]
            results[f"spearman_{name}/cont{j}"] = float(np.mean(np.nan_to_num(rhos)))
    return results


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each column into `bins` equal-width bins over its range (disentanglement_lib's histogram)."""
    out = np.zeros(codes.shape, np.int64)
    for i in range(codes.shape[1]):
        edges = np.histogram(codes[:, i], bins)[1]
        out[:, i] = np.digitize(codes[:, i], edges[:-1])
    return out


def discrete_factors(factors: np.ndarray, max_values: int = 64, bins: int = 20) -> np.ndarray:
    """Ground-truth factors [N, F] as integer classes: a column with at most `max_values` distinct
    values keeps one class per value; a finer (continuous) one is cut into `bins` bins, as codes are."""
    factors = np.asarray(factors)
    out = discretize(factors, bins)
    for j in range(factors.shape[1]):
        values, classes = np.unique(factors[:, j], return_inverse=True)
        if len(values) <= max_values:
            out[:, j] = classes.ravel()
    return out


def normalised_mutual_information(codes: np.ndarray, factors: np.ndarray, bins: int = 20) -> np.ndarray:
    """[C, F]: the mutual information of each code (discretised into `bins` bins) with each discrete
    factor, divided by the factor's entropy (MIG's terms); NaN for a factor that does not vary."""
    discrete = discretize(np.asarray(codes), bins)
    factors = np.asarray(factors)
    table = np.full((discrete.shape[1], factors.shape[1]), np.nan)
    for j in range(factors.shape[1]):
        entropy = mutual_info_score(factors[:, j], factors[:, j])
        if entropy > 0:
            table[:, j] = [mutual_info_score(factors[:, j], discrete[:, i]) / entropy for i in range(discrete.shape[1])]
    return table


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = 20) -> float:
    """Mutual Information Gap (Chen et al. 2018), as disentanglement_lib computes it.

    `codes` [N, C] float (C >= 2), `factors` [N, F] discrete. For each factor: the gap between the
    two codes with the highest mutual information with it (codes discretised into `bins` bins),
    divided by the factor's entropy; the mean over factors (constant factors are skipped).

    The definition of disentanglement_lib's `mig.compute_mig` with `unsupervised_study_v1`'s values: each
    code cut into 20 equal-width bins over its own range (`utils._histogram_discretize`: `np.digitize`
    on `np.histogram`'s edges without the last), mutual information and entropy in nats by sklearn's
    `mutual_info_score` (`utils.discrete_mutual_info`, `discrete_entropy`). Differences: it draws its
    10,000 points from the data itself, we take the sample given (`--factor_eval_samples`, 10,000 by
    default); it divides a constant factor's gap, 0, by its entropy, 0 (the mean becomes NaN), we skip
    the factor; it takes [C, N] arrays, we take [N, C].
    """
    codes, factors = np.asarray(codes), np.asarray(factors)
    if codes.ndim != 2 or codes.shape[1] < 2 or len(codes) != len(factors):
        raise ValueError(f"mig needs codes [N, C>=2] and factors [N, F], not {codes.shape} and {factors.shape}.")
    table = normalised_mutual_information(codes, factors, bins)
    varying = ~np.isnan(table[0])
    top = -np.sort(-table[:, varying], axis=0)
    return float(np.mean(top[0] - top[1]))


def factor_vae(
    codes: np.ndarray,
    factors: np.ndarray,
    rng: np.random.Generator,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    batch_size: int = 64,
    prune_threshold: float = 0.05,
) -> float:
    """FactorVAE disentanglement score (Kim & Mnih 2018) as disentanglement_lib computes it
    (`evaluation/metrics/factor_vae.py` with `unsupervised_study_v1`'s values), on a sample.

    `codes` [N, C] of N examples drawn uniformly from the data, `factors` [N, F] discrete.
    - Global variances: each code's variance over the N examples (ddof=1, as np.var there).
    - Pruning: a code is active when its global standard deviation is >= `prune_threshold` (0.05).
    - One vote: a factor k drawn uniformly, fixed at the value of a random example; `batch_size`
      examples sharing that value, drawn with replacement from the N; the vote goes to (the active
      code with the lowest batch variance divided by its global variance, k).
    - Score: a majority-vote classifier code -> factor from `num_train` votes, its accuracy on
      `num_eval` fresh votes ("eval_accuracy").
    Differences (the first two documented in BUILD_NOTES.md): disentanglement_lib draws each vote's batch
    from the whole dataset, ours from the sample; and its vote table is indexed by the argmin's
    position among the active codes (a bug when a code is pruned), ours by the code itself (which
    relabels the table's rows only, so the score is the same). Its global variances come from 10,000
    fresh observations, ours from the N examples. Factors that do not vary in the sample are never
    fixed. 0 when no code is active, as its `eval_accuracy` is.
    Not InfoGAN-CR's FactorVAE metric, which differs again (no pruning, standard deviations with ddof 0,
    500 votes of 100 examples, accuracy on the votes the classifier was fitted on): that one is
    `selection.infogan_cr_factor_vae`.
    """
    codes, factors = np.asarray(codes, np.float64), np.asarray(factors)
    global_variance = codes.var(axis=0, ddof=1)
    active = np.sqrt(global_variance) >= prune_threshold
    if not active.any():
        return 0.0
    varying = [j for j in range(factors.shape[1]) if len(np.unique(factors[:, j])) > 1]
    # Per factor, the examples sorted by its value: the ones holding the value of example i are
    # order[k][start[k][i] : start[k][i] + count[k][i]].
    order, start, count = [], [], []
    for j in range(factors.shape[1]):
        value_of = np.unique(factors[:, j], return_inverse=True)[1].ravel()
        sizes = np.bincount(value_of)
        order.append(np.argsort(value_of, kind="stable"))
        start.append((np.cumsum(sizes) - sizes)[value_of])
        count.append(sizes[value_of])
    order, start, count = np.stack(order), np.stack(start), np.stack(count)

    def votes(number: int) -> np.ndarray:
        # All `number` votes at once: factor k and example i per vote, then `batch_size` examples
        # sharing i's value of k, drawn with replacement.
        k = np.asarray(varying)[rng.integers(len(varying), size=number)]
        i = rng.integers(len(factors), size=number)
        offsets = (rng.random((number, batch_size)) * count[k, i][:, None]).astype(np.int64)
        batch = codes[order[k[:, None], start[k, i][:, None] + offsets]]  # [votes, batch, C]
        ratios = np.where(active, batch.var(axis=1, ddof=1) / np.where(active, global_variance, 1.0), np.inf)
        table = np.zeros((codes.shape[1], factors.shape[1]), np.int64)
        np.add.at(table, (np.argmin(ratios, axis=1), k), 1)
        return table

    train, evaluation = votes(num_train), votes(num_eval)
    classifier = np.argmax(train, axis=1)
    return float(evaluation[np.arange(len(classifier)), classifier].sum() / evaluation.sum())


def representation(discriminator, spec: LatentSpec, images, batch_size: int = 256) -> np.ndarray:
    """Q's reading of real images as one code vector each: the most likely value of every categorical
    code, then the continuous means; [N, n_cat + n_cont] float."""
    parts = []
    for i in range(0, len(images), batch_size):
        q = discriminator(images[i : i + batch_size], training=False)
        logits, start, columns = np.asarray(q["cat_logits"]), 0, []
        for k in spec.categorical:
            columns.append(np.argmax(logits[:, start : start + k], axis=-1).astype(np.float32)[:, None])
            start += k
        columns.append(np.asarray(q["cont_mean"], np.float32).reshape(len(logits), -1))
        parts.append(np.concatenate(columns, axis=1))
    return np.concatenate(parts)


def disentanglement(
    discriminator, spec: LatentSpec, images, factors, seed: int = 0, factor_names=None
) -> dict[str, float]:
    """`mig` and `factor_vae` of Q's representation of real images against their ground-truth factors,
    and `mi/<code>/<factor>`, each code's normalised mutual information with each factor (the
    traversal figure names every code after the factor it has the most of)."""
    codes = representation(discriminator, spec, images)
    if codes.shape[1] < 2:
        return {}
    names = factor_names or [f"factor{j}" for j in range(np.shape(factors)[1])]
    results = {"mig": mig(codes, factors), "factor_vae": factor_vae(codes, factors, np.random.default_rng(seed))}
    table = normalised_mutual_information(codes, factors)
    for i, code in enumerate(spec.code_names):
        results.update({f"mi/{code}/{name}": float(table[i, j]) for j, name in enumerate(names) if table[i, j] >= 0})
    return results
