"""Training input pipelines: one `tf.data.Dataset` of image batches per `--dataset`."""

from __future__ import annotations

import tensorflow as tf

from infogan_tf import shapes
from infogan_tf.config import Config, ConfigError


def train_dataset(config: Config) -> tf.data.Dataset:
    """An endless dataset of global batches of images [B, H, W, C] float32 in [0, 1]."""
    if config.dataset == "shapes":
        ds = shapes.dataset(config.batch_size, config.seed)
    else:
        raise ConfigError(f"--dataset={config.dataset!r} has no input pipeline yet; use --dataset=shapes.")
    return ds.map(lambda example: example["image"])
