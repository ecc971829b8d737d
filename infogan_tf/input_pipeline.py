"""Training input pipelines: one `tf.data.Dataset` of image batches per `--dataset`.

Datasets that fit in memory are decoded once into a uint8 array; the training stream then shuffles
indices (every image once per epoch, reshuffled each epoch) and gathers batches from that array, so
a checkpoint of the iterator holds only the index buffer, never the images.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from infogan_tf import chairs, evaluate, local_data, shapes
from infogan_tf.config import Config, ConfigError


def in_memory_dataset(images: np.ndarray, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless global batches [B, H, W, C] float32 in [0, 1] from uint8 `images` [N, H, W, C]."""
    if len(images) < batch_size:
        raise ConfigError(f"--batch_size={batch_size} is larger than the {len(images)} training images.")
    pixels = tf.constant(images, tf.uint8)
    indices = tf.data.Dataset.range(len(images)).shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = indices.repeat().batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda i: tf.cast(tf.gather(pixels, i), tf.float32) / 255.0, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


# --dataset -> (TFDS name, label feature or None, held-out split for evaluation, pixel scale to 0..255).
TFDS_DATASETS = {
    "mnist": ("mnist", "label", "test", 1),
    "fashion_mnist": ("fashion_mnist", "label", "test", 1),
    "svhn": ("svhn_cropped", "label", "test", 1),
    "celeba": ("celeb_a", None, "test", 1),  # 218x178: a central square, resized to 32x32
    "dsprites": ("dsprites", "label_shape", "train", 255),  # dSprites' pixels are 0/1; it has one split.
}
# Ground-truth factors (integer features) of the datasets that have them, for MIG and FactorVAE,
# measured on the training split as disentanglement_lib does.
FACTOR_FEATURES = {
    "dsprites": ("label_shape", "label_scale", "label_orientation", "label_x_position", "label_y_position"),
    "chairs": ("elevation", "azimuth"),  # the chair model is an identity, not a factor of variation
}
# TFDS downloads (and its prepared-data mirror) come from here; checked before a download starts.
_DOWNLOAD_HOST = ("storage.googleapis.com", 443)


def _check_online(config: Config, name: str) -> None:
    """Fails in seconds, with what to do, where TFDS would retry an unreachable download for minutes."""
    try:
        socket.create_connection(_DOWNLOAD_HOST, timeout=5).close()
    except OSError as error:
        raise ConfigError(
            f"--dataset={config.dataset} needs the TFDS dataset {name!r}, which is not prepared in "
            f"{config.data_dir or tfds.core.constants.DATA_DIR} and cannot be downloaded from here "
            f"({_DOWNLOAD_HOST[0]}: {error}); prepare it where the internet is reachable "
            f"(`tfds build {name}`) and pass that folder as --data_dir."
        ) from None


def _tfds_split(config: Config, name: str, split: str) -> tf.data.Dataset:
    """A TFDS split: prepared data from --data_dir, else downloaded (--download=true and online)."""
    try:
        return tfds.load(name, split=split, data_dir=config.data_dir, download=False)
    except AssertionError:  # TFDS's "could not find data" for an unprepared dataset
        pass
    if not config.download:
        raise ConfigError(
            f"--dataset={config.dataset}: the TFDS dataset {name!r} is not prepared in "
            f"{config.data_dir or tfds.core.constants.DATA_DIR} and --download=false; pass the --data_dir "
            "where it was prepared, or allow the download."
        )
    _check_online(config, name)
    download_config = tfds.download.DownloadConfig(manual_dir=config.manual_dir)
    return tfds.load(
        name,
        split=split,
        data_dir=config.data_dir,
        download=True,
        download_and_prepare_kwargs={"download_config": download_config},
    )


def _fit(image: tf.Tensor, image_shape, scale: int = 1) -> tf.Tensor:
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


