"""Tensor factories with PyTorch's names: zeros, ones, full, rand, randn, arange, eye.

Each returns a new leaf :class:`~steepest.autograd.Tensor` and takes the keywords a
PyTorch user reaches for: ``dtype`` (floating results default to
:func:`steepest.get_default_dtype`, float32), ``requires_grad`` (floating dtypes
only) and ``device`` (``"cpu"`` or ``"gpu"``). A shape is given as separate ints or
as one sequence: ``zeros(2, 3)`` and ``zeros((2, 3))`` are the same.

The random factories take ``rng``: a ``numpy.random.Generator``, an int seed (a fresh
generator seeded with it) or None for steepest's default generator, which
:func:`steepest.seed` resets. Numbers are drawn on the host, so a seeded run gives
the same values bit for bit on every CPU.

Example:
    >>> import steepest as st
    >>> st.zeros(2, 3).shape
    (2, 3)
    >>> st.rand(2, rng=0).dtype
    dtype('float32')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import non_negative_int
from .autograd import Tensor
from .backend import check_device, get_default_dtype, resolve_rng, to_device

ShapeLike = int | Sequence[int]


def _shape(owner: str, shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``(2, 3)``, ``((2, 3),)`` or ``([2, 3],)`` as ``(2, 3)``; dims are ints >= 0."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"{owner}: `shape` must be non-negative ints, given as {owner}(2, 3) "
                            f"or {owner}((2, 3)); got {shape!r}")
        if dim < 0:
            raise ValueError(f"{owner}: `shape` must be non-negative ints; got {shape!r}")
    return tuple(int(dim) for dim in shape)


def _dtype(owner: str, dtype: Any, default: Any, floating: bool = False) -> np.dtype:
    try:
        value = np.dtype(default if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{owner}: `dtype` must be a NumPy dtype or its name (e.g. 'float32'); "
                        f"got {dtype!r}") from None
    if floating and value.kind != "f":
        raise TypeError(f"{owner}: `dtype` must be a floating dtype (float16, float32, "
                        f"float64); got {value}")
    return value


def _finish(owner: str, array: np.ndarray, requires_grad: bool, device: str) -> Tensor:
    check_device(device)
    if requires_grad and array.dtype.kind not in "fc":
        raise TypeError(f"{owner}: only floating-point tensors can require gradients; got dtype "
                        f"{array.dtype}. Pass dtype='float32' (or leave dtype out)")
    return Tensor(to_device(array, device) if device != "cpu" else array,
                  requires_grad=requires_grad)


def zeros(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False,
          device: str = "cpu") -> Tensor:
    """A tensor of zeros.

    Args:
        *shape: the shape, as ints or one sequence of ints.
        dtype: the dtype (default: the default float dtype, float32).
        requires_grad: make it a leaf that collects gradients (floating dtypes only).
        device: ``"cpu"`` or ``"gpu"``.

    Returns:
        A new leaf Tensor of that shape.

    Raises:
        TypeError: a dimension is not an int, or ``requires_grad`` with a non-float dtype.
        ValueError: a dimension is negative.

    Example:
        >>> import steepest as st
        >>> st.zeros(2, 3, dtype="int64")
        tensor([[0, 0, 0],
                [0, 0, 0]])
    """
    dims = _shape("zeros", shape)
    value = _dtype("zeros", dtype, get_default_dtype())
    return _finish("zeros", np.zeros(dims, dtype=value), requires_grad, device)


def ones(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False,
         device: str = "cpu") -> Tensor:
    """A tensor of ones (arguments as :func:`zeros`).

    Example:
        >>> import steepest as st
        >>> st.ones((2,), requires_grad=True)
        tensor([1., 1.], requires_grad=True)
    """
    dims = _shape("ones", shape)
    value = _dtype("ones", dtype, get_default_dtype())
    return _finish("ones", np.ones(dims, dtype=value), requires_grad, device)


def full(shape: ShapeLike, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
         device: str = "cpu") -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``.

    Without ``dtype``, the dtype follows the value, as in PyTorch: a bool gives bool,
    an int int64, a float the default float dtype (float32).

    Example:
        >>> import steepest as st
        >>> st.full((2, 2), 7)
        tensor([[7, 7],
                [7, 7]])
        >>> st.full(3, 0.5).dtype
        dtype('float32')
    """
    dims = _shape("full", (shape,))
    if isinstance(fill_value, (bool, np.bool_)):
        default: Any = np.bool_
    elif isinstance(fill_value, numbers.Integral):
        default = np.int64
    elif isinstance(fill_value, numbers.Real):
        default = get_default_dtype()
    else:
        raise TypeError(f"full: `fill_value` must be a real number or a bool; got {fill_value!r}")
    value = _dtype("full", dtype, default)
    return _finish("full", np.full(dims, fill_value, dtype=value), requires_grad, device)


