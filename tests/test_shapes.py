"""The procedural dSprites-style `shapes` data: factor indexing, rendering and the tf.data stream."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from infogan_tf.datasets import shapes


def _render(*factors) -> np.ndarray:
    """Renders one image [64, 64] from (shape, scale, orientation, pos_x, pos_y) indices."""
    return shapes.render(tf.constant([factors], tf.int32)).numpy()[0, ..., 0]


def _centroid(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(image)
    return rows.mean(), cols.mean()


def test_num_images_is_the_dsprites_factor_grid():
    assert shapes.NUM_IMAGES == 3 * 6 * 40 * 32 * 32
    assert shapes.FACTOR_SIZES == (3, 6, 40, 32, 32)


def test_factors_and_index_round_trip():
    indices = tf.constant([0, 1, 31, 32, 12345, 500_000, shapes.NUM_IMAGES - 1], tf.int64)
    factors = shapes.factors_from_index(indices)
    np.testing.assert_array_equal(factors[0], [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(factors[1], [0, 0, 0, 0, 1])  # pos_y varies fastest.
    np.testing.assert_array_equal(factors[3], [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(factors[-1], [s - 1 for s in shapes.FACTOR_SIZES])
    assert np.all(factors.numpy() >= 0) and np.all(factors.numpy() < np.array(shapes.FACTOR_SIZES))
    np.testing.assert_array_equal(shapes.index_from_factors(factors), indices)


def test_render_is_binary_deterministic_and_shaped():
    factors = shapes.factors_from_index(tf.constant([0, 1000, 250_000, shapes.NUM_IMAGES - 1]))
    images = shapes.render(factors)
    assert images.shape == (4, 64, 64, 1) and images.dtype == tf.float32
    assert set(np.unique(images.numpy())) <= {0.0, 1.0}
    assert np.all(images.numpy().sum(axis=(1, 2, 3)) > 0)  # every shape is visible.
    np.testing.assert_array_equal(images, shapes.render(factors))


def test_bigger_scale_draws_more_pixels():
    for shape in range(3):
        areas = [_render(shape, scale, 0, 16, 16).sum() for scale in range(6)]
        assert np.all(np.diff(areas) > 0), (shape, areas)


def test_position_factors_move_the_centroid():
    left_row, left_col = _centroid(_render(0, 5, 0, 0, 16))
    right_row, right_col = _centroid(_render(0, 5, 0, 31, 16))
    assert right_col > left_col + 20 and abs(right_row - left_row) < 1
    top_row, top_col = _centroid(_render(1, 5, 0, 16, 0))
    bottom_row, bottom_col = _centroid(_render(1, 5, 0, 16, 31))
    assert bottom_row > top_row + 20 and abs(bottom_col - top_col) < 1


def test_largest_shapes_at_the_corners_stay_inside_the_frame():
    factors = [[shape, 5, angle, x, y] for shape in range(3) for angle in range(40) for x in (0, 31) for y in (0, 31)]
    images = shapes.render(tf.constant(factors)).numpy()[..., 0]
    assert np.all(images.sum(axis=(1, 2)) > 0)
    border = images[:, 0, :].sum() + images[:, -1, :].sum() + images[:, :, 0].sum() + images[:, :, -1].sum()
    assert border == 0


def test_the_three_shapes_differ():
    square, ellipse, heart = (_render(shape, 4, 3, 10, 20) for shape in range(3))
    assert not np.array_equal(square, ellipse)
    assert not np.array_equal(square, heart)
    assert not np.array_equal(ellipse, heart)


def test_dataset_yields_images_factors_and_labels_reproducibly():
    first = next(iter(shapes.dataset(batch_size=4, seed=3)))
    again = next(iter(shapes.dataset(batch_size=4, seed=3)))
    other = next(iter(shapes.dataset(batch_size=4, seed=4)))
    assert set(first) == {"image", "factors", "label"}
    assert first["image"].shape == (4, 64, 64, 1)
    assert first["factors"].shape == (4, 5) and first["label"].shape == (4,)
    np.testing.assert_array_equal(first["label"], first["factors"][:, 0])
    np.testing.assert_array_equal(first["image"], shapes.render(first["factors"]))
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["factors"], other["factors"])