def _to_arrays(ds: tf.data.Dataset, config: Config, label_key, scale: int, limit=None):
    """Decodes a TFDS split once into uint8 images [N, H, W, C] resized to --image_shape, and labels:
    [N] for one feature name `label_key`, [N, F] for a tuple of F names, -1s for None."""

    def convert(example):
        if isinstance(label_key, tuple):  # several integer features: factors [F]
            label = tf.stack([tf.cast(example[key], tf.int64) for key in label_key])
        else:
            label = example[label_key] if label_key else tf.constant(-1, tf.int64)
        return _fit(example["image"], config.image_shape, scale), label

    if limit is not None:
        ds = ds.take(limit)
    images, labels = [], []
    for image, label in ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE).batch(4096).as_numpy_iterator():
        images.append(image)
        labels.append(label)
    if not images:
        raise ConfigError(f"--dataset={config.dataset} has no examples.")
    return np.concatenate(images), np.concatenate(labels)


# Read from this machine: --data_path for npz, folder (their image shape from the data) and faces (its
# preset's); digits from scikit-learn.
LOCAL_DATASETS = ("npz", "folder", "faces", "digits")
# Image side -> the architecture built for it (docs/contract.md); other sides are resized to the nearest.
_SIZE_ARCHITECTURES = {28: "mnist", 32: "svhn", 64: "dcgan64"}


@functools.lru_cache(maxsize=1)
def _load_local_cached(dataset: str, path: str, modified: float):
    del modified  # part of the cache key only
    if dataset == "digits":
        return local_data.load_digits()
    if dataset == "npz":
        return local_data.load_npz(path)
    images, labels, _ = local_data.load_folder(path, dataset=dataset)
    return images, labels, None


def _load_local(config: Config):
    """(images, labels, factors) of a LOCAL_DATASETS dataset, read once per file version."""
    path = config.data_path
    modified = os.path.getmtime(path) if path and os.path.exists(path) else 0.0
    return _load_local_cached(config.dataset, path, modified)


def adapt_config(config: Config) -> Config:
    """For npz/folder: image shape and architecture from the data (the nearest of 28, 32, 64 pixels)."""
    if config.dataset not in ("npz", "folder"):
        return config
    images = _load_local(config)[0]
    side = min(images.shape[1:3])
    size = min(_SIZE_ARCHITECTURES, key=lambda s: (abs(s - side), s))
    architecture = _SIZE_ARCHITECTURES[size]
    if config.architecture == "infogan_cr":  # --preset=infogan_cr: its networks, for 64x64x1 images only
        if (size, images.shape[-1]) != (64, 1):
            raise ConfigError(
                f"--preset={config.preset or 'infogan_cr'} needs 64x64 single-channel images; "
                f"--data_path={config.data_path} holds {images.shape[1]}x{images.shape[2]}x{images.shape[-1]}."
            )
        architecture = config.architecture
    return dataclasses.replace(config, image_shape=(size, size, images.shape[-1]), architecture=architecture)


def _local_arrays(config: Config):
    images, labels, factors = _load_local(config)
    if images.shape[1:] != tuple(config.image_shape):
        ds = tf.data.Dataset.from_tensor_slices(images).map(lambda x: _fit(x, config.image_shape))
        images = np.concatenate(list(ds.batch(4096).as_numpy_iterator()))
    return images, labels, factors


def chairs_builder(config: Config) -> chairs.RenderedChairs:
    """The prepared 3D chairs builder: built from `--manual_dir` on first use, then read from `--data_dir`."""
    builder = chairs.RenderedChairs(data_dir=config.data_dir)
    if not os.path.exists(os.path.join(builder.data_dir, "dataset_info.json")):
        if not config.manual_dir:
            raise ConfigError(f"--dataset=chairs is not prepared in {builder.data_dir}: {chairs.download_hint('DIR')}.")
        chairs.find_source(config.manual_dir)  # a clear error for a missing download, before TFDS starts
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=config.manual_dir))
    return builder


def train_dataset(config: Config) -> tf.data.Dataset:
    """An endless dataset of global batches of images [B, H, W, C] float32 in [0, 1]."""
    if config.dataset == "shapes":
        return shapes.dataset(config.batch_size, config.seed).map(lambda example: example["image"])
    if config.dataset == "chairs":
        images = tfds.as_numpy(chairs_builder(config).as_dataset(split="train", batch_size=-1))["image"]
        return in_memory_dataset(images, config.batch_size, config.seed)
    if config.dataset in TFDS_DATASETS:
        name, label_key, _, scale = TFDS_DATASETS[config.dataset]
        images, _ = _to_arrays(_tfds_split(config, name, "train"), config, label_key, scale)
        return in_memory_dataset(images, config.batch_size, config.seed)
    if config.dataset in LOCAL_DATASETS:
        return in_memory_dataset(_local_arrays(config)[0], config.batch_size, config.seed)
    raise ConfigError(f"--dataset={config.dataset!r} has no input pipeline yet.")


