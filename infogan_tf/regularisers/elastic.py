"""Elastic-InfoGAN's identity-preserving regulariser (Ojha, Singh, Hua, Sohn, Lee, "Elastic-InfoGAN:
Unsupervised Disentangled Representation Learning in Class-Imbalanced Data", NeurIPS 2019): what Q's
output units read in a real image and in a copy of it rotated, zoomed and shifted are pulled together,
and apart from the batch's other images, by NT-Xent (`losses.nt_xent`). Q is told what "the same digit"
looks like, which the information term alone never says.

As their code (WisconsinAIVision/elastic-infogan, `infoGAN.py`, `run.sh`): Q's hidden features (after its
FC-BN-lReLU layer), L2-normalised, cosine similarity, temperature 1 and weight 10; both images go through
D's body in training mode; the term trains Q's layers and not the shared body (their optimiser for it
holds G and Q). Here it trains Q's own layers with whichever optimiser holds them (`--q_optimizer`: D's by
default, G's as theirs); `--elastic_body` lets the body learn from it too. Their augmentations: rotation up
to ±20°, zoom 0.9-1.1 and a small elastic distortion; here rotation ±20° (`--augment_rotation`), zoom
±10 % and a shift of up to 10 % of the side each way, made by Keras' preprocessing layers in the `tf.data`
pipeline (their transform has no XLA kernel, and XLA compiles the step). Each batch's draws are seeded by
the run's seed and the batch's index in the stream, which the data iterator's checkpoint holds, so a
resumed run augments exactly as an uninterrupted one. The extra passes of D on the pair leave BN's moving
statistics alone.

Flags: `--elastic_weight` (0 = off), `--elastic_temperature`, `--elastic_body`, `--augment_rotation` (the
copies', shared with `--consistency_weight`). Metric: `elastic_loss`.
One replica only: its negatives would otherwise be one replica's share of the batch.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from infogan_tf import losses
from infogan_tf.regularisers import base

ZOOM = 0.1  # ±10 %
SHIFT = 0.1  # of the image's side, each way


class _StatelessSeed(keras.random.SeedGenerator):
    """Seeds derived from a [2] tensor, for Keras' random layers inside `tf.data`: they accept an integer or
    a SeedGenerator, whose variable-held state could not follow the data iterator's checkpoint. Each `next`
    gives the next seed of the sequence (a layer draws several numbers, e.g. the shift's x and y, and one
    seed for all would make them equal); a new object starts the sequence again."""

    def __init__(self, seed: tf.Tensor):  # no state variable: the seed is given
        self._seed = seed
        self._draws = 0

    def next(self, ordered=True):
        del ordered
        self._draws += 1
        return tf.random.experimental.stateless_fold_in(self._seed, self._draws)


class Augmentation:
    """Rotation (up to `rotation` degrees each way), zoom and shift of a batch of images [B, H, W, C] in
    [0, 1], drawn from a stateless seed."""

    def __init__(self, rotation: float):
        fill = {"fill_mode": "constant", "fill_value": 0.0}
        self.layers = (
            keras.layers.RandomRotation(rotation / 360, **fill),  # a fraction of a full turn
            keras.layers.RandomZoom((-ZOOM, ZOOM), **fill),
            keras.layers.RandomTranslation(SHIFT, SHIFT, **fill),
        )

    def __call__(self, images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        for i, layer in enumerate(self.layers):
            draw = _StatelessSeed(tf.random.experimental.stateless_fold_in(seed, i))
            transformation = layer.get_random_transformation(images, training=True, seed=draw)
            images = layer.transform_images(images, transformation, training=True)
        return tf.clip_by_value(images, 0.0, 1.0)


def paired(dataset: tf.data.Dataset, seed: int, rotation: float) -> tf.data.Dataset:
    """Batches of images -> (images, augmented copies), batch n augmented with seed (`seed`, n) and rotations
    up to `rotation` degrees. A dataset already paired (by another regulariser: both terms then read the
    same copies) is returned as it is."""
    if isinstance(dataset.element_spec, tuple):
        return dataset
    augment = Augmentation(rotation)

    def pair(index, images):
        return images, augment(images, tf.stack([tf.cast(seed, tf.int64), index]))

    return dataset.enumerate().map(pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


class Elastic(base.Regulariser):
    metric_names = ("elastic_loss",)

    @classmethod
    def enabled(cls, config) -> bool:
        return config.elastic_weight > 0

    def prepare_dataset(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
        return paired(dataset, self.config.seed, self.config.augment_rotation)

    def q_loss_term(self, discriminator, images, augmented, average, metrics):
        real, copy = discriminator.on_batches([images, augmented], training=True, update_statistics=[False, False])
        if self.config.elastic_body:
            first, second = real["q_features"], copy["q_features"]
        else:  # Q's own layers on the body's features as constants
            first, second = (
                discriminator.recognize(tf.stop_gradient(out["features"]), training=True, update_statistics=False)[
                    "q_features"
                ]
                for out in (real, copy)
            )
        loss = average(losses.nt_xent(first, second, self.config.elastic_temperature))
        metrics["elastic_loss"] = loss
        return self.config.elastic_weight * loss
