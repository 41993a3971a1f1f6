"""Train / dev / test splits (concepts I1, M4, M5, M12).

Train on the training set, choose between ideas on the dev set, and report the
final result on the test set. Dev and test must come from the same distribution
(the one you care about); a train-dev set, carved out of the training data and
never trained on, separates variance from data mismatch when the training data
come from elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import ShapeError
from ..backend import resolve_rng
from .loader import check_examples


@dataclass(frozen=True)
class Splits:
    """The parts of a data set, each a pair (X, y) (y is None for unlabelled data).

    ``dev`` is None for a train/test split, ``test`` for a train/dev split (M5).
    """

    train: tuple[Any, Any]
    dev: tuple[Any, Any] | None = None
    test: tuple[Any, Any] | None = None
    train_dev: tuple[Any, Any] | None = None

    def sizes(self) -> dict[str, int]:
        """Examples in each present part."""
        return {name: len(part[0]) for name, part in self.parts().items()}

    def parts(self) -> dict[str, tuple[Any, Any]]:
        """The present parts by name, in the order train, train_dev, dev, test."""
        order = ("train", "train_dev", "dev", "test")
        return {name: getattr(self, name) for name in order if getattr(self, name) is not None}


def recommend_split(m: int, test: bool = True) -> tuple[float, ...]:
    """The seed's split for m examples: dev and test just big enough (I1).

    The rule: dev and test each get ``min(20%, max(0.25%, 10,000 / m))`` of the data
    and training the rest. It gives the seed's numbers: 60/20/20 for small data
    (up to 50,000 examples), 98/1/1 at a million, 99.5/0.25/0.25 from four million
    on, and a smooth path in between (10,000 dev examples are enough to tell good
    ideas apart). Without a test set (M5): dev gets ``min(30%, max(0.5%, 20,000 /
    m))``, so 70/30 for small data.

    Returns:
        (train, dev, test) fractions, or (train, dev) with ``test=False``.

    Example:
        >>> recommend_split(1_000), recommend_split(1_000_000), recommend_split(10_000_000)
        ((0.6, 0.2, 0.2), (0.98, 0.01, 0.01), (0.995, 0.0025, 0.0025))
        >>> recommend_split(5_000, test=False)
        (0.7, 0.3)
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise ValueError(f"recommend_split: `m` must be an int >= 2; got {m!r}")
    if test:
        share = min(0.2, max(0.0025, 10_000 / m))
        return (round(1 - 2 * share, 10), round(share, 10), round(share, 10))
    share = min(0.3, max(0.005, 20_000 / m))
    return (round(1 - share, 10), round(share, 10))


