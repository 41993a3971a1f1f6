"""Mini-batches (concepts O1, O2): shuffle the training set, then cut it into batches.

One pass over all batches is one epoch. ``batch_size=1`` is stochastic gradient
descent, ``batch_size=None`` (all m examples) is batch gradient descent; the seed
recommends batch gradient descent under about 2,000 examples and otherwise a power
of two between 64 and 512 that fits in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._validation import ShapeError, fmt_shape, non_empty, positive_int
from ..backend import resolve_rng


def check_examples(owner: str, X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate a data set: arrays, non-empty, and as many labels as examples (B2).

    Example:
        >>> check_examples("fit", np.zeros((3, 2)), np.zeros(2))
        Traceback (most recent call last):
        ...
        steepest._validation.ShapeError: fit: `X` has 3 examples but `y` has 2 ...
    """
    X = np.asarray(X) if not hasattr(X, "shape") else X
    non_empty(owner, "X", X)
    if y is None:
        return X, None
    y = np.asarray(y) if not hasattr(y, "shape") else y
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        count = y.shape[0] if y.ndim else 0
        raise ShapeError(f"{owner}: `X` has {X.shape[0]} examples but `y` has {count} "
                         f"(X shape {fmt_shape(X.shape)}, y shape {fmt_shape(y.shape)})")
    return X, y


class DataLoader:
    """Iterate over (X_batch, y_batch) mini-batches, reshuffled every epoch.

    Args:
        X: examples, first axis m (batch-first).
        y: labels with the same first axis, or None.
        batch_size: examples per batch (default 64); None means all m (batch GD).
        shuffle: reshuffle at the start of every epoch.
        rng: a Generator or seed for the shuffling (default: steepest's generator).
        drop_last: drop the last, smaller batch (kept by default, as in the seed).
        transform: ``transform(X_batch, rng) -> X_batch`` applied to every batch (data
            augmentation).

    Example:
        >>> X = np.arange(10).reshape(5, 2); y = np.arange(5)
        >>> loader = DataLoader(X, y, batch_size=2, rng=0)
        >>> [len(yb) for _, yb in loader], len(loader)
        ([2, 2, 1], 3)
        >>> sorted(np.concatenate([yb for _, yb in loader]).tolist())
        [0, 1, 2, 3, 4]
    """

    def __init__(self, X: Any, y: Any = None, batch_size: int | None = 64,
                 shuffle: bool = True, rng: np.random.Generator | int | None = None,
                 drop_last: bool = False,
                 transform: Callable[[Any, np.random.Generator], Any] | None = None) -> None:
        self.X, self.y = check_examples("DataLoader", X, y)
        self.m = int(self.X.shape[0])
        self.batch_size = self.m if batch_size is None else positive_int(
            "DataLoader", "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.rng = resolve_rng(rng)
        self.drop_last = bool(drop_last)
        self.transform = transform
        if self.drop_last and self.batch_size > self.m:
            raise ValueError(f"DataLoader: drop_last with batch_size={self.batch_size} > "
                             f"m={self.m} leaves no batch")

    def __len__(self) -> int:
        full, rest = divmod(self.m, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        order = self.rng.permutation(self.m) if self.shuffle else None
        for start in range(0, self.m, self.batch_size):
            stop = start + self.batch_size
            if stop > self.m and self.drop_last:
                break
            if order is None:
                X_batch = self.X[start:stop]
                y_batch = None if self.y is None else self.y[start:stop]
            else:
                index = order[start:stop]
                X_batch = self.X[index]
                y_batch = None if self.y is None else self.y[index]
            if self.transform is not None:
                X_batch = self.transform(X_batch, self.rng)
            yield X_batch, y_batch
