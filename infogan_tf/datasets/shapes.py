"""Procedural dSprites-style shapes: 64x64 binary images rendered from a factor index, offline.

The factor grid is dSprites' (Matthey et al. 2017): 3 shapes (square, ellipse, heart) x 6 scales
(0.5..1) x 40 orientations (linspace(0, 2 pi, 40), dSprites' own values, endpoint included) x 32 x 32
positions (0..1). Every one of the 737,280 images is a pure function of its index, rendered in
TensorFlow by testing each pixel centre against the shape's implicit equation, so the pipeline
needs no files and is as fast as a batched elementwise op.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from infogan_tf.config import Config
from infogan_tf.datasets import base

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
NUM_IMAGES = int(np.prod(FACTOR_SIZES))
IMAGE_SIZE = 64
SHAPE_NAMES = ("square", "ellipse", "heart")
# Our rendering choices: half-size of a scale-1 shape in pixels, and the margin that keeps every
# rotated scale-1 square (half-diagonal 9 * sqrt 2 ~ 12.7 px) inside the frame.
_HALF_SIZE = 9.0
_MARGIN = 13.0
_SCALES = np.linspace(0.5, 1.0, 6)
_ORIENTATIONS = np.linspace(0.0, 2.0 * math.pi, 40)
_POSITIONS = np.linspace(0.0, 1.0, 32)


def factors_from_index(index: tf.Tensor) -> tf.Tensor:
    """Decodes flat indices [B] (row-major over FACTOR_SIZES) into factor indices [B, 5] int32."""
    index = tf.cast(index, tf.int64)
    factors = []
    for size in reversed(FACTOR_SIZES):
        factors.append(index % size)
        index = index // size
    return tf.cast(tf.stack(factors[::-1], axis=1), tf.int32)


def index_from_factors(factors: tf.Tensor) -> tf.Tensor:
    """Inverse of `factors_from_index`: factor indices [B, 5] -> flat indices [B] int64."""
    factors = tf.cast(factors, tf.int64)
    index = tf.zeros_like(factors[:, 0])
    for i, size in enumerate(FACTOR_SIZES):
        index = index * size + factors[:, i]
    return index


def render(factors: tf.Tensor) -> tf.Tensor:
    """Renders factor indices [B, 5] into binary float32 images [B, 64, 64, 1] in {0, 1}."""
    factors = tf.convert_to_tensor(factors, tf.int32)
    shape = factors[:, 0]
    scale = tf.gather(tf.constant(_SCALES, tf.float32), factors[:, 1])
    angle = tf.gather(tf.constant(_ORIENTATIONS, tf.float32), factors[:, 2])
    span = IMAGE_SIZE - 2.0 * _MARGIN
    cx = _MARGIN + span * tf.gather(tf.constant(_POSITIONS, tf.float32), factors[:, 3])
    cy = _MARGIN + span * tf.gather(tf.constant(_POSITIONS, tf.float32), factors[:, 4])

    centres = tf.range(IMAGE_SIZE, dtype=tf.float32) + 0.5
    u = centres[None, None, :] - cx[:, None, None]  # [B, 1, W] x offset
    v = centres[None, :, None] - cy[:, None, None]  # [B, H, 1] y offset (down)
    cos, sin = tf.cos(angle)[:, None, None], tf.sin(angle)[:, None, None]
    size = (_HALF_SIZE * scale)[:, None, None]
    # Rotate the pixel into the shape's frame and normalise by its size; y points up there.
    x = (cos * u + sin * v) / size
    y = -(-sin * u + cos * v) / size

    square = tf.maximum(tf.abs(x), tf.abs(y)) <= 1.0
    ellipse = tf.square(x) + tf.square(y / 0.5) <= 1.0
    # The heart curve (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 spans y in [-1, 1.25]: rescale to about
    # the square's extent and centre it.
    hx, hy = x * 1.15, y * 1.15 + 0.15
    heart = tf.pow(tf.square(hx) + tf.square(hy) - 1.0, 3) - tf.square(hx) * tf.pow(hy, 3) <= 0.0
    masks = tf.stack([square, ellipse, heart], axis=1)  # [B, 3, H, W]
    image = tf.gather(masks, shape, axis=1, batch_dims=1)
    return tf.cast(image, tf.float32)[..., None]


def dataset(batch_size: int, seed: int) -> tf.data.Dataset:
    """An endless, checkpointable stream of uniformly drawn batches.

    Elements: `image` [B, 64, 64, 1] float32 in {0, 1}, `factors` [B, 5] int32 (ground truth for
    evaluation) and `label` [B] int32 (the shape).
    """
    ds = tf.data.Dataset.random(seed=seed).map(lambda r: tf.math.floormod(r, NUM_IMAGES))
    ds = ds.batch(batch_size, drop_remainder=True)

    def to_example(index):
        factors = factors_from_index(index)
        return {"image": render(factors), "factors": factors, "label": factors[:, 0]}

    return ds.map(to_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


class Shapes(base.DataSource):
    """`--dataset=shapes`: rendered on the fly, every batch drawn uniformly from the factor grid."""

    # Procedural dSprites-style shapes: 3 shapes, so one Cat(3); four continuous codes for scale,
    # orientation and x/y position; little noise so the codes must carry the factors (our choice,
    # after InfoGAN-CR's dSprites setup of few noise dimensions).
    preset = Config(
        dataset="shapes",
        noise_dim=8,
        categorical=(3,),
        continuous=4,
        info_weight_cat=1.0,
        info_weight_cont=0.1,
        architecture="dcgan64",
        image_shape=(64, 64, 1),
        lr_g=1e-3,
        lr_d=2e-4,
        batch_size=64,
        # ~110 images/s on 2 CPU cores: 1,200 steps fit the README's 15-minute budget (BUILD_NOTES.md).
        steps=1200,
        log_every=50,
        checkpoint_every=200,
        sample_every=200,
        eval_every=600,
    )

    def train_dataset(self, config: Config) -> tf.data.Dataset:
        return dataset(config.batch_size, config.seed).map(lambda example: example["image"])

    def labelled_eval_set(self, config: Config, num_examples: int):
        example = next(iter(dataset(num_examples, config.seed + base.LABELLED_SEED_OFFSET)))
        return example["image"].numpy(), example["label"].numpy()

    def factor_eval_set(self, config: Config, num_examples: int):
        example = next(iter(dataset(num_examples, config.seed + base.FACTOR_SEED_OFFSET)))
        return example["image"].numpy(), example["factors"].numpy()

    def factor_names(self, config: Config) -> list[str]:
        del config
        return list(FACTOR_NAMES)


SHAPES = Shapes()
