"""Weight initialisation (concepts S5, I10, I11).

All-zero weights make every hidden unit compute the same function forever
(symmetry); small random weights break the symmetry (S5). To keep activations and
gradients from vanishing or exploding in deep networks (I10), scale the random
weights by the number of inputs n = fan_in of each unit (I11):

* ``xavier``: variance 1/n, the seed's "constant 1", for tanh;
* ``he``: variance 2/n, the seed's "constant 2", for ReLU.

Each takes a ``gain`` that multiplies the standard deviation (PyTorch's convention;
the seed's "multiplier" hyperparameter, of low priority) and an explicit ``rng``.
Every initialiser has the signature ``init(shape, rng=None, dtype=None) -> array``,
so a callable of that form can be passed wherever an init name is accepted.

Example:
    >>> import numpy as np
    >>> w = he((256, 784), rng=np.random.default_rng(0))
    >>> round(float(w.std() ** 2 * 784), 1)  # variance 2 / n
    2.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from .._validation import real
from ..backend import get_default_dtype, resolve_rng

Initializer = Callable[..., np.ndarray]
InitName = Literal["zeros", "small_random", "xavier", "he"]
EdgeFilterKind = Literal["basic", "sobel", "scharr"]
EdgeDirection = Literal["vertical", "horizontal"]


def fan_in(shape: Sequence[int]) -> int:
    """Inputs per unit: ``in_features`` for (out, in), ``in_channels*kh*kw`` for conv weights.

    Example:
        >>> fan_in((64, 3, 3, 3))
        27
    """
    if len(shape) < 2:
        raise ValueError(f"fan_in: a weight needs at least 2 dimensions; got shape {tuple(shape)}")
    return int(math.prod(shape[1:]))


def _normal(shape: Sequence[int], std: float, rng: Any, dtype: Any) -> np.ndarray:
    generator = resolve_rng(rng)
    dtype = np.dtype(dtype) if dtype is not None else get_default_dtype()
    return (generator.standard_normal(tuple(shape)) * std).astype(dtype)


def zeros(shape: Sequence[int], rng: Any = None, dtype: Any = None) -> np.ndarray:
    """All zeros: right for biases and for logistic regression, wrong for hidden layers (S5)."""
    return np.zeros(tuple(shape), dtype=np.dtype(dtype) if dtype is not None else
                    get_default_dtype())


def small_random(shape: Sequence[int], rng: Any = None, dtype: Any = None,
                 scale: float = 0.01) -> np.ndarray:
    """``randn * 0.01``: small random values that break the symmetry (S5)."""
    real("small_random", "scale", scale, low=0.0, low_inclusive=False)
    return _normal(shape, scale, rng, dtype)


def xavier(shape: Sequence[int], rng: Any = None, dtype: Any = None,
           gain: float = 1.0) -> np.ndarray:
    """Normal with variance 1/fan_in (the seed's Xavier, "constant 1", for tanh) times gain^2."""
    real("xavier", "gain", gain, low=0.0, low_inclusive=False)
    return _normal(shape, gain * math.sqrt(1.0 / fan_in(shape)), rng, dtype)


def he(shape: Sequence[int], rng: Any = None, dtype: Any = None,
       gain: float = 1.0) -> np.ndarray:
    """Normal with variance 2/fan_in (He, the seed's "constant 2", for ReLU) times gain^2."""
    real("he", "gain", gain, low=0.0, low_inclusive=False)
    return _normal(shape, gain * math.sqrt(2.0 / fan_in(shape)), rng, dtype)


INITIALIZERS: dict[InitName, Initializer] = {
    "zeros": zeros, "small_random": small_random, "xavier": xavier, "he": he,
}


def get_initializer(init: InitName | Initializer, owner: str = "init") -> Initializer:
    """Resolve an init name ('zeros', 'small_random', 'xavier', 'he') or pass a callable on.

    Example:
        >>> get_initializer("he") is he
        True
    """
    if callable(init):
        return init
    if init not in INITIALIZERS:
        names = ", ".join(repr(n) for n in INITIALIZERS)
        raise ValueError(f"{owner}: unknown `init` {init!r}; use one of {names} or a callable "
                         "init(shape, rng=None, dtype=None)")
    return INITIALIZERS[init]


def initialize(init: InitName | Initializer, shape: Sequence[int], rng: Any, dtype: Any,
               owner: str) -> np.ndarray:
    """Run an initialiser and check that what it returns fits."""
    array = np.asarray(get_initializer(init, owner)(tuple(shape), rng=rng, dtype=dtype))
    if array.shape != tuple(shape):
        raise ValueError(f"{owner}: the initialiser returned shape {array.shape}; expected "
                         f"{tuple(shape)}")
    return array.astype(np.dtype(dtype) if dtype is not None else get_default_dtype(), copy=False)


EDGE_FILTERS: dict[EdgeFilterKind, list[list[float]]] = {
    # vertical-edge versions; the horizontal ones are their transposes
    "basic": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "sobel": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "scharr": [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
}


def edge_filter(kind: EdgeFilterKind = "basic", direction: EdgeDirection = "vertical",
                dtype: Any = None) -> np.ndarray:
    """A ready 3x3 edge-detection filter (C1): "basic", "sobel" or "scharr".

    A vertical-edge filter responds where brightness changes from left to right
    (bright left, dark right gives a positive output); the horizontal one, its
    transpose, to changes from top to bottom. In a CNN such filters are learned;
    these are the hand-made ones of the seed's edge-detection example.

    Args:
        kind: "basic" ([[1, 0, -1]] * 3), "sobel" or "scharr".
        direction: "vertical" or "horizontal".
        dtype: the array dtype (default float32).

    Returns:
        An array of shape (3, 3); use ``w[None, None]`` as a Conv2d weight.

    Example:
        >>> edge_filter("sobel", "horizontal")
        array([[ 1.,  2.,  1.],
               [ 0.,  0.,  0.],
               [-1., -2., -1.]], dtype=float32)
    """
    if kind not in EDGE_FILTERS:
        raise ValueError(f"edge_filter: `kind` must be one of "
                         f"{', '.join(repr(k) for k in EDGE_FILTERS)}; got {kind!r}")
    if direction not in ("vertical", "horizontal"):
        raise ValueError(f"edge_filter: `direction` must be 'vertical' or 'horizontal'; got "
                         f"{direction!r}")
    kernel = np.array(EDGE_FILTERS[kind], dtype=np.dtype(dtype) if dtype is not None else
                      get_default_dtype())
    return kernel if direction == "vertical" else np.ascontiguousarray(kernel.T)
