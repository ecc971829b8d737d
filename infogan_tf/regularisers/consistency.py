"""Augmentation consistency of the categorical code: Q's distribution over each categorical code for a real
image is the target for its distribution over the same code for a copy of that image rotated, zoomed and
shifted (Elastic-InfoGAN's copies, `elastic.paired`), by KL(Q(c|x) || Q(c|copy of x)), the first held
constant. The idea is the one of IMSAT's self-augmented training (Hu et al., ICML 2017) and of UDA (Xie et
al., NeurIPS 2020): what does not change a digit's identity must not change its category.

Why beside Elastic-InfoGAN's term: on MNIST the categorical code's errors are look-alike digits (4 and 9,
3, 5 and 8) split in two categories by their style, and Elastic's NT-Xent on Q's hidden features, with the
body left alone, did not keep them together (BUILD_NOTES). This term acts on the categories themselves,
and through D's optimiser (`--q_optimizer=d`, the default) the shared body learns from it as Q's head
does; with `--q_optimizer=g`, G's optimiser holds Q's own layers only, so only they do.

The continuous codes are left out: a rotation is what the slant code should follow. The extra passes of D
on the pair leave BN's moving statistics alone. Per example, so under a multi-replica strategy each
replica's share adds up to the global batch's mean.

Flag: `--consistency_weight` (0 = off). Metric: `consistency_loss` (the KL, in nats, summed over the
categorical codes).
"""

from __future__ import annotations

import tensorflow as tf

from infogan_tf.regularisers import base, elastic


def categorical_kl(target_logits: tf.Tensor, logits: tf.Tensor, categories: tuple[int, ...]) -> tf.Tensor:
    """[B]: KL(softmax(target) || softmax(logits)) summed over the categorical codes (logits [B, sum K])."""
    total = tf.zeros_like(logits[:, 0])
    for target, piece in zip(
        tf.split(target_logits, list(categories), -1), tf.split(logits, list(categories), -1), strict=True
    ):
        log_p, log_q = tf.nn.log_softmax(target), tf.nn.log_softmax(piece)
        total += tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), -1)
    return total


class Consistency(base.Regulariser):
    metric_names = ("consistency_loss",)

    @classmethod
    def enabled(cls, config) -> bool:
        return config.consistency_weight > 0

    def prepare_dataset(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
        return elastic.paired(dataset, self.config.seed, self.config.augment_rotation)

    def q_loss_term(self, discriminator, images, augmented, average, metrics):
        real, copy = discriminator.on_batches([images, augmented], training=True, update_statistics=[False, False])
        kl = categorical_kl(tf.stop_gradient(real["cat_logits"]), copy["cat_logits"], self.spec.categorical)
        loss = average(kl)
        metrics["consistency_loss"] = loss
        return self.config.consistency_weight * loss
