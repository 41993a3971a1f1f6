"""Shape primitives: reshape, transpose, indexing, concatenate, stack, broadcast_to.

Reshape and transpose are views, so they are cheap (B10): no data is copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import ShapeError, fmt_shape
from ..autograd import Function, Tensor, apply_unary, as_tensor
from ..backend import array_module, scatter_add


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


class ReshapeFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.source = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot reshape a tensor of shape {fmt_shape(x.shape)} "
                f"({x.size} elements) into {fmt_shape(self.shape)}"
            ) from None

    def backward(self, grad: Any) -> Any:
        return grad.reshape(self.source)


def reshape(x: Any, *shape: Any) -> Tensor:
    """The same data in a new shape (one dimension may be -1).

    Example:
        >>> import steepest as st
        >>> st.tensor([1.0, 2.0, 3.0, 4.0]).reshape(2, -1).shape
        (2, 2)
    """
    return apply_unary(ReshapeFunction(_shape_arg(shape)), x)


def flatten(x: Any, start_axis: int = 1) -> Tensor:
    """Merge the axes from ``start_axis`` on into one: (N, C, H, W) -> (N, C*H*W) (B1).

    Example:
        >>> import steepest as st
        >>> st.tensor(np.zeros((2, 3, 4, 5))).flatten().shape
        (2, 60)
    """
    x = as_tensor(x)  # reads the shape before any Function runs
    return reshape(x, *x.shape[:start_axis], -1)


class TransposeFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x: Any) -> Any:
        axes = self.axes if self.axes is not None else tuple(range(x.ndim))[::-1]
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ShapeError(f"transpose: axes {self.axes} are not a permutation of the "
                             f"{x.ndim} axes of shape {fmt_shape(x.shape)}")
        self.inverse = tuple(int(i) for i in np.argsort([a % x.ndim for a in axes]))
        return x.transpose(axes)

    def backward(self, grad: Any) -> Any:
        return grad.transpose(self.inverse)


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute axes (no arguments: reverse them, like NumPy's ``.T``).

    Example:
        >>> import steepest as st
        >>> st.tensor(np.zeros((2, 3, 4))).transpose(0, 2, 1).shape
        (2, 4, 3)
    """
    perm = _shape_arg(axes) if axes and axes[0] is not None else None
    return apply_unary(TransposeFunction(perm), x)


def _index_data(key: Any) -> Any:
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, Tensor) else k for k in key)
    return key


def _is_advanced(key: Any) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return any(not isinstance(k, (int, np.integer, slice, type(None), type(Ellipsis)))
               for k in items)


class GetItemFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, key: Any) -> None:
        self.key = key

    def forward(self, x: Any) -> Any:
        self.source, self.dtype = x.shape, x.dtype
        return x[self.key]

    def backward(self, grad: Any) -> Any:
        xp = array_module(grad)
        out = xp.zeros(self.source, dtype=grad.dtype)
        if _is_advanced(self.key):
            # Integer arrays may repeat an index; each occurrence adds its gradient.
            scatter_add(out, self.key, grad)
        else:
            out[self.key] = grad
        return out


def getitem(x: Any, key: Any) -> Tensor:
    """``x[key]`` for basic (ints, slices) and advanced (integer or boolean arrays) keys.

    The gradient is scattered back with addition, so a repeated index gets the sum
    of its gradients.

    Example:
        >>> import steepest as st
        >>> x = st.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> x[np.array([0, 0, 2])].sum().backward()
        >>> x.grad
        array([2., 0., 1.], dtype=float32)
    """
    key = _index_data(key)
    if isinstance(key, list):
        key = np.asarray(key)
    return apply_unary(GetItemFunction(key), x)


class ConcatenateFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *arrays: Any) -> Any:
        xp = array_module(arrays[0])
        self.sizes = [a.shape[self.axis] for a in arrays]
        try:
            return xp.concatenate(arrays, axis=self.axis)
        except ValueError:
            shapes = ", ".join(fmt_shape(a.shape) for a in arrays)
            raise ShapeError(f"concatenate: shapes {shapes} must match except on axis "
                             f"{self.axis}") from None

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = array_module(grad)
        bounds = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(grad, bounds, axis=self.axis))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.

    Example:
        >>> import steepest as st
        >>> concatenate([st.tensor([1.0]), st.tensor([2.0, 3.0])])
        tensor([1., 2., 3.])
    """
    if len(tensors) == 0:
        raise ValueError("concatenate: need at least one tensor")
    return ConcatenateFunction(int(axis))(*tensors)


class StackFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *arrays: Any) -> Any:
        xp = array_module(arrays[0])
        try:
            return xp.stack(arrays, axis=self.axis)
        except ValueError:
            shapes = ", ".join(fmt_shape(a.shape) for a in arrays)
            raise ShapeError(f"stack: all shapes must be equal; got {shapes}") from None

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = array_module(grad)
        return tuple(xp.moveaxis(grad, self.axis, 0))


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis.

    Example:
        >>> import steepest as st
        >>> stack([st.tensor([1.0, 2.0]), st.tensor([3.0, 4.0])], axis=1).shape
        (2, 2)
    """
    if len(tensors) == 0:
        raise ValueError("stack: need at least one tensor")
    return StackFunction(int(axis))(*tensors)


class BroadcastToFunction(Function):
    saves_inputs = False
    saves_output = False

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        try:
            return array_module(x).broadcast_to(x, self.shape)
        except ValueError:
            raise ShapeError(f"broadcast_to: cannot broadcast shape {fmt_shape(x.shape)} to "
                             f"{fmt_shape(self.shape)}") from None

    def backward(self, grad: Any) -> Any:
        return grad  # the engine sums it back to the input's shape


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Repeat ``x`` along axes of size 1 (and new leading axes) to reach ``shape`` (B10).

    Example:
        >>> import steepest as st
        >>> broadcast_to(st.tensor([[1.0], [2.0]]), (2, 3)).shape
        (2, 3)
    """
    return apply_unary(BroadcastToFunction(tuple(int(s) for s in shape)), x)
