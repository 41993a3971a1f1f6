"""Elementwise primitives: arithmetic, exp/log, comparisons and activations (B8, S3).

Each ``Function`` sits directly above its lowercase wrapper. Binary operations
accept tensors, arrays and Python numbers on either side; the autograd engine sums
broadcast gradients back to each input's shape, so no backward here does it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function, Tensor, apply_binary, apply_unary
from ..backend import array_module
from . import _parallel


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


class AddFunction(Function):
    saves_inputs = False
    saves_output = False

    def forward(self, a: Any, b: Any) -> Any:
        # (Not cut into parts: a residual sum is under 1% of a ResNet step, and the
        # test would cost a recorded a + b on small tensors 7%.)
        return a + b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        return grad, grad


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting.

    Example:
        >>> import steepest as st
        >>> add(st.tensor([1.0, 2.0]), 1.0)
        tensor([2., 3.])
    """
    return apply_binary(AddFunction(), a, b)


class SubFunction(Function):
    saves_inputs = False
    saves_output = False

    def forward(self, a: Any, b: Any) -> Any:
        return a - b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        return grad, (-grad if self.needs_input_grad[1] else None)


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting."""
    return apply_binary(SubFunction(), a, b)


class MulFunction(Function):
    saves_output = False

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a * b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        need_a, need_b = self.needs_input_grad
        return (grad * self.b if need_a else None), (grad * self.a if need_b else None)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` elementwise, with broadcasting."""
    return apply_binary(MulFunction(), a, b)


