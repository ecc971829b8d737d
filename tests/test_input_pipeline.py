"""Input pipelines: in-memory epochs and checkpoints, TFDS datasets through mock_data, offline failures."""

import dataclasses
import errno
import os
import socket
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from infogan_tf import datasets, recipes
from infogan_tf.config import PRESETS, ConfigError
from infogan_tf.datasets import tfds_family
from infogan_tf.datasets.base import in_memory_dataset


def test_in_memory_dataset_visits_every_image_once_per_epoch():
    images = np.arange(40, dtype=np.uint8).reshape(40, 1, 1, 1)
    batches = iter(in_memory_dataset(images, batch_size=8, seed=0))
    seen = np.concatenate([next(batches).numpy().ravel() for _ in range(5)])
    np.testing.assert_array_equal(np.sort(np.round(seen * 255)), np.arange(40))
    assert not np.array_equal(seen, np.arange(40) / 255)  # shuffled
    with pytest.raises(ConfigError, match="--batch_size=64 is larger than the 40 training images"):
        in_memory_dataset(images, batch_size=64, seed=0)


def test_in_memory_iterator_checkpoint_is_small_and_resumes_exactly(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (2000, 64, 64, 1), dtype=np.uint8)  # 8 MB of pixels
    iterator = iter(in_memory_dataset(images, batch_size=16, seed=3))
    next(iterator)
    checkpoint = tf.train.Checkpoint(iterator=iterator)
    path = checkpoint.write(str(tmp_path / "ckpt"))
    expected = [next(iterator).numpy() for _ in range(3)]
    size = sum(os.path.getsize(os.path.join(tmp_path, f)) for f in os.listdir(tmp_path))
    assert size < 1_000_000  # the index buffer, not the images

    restored = iter(in_memory_dataset(images, batch_size=16, seed=3))
    tf.train.Checkpoint(iterator=restored).read(path).assert_consumed()
    for batch in expected:
        np.testing.assert_array_equal(next(restored).numpy(), batch)


@pytest.mark.parametrize(
    "dataset, shape",
    [
        ("mnist", (28, 28, 1)),
        ("fashion_mnist", (28, 28, 1)),
        ("svhn", (32, 32, 3)),
        ("celeba", (32, 32, 3)),
        ("dsprites", (64, 64, 1)),
    ],
)
def test_tfds_datasets_through_mock_data(tmp_path, dataset, shape):
    config = dataclasses.replace(PRESETS[dataset], batch_size=8, data_dir=str(tmp_path))
    with tfds.testing.mock_data(num_examples=24):
        batch = next(iter(datasets.get(config.dataset).train_dataset(config))).numpy()
        labelled = datasets.get(config.dataset).labelled_eval_set(config, 10)
        fit = datasets.get(config.dataset).labelled_fit_set(config, 10)
    assert batch.shape == (8, *shape) and batch.dtype == np.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0
    assert config.image_shape == shape
    if dataset == "celeba":  # no class labels
        assert labelled is None and fit is None
    else:
        images, labels = labelled
        assert images.shape == (10, *shape) and labels.shape == (10,)
    if dataset == "dsprites":  # scored on its only split, training: nothing held out to fit apart from
        assert fit is None
    elif dataset != "celeba":  # scored on the test split; the majority vote fitted on 10 training images
        assert fit[0].shape == (10, *shape) and fit[1].shape == (10,)
        assert not np.array_equal(fit[0], images)


def test_dsprites_factors_are_a_uniform_subset_with_all_five_labels(tmp_path):
    config = dataclasses.replace(PRESETS["dsprites"], data_dir=str(tmp_path))
    with tfds.testing.mock_data(num_examples=40):
        images, factors = datasets.get(config.dataset).factor_eval_set(config, 12)
        again = datasets.get(config.dataset).factor_eval_set(config, 12)
        everything = datasets.get(config.dataset).factor_eval_set(config, 1000)
    assert images.shape == (12, 64, 64, 1) and factors.shape == (12, 5) and factors.dtype == np.int64
    np.testing.assert_array_equal(factors, again[1])  # the same examples at every evaluation
    assert len(everything[1]) == 40  # never more than the split holds
    # Each chosen row is one of the split's rows, with its own labels.
    rows = {tuple(row) for row in everything[1]}
    assert all(tuple(row) in rows for row in factors)
    assert datasets.get("mnist").factor_eval_set(PRESETS["mnist"], 10) is None


