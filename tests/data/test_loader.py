"""Mini-batches (O1, O2): partitioning, shuffling under a seed, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from steepest import ShapeError
from steepest.data import DataLoader


def test_batches_partition_every_epoch() -> None:
    X, y = np.arange(130)[:, None], np.arange(130)
    loader = DataLoader(X, y, batch_size=64, rng=0)
    sizes = [len(yb) for _, yb in loader]
    assert sizes == [64, 64, 2] and len(loader) == 3  # the last partial batch is kept
    for _ in range(2):
        seen = np.concatenate([yb for _, yb in loader])
        assert sorted(seen.tolist()) == list(range(130))
    assert all((xb[:, 0] == yb).all() for xb, yb in loader)  # rows stay paired


def test_batch_gradient_descent_and_sgd() -> None:
    X = np.zeros((10, 2))
    assert [len(b) for b, _ in DataLoader(X, batch_size=None)] == [10]
    assert len(DataLoader(X, batch_size=1)) == 10
    assert len(DataLoader(X, batch_size=4, drop_last=True)) == 2


def test_shuffling_is_deterministic_under_a_seed() -> None:
    X = np.arange(50)
    first = [b.tolist() for b, _ in DataLoader(X, batch_size=8, rng=7)]
    second = [b.tolist() for b, _ in DataLoader(X, batch_size=8, rng=7)]
    assert first == second
    assert [b.tolist() for b, _ in DataLoader(X, batch_size=50, shuffle=False)] == [list(range(50))]


def test_transform_gets_the_rng() -> None:
    seen = []
    loader = DataLoader(np.ones((4, 2)), batch_size=2, rng=0,
                        transform=lambda xb, rng: seen.append(rng) or xb * 2)
    batches = [b for b, _ in loader]
    assert all((b == 2).all() for b in batches) and seen[0] is loader.rng


def test_bad_input() -> None:
    with pytest.raises(ShapeError, match=r"`X` has 3 examples but `y` has 2"):
        DataLoader(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"`X` is empty \(shape \(0, 2\)\)"):
        DataLoader(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="`batch_size` must be a positive int; got 0"):
        DataLoader(np.zeros((3, 2)), batch_size=0)