def rand(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False,
         rng: np.random.Generator | int | None = None, device: str = "cpu") -> Tensor:
    """Uniform random numbers in [0, 1).

    Args:
        *shape: the shape, as ints or one sequence of ints.
        dtype: a floating dtype (default: the default float dtype, float32).
        requires_grad: make it a leaf that collects gradients.
        rng: a ``numpy.random.Generator``, an int seed, or None for the default
            generator (reset by :func:`steepest.seed`).
        device: ``"cpu"`` or ``"gpu"``.

    Example:
        >>> import steepest as st
        >>> x = st.rand(2, 3, rng=0)
        >>> x.shape, bool(((x.data >= 0) & (x.data < 1)).all())
        ((2, 3), True)
        >>> bool((st.rand(4, rng=7).data == st.rand(4, rng=7).data).all())
        True
    """
    dims = _shape("rand", shape)
    value = _dtype("rand", dtype, get_default_dtype(), floating=True)
    generator = resolve_rng(rng)
    # The Generator draws float32 and float64 directly; float16 is cast from float32.
    drawn = generator.random(dims, dtype=value if value.itemsize >= 4 else np.float32)
    return _finish("rand", drawn.astype(value, copy=False), requires_grad, device)


def randn(*shape: ShapeLike, dtype: Any = None, requires_grad: bool = False,
          rng: np.random.Generator | int | None = None, device: str = "cpu") -> Tensor:
    """Standard normal random numbers (mean 0, variance 1); arguments as :func:`rand`.

    Example:
        >>> import steepest as st
        >>> x = st.randn(10000, rng=0)
        >>> x.dtype, abs(float(x.data.mean())) < 0.05, abs(float(x.data.std()) - 1) < 0.05
        (dtype('float32'), True, True)
    """
    dims = _shape("randn", shape)
    value = _dtype("randn", dtype, get_default_dtype(), floating=True)
    generator = resolve_rng(rng)
    drawn = generator.standard_normal(dims, dtype=value if value.itemsize >= 4 else np.float32)
    return _finish("randn", drawn.astype(value, copy=False), requires_grad, device)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Evenly spaced values in ``[start, end)``; ``arange(n)`` is ``0, 1, ..., n - 1``.

    Without ``dtype``, all-int arguments give int64 and any float gives the default
    float dtype (float32), as in PyTorch. The length is ``ceil((end - start) / step)``.

    Raises:
        ValueError: ``step`` is 0, or an argument is NaN or infinite.

    Example:
        >>> import steepest as st
        >>> st.arange(4)
        tensor([0, 1, 2, 3])
        >>> st.arange(0, 1, 0.25)
        tensor([0.  , 0.25, 0.5 , 0.75])
    """
    if end is None:
        start, end = 0, start
    for name, number in (("start", start), ("end", end), ("step", step)):
        if isinstance(number, bool) or not isinstance(number, numbers.Real):
            raise TypeError(f"arange: `{name}` must be a number; got {number!r}")
        if not math.isfinite(number):
            raise ValueError(f"arange: `{name}` must be finite; got {number!r}")
    if step == 0:
        raise ValueError("arange: `step` must be nonzero; got 0")
    integral = all(isinstance(n, numbers.Integral) for n in (start, end, step))
    value = _dtype("arange", dtype, np.int64 if integral else get_default_dtype())
    if integral:
        array: np.ndarray = np.arange(int(start), int(end), int(step), dtype=np.int64)
    else:
        # start + i * step in float64, then cast: no drift from a float32 step.
        count = max(0, math.ceil((end - start) / step))
        array = float(start) + np.arange(count, dtype=np.float64) * float(step)
    return _finish("arange", array.astype(value), requires_grad, device)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False,
        device: str = "cpu") -> Tensor:
    """An ``n`` by ``m`` (default ``n``) matrix with ones on the diagonal.

    Example:
        >>> import steepest as st
        >>> st.eye(2, 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    rows = non_negative_int("eye", "n", n)
    columns = rows if m is None else non_negative_int("eye", "m", m)
    value = _dtype("eye", dtype, get_default_dtype())
    return _finish("eye", np.eye(rows, columns, dtype=value), requires_grad, device)