def _counts(owner: str, sizes: Sequence[float], m: int) -> list[int]:
    if not 2 <= len(sizes) <= 3:
        raise ValueError(f"{owner}: `sizes` needs 2 (train, dev) or 3 (train, dev, test) "
                         f"entries; got {len(sizes)}")
    if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
        counts = [int(s) for s in sizes]
        if any(c <= 0 for c in counts) or sum(counts) != m:
            raise ValueError(f"{owner}: counts {counts} must be positive and add up to the "
                             f"{m} examples (they add up to {sum(counts)})")
        return counts
    fractions = [float(s) for s in sizes]
    if any(not 0 < f < 1 for f in fractions) or not math.isclose(sum(fractions), 1.0,
                                                                 abs_tol=1e-9):
        raise ValueError(f"{owner}: fractions {list(sizes)} must each lie in (0, 1) and add up "
                         f"to 1 (they add up to {sum(fractions):g})")
    # Largest remainder: every example lands in exactly one part.
    raw = [f * m for f in fractions]
    counts = [math.floor(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True):
        if sum(counts) == m:
            break
        counts[i] += 1
    if any(c == 0 for c in counts):
        raise ValueError(f"{owner}: {m} examples are too few for sizes {list(sizes)}: a part "
                         "would be empty")
    return counts


def _stratified_order(owner: str, labels: np.ndarray, counts: list[int],
                      rng: np.random.Generator) -> list[np.ndarray]:
    classes, inverse = np.unique(labels, return_inverse=True, axis=0) if labels.ndim > 1 \
        else np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(-1)
    parts: list[list[np.ndarray]] = [[] for _ in counts]
    m = len(labels)
    for k, cls in enumerate(classes):
        members = rng.permutation(np.flatnonzero(inverse == k))
        if len(members) < len(counts):
            name = cls.tolist() if hasattr(cls, "tolist") else cls
            raise ValueError(f"{owner}: stratify: class {name!r} has only {len(members)} "
                             f"example(s), fewer than the {len(counts)} parts; each part "
                             "needs one. Merge rare classes or do not stratify")
        share = [c * len(members) / m for c in counts]
        take = [max(1, math.floor(s)) for s in share]
        while sum(take) > len(members):
            take[int(np.argmax(take))] -= 1
        for i in sorted(range(len(share)), key=lambda i: share[i] - math.floor(share[i]),
                        reverse=True):
            if sum(take) == len(members):
                break
            take[i] += 1
        bounds = np.cumsum([0, *take])
        for i in range(len(counts)):
            parts[i].append(members[bounds[i]:bounds[i + 1]])
    return [rng.permutation(np.concatenate(p)) for p in parts]


def _split_indices(owner: str, m: int, sizes: Sequence[float], stratify: Any, shuffle: bool,
                   rng: np.random.Generator | int | None) -> list[np.ndarray]:
    counts = _counts(owner, sizes, m)
    generator = resolve_rng(rng)
    if stratify is not None:
        labels = np.asarray(stratify)
        if labels.shape[0] != m:
            raise ShapeError(f"{owner}: `stratify` has {labels.shape[0]} labels for {m} "
                             "examples")
        return _stratified_order(owner, labels, counts, generator)
    order = generator.permutation(m) if shuffle else np.arange(m)
    bounds = np.cumsum([0, *counts])
    return [order[bounds[i]:bounds[i + 1]] for i in range(len(counts))]


def train_dev_test_split(X: Any, y: Any = None, *, sizes: Sequence[float] | None = None,
                         stratify: Any = None, shuffle: bool = True,
                         rng: np.random.Generator | int | None = None) -> Splits:
    """Shuffle and split into train / dev / test (I1, M4, M5).

    Args:
        X: examples, m first.
        y: labels (or None).
        sizes: fractions adding up to 1, or counts adding up to m; two entries for a
            train/dev split, three for train/dev/test. Default:
            :func:`recommend_split` for this m.
        stratify: labels whose class proportions every part keeps (usually ``y``),
            or None.
        shuffle: shuffle before splitting (ignored with ``stratify``).
        rng: a ``numpy.random.Generator``, an int seed (the same seed gives the same
            split) or None for steepest's default generator (see
            :func:`steepest.seed`).

    Returns:
        :class:`Splits` with ``train``, ``dev`` and ``test`` (None when not asked for).

    Raises:
        ShapeError: X and y lengths differ.
        ValueError: sizes that do not add up, or a class too small to stratify.
        TypeError: ``rng`` is not a Generator, an int or None.

    Example:
        >>> X, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
        >>> splits = train_dev_test_split(X, y, sizes=(0.6, 0.2, 0.2), stratify=y, rng=0)
        >>> splits.sizes()
        {'train': 6, 'dev': 2, 'test': 2}
        >>> sorted(splits.dev[1].tolist())      # one of each class
        [0, 1]
    """
    X, y = check_examples("train_dev_test_split", X, y)
    m = int(X.shape[0])
    if sizes is None:
        sizes = recommend_split(m)
    parts = _split_indices("train_dev_test_split", m, sizes, stratify, shuffle, rng)
    pairs = [(X[i], None if y is None else y[i]) for i in parts]
    return Splits(train=pairs[0], dev=pairs[1], test=pairs[2] if len(pairs) == 3 else None)


def train_dev_split(X: Any, y: Any = None, *, size: float | int = 0.1, stratify: Any = None,
                    rng: np.random.Generator | int | None = None) -> Splits:
    """Carve a train-dev set out of the training data (M12).

    The train-dev set has the training distribution but is never trained on: the
    gap from training error to train-dev error is variance, from train-dev error
    to dev error is data mismatch.

    Args:
        X: the training examples.
        y: their labels.
        size: the train-dev share (a fraction) or count.
        stratify: labels to keep proportions of, or None.
        rng: a ``numpy.random.Generator``, an int seed or None for steepest's default
            generator.

    Returns:
        :class:`Splits` with ``train`` and ``train_dev``.

    Example:
        >>> splits = train_dev_split(np.zeros((100, 3)), np.zeros(100), size=0.2, rng=0)
        >>> splits.sizes()
        {'train': 80, 'train_dev': 20}
    """
    X, y = check_examples("train_dev_split", X, y)
    m = int(X.shape[0])
    sizes = (m - size, size) if isinstance(size, (int, np.integer)) else (1 - size, size)
    parts = _split_indices("train_dev_split", m, sizes, stratify, True, rng)
    pairs = [(X[i], None if y is None else y[i]) for i in parts]
    return Splits(train=pairs[0], train_dev=pairs[1])