def test_npz_factors_are_discretised_for_the_metrics(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)
    images[:, 0, 0], images[:, 0, 1] = np.arange(300) % 256, np.arange(300) // 256
    factors = np.stack([np.arange(300) % 3, rng.uniform(0, 1, 300)], axis=1)  # 3 classes; continuous
    path = tmp_path / "f.npz"
    np.savez(path, images=images, factors=factors)
    config = datasets.get("npz").adapt_config(dataclasses.replace(PRESETS["npz"], data_path=str(path)))
    chosen_images, discrete = datasets.get(config.dataset).factor_eval_set(config, 200)
    assert chosen_images.shape == (200, 28, 28, 1) and discrete.shape == (200, 2)
    assert set(np.unique(discrete[:, 0])) == {0, 1, 2}
    assert 15 <= len(np.unique(discrete[:, 1])) <= 20  # 20 equal-width bins
    # The images keep their own factors: the first two pixels hold each image's row number.
    for image, row in zip(chosen_images, discrete, strict=True):
        pixels = np.round(image[0, :2, 0] * 255).astype(np.int64)
        assert row[0] == (pixels[0] + 256 * pixels[1]) % 3


@pytest.fixture
def no_network(monkeypatch):
    """This process cannot reach any host, as on a machine without internet access, wherever the
    tests run: every Python-level name lookup and connection fails. Returns the hosts tried."""
    tried = []

    def refuse(*args, **kwargs):
        tried.append(args[1] if isinstance(args[0], socket.socket) else args[0])  # connect's self, address
        raise OSError(errno.ENETUNREACH, "Network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return tried


def test_offline_download_fails_fast_with_what_to_do(tmp_path, no_network):
    config = dataclasses.replace(PRESETS["mnist"], data_dir=str(tmp_path))
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"--dataset=mnist .* cannot be downloaded from here .* --data_dir") as error:
        datasets.get(config.dataset).train_dataset(config)
    assert time.monotonic() - start < 10
    # The download host was tried once, and its error is named, before TFDS started its retries.
    assert no_network == [tfds_family._DOWNLOAD_HOST]
    assert "Network is unreachable" in str(error.value) and "tfds build mnist" in str(error.value)
    assert os.listdir(tmp_path) == []  # nothing half-downloaded left behind


def test_unprepared_dataset_without_download_is_a_clear_error(tmp_path):
    config = dataclasses.replace(PRESETS["fashion_mnist"], data_dir=str(tmp_path), download=False)
    with pytest.raises(ConfigError, match=r"'fashion_mnist' is not prepared in .* and --download=false"):
        datasets.get(config.dataset).train_dataset(config)


def test_fig1_recipe_on_mnist_reads_tfds_and_fails_fast_offline(tmp_path, no_network):
    # The same recipe as on the real digits; here MNIST cannot be downloaded, so it stops at once.
    base = dataclasses.replace(PRESETS["mnist"], data_dir=str(tmp_path / "tfds"), steps=2, batch_size=8)
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"--dataset=mnist needs the TFDS dataset 'mnist'"):
        recipes.fig1(base, str(tmp_path / "fig1"))
    assert time.monotonic() - start < 10
    assert no_network == [tfds_family._DOWNLOAD_HOST]
    # It stopped in the first run (the GAN baseline) before anything was written.
    assert os.listdir(tmp_path) == []


def test_mnist_recipe_on_tfds_fails_fast_offline(tmp_path, no_network):
    base = dataclasses.replace(PRESETS["mnist"], data_dir=str(tmp_path / "tfds"), steps=4, batch_size=8)
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"--dataset=mnist needs the TFDS dataset 'mnist'"):
        recipes.mnist(base, [0, 1], str(tmp_path / "mnist"), screen_steps=2)
    assert time.monotonic() - start < 10 and os.listdir(tmp_path) == []
