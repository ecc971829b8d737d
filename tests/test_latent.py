"""The latent spec: sampling from the prior, G's input and traversal latents."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from infogan_tf.latent import LatentSpec, traverse_code

SPEC = LatentSpec(noise_dim=5, categorical=(10, 3), continuous=2)


def test_sample_shapes_dtypes_and_ranges():
    latent = SPEC.sample(tf.random.Generator.from_seed(0), 512)
    assert latent["z"].shape == (512, 5) and latent["z"].dtype == tf.float32
    assert latent["categorical"].shape == (512, 2) and latent["categorical"].dtype == tf.int32
    assert latent["continuous"].shape == (512, 2) and latent["continuous"].dtype == tf.float32
    for key in ("z", "continuous"):
        values = latent[key].numpy()
        assert values.min() >= -1.0 and values.max() <= 1.0
        # Unif(-1, 1), not Unif(0, 1): 512 draws cover both halves.
        assert values.min() < -0.5 and values.max() > 0.5
    categories = latent["categorical"].numpy()
    for i, k in enumerate(SPEC.categorical):
        assert set(np.unique(categories[:, i])) == set(range(k))


def test_sample_without_codes_has_empty_code_tensors():
    latent = LatentSpec(noise_dim=4).sample(tf.random.Generator.from_seed(0), 3)
    assert latent["categorical"].shape == (3, 0)
    assert latent["continuous"].shape == (3, 0)
    assert LatentSpec(noise_dim=4).generator_input(latent).shape == (3, 4)


def test_same_seed_gives_the_same_latents_and_different_seeds_do_not():
    first = SPEC.sample(tf.random.Generator.from_seed(7), 16)
    second = SPEC.sample(tf.random.Generator.from_seed(7), 16)
    other = SPEC.sample(tf.random.Generator.from_seed(8), 16)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert not np.array_equal(first["z"], other["z"])


def test_generator_input_concatenates_z_one_hots_and_continuous_codes():
    latent = {
        "z": tf.constant([[0.1, 0.2, 0.3, 0.4, 0.5]]),
        "categorical": tf.constant([[7, 2]]),
        "continuous": tf.constant([[-0.25, 0.75]]),
    }
    x = SPEC.generator_input(latent).numpy()
    assert x.shape == (1, SPEC.input_dim) and SPEC.input_dim == 5 + 10 + 3 + 2
    np.testing.assert_allclose(x[0, :5], [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_array_equal(x[0, 5:15], np.eye(10)[7])
    np.testing.assert_array_equal(x[0, 15:18], np.eye(3)[2])
    np.testing.assert_allclose(x[0, 18:], [-0.25, 0.75])


def test_code_names_count_from_zero():
    assert SPEC.code_names == ["cat0", "cat1", "cont0", "cont1"]


def test_traverse_categorical_code_sweeps_all_categories():
    rows = 3
    base = SPEC.sample(tf.random.Generator.from_seed(1), rows)
    latent, cols = traverse_code(SPEC, "cat1", base)
    assert cols == 3
    categorical = latent["categorical"].numpy().reshape(rows, cols, 2)
    for j in range(cols):
        np.testing.assert_array_equal(categorical[:, j, 1], j)
        np.testing.assert_array_equal(categorical[:, j, 0], base["categorical"].numpy()[:, 0])
        np.testing.assert_array_equal(latent["z"].numpy().reshape(rows, cols, 5)[:, j], base["z"])
        np.testing.assert_array_equal(latent["continuous"].numpy().reshape(rows, cols, 2)[:, j], base["continuous"])


def test_traverse_continuous_code_spans_minus_two_to_two():
    rows = 2
    base = SPEC.sample(tf.random.Generator.from_seed(2), rows)
    latent, cols = traverse_code(SPEC, "cont1", base)
    assert cols == 9
    continuous = latent["continuous"].numpy().reshape(rows, cols, 2)
    categorical = latent["categorical"].numpy().reshape(rows, cols, 2)
    z = latent["z"].numpy().reshape(rows, cols, 5)
    for j in range(cols):
        np.testing.assert_allclose(continuous[:, j, 1], np.linspace(-2.0, 2.0, 9)[j], atol=1e-6)
        np.testing.assert_array_equal(continuous[:, j, 0], base["continuous"].numpy()[:, 0])
        np.testing.assert_array_equal(categorical[:, j], base["categorical"])
        np.testing.assert_array_equal(z[:, j], base["z"])


@pytest.mark.parametrize("code, cols", [("cat0", 10), ("cont0", 9)])
def test_traversal_latents_feed_the_generator_input(code, cols):
    base = SPEC.sample(tf.random.Generator.from_seed(3), 4)
    latent, got_cols = traverse_code(SPEC, code, base)
    assert got_cols == cols
    assert SPEC.generator_input(latent).shape == (4 * cols, SPEC.input_dim)