class DivFunction(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.b = b
        out = a / b
        self.out = out
        return out

    def backward(self, grad: Any) -> tuple[Any, Any]:
        need_a, need_b = self.needs_input_grad
        grad_a = grad / self.b
        # d(a/b)/db = -a / b^2 = -(a/b) / b
        grad_b = -grad_a * self.out if need_b else None
        return (grad_a if need_a else None), grad_b


def div(a: Any, b: Any) -> Tensor:
    """``a / b`` elementwise, with broadcasting."""
    return apply_binary(DivFunction(), a, b)


class PowFunction(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        out = a**b
        self.out = out
        return out

    def backward(self, grad: Any) -> tuple[Any, Any]:
        need_a, need_b = self.needs_input_grad
        grad_a = grad * self.b * self.a ** (self.b - 1) if need_a else None
        grad_b = None
        if need_b:
            xp = array_module(self.out)
            grad_b = grad * self.out * xp.log(self.a)
        return grad_a, grad_b


def pow(a: Any, b: Any) -> Tensor:
    """``a ** b`` elementwise, with broadcasting."""
    return apply_binary(PowFunction(), a, b)


class NegFunction(Function):
    saves_inputs = False
    saves_output = False

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, grad: Any) -> Any:
        return -grad


def neg(x: Any) -> Tensor:
    """``-x``."""
    return apply_unary(NegFunction(), x)


class ExpFunction(Function):
    saves_inputs = False

    def forward(self, x: Any) -> Any:
        self.out = array_module(x).exp(x)
        return self.out

    def backward(self, grad: Any) -> Any:
        return grad * self.out


def exp(x: Any) -> Tensor:
    """``e ** x`` elementwise."""
    return apply_unary(ExpFunction(), x)


class LogFunction(Function):
    saves_output = False

    def forward(self, x: Any) -> Any:
        self.x = x
        return array_module(x).log(x)

    def backward(self, grad: Any) -> Any:
        return grad / self.x


def log(x: Any) -> Tensor:
    """Natural logarithm elementwise."""
    return apply_unary(LogFunction(), x)


class SqrtFunction(Function):
    saves_inputs = False

    def forward(self, x: Any) -> Any:
        self.out = array_module(x).sqrt(x)
        return self.out

    def backward(self, grad: Any) -> Any:
        return grad / (2 * self.out)


def sqrt(x: Any) -> Tensor:
    """Square root elementwise."""
    return apply_unary(SqrtFunction(), x)


class AbsFunction(Function):
    saves_output = False

    def forward(self, x: Any) -> Any:
        self.x = x
        return array_module(x).abs(x)

    def backward(self, grad: Any) -> Any:
        return grad * array_module(grad).sign(self.x)  # sign(0) = 0, as in PyTorch


def abs(x: Any) -> Tensor:
    """``|x|`` elementwise; the gradient at 0 is 0."""
    return apply_unary(AbsFunction(), x)


class MaximumFunction(Function):
    saves_output = False

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return array_module(a).maximum(a, b)

    def backward(self, grad: Any) -> tuple[Any, Any]:
        # Ties share the gradient half and half, as PyTorch does.
        xp = array_module(grad)
        share_a = (self.a > self.b) + 0.5 * (self.a == self.b)
        share_a = xp.asarray(share_a, dtype=grad.dtype)
        return grad * share_a, grad * (1 - share_a)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; where ``a == b`` each gets half the gradient."""
    return apply_binary(MaximumFunction(), a, b)


class MinimumFunction(Function):
    saves_output = False

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return array_module(a).minimum(a, b)

    def backward(self, grad: Any) -> tuple[Any, Any]:
        xp = array_module(grad)
        share_a = (self.a < self.b) + 0.5 * (self.a == self.b)
        share_a = xp.asarray(share_a, dtype=grad.dtype)
        return grad * share_a, grad * (1 - share_a)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; where ``a == b`` each gets half the gradient."""
    return apply_binary(MinimumFunction(), a, b)


class ClipFunction(Function):
    saves_output = False

    def __init__(self, low: Any, high: Any) -> None:
        self.low, self.high = low, high

    def forward(self, x: Any) -> Any:
        self.x = x
        return array_module(x).clip(x, self.low, self.high)

    def backward(self, grad: Any) -> Any:
        inside = True
        if self.low is not None:
            inside = self.x >= self.low
        if self.high is not None:
            inside = inside & (self.x <= self.high)
        return grad * inside


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max``.

    Example:
        >>> import steepest as st
        >>> clip(st.tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
        tensor([0. , 0.5, 1. ])
    """
    if min is None and max is None:
        raise ValueError("clip: give at least one of `min` and `max`")
    return apply_unary(ClipFunction(_data(min), _data(max)), x)


class WhereFunction(Function):
    saves_output = False

    def forward(self, condition: Any, a: Any, b: Any) -> Any:
        self.condition = condition
        return array_module(condition).where(condition, a, b)

    def backward(self, grad: Any) -> tuple[Any, Any, Any]:
        xp = array_module(grad)
        zero = xp.zeros((), dtype=grad.dtype)
        return None, xp.where(self.condition, grad, zero), xp.where(self.condition, zero, grad)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick ``a`` where ``condition`` holds, else ``b``; gradients follow the pick.

    Example:
        >>> import steepest as st
        >>> x = st.tensor([-1.0, 2.0])
        >>> where(x.data > 0, x, 0.0)
        tensor([0., 2.])
    """
    condition = _data(condition)
    xp = array_module(condition)
    return WhereFunction()(xp.asarray(condition, dtype=bool), a, b)


# ------------------------------------------------------------------ activations (S3)
class SigmoidFunction(Function):
    saves_inputs = False

    def forward(self, x: Any) -> Any:
        xp = array_module(x)
        # exp(-|x|) never overflows; both branches are accurate in their own tail.
        e = xp.exp(-xp.abs(x))
        self.out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, grad: Any) -> Any:
        return grad * self.out * (1 - self.out)


def sigmoid(x: Any) -> Tensor:
    """The logistic function 1 / (1 + e^-x), stable for large |x| (B3).

    Example:
        >>> import steepest as st
        >>> sigmoid(st.tensor([0.0, 1000.0, -1000.0]))
        tensor([0.5, 1. , 0. ])
    """
    return apply_unary(SigmoidFunction(), x)


class TanhFunction(Function):
    saves_inputs = False

    def forward(self, x: Any) -> Any:
        self.out = array_module(x).tanh(x)
        return self.out

    def backward(self, grad: Any) -> Any:
        return grad * (1 - self.out * self.out)


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent; its derivative is 1 - tanh(x)^2 (S3)."""
    return apply_unary(TanhFunction(), x)


class ReLUFunction(Function):
    saves_inputs = False

    def forward(self, x: Any) -> Any:
        if _parallel.cuttable(x) and x.dtype.kind == "f":  # (in parts on steepest's threads)
            self.out = _parallel.elementwise(lambda out, v: np.maximum(v, 0, out=out),
                                             np.empty_like(x), x)
        else:
            self.out = array_module(x).maximum(x, 0)
        return self.out

    def backward(self, grad: Any) -> Any:
        # The gradient at exactly 0 is 0 (as in PyTorch). maximum(x, 0) as a
        # general op would split it half and half there.
        if _parallel.cuttable(grad) and type(self.out) is np.ndarray:
            return _parallel.elementwise(lambda out, g, y: np.multiply(g, y > 0, out=out),
                                         np.empty(grad.shape, dtype=grad.dtype), grad,
                                         self.out)
        return grad * (self.out > 0)


def relu(x: Any) -> Tensor:
    """Rectified linear unit max(0, x); gradient 1 for x > 0 and 0 for x <= 0 (F1).

    Example:
        >>> import steepest as st
        >>> relu(st.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    return apply_unary(ReLUFunction(), x)


class LeakyReLUFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, negative_slope: float) -> None:
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Any:
        self.positive = x > 0
        return array_module(x).where(self.positive, x, x * self.negative_slope)

    def backward(self, grad: Any) -> Any:
        return array_module(grad).where(self.positive, grad, grad * self.negative_slope)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """max(negative_slope * x, x) for 0 <= slope < 1: a small slope instead of 0 for x < 0.

    Example:
        >>> import steepest as st
        >>> leaky_relu(st.tensor([-100.0, 3.0]))
        tensor([-1., 3.])
    """
    return apply_unary(LeakyReLUFunction(float(negative_slope)), x)


# ------------------------------------------------------ comparisons (no gradient)
def _compare(op: str) -> Any:
    def compare(a: Any, b: Any) -> Tensor:
        a, b = _data(a), _data(b)
        if op == "lt":
            return Tensor._make(a < b, None)
        if op == "le":
            return Tensor._make(a <= b, None)
        if op == "gt":
            return Tensor._make(a > b, None)
        if op == "ge":
            return Tensor._make(a >= b, None)
        if op == "eq":
            return Tensor._make(a == b, None)
        return Tensor._make(a != b, None)

    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{op}`` comparison; a boolean Tensor with no gradient."
    return compare


lt, le, gt, ge, eq, ne = (_compare(op) for op in ("lt", "le", "gt", "ge", "eq", "ne"))
