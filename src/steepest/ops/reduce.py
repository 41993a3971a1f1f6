"""Reductions: sum, mean, max and min over axes (B10's ``axis`` semantics)."""

from __future__ import annotations

import builtins
from typing import Any

from .._validation import ShapeError, fmt_shape
from ..autograd import Function, Tensor, apply_unary
from ..backend import array_module


def normalize_axis(axis: Any, ndim: int, owner: str) -> tuple[int, ...]:
    """Turn ``axis`` (None, int or tuple) into a sorted tuple of non-negative axes.

    Example:
        >>> normalize_axis(-1, 3, "sum")
        (2,)
    """
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int) or not -ndim <= a < builtins.max(ndim, 1):
            raise ShapeError(f"{owner}: axis {a!r} is out of range for a tensor with {ndim} "
                             "dimension(s)")
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ShapeError(f"{owner}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def _expand(grad: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Reinsert the reduced axes so ``grad`` broadcasts against the input."""
    if keepdims or not axes:
        return grad
    xp = array_module(grad)
    return xp.expand_dims(grad, axes)


class SumFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Any) -> Any:
        self.shape = x.shape
        self.axes: tuple[int, ...] = ()
        if self.axis is None and not self.keepdims:  # the common loss.sum(): no axis work
            return x.sum()
        self.axes = normalize_axis(self.axis, x.ndim, "sum")
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: Any) -> Any:
        return array_module(grad).broadcast_to(_expand(grad, self.axes, self.keepdims),
                                               self.shape)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (None: all; int or tuple), keeping reduced axes if ``keepdims``.

    Example:
        >>> import steepest as st
        >>> st.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0)
        tensor([4., 6.])
    """
    return apply_unary(SumFunction(axis, keepdims), x)


class MeanFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Any) -> Any:
        self.axes = normalize_axis(self.axis, x.ndim, "mean")
        self.shape = x.shape
        count = 1
        for a in self.axes:
            count *= x.shape[a]
        if count == 0:
            raise ShapeError(f"mean: reducing {fmt_shape(x.shape)} over axis {self.axis!r} "
                             "averages zero elements")
        self.count = count
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: Any) -> Any:
        xp = array_module(grad)
        return xp.broadcast_to(_expand(grad / self.count, self.axes, self.keepdims), self.shape)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``; the seed's cost J is ``loss.mean()``."""
    return apply_unary(MeanFunction(axis, keepdims), x)


class _ExtremeFunction(Function):
    """Shared max/min: ties share the gradient equally (like ``torch.amax``)."""

    name = "max"

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Any) -> Any:
        self.axes = normalize_axis(self.axis, x.ndim, self.name)
        if x.size == 0:
            raise ShapeError(f"{self.name}: reduction of an empty tensor of shape "
                             f"{fmt_shape(x.shape)}")
        self.x = x
        reduce = x.max if self.name == "max" else x.min
        out = reduce(axis=self.axes, keepdims=True)
        self.out_keep = out
        return out if self.keepdims else out.reshape(
            tuple(s for i, s in enumerate(x.shape) if i not in self.axes))

    def backward(self, grad: Any) -> Any:
        hit = self.x == self.out_keep
        count = hit.sum(axis=self.axes, keepdims=True)
        return _expand(grad, self.axes, self.keepdims) * hit / count


class MaxFunction(_ExtremeFunction):
    name = "max"


class MinFunction(_ExtremeFunction):
    name = "min"


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Largest value over ``axis``; tied maxima share the gradient equally."""
    return apply_unary(MaxFunction(axis, keepdims), x)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Smallest value over ``axis``; tied minima share the gradient equally."""
    return apply_unary(MinFunction(axis, keepdims), x)
