"""The one error-message vocabulary of steepest.

Every message names the owner (the function or layer), the argument, what was
expected and what was received, and the fix when one is known, for example
``Conv2d: `stride` must be a positive int; got 0``. Shapes are wrong often enough in
deep learning to get their own class, :class:`ShapeError`, a ``ValueError``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


class ShapeError(ValueError):
    """An array or tensor has the wrong shape for the operation."""


class NonFiniteError(ValueError):
    """A value that must be finite is NaN or infinite (a loss, an input, an error rate)."""


def fmt_shape(shape: Iterable[int]) -> str:
    """Format a shape the way NumPy prints it: ``(64, 783)``, ``(3,)``, ``()``.

    Example:
        >>> fmt_shape((3,))
        '(3,)'
    """
    dims = tuple(int(d) for d in shape)
    return str(dims)


def positive_int(owner: str, name: str, value: Any) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise.

    Example:
        >>> positive_int("Linear", "in_features", 0)
        Traceback (most recent call last):
        ...
        ValueError: Linear: `in_features` must be a positive int; got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: `{name}` must be a positive int; got {value!r}")
    if value <= 0:
        raise ValueError(f"{owner}: `{name}` must be a positive int; got {value!r}")
    return int(value)


def non_negative_int(owner: str, name: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: `{name}` must be a non-negative int; got {value!r}")
    if value < 0:
        raise ValueError(f"{owner}: `{name}` must be a non-negative int; got {value!r}")
    return int(value)


def real(owner: str, name: str, value: Any, *, low: float | None = None,
         high: float | None = None, low_inclusive: bool = True,
         high_inclusive: bool = True) -> float:
    """Return ``value`` as a finite float within the given bounds, else raise.

    Example:
        >>> real("Dropout", "keep_prob", 0.0, low=0.0, low_inclusive=False, high=1.0)
        Traceback (most recent call last):
        ...
        ValueError: Dropout: `keep_prob` must be in (0, 1]; got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: `{name}` must be a number; got {value!r}")
    number = float(value)
    left = "[" if low_inclusive else "("
    right = "]" if high_inclusive else ")"
    interval = f"{left}{_fmt(low, '-inf')}, {_fmt(high, 'inf')}{right}"
    if not math.isfinite(number):
        raise ValueError(f"{owner}: `{name}` must be a finite number in {interval}; got {value!r}")
    too_low = low is not None and (number < low or (not low_inclusive and number == low))
    too_high = high is not None and (number > high or (not high_inclusive and number == high))
    if too_low or too_high:
        raise ValueError(f"{owner}: `{name}` must be in {interval}; got {value!r}")
    return number


def _fmt(bound: float | None, default: str) -> str:
    if bound is None:
        return default
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def one_of(owner: str, name: str, value: Any, options: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``options``, else raise naming them all.

    Example:
        >>> one_of("MLP", "output", "relu", ("sigmoid", "softmax", "linear"))
        Traceback (most recent call last):
        ...
        ValueError: MLP: `output` must be one of 'sigmoid', 'softmax', 'linear'; got 'relu'
    """
    options = tuple(options)
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{owner}: `{name}` must be one of {listed}; got {value!r}")
    return value


def pair(owner: str, name: str, value: Any, *, minimum: int = 1) -> tuple[int, int]:
    """Return an int or a pair of ints as ``(a, b)``, each at least ``minimum``.

    Example:
        >>> pair("Conv2d", "stride", 0)
        Traceback (most recent call last):
        ...
        ValueError: Conv2d: `stride` must be a positive int or a pair of them; got 0
    """
    kind = "a positive int" if minimum >= 1 else "a non-negative int"
    message = f"{owner}: `{name}` must be {kind} or a pair of them; got {value!r}"
    if isinstance(value, (tuple, list)):
        items = tuple(value)
        if len(items) != 2:
            raise ValueError(message)
    else:
        items = (value, value)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(message)
        if item < minimum:
            raise ValueError(message)
    return int(items[0]), int(items[1])


def finite_array(owner: str, name: str, array: Any) -> None:
    """Raise :class:`NonFiniteError` naming the first NaN/Inf position of ``array``.

    Example:
        >>> finite_array("fit", "X", np.array([[0.0, np.nan]]))
        Traceback (most recent call last):
        ...
        steepest._validation.NonFiniteError: fit: `X` contains NaN or Inf (first at index (0, 1))...
    """
    from .backend import array_module

    xp = array_module(array)
    if array.dtype.kind not in "fc":
        return
    finite = xp.isfinite(array)
    if bool(finite.all()):
        return
    bad = np.argwhere(~np.asarray(finite.get() if xp is not np else finite))[0]
    index = tuple(int(i) for i in bad)
    raise NonFiniteError(
        f"{owner}: `{name}` contains NaN or Inf (first at index {index}); "
        "clean or impute the data before training"
    )


def non_empty(owner: str, name: str, array: Any) -> None:
    """Raise when ``array`` has no examples (its first axis is empty)."""
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"{owner}: `{name}` is empty (shape {fmt_shape(array.shape)}); "
                         "need at least one example")
