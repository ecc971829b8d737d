"""What a data source is, and the pieces its training streams and evaluation sets are built from.

A `DataSource` is one `--dataset`, as a TFDS builder is one dataset: it knows its preset, its training
stream, its labelled evaluation set, its ground-truth factors and their names, and how it adapts the
config to its data. Sources that fit in memory are decoded once into a uint8 array; the training stream
then shuffles indices (every image once per epoch, reshuffled each epoch) and gathers batches from that
array, so a checkpoint of the iterator holds only the index buffer, never the images.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np
import tensorflow as tf

from infogan_tf import evaluate
from infogan_tf.config import Config, ConfigError

# Evaluation sets are drawn from streams of their own, offset from the run's seed, so they are the
# same images at every evaluation and never touch the training stream.
LABELLED_SEED_OFFSET = 3
FACTOR_SEED_OFFSET = 4
REAL_SEED_OFFSET = 7
# Image side -> the architecture built for it (docs/contract.md); other sides are resized to the nearest.
SIZE_ARCHITECTURES = {28: "mnist", 32: "svhn", 64: "dcgan64"}


class DataSource:
    """One `--dataset`. Subclasses set `preset` and define `train_dataset`; the rest is optional.

    Attributes:
        preset: the dataset's `Config` (its `dataset` field is the registered name); flags override it.
        shape_from_data: whether the image shape and architecture come from the data (`adapt_config`)
            rather than the preset, so every `--preset` variant may apply to it.
    """

    preset: Config
    shape_from_data: bool = False

    def adapt_config(self, config: Config) -> Config:
        """The config with what only the data can tell (image shape, architecture); by default as it is."""
        return config

    def train_dataset(self, config: Config) -> tf.data.Dataset:
        """An endless dataset of global batches of images [B, H, W, C] float32 in [0, 1]."""
        raise NotImplementedError

    def real_images(self, config: Config, num_examples: int) -> np.ndarray:
        """Real training images [N, H, W, C] float32 in [0, 1], the same at every call: what G's sample
        diversity is measured against. By default the first of a training stream of its own (never the
        run's: a second iterator of one dataset would move its reshuffling seed, and so training)."""
        images, seen = [], 0
        for batch in self.train_dataset(config):
            images.append(np.asarray(batch))
            seen += len(images[-1])
            if seen >= num_examples:
                break
        return np.concatenate(images)[:num_examples]

    def labelled_eval_set(self, config: Config, num_examples: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Real images [N, H, W, C] float32 in [0, 1] and integer labels [N] the categorical code is scored
        on (`evaluate.categorical_scores`), held out from training where the data has such images; None
        when the data has no labels. The same images at every evaluation."""
        del config, num_examples
        return None

    def labelled_fit_set(self, config: Config, num_examples: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Labelled real images of the training data, as `labelled_eval_set`, that the majority-vote mapping
        from code values to labels is fitted on, when `labelled_eval_set` is held out; None when it is not
        (it is then drawn from the training data, and the mapping is fitted on it)."""
        del config, num_examples
        return None

    def factor_eval_set(self, config: Config, num_examples: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Real images [N, H, W, C] float32 in [0, 1] drawn uniformly and their discrete ground-truth
        factors [N, F], for MIG and FactorVAE; None when the data has no factors."""
        del config, num_examples
        return None

    def factor_names(self, config: Config) -> list[str] | None:
        """Names of the columns of `factor_eval_set`'s factors; None when the data has none named."""
        del config
        return None


class InMemorySource(DataSource):
    """A source read whole into memory: images, and labels and factors when the data has them.

    Subclasses define `read(path, flag)`; it runs once per file version (`--data_path` and its modification
    time), and the images are resized to the config's image shape when they differ. With `shape_from_data`,
    the images' own size picks the image shape and architecture instead of the preset's, and `--heldout_path`
    (read by `read` too) holds the labelled images the categorical code is scored on.
    """

    def adapt_config(self, config: Config) -> Config:
        """With `shape_from_data`: the image shape and architecture of the data: `--image_size` when given,
        else the nearest of 28, 32 and 64 pixels to the images' side."""
        if not self.shape_from_data:
            return config
        images = self.read_once(config)[0]
        side = min(images.shape[1:3])
        size = config.image_size or min(SIZE_ARCHITECTURES, key=lambda s: (abs(s - side), s))
        architecture = SIZE_ARCHITECTURES[size]
        if config.architecture == "infogan_cr":  # --preset=infogan_cr: its networks, for 64x64x1 images only
            if (size, images.shape[-1]) != (64, 1):
                raise ConfigError(
                    f"--preset={config.preset or 'infogan_cr'} needs 64x64 single-channel images; "
                    f"--data_path={config.data_path} holds {images.shape[1]}x{images.shape[2]}x{images.shape[-1]}."
                )
            architecture = config.architecture
        return dataclasses.replace(config, image_shape=(size, size, images.shape[-1]), architecture=architecture)

    def read(self, path: str | None, flag: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(images uint8 [N, H, W, C] at the data's own size, labels int64 [N] or None, factors [N, F] or
        None) from `path`, the value of `flag` (`--data_path` or `--heldout_path`, which errors name)."""
        raise NotImplementedError

    def read_once(self, config: Config, flag: str = "--data_path"):
        """`read` of `--data_path` (or of `--heldout_path`), read again only when the file changed."""
        path = config.heldout_path if flag == "--heldout_path" else config.data_path
        return _read_once(self, path, flag, os.path.getmtime(path) if path and os.path.exists(path) else 0.0)

    def arrays(self, config: Config, flag: str = "--data_path"):
        """`read_once`'s arrays, the images resized to `config.image_shape`."""
        images, labels, factors = self.read_once(config, flag)
        if images.shape[1:] != tuple(config.image_shape):
            ds = tf.data.Dataset.from_tensor_slices(images).map(lambda x: fit_image(x, config.image_shape))
            images = np.concatenate(list(ds.batch(4096).as_numpy_iterator()))
        return images, labels, factors

    def train_dataset(self, config: Config) -> tf.data.Dataset:
        return in_memory_dataset(self.arrays(config)[0], config.batch_size, config.seed)

    def real_images(self, config: Config, num_examples: int) -> np.ndarray:
        images = self.arrays(config)[0]
        chosen = np.random.default_rng(config.seed + REAL_SEED_OFFSET).permutation(len(images))[:num_examples]
        return images[np.sort(chosen)].astype(np.float32) / 255.0

    def labelled_fit_set(self, config: Config, num_examples: int):
        """With `--heldout_path`, the training images `labelled_eval_set` scores without it; else None."""
        return self._training_labelled(config, num_examples) if config.heldout_path else None

    def _training_labelled(self, config: Config, num_examples: int):
        images, labels, _ = self.arrays(config)
        if labels is None:
            return None
        # Drawn uniformly (all when there are fewer): a file sorted by label (dSprites' is) would
        # otherwise give one label only.
        rng = np.random.default_rng(config.seed + LABELLED_SEED_OFFSET)
        chosen = np.sort(rng.permutation(len(images))[:num_examples])
        return images[chosen].astype(np.float32) / 255.0, labels[chosen]

    def labelled_eval_set(self, config: Config, num_examples: int):
        """`--heldout_path`'s first `num_examples` images when given, else as many drawn from the training data."""
        if not config.heldout_path:
            return self._training_labelled(config, num_examples)
        images, labels, _ = self.arrays(config, "--heldout_path")
        if labels is None:
            raise ConfigError(
                f"--heldout_path={config.heldout_path} has no labels; give labelled images "
                "(an .npz with 'labels', or a folder of label subfolders) or drop the flag."
            )
        return images[:num_examples].astype(np.float32) / 255.0, labels[:num_examples]

    def factor_eval_set(self, config: Config, num_examples: int):
        images, _, factors = self.arrays(config)
        if factors is None:
            return None
        chosen = np.random.default_rng(config.seed + FACTOR_SEED_OFFSET).permutation(len(images))[:num_examples]
        return images[chosen].astype(np.float32) / 255.0, evaluate.discrete_factors(factors[chosen])


@functools.lru_cache(maxsize=2)  # the training data and the held-out images
def _read_once(source: InMemorySource, path: str | None, flag: str, modified: float):
    del modified  # part of the cache key only: a rewritten file is read again
    return source.read(path, flag)


def in_memory_dataset(images: np.ndarray, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless global batches [B, H, W, C] float32 in [0, 1] from uint8 `images` [N, H, W, C]."""
    if len(images) < batch_size:
        raise ConfigError(f"--batch_size={batch_size} is larger than the {len(images)} training images.")
    pixels = tf.constant(images, tf.uint8)
    indices = tf.data.Dataset.range(len(images)).shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = indices.repeat().batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda i: tf.cast(tf.gather(pixels, i), tf.float32) / 255.0, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def fit_image(image: tf.Tensor, image_shape, scale: int = 1) -> tf.Tensor:
    """One image (any size, 1 or 3 channels, pixels * `scale` in 0..255) -> uint8 `image_shape`:
    channels converted, then its central square resized with antialiasing."""
    height, width, channels = image_shape
    image = tf.cast(image, tf.float32) * scale
    if image.shape[-1] != channels:
        image = tf.image.rgb_to_grayscale(image) if channels == 1 else tf.image.grayscale_to_rgb(image)
    if tuple(image.shape[:2]) != (height, width):
        side = min(image.shape[:2])  # a central square, then resize (CelebA's 218x178 faces)
        image = tf.image.resize_with_crop_or_pad(image, side, side)
        image = tf.image.resize(image, (height, width), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def to_arrays(ds: tf.data.Dataset, config: Config, label_key, scale: int = 1, limit=None):
    """Decodes a split of examples once into uint8 images [N, H, W, C] resized to --image_shape, and
    labels: [N] for one feature name `label_key`, [N, F] for a tuple of F names, -1s for None."""

    def convert(example):
        if isinstance(label_key, tuple):  # several integer features: factors [F]
            label = tf.stack([tf.cast(example[key], tf.int64) for key in label_key])
        else:
            label = example[label_key] if label_key else tf.constant(-1, tf.int64)
        return fit_image(example["image"], config.image_shape, scale), label

    if limit is not None:
        ds = ds.take(limit)
    images, labels = [], []
    for image, label in ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE).batch(4096).as_numpy_iterator():
        images.append(image)
        labels.append(label)
    if not images:
        raise ConfigError(f"--dataset={config.dataset} has no examples.")
    return np.concatenate(images), np.concatenate(labels)


def uniform_subset(ds: tf.data.Dataset, num_examples: int, seed: int) -> tf.data.Dataset:
    """`num_examples` examples of `ds` drawn uniformly without replacement (all when it has fewer), in
    the dataset's order: one pass that keeps the chosen indices, never holding every example at once."""
    total = int(ds.cardinality())
    if total < 0:  # unknown: count once
        total = int(ds.reduce(np.int64(0), lambda count, _: count + 1))
    chosen = np.zeros(total, bool)
    chosen[np.random.default_rng(seed).choice(total, min(num_examples, total), replace=False)] = True
    chosen = tf.constant(chosen)
    return ds.enumerate().filter(lambda i, _: tf.gather(chosen, i)).map(lambda _, example: example)
