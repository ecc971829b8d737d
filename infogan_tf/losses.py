"""GAN losses and the InfoGAN mutual-information lower bound, as pure functions of tensors.

All functions return per-example values (shape [B] or [B, n]) so that the training step can scale
them by the *global* batch with `tf.nn.compute_average_loss`. Reference: Chen et al. 2016,
"InfoGAN", arXiv:1606.03657 (Sec. 5, Eq. 4-6).
"""

from __future__ import annotations

import math

import tensorflow as tf

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """-log D(x) - log(1 - D(G(z, c))), the discriminator's side of V(D, G) (Goodfellow et al. 2014).

    Args:
      real_logits: [B] D's logits on real images.
      fake_logits: [B] D's logits on generated images.

    Returns:
      [B] per-example loss.
    """
    return tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits)


def generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Non-saturating generator loss -log D(G(z, c)) (Goodfellow et al. 2014, Sec. 3).

    Args:
      fake_logits: [B] D's logits on generated images.

    Returns:
      [B] per-example loss.
    """
    return tf.nn.softplus(-fake_logits)


def categorical_info_lower_bound(logits: tf.Tensor, codes: tf.Tensor) -> tf.Tensor:
    """L_I for one Cat(K) code: E[log Q(c|x)] + H(c) = ln K - cross-entropy (arXiv:1606.03657, Eq. 4).

    Args:
      logits: [B, K] Q's unnormalised log-probabilities for the code.
      codes: [B] int category indices that generated the images.

    Returns:
      [B] per-example bound; its mean is at most ln K, reached when Q recovers c exactly.
    """
    logits = tf.cast(logits, tf.float32)
    k = tf.cast(tf.shape(logits)[-1], tf.float32)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=codes, logits=logits)
    return tf.math.log(k) - cross_entropy


def continuous_info_lower_bound(
    mean: tf.Tensor, codes: tf.Tensor, log_std: tf.Tensor | None = None, low: float = -1.0, high: float = 1.0
) -> tf.Tensor:
    """L_I for Unif(low, high) codes under a factored Gaussian Q: ln(high - low) + log N(c; mu, sigma).

    With `log_std=None` sigma is fixed at 1 (the original code's default), so the bound is at most
    ln 2 - ln(2 pi) / 2 ~ -0.226 for Unif(-1, 1): a loose but valid bound (arXiv:1606.03657, Eq. 4).

    Args:
      mean: [B, n] Q's Gaussian mean per continuous code.
      codes: [B, n] the continuous codes that generated the images.
      log_std: [B, n] Q's log standard deviation, or None for sigma = 1.
      low: lower end of the uniform prior.
      high: upper end of the uniform prior.

    Returns:
      [B, n] per-example, per-code bound.
    """
    mean = tf.cast(mean, tf.float32)
    codes = tf.cast(codes, tf.float32)
    if log_std is None:
        log_std = tf.zeros_like(mean)
    log_std = tf.cast(log_std, tf.float32)
    standardized = (codes - mean) * tf.exp(-log_std)
    log_likelihood = -0.5 * tf.square(standardized) - log_std - _HALF_LOG_2PI
    return math.log(high - low) + log_likelihood


def info_lower_bounds(
    q_outputs: dict[str, tf.Tensor], latent: dict[str, tf.Tensor], categorical: tuple[int, ...]
) -> dict[str, tf.Tensor]:
    """Per-code L_I from Q's outputs and the latent codes that made the images.

    Args:
      q_outputs: `cat_logits` [B, sum K], `cont_mean` [B, n_cont], optionally `cont_log_std`.
      latent: `categorical` int [B, n_cat], `continuous` [B, n_cont].
      categorical: the category counts K_i (static), to split `cat_logits`.

    Returns:
      {"cat<i>": [B], "cont<j>": [B]} per-example bounds.
    """
    bounds = {}
    if categorical:
        pieces = tf.split(q_outputs["cat_logits"], list(categorical), axis=-1)
        for i, logits in enumerate(pieces):
            bounds[f"cat{i}"] = categorical_info_lower_bound(logits, latent["categorical"][:, i])
    n_cont = latent["continuous"].shape[-1]
    if n_cont:
        cont = continuous_info_lower_bound(q_outputs["cont_mean"], latent["continuous"], q_outputs.get("cont_log_std"))
        for j in range(n_cont):
            bounds[f"cont{j}"] = cont[:, j]
    return bounds


def weighted_info_lower_bound(
    bounds: dict[str, tf.Tensor], info_weight_cat: float, info_weight_cont: float
) -> tf.Tensor:
    """lambda * L_I summed over codes, with separate lambda for categorical and continuous codes.

    Args:
      bounds: per-code per-example bounds from `info_lower_bounds`.
      info_weight_cat: lambda for categorical codes.
      info_weight_cont: lambda for continuous codes.

    Returns:
      [B] per-example weighted bound, or a scalar 0 when there are no codes.
    """
    total = tf.constant(0.0)
    for name, value in bounds.items():
        weight = info_weight_cat if name.startswith("cat") else info_weight_cont
        total += weight * value
    return total


def contrastive_loss(logits: tf.Tensor, shared: tf.Tensor) -> tf.Tensor:
    """InfoGAN-CR's contrastive-regulariser loss (Lin et al. 2020): the softmax cross-entropy of the
    classifier's guess of which code a pair of images shares. The classifier minimises it, and so
    does G (it cooperates). ln K for a classifier that cannot tell the K codes apart.

    Args:
      logits: [B, K] the classifier's logits over the K codes.
      shared: [B] int index of the code each pair shares.

    Returns:
      [B] per-example loss.
    """
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=shared, logits=tf.cast(logits, tf.float32))


def nt_xent(first: tf.Tensor, second: tf.Tensor, temperature: float) -> tf.Tensor:
    """NT-Xent (SimCLR's normalized temperature-scaled cross-entropy), per pair.

    The 2B feature vectors (`first` [B, F] and `second` [B, F], row i of each a pair) are L2-normalised;
    each one's positive is its pair's other vector, its negatives the 2B - 2 others. The loss of a vector
    is the softmax cross-entropy of its positive among the cosine similarities / `temperature` to the
    2B - 1 others.

    Returns:
      [B] the mean of each pair's two losses (the mean over [B] is SimCLR's loss over the 2B vectors).
    """
    vectors = tf.math.l2_normalize(tf.cast(tf.concat([first, second], 0), tf.float32), axis=1)
    count = tf.shape(first)[0]
    similarity = tf.matmul(vectors, vectors, transpose_b=True) / temperature
    # A vector is never its own negative: its self-similarity is left out of the softmax.
    similarity -= 1e9 * tf.eye(2 * count)
    positives = tf.concat([tf.range(count, 2 * count), tf.range(count)], 0)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=positives, logits=similarity)
    return 0.5 * (losses[:count] + losses[count:])
