"""One assertion for the distributed-step tests: a replica's or worker's weights after one step are one
device's, up to the order in which the batch was summed."""

import numpy as np


def assert_same_update(name: str, trainable: bool, actual, expected, initial) -> float:
    """Asserts `actual` is `expected` (both after one step from `initial`); returns the largest update.

    Variables that are not trained (BatchNorm's moving statistics, all-reduced batch moments; spectral
    norm's power-iteration vector) must agree to 1e-6.
    Trainable weights are compared by the error of their whole update, not weight by weight: summed in
    another order, a pre-activation within rounding of 0 can land on the other side of a ReLU, which
    changes one example's gradient through that one unit. Seen once in CI: 144 of fc2's 6.4M weights,
    all in one column, off by up to 2.6e-6, roughly 1% of fc2's update (norm near 1.4e-3). Without a
    flip the error is 2e-4 or less; a step without the all-reduce (one worker's half batch) moves the
    update by 38% or more, and the sum in place of the mean by 100%.
    """
    actual, expected, initial = (np.asarray(a) for a in (actual, expected, initial))
    if not trainable:
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6, err_msg=name)
        return 0.0
    update = expected - initial
    if not update.any():
        np.testing.assert_array_equal(actual, expected, err_msg=f"{name} (not updated by one device)")
        return 0.0
    error = np.linalg.norm(actual - expected) / np.linalg.norm(update)
    assert error < 0.05, f"{name}: the update differs from one device's by {error:.1%}"
    return float(np.max(np.abs(update)))
