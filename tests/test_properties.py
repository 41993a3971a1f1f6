"""Property tests (hypothesis): invariants that must hold for every input."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

import steepest as st
import steepest.functional as F
from steepest.autograd import sum_to

floats = hs.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                  elements=floats), hs.floats(-100, 100))
def test_softmax_rows_sum_to_one_and_are_shift_invariant(x: np.ndarray, shift: float) -> None:
    p = F.softmax(st.tensor(x)).data
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    assert (p >= 0).all()
    np.testing.assert_allclose(F.softmax(st.tensor(x + shift)).data, p, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3), elements=floats))
def test_sigmoid_symmetry(x: np.ndarray) -> None:
    np.testing.assert_allclose(F.sigmoid(st.tensor(-x)).data, 1 - F.sigmoid(st.tensor(x)).data,
                               atol=1e-15)


@hs.composite
def broadcast_pair(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    small = tuple(1 if draw(hs.booleans()) else s for s in shape)
    small = small[draw(hs.integers(0, len(small))):]  # maybe drop leading axes
    return shape, small


@settings(max_examples=80, deadline=None)
@given(broadcast_pair(), hs.integers(0, 2**31 - 1))
def test_broadcast_and_sum_to_are_adjoint(shapes, seed: int) -> None:
    # <broadcast(x), y> == <x, sum_to(y)> for every x of the small shape, y of the big.
    big, small = shapes
    rng = np.random.default_rng(seed)
    x = rng.normal(size=small)
    y = rng.normal(size=big)
    left = float((np.broadcast_to(x, big) * y).sum())
    right = float((x * sum_to(y, small)).sum())
    np.testing.assert_allclose(left, right, rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, (3, 4), elements=floats))
def test_log_softmax_is_log_of_softmax(x: np.ndarray) -> None:
    np.testing.assert_allclose(np.exp(F.log_softmax(st.tensor(x)).data),
                               F.softmax(st.tensor(x)).data, atol=1e-12)
