"""The data-source registry: every `--dataset` resolves to its source, a new dataset is one source plus one
registry line (a toy one, defined here, trains), and no code outside the lookup compares dataset names."""

from __future__ import annotations

import dataclasses
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO_ROOT, TINY_RUN

from infogan_tf import config as config_lib
from infogan_tf import datasets
from infogan_tf.datasets import base
from infogan_tf.train import train_and_evaluate

POSITIONS = 4  # the toy's one factor: where its stripe is


def _stripes(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [count, 28, 28, 1] black images, each with a white 7-pixel-wide vertical stripe at one of
    four positions, and that position [count]."""
    position = np.random.default_rng(seed).integers(0, POSITIONS, count)
    images = np.zeros((count, 28, 28, 1), np.uint8)
    for image, at in zip(images, position, strict=True):
        image[:, 7 * at : 7 * at + 7] = 255
    return images, position


class Stripes(base.DataSource):
    """A toy dataset, defined in this test file only: stripes whose position is both label and factor."""

    preset = dataclasses.replace(
        config_lib.Config(), dataset="stripes", noise_dim=4, categorical=(POSITIONS,), continuous=1, **TINY_RUN
    )

    def train_dataset(self, config):
        return base.in_memory_dataset(_stripes(64, config.seed)[0], config.batch_size, config.seed)

    def labelled_eval_set(self, config, num_examples):
        images, position = _stripes(num_examples, config.seed + base.LABELLED_SEED_OFFSET)
        return images.astype(np.float32) / 255.0, position

    def factor_eval_set(self, config, num_examples):
        images, position = _stripes(num_examples, config.seed + base.FACTOR_SEED_OFFSET)
        # A second, constant factor: FactorVAE and MIG need a table of factors, and prune constant ones.
        return images.astype(np.float32) / 255.0, np.stack([position, np.zeros_like(position)], axis=1)

    def factor_names(self, config):
        return ["position", "nothing"]


@pytest.fixture
def stripes(monkeypatch):
    """`--dataset=stripes` registered for one test (one line), and gone after it."""
    monkeypatch.setitem(datasets.SOURCES.entries, "stripes", Stripes())
    return "stripes"


def test_a_dataset_defined_in_a_test_file_trains_and_is_evaluated_through_its_source(stripes, tmp_path):
    config = config_lib.resolve(stripes, {"eval_samples": 32})
    assert config.categorical == (POSITIONS,) and config.steps == 2  # its preset, through the registry
    results = train_and_evaluate(config, str(tmp_path / "run"))
    assert results["step"] == 2
    evaluation = json.loads((tmp_path / "run" / "eval.json").read_text())
    # Its labelled set is scored against the categorical code, its factors by name for MIG/FactorVAE.
    assert {"categorical_accuracy", "mig", "factor_vae", "mi/cat0/position"} <= set(evaluation)
    assert config_lib.read_workdir_config(str(tmp_path / "run")).dataset == "stripes"
    assert sorted(os.listdir(tmp_path / "run" / "samples")) == ["cat0_step0000002.png", "cont0_step0000002.png"]


def test_an_unknown_dataset_names_the_flag_and_every_choice():
    with pytest.raises(config_lib.ConfigError) as error:
        config_lib.resolve("imagenet", {})
    assert str(error.value) == (
        "--dataset='imagenet' is not available; choose one of "
        "celeba, chairs, digits, dsprites, faces, fashion_mnist, folder, mnist, npz, shapes, svhn."
    )


@pytest.mark.parametrize("name", datasets.names())
def test_every_registered_source_is_a_data_source_with_its_own_preset(name):
    source = datasets.get(name)
    assert isinstance(source, base.DataSource) and source.preset.dataset == name
    assert config_lib.PRESETS[name] is source.preset


def test_only_the_registry_lookup_compares_dataset_names():
    # The dispatch on --dataset lives in the sources: outside the lookup in config.resolve, no code in
    # the package compares a dataset's name.
    pattern = re.compile(r"dataset\b *(==|!=|(not )?in\b)")
    found = []
    for directory, _, files in os.walk(os.path.join(REPO_ROOT, "infogan_tf")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path) as f:
                    found += [
                        f"{os.path.relpath(path, REPO_ROOT)}: {line.strip()}" for line in f if pattern.search(line)
                    ]
    assert found == ["infogan_tf/config.py: if dataset not in datasets.names():"]


def test_sources_read_their_files_once_per_version(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, images=np.zeros((16, 28, 28), np.uint8))
    config = dataclasses.replace(config_lib.PRESETS["npz"], data_path=str(path))
    source = datasets.get("npz")
    first = source.read_once(config)
    assert source.read_once(config) is first  # the same arrays: not read again
    np.savez(path, images=np.full((16, 28, 28), 7, np.uint8))
    os.utime(path, (1, 1))  # a rewritten file: another modification time
    assert int(source.read_once(config)[0][0, 0, 0, 0]) == 7
    assert tf.is_tensor(next(iter(source.train_dataset(dataclasses.replace(config, batch_size=4)))))
