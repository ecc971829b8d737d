"""Shared test set-up: two logical CPUs for the whole suite, and tiny configs.

The host CPU is split at import time because TensorFlow fixes its devices at the first op, and
pytest imports this file before any test module, so every test (and the MirroredStrategy test
in particular) runs with `/cpu:0` and `/cpu:1`.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Lets `pytest` run from a plain checkout as well as from an editable install.
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from infogan_tf import config as config_lib  # noqa: E402
from infogan_tf import distribution  # noqa: E402

LOGICAL_CPUS = 2
distribution.split_host_cpu(LOGICAL_CPUS)


# A run cut down to 2 fast steps that still checkpoints, evaluates and draws; jit_compile=False:
# XLA's compile time buys nothing in a few steps (tests/test_performance.py covers it).
TINY_RUN = dict(
    steps=2,
    batch_size=8,
    log_every=1,
    checkpoint_every=2,
    sample_every=2,
    eval_every=2,
    eval_samples=16,
    labelled_eval_samples=16,
    factor_eval_samples=64,
    jit_compile=False,
)


def _copy_model_weights(source, target) -> None:
    target.set_weights(source.get_weights())
    for a, b in zip(source.weights, target.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.fixture(scope="session")
def shapes_config() -> config_lib.Config:
    """The `shapes` preset (dcgan64 64x64x1, Cat(3) + 4 continuous) cut down to 4 fast steps."""
    return dataclasses.replace(
        config_lib.PRESETS["shapes"], **{**TINY_RUN, "steps": 4, "log_every": 2, "sample_every": 4, "eval_every": 4}
    )


@pytest.fixture
def mnist_config() -> config_lib.Config:
    """The dataclass defaults (the paper's MNIST networks: noise 62, Cat(10), 2 continuous), batch 8."""
    return config_lib.Config(batch_size=8, steps=4, jit_compile=False)


@pytest.fixture
def copy_weights():
    """Copies every variable (trainable and BN moving statistics) of one Keras model to another."""
    return _copy_model_weights
