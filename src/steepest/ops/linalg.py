"""Matrix products: ``matmul`` and the fused ``linear`` layer op Z = X W^T + b (B9, D3).

The seed writes Z[l] = W[l] A[l-1] + b[l] with examples in columns; steepest is
batch-first, so with A of shape (m, n[l-1]) and W[l] of shape (n[l], n[l-1]) the same
layer is Z = A W^T + b, of shape (m, n[l]).
"""

from __future__ import annotations

from typing import Any

from .._validation import ShapeError, fmt_shape
from ..autograd import Function, Tensor, apply_binary
from ..backend import array_module
from ._parallel import product


def _matmul_error(a: Any, b: Any) -> ShapeError:
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    where_b = "dim 0 of b" if b.ndim == 1 else "dim -2 of b"
    return ShapeError(
        f"matmul: shapes {fmt_shape(a.shape)} and {fmt_shape(b.shape)} are not aligned: "
        f"{k_a} (last dim of a) != {k_b} ({where_b})"
    )


class MatMulFunction(Function):
    saves_output = False

    def forward(self, a: Any, b: Any) -> Any:
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least one dimension; got shapes "
                             f"{fmt_shape(a.shape)} and {fmt_shape(b.shape)} (use * to scale)")
        self.a, self.b = a, b
        try:
            return product(a, b)
        except ValueError:
            raise _matmul_error(a, b) from None

    def backward(self, grad: Any) -> tuple[Any, Any]:
        xp = array_module(grad)
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad
        # Promote 1-D operands to matrices as matmul does, differentiate, then drop
        # the added axes; batch axes that were broadcast are summed by the engine.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        grad_a = grad_b = None
        if need_a:
            grad_a = product(g2, xp.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                grad_a = grad_a[..., 0, :]
        if need_b:
            grad_b = product(xp.swapaxes(a2, -1, -2), g2)
            if b.ndim == 1:
                grad_b = grad_b[..., 0]
        return grad_a, grad_b


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-D operands, broadcast batch axes).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> w = st.tensor(np.ones((1, 3)), requires_grad=True)
        >>> (w @ np.ones((3, 4))).shape
        (1, 4)
    """
    return apply_binary(MatMulFunction(), a, b)


class LinearFunction(Function):
    saves_output = False

    def __init__(self, owner: str = "linear") -> None:
        self.owner = owner

    def forward(self, x: Any, weight: Any, bias: Any = None) -> Any:
        owner = self.owner
        if weight.ndim != 2:
            raise ShapeError(f"{owner}: `weight` must be 2-D (out_features, in_features); got "
                             f"shape {fmt_shape(weight.shape)}")
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ShapeError(
                f"{owner}: input has {x.shape[-1] if x.ndim else 0} features (shape "
                f"{fmt_shape(x.shape)}); expected {weight.shape[1]}, the in_features of "
                f"`weight` {fmt_shape(weight.shape)}"
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ShapeError(f"{owner}: `bias` must have shape ({weight.shape[0]},); got "
                             f"{fmt_shape(bias.shape)}")
        self.x, self.weight, self.has_bias = x, weight, bias is not None
        out = product(x, weight.T)  # (..., out_features)
        if bias is not None:
            out += bias
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        need_x, need_w = self.needs_input_grad[:2]
        grad_x = product(grad, self.weight) if need_x else None  # (..., in_features)
        grad_2d = grad.reshape(-1, grad.shape[-1])  # (m, out_features)
        grad_w = product(grad_2d.T, self.x.reshape(-1, self.x.shape[-1])) if need_w else None
        if not self.has_bias:
            return grad_x, grad_w
        return grad_x, grad_w, grad_2d.sum(axis=0)


def linear(x: Any, weight: Any, bias: Any = None, *, owner: str = "linear") -> Tensor:
    """The fully connected layer Z = X W^T + b in one op (the seed's Z = W A + b).

    Args:
        x: input of shape (m, in_features) (or (..., in_features)).
        weight: W of shape (out_features, in_features), the seed's W[l].
        bias: b of shape (out_features,) or None.
        owner: the name error messages start with; the ``Linear`` layer passes its own
            (``Linear(in_features=784)``), so each shape check lives here once.

    Returns:
        Z of shape (m, out_features).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> x = st.tensor(np.ones((4, 3)))
        >>> w = st.tensor(np.ones((2, 3)), requires_grad=True)
        >>> linear(x, w, st.tensor(np.zeros(2))).shape
        (4, 2)
    """
    if bias is None:
        return LinearFunction(owner)(x, weight)
    return LinearFunction(owner)(x, weight, bias)


def matmul_nt(a: Any, b: Any) -> Any:
    """``a @ b.T`` for raw 2-D arrays, fast also when the shared axis is very long.

    OpenBLAS is several times slower than it should be on products whose result is
    tiny but whose inner axis is huge, such as the weight gradient of a first
    convolution layer ((6, 50176) @ (50176, 25)); cutting the inner axis into blocks
    and summing the partial products restores its speed.

    Example:
        >>> import numpy as np
        >>> a, b = np.ones((2, 10000)), np.ones((3, 10000))
        >>> matmul_nt(a, b)
        array([[10000., 10000., 10000.],
               [10000., 10000., 10000.]])
    """
    inner = a.shape[1]
    outputs = a.shape[0] * b.shape[0]
    if outputs >= 1 << 18:
        # Large results straight in row-major order: the product is as fast either
        # way, but transposing 2.4 M numbers afterwards costs 8-17 ms (a ResNet's
        # 512-channel weight gradient, which the optimiser reads row by row).
        return product(a, b.T)
    if outputs >= 4096 or inner <= 2 * _INNER_BLOCK:
        # (b @ a.T).T, not a @ b.T: the same product, 10-40% faster in OpenBLAS for
        # the smaller conv weight-gradient shapes (measured with benchmarks/bench_cnn.py);
        # made row-major, cheap at these sizes, so no caller gets a transposed view.
        return array_module(a).ascontiguousarray(product(b, a.T).T)
    out = product(a[:, :_INNER_BLOCK], b[:, :_INNER_BLOCK].T)
    for start in range(_INNER_BLOCK, inner, _INNER_BLOCK):
        out += product(a[:, start:start + _INNER_BLOCK], b[:, start:start + _INNER_BLOCK].T)
    return out


_INNER_BLOCK = 4096