def factor_eval_set(config: Config, num_examples: int):
    """Real images [N, H, W, C] drawn uniformly and their discrete ground-truth factors [N, F], for MIG
    and FactorVAE; None when the data has no factors."""
    if config.dataset == "shapes":
        example = next(iter(shapes.dataset(num_examples, config.seed + 4)))
        return example["image"].numpy(), example["factors"].numpy()
    if config.dataset in FACTOR_FEATURES:
        if config.dataset == "chairs":
            ds, scale = chairs_builder(config).as_dataset(split="train"), 1
        else:
            name, _, _, scale = TFDS_DATASETS[config.dataset]
            ds = _tfds_split(config, name, "train")
        subset = _uniform_subset(ds, num_examples, config.seed + 4)
        images, factors = _to_arrays(subset, config, FACTOR_FEATURES[config.dataset], scale)
        return images.astype(np.float32) / 255.0, factors
    if config.dataset in LOCAL_DATASETS:
        images, _, factors = _local_arrays(config)
        if factors is not None:
            chosen = np.random.default_rng(config.seed + 4).permutation(len(images))[:num_examples]
            return images[chosen].astype(np.float32) / 255.0, evaluate.discrete_factors(factors[chosen])
    return None


def factor_names(config: Config) -> list[str] | None:
    """Names of the columns of `factor_eval_set`'s factors, None when the data has none named."""
    if config.dataset == "shapes":
        return list(shapes.FACTOR_NAMES)
    if config.dataset in FACTOR_FEATURES:
        return [name.removeprefix("label_") for name in FACTOR_FEATURES[config.dataset]]
    if config.dataset == "npz" and local_data.is_dsprites_npz(config.data_path):
        return list(shapes.FACTOR_NAMES)  # dSprites' own file: the same five factors, in that order
    return None


def _uniform_subset(ds: tf.data.Dataset, num_examples: int, seed: int) -> tf.data.Dataset:
    """`num_examples` examples of `ds` drawn uniformly without replacement (all when it has fewer), in
    the dataset's order: one pass that keeps the chosen indices, never the whole dataset in memory."""
    total = int(ds.cardinality())
    if total < 0:  # unknown: count once
        total = int(ds.reduce(np.int64(0), lambda count, _: count + 1))
    chosen = np.zeros(total, bool)
    chosen[np.random.default_rng(seed).choice(total, min(num_examples, total), replace=False)] = True
    chosen = tf.constant(chosen)
    return ds.enumerate().filter(lambda i, _: tf.gather(chosen, i)).map(lambda _, example: example)


def labelled_eval_set(config: Config, num_examples: int):
    """Real images [N, H, W, C] and integer labels [N] for `categorical_accuracy`, or None when the
    data has no labels. Drawn from a stream of its own, so the same images at every evaluation."""
    if config.dataset == "shapes":
        example = next(iter(shapes.dataset(num_examples, config.seed + 3)))
        return example["image"].numpy(), example["label"].numpy()
    if config.dataset in TFDS_DATASETS and TFDS_DATASETS[config.dataset][1]:
        name, label_key, split, scale = TFDS_DATASETS[config.dataset]
        images, labels = _to_arrays(_tfds_split(config, name, split), config, label_key, scale, limit=num_examples)
        return images.astype(np.float32) / 255.0, labels
    if config.dataset in LOCAL_DATASETS:
        images, labels, _ = _local_arrays(config)
        if labels is not None:
            # Drawn uniformly (all when there are fewer): a file sorted by label (dSprites' is) would
            # otherwise give one label only.
            chosen = np.sort(np.random.default_rng(config.seed + 3).permutation(len(images))[:num_examples])
            return images[chosen].astype(np.float32) / 255.0, labels[chosen]
    return None
