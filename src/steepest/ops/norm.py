"""Normalising primitives: softmax and log-softmax over an axis (H8, H9).

Batch normalisation joins this family with the convolutional layers.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function, Tensor, apply_unary
from ..backend import array_module


def _log_softmax(x: Any, axis: int) -> Any:
    xp = array_module(x)
    # Subtract the max before exp: exp never overflows and the result is unchanged.
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        self.out = e
        return e

    def backward(self, grad: Any) -> Any:
        out = self.out
        return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Exponentiate and normalise along ``axis``: outputs are positive and sum to 1 (H8).

    Example:
        >>> import steepest as st
        >>> softmax(st.tensor([[1.0, 1.0], [0.0, 1000.0]]))
        tensor([[0.5, 0.5],
                [0. , 1. ]])
    """
    return apply_unary(Softmax(axis), x)


class LogSoftmax(Function):
    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        self.out = _log_softmax(x, self.axis)
        return self.out

    def backward(self, grad: Any) -> Any:
        xp = array_module(grad)
        return grad - xp.exp(self.out) * grad.sum(axis=self.axis, keepdims=True)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log(softmax(x)) computed stably (no log of 0 for very negative logits).

    Example:
        >>> import steepest as st
        >>> log_softmax(st.tensor([0.0, -1000.0]))
        tensor([    0., -1000.])
    """
    return apply_unary(LogSoftmax(axis), x)
