"""Synthetic data sets generated on the spot, reproducible under a seed."""

from __future__ import annotations

import numpy as np

from ..._validation import positive_int, real
from ...backend import resolve_rng


def make_planar(m: int = 400, petals: int = 4, noise: float = 0.2,
                rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The seed's planar "flower": two classes of points in petals, not linearly separable.

    Logistic regression cannot separate it; a network with one small tanh hidden
    layer can (the shallow-network lesson, S1-S4). Half the points are red (0), half
    blue (1); each class forms alternating petals of the curve r = 4 sin(petals*t/2)
    (the classic data set of the course's exercise, with its default of 4 petals).

    Args:
        m: number of points (even).
        petals: number of petals per class.
        noise: standard deviation of the jitter of the angle and radius.
        rng: a Generator or seed.

    Returns:
        X of shape (m, 2) float32 and y of shape (m,) int64 (0 or 1).

    Example:
        >>> X, y = make_planar(400, rng=0)
        >>> X.shape, np.bincount(y).tolist()
        ((400, 2), [200, 200])
    """
    m = positive_int("make_planar", "m", m)
    if m % 2:
        raise ValueError(f"make_planar: `m` must be even (two equal classes); got {m}")
    petals = positive_int("make_planar", "petals", petals)
    noise = real("make_planar", "noise", noise, low=0.0)
    generator = resolve_rng(rng)
    per_class = m // 2
    X = np.zeros((m, 2))
    y = np.zeros(m, dtype=np.int64)
    radius_max = 4.0
    for label in (0, 1):
        rows = slice(label * per_class, (label + 1) * per_class)
        t = np.linspace(label * 3.12, (label + 1) * 3.12, per_class) + generator.normal(
            0, noise, per_class)
        r = radius_max * np.sin(petals * t) + generator.normal(0, noise, per_class)
        X[rows] = np.column_stack([r * np.sin(t), r * np.cos(t)])
        y[rows] = label
    return X.astype(np.float32), y
