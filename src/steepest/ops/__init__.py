"""Differentiable primitives, one file per family, and the Tensor operators.

Naming: each primitive is a :class:`~steepest.autograd.Function` subclass named after
the operation with the suffix ``Function`` (``AddFunction``, ``ReLUFunction``,
``Conv2dFunction``, ``SoftmaxCrossEntropyFunction``), directly above its lowercase
wrapper (``add``, ``relu``, ``conv2d``, ``cross_entropy``). The suffix keeps them apart
from the layers of :mod:`steepest.nn` (``nn.ReLU``, ``nn.Conv2d``), which hold
parameters and call the wrappers through :mod:`steepest.functional`; it follows the
``LinearFunction`` of PyTorch's "Extending torch.autograd" guide. Users call the
wrappers, never the classes.

Inputs: every wrapper accepts Tensors, NumPy (or CuPy) arrays, Python lists and
numbers alike. The autograd entry points (``Function.__call__``, ``apply_unary``,
``apply_binary``) convert them; a wrapper that reads ``.shape`` or ``.data`` before a
Function runs converts first with :func:`~steepest.autograd.as_tensor`.

The operators of :class:`~steepest.autograd.Tensor` (``+``, ``@``, ``x[i]``,
``x.sum()`` ...) are the functions of this package. They are attached here because
the ops need the Tensor class first; this table is the one place that says which
operator is which op.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from . import conv, elementwise, linalg, loss, norm, random, reduce, shape
from .elementwise import (
    abs,
    add,
    clip,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    leaky_relu,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .linalg import linear, matmul
from .norm import log_softmax, softmax
from .random import dropout
from .reduce import max, mean, min, sum
from .shape import broadcast_to, concatenate, flatten, getitem, reshape, stack, transpose

__all__ = [
    "abs", "add", "broadcast_to", "clip", "concatenate", "conv", "div", "dropout",
    "elementwise", "eq", "exp", "flatten", "ge", "getitem", "gt", "le", "leaky_relu", "linalg",
    "linear", "log", "log_softmax", "loss", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "ne", "neg", "norm", "pow", "random", "reduce", "relu", "reshape",
    "shape", "sigmoid", "softmax", "sqrt", "stack", "sub", "sum", "tanh", "transpose", "where",
]


def _reflected(op: Any) -> Any:
    def reflected(self: Tensor, other: Any) -> Tensor:
        return op(other, self)

    return reflected


_OPERATORS = {
    "__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": mul, "__truediv__": div, "__rtruediv__": _reflected(div),
    "__pow__": pow, "__rpow__": _reflected(pow), "__matmul__": matmul,
    "__rmatmul__": _reflected(matmul), "__neg__": neg, "__abs__": abs,
    "__getitem__": getitem, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__eq__": eq, "__ne__": ne,
    "sum": sum, "mean": mean, "max": max, "min": min, "reshape": reshape,
    "transpose": transpose, "flatten": flatten, "exp": exp, "log": log, "sqrt": sqrt,
    "abs": abs, "clip": clip,
}
for _name, _op in _OPERATORS.items():
    setattr(Tensor, _name, _op)
Tensor.T = property(transpose)  # type: ignore[method-assign,assignment]
