"""Tensors and reverse-mode automatic differentiation (concept B6, the computation graph).

A :class:`Tensor` wraps a backend array (NumPy or CuPy). Every differentiable
operation is a :class:`Function` with a ``forward`` and a ``backward`` written on raw
arrays; calling it on tensors records the graph (unless inside :class:`no_grad`).
``loss.backward()`` then walks the graph from the output back to the leaves and
accumulates ``dJ/dvar`` into each leaf's ``.grad``: the seed's forward pass computes
the output, the backward pass the derivatives, by the chain rule.

Rules this module owns, in one place each:

* **Broadcasting is undone here.** A ``backward`` may return a gradient of the
  broadcast shape; the engine sums it back to the input's shape (:func:`sum_to`).
* **Backward is iterative.** The topological sort uses an explicit stack, so a chain
  of 100,000 operations works, and a node reached along several paths (``b = a + a``)
  gets the sum of all its contributions before its own backward runs.
* **Accumulation.** ``.grad`` holds a raw array. Each ``backward()`` *adds* to the
  ``.grad`` already there (set it to ``None`` between steps, as optimisers'
  ``zero_grad`` does). Gradients are never updated in place, so a ``.grad`` array you
  hold is never changed behind your back.
* **A second backward.** By default ``backward()`` frees the graph's saved arrays as
  it goes (memory falls as soon as gradients exist), so calling it again through the
  same graph raises a clear error; pass ``retain_graph=True`` to the first call to
  keep the graph, and the second call then adds the same gradients once more.

Example:
    >>> import steepest as st
    >>> x = st.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ._validation import ShapeError, fmt_shape
from .backend import array_module, check_device, device_of, get_default_dtype, to_device

_grad_enabled = True
_F = TypeVar("_F", bound=Callable[..., Any])


class no_grad:
    """Context manager and decorator that stops graph recording.

    Inside it, operations compute values only: nothing is saved for backward, and
    results have ``requires_grad=False``. Evaluation, prediction and optimiser
    updates run under it.

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> with st.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc_info: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, function: _F) -> _F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_grad_enabled() -> bool:
    """True unless inside :class:`no_grad`."""
    return _grad_enabled


def _as_array(data: Any, dtype: Any = None) -> Any:
    """Turn user data into a backend array: floats get the default dtype."""
    if isinstance(data, Tensor):
        data = data.data
    xp = array_module(data)
    if dtype is not None:
        return xp.asarray(data, dtype=dtype)
    if xp is np and not isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        if array.dtype == np.float64:  # Python floats: use the library default, not float64
            array = array.astype(get_default_dtype())
        return array
    return xp.asarray(data)


def _check_floating(data: Any, what: str) -> None:
    if data.dtype.kind not in "fc":
        raise TypeError(
            f"{what}: only floating-point tensors can require gradients; got dtype {data.dtype}. "
            "Convert first, e.g. tensor(x, dtype='float32', requires_grad=True)"
        )


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Args:
        data: array-like (NumPy or CuPy array, list, scalar, or another Tensor).
            NumPy arrays are used without a copy when the dtype already matches;
            Python floats become the default dtype (float32).
        requires_grad: record operations on this tensor so ``backward()`` can fill
            its ``.grad``. Only floating dtypes may require gradients.
        dtype: convert the data to this dtype.

    Attributes:
        data: the backend array.
        grad: the accumulated gradient (a backend array of ``data``'s shape) or None.
        requires_grad: whether gradients flow to or through this tensor.

    Operators ``+ - * / ** @``, unary ``-``, indexing and comparisons work between
    tensors, arrays and Python numbers from either side, and always return a Tensor.
    Python numbers never change the dtype (float32 stays float32).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> a = st.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
        >>> (np.full(3, 2.0, dtype=np.float32) * a).sum().backward()
        >>> a.grad
        array([[2., 2., 2.],
               [2., 2., 2.]], dtype=float32)
    """

    __slots__ = ("__weakref__", "_ctx", "data", "grad", "requires_grad")
    # NumPy defers to our reflected operators: ndarray + Tensor calls Tensor.__radd__.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _as_array(data, dtype)
        self.grad: Any = None
        self._ctx: Function | None = None
        if requires_grad:
            _check_floating(self.data, "Tensor")
        self.requires_grad = bool(requires_grad)

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of ``data``."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return int(self.data.ndim)

    @property
    def size(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"gpu"``."""
        return device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded operation)."""
        return self._ctx is None

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared with the tensor on the CPU, copied from a GPU)."""
        return to_device(self.data, "cpu")

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ShapeError(
                f"Tensor.item(): only one-element tensors convert to a Python number; "
                f"got shape {fmt_shape(self.shape)}"
            )
        return self.data.reshape(()).item()

    def detach(self) -> Tensor:
        """A tensor sharing ``data`` but cut off from the graph."""
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaf tensors only) and return self."""
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor; use .detach() to cut it off the graph"
            )
        if requires_grad:
            _check_floating(self.data, "Tensor.requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, device: str) -> Tensor:
        """A copy on ``device`` (``"cpu"`` or ``"gpu"``); gradients flow back across."""
        check_device(device)
        if device == self.device:
            return self
        return ToDevice(device)(self)

    def astype(self, dtype: Any) -> Tensor:
        """A copy with another dtype; gradients are cast back to this tensor's dtype."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        return Cast(dtype)(self)

    # ----------------------------------------------------------------- protocol
    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != get_default_dtype() and self.data.dtype.kind == "f":
            extra += f", dtype={self.data.dtype}"
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self.data.shape[0])

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all() on .data"
            )
        return bool(self.data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    @staticmethod
    def _make(data: Any, ctx: Function | None) -> Tensor:
        """Wrap an operation's raw result (the hot path: no validation)."""
        if isinstance(data, np.generic):  # NumPy turns 0-d results into scalars
            data = np.asarray(data)
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out.requires_grad = ctx is not None
        out._ctx = ctx
        return out

    # ----------------------------------------------------------------- autograd
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires it.

        Args:
            grad: the gradient of the final objective with respect to this tensor,
                same shape. Omit it for a one-element tensor (a scalar loss), where it
                is 1.
            retain_graph: keep the saved arrays so ``backward()`` can run through
                this graph again (each call then adds its gradients once more).
                By default they are freed and a second call raises ``RuntimeError``.

        Raises:
            RuntimeError: the tensor does not require grad, or its graph was freed.
            ShapeError: ``grad`` is omitted for a tensor with more than one element,
                or its shape differs from this tensor's.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad, so there is no graph to "
                "differentiate; create its inputs with requires_grad=True"
            )
        xp = array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise ShapeError(
                    f"backward(): called without `grad` on a tensor of shape "
                    f"{fmt_shape(self.shape)}; the implicit gradient 1 only exists for a "
                    "one-element tensor (a scalar loss). Reduce it first (.sum() or .mean()) "
                    f"or pass grad= an array of shape {fmt_shape(self.shape)}"
                )
            seed = xp.ones_like(self.data)
        else:
            seed = xp.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if seed.shape != self.data.shape:
                raise ShapeError(
                    f"backward(): `grad` has shape {fmt_shape(seed.shape)} but the tensor has "
                    f"shape {fmt_shape(self.shape)}"
                )
        _backward(self, seed, retain_graph)

    if TYPE_CHECKING:  # installed by steepest.ops (they need Tensor, so they come later)

        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __getitem__(self, key: Any) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        @property
        def T(self) -> Tensor: ...
        def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def max(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def min(self, axis: Any = None, keepdims: bool = False) -> Tensor: ...
        def reshape(self, *shape: Any) -> Tensor: ...
        def transpose(self, *axes: Any) -> Tensor: ...
        def flatten(self, start_axis: int = 1) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def clip(self, min: Any = None, max: Any = None) -> Tensor: ...


class Function:
    """One differentiable operation: ``forward`` and ``backward`` on raw arrays.

    Subclasses take their configuration (axis, stride, ...) in ``__init__``, compute
    the result in ``forward(*arrays)`` and save on ``self`` only what ``backward``
    needs. ``backward(grad)`` receives dJ/d(output) and returns dJ/d(input) for each
    input, in order (a single array for one input, a tuple otherwise; ``None`` for an
    input that needs no gradient). ``self.needs_input_grad`` says which inputs need
    one, so expensive gradients can be skipped, and ``self.retain_graph`` whether
    backward may run again (then saved arrays must stay intact). A gradient may have
    the broadcast shape: the engine sums it back to the input's shape.

    Calling an instance on tensors, arrays or numbers runs ``forward`` and, when any
    input requires grad (and recording is on), records the operation.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> class Cube(st.Function):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x ** 3
        ...     def backward(self, grad):
        ...         return grad * 3 * self.x ** 2
        >>> x = st.tensor([2.0], requires_grad=True)
        >>> Cube()(x).backward()
        >>> x.grad
        array([12.], dtype=float32)
    """

    inputs: Sequence[Any] | None
    needs_input_grad: tuple[bool, ...]
    retain_graph: bool

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *inputs: Any) -> Tensor:
        datas = [x.data if isinstance(x, Tensor) else x for x in inputs]
        out = self.forward(*datas)
        if _grad_enabled:
            for x in inputs:
                if isinstance(x, Tensor) and x.requires_grad:
                    self.inputs = inputs
                    return Tensor._make(out, self)
        self.discard()
        return Tensor._make(out, None)

    def discard(self) -> None:
        """Called when the operation is not recorded: release what forward saved."""


# Fast paths for the one- and two-input elementwise operations, with Tensor._make
# inlined: the generic __call__ costs about 0.4 microseconds more per operation, as
# much as NumPy's own work on a small array.
def apply_unary(fn: Function, x: Tensor) -> Tensor:
    """Run a one-input Function on a Tensor and record it (the hot path)."""
    data = fn.forward(x.data)
    if isinstance(data, np.generic):
        data = np.asarray(data)
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = None
    if _grad_enabled and x.requires_grad:
        fn.inputs = (x,)
        out.requires_grad = True
        out._ctx = fn
    else:
        out.requires_grad = False
        out._ctx = None
    return out


def apply_binary(fn: Function, a: Any, b: Any) -> Tensor:
    """Run a two-input Function on tensors, arrays or numbers and record it."""
    a_is_tensor = isinstance(a, Tensor)
    b_is_tensor = isinstance(b, Tensor)
    try:
        data = fn.forward(a.data if a_is_tensor else a, b.data if b_is_tensor else b)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ShapeError(
            f"{type(fn).__name__.lower()}: operands could not be broadcast together: shapes "
            f"{fmt_shape(np.shape(a.data if a_is_tensor else a))} and "
            f"{fmt_shape(np.shape(b.data if b_is_tensor else b))} (trailing dimensions must be "
            "equal or 1)"
        ) from None
    if isinstance(data, np.generic):
        data = np.asarray(data)
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = None
    if _grad_enabled and ((a_is_tensor and a.requires_grad) or (b_is_tensor and b.requires_grad)):
        fn.inputs = (a, b)
        out.requires_grad = True
        out._ctx = fn
    else:
        out.requires_grad = False
        out._ctx = None
    return out


_new_tensor = object.__new__


class ToDevice(Function):
    """Copy to another device; the gradient goes back to the source device."""

    def __init__(self, device: str) -> None:
        self.device = device

    def forward(self, x: Any) -> Any:
        self.source = device_of(x)
        return to_device(x, self.device)

    def backward(self, grad: Any) -> Any:
        return to_device(grad, self.source)


class Cast(Function):
    """Change dtype; the gradient is cast back to the source dtype by the engine."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def forward(self, x: Any) -> Any:
        if self.dtype.kind not in "fc":
            raise TypeError(f"astype: cannot cast a differentiable tensor to {self.dtype}")
        return x.astype(self.dtype)

    def backward(self, grad: Any) -> Any:
        return grad


# --------------------------------------------------------------------- the engine
def sum_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    This is the adjoint of broadcasting and the one place steepest undoes it.

    Example:
        >>> import numpy as np
        >>> sum_to(np.ones((2, 3, 4)), (3, 1))
        array([[8.],
               [8.],
               [8.]])
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"sum_to: cannot sum shape {fmt_shape(grad.shape)} to {fmt_shape(shape)}")
    stretched = tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    if stretched:
        grad = grad.sum(axis=tuple(i - lead for i in stretched), keepdims=True)
    if grad.shape != shape:
        raise ShapeError(f"sum_to: cannot sum shape {fmt_shape(grad.shape)} to {fmt_shape(shape)}")
    return grad


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` that need gradients, inputs before outputs.

    Iterative depth-first post-order: a node is emitted only after everything it
    depends on, which is what makes nodes on several paths (``a + a``) correct.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is None:
            continue
        if ctx.inputs is None:
            raise RuntimeError(
                "backward(): trying to go through the graph a second time, but its saved "
                "arrays were freed by the first backward(); pass retain_graph=True to the "
                "first call if you need to differentiate twice"
            )
        for parent in ctx.inputs:
            if isinstance(parent, Tensor) and parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def _backward(root: Tensor, seed: Any, retain_graph: bool) -> None:
    order = _topological_order(root)
    grads: dict[int, Any] = {id(root): seed}
    assigned: set[int] = set()
    for node in reversed(order):
        grad = grads.pop(id(node), None)
        if grad is None:
            continue
        fn = node._ctx
        if fn is None:
            _accumulate_leaf(node, grad, assigned)
            continue
        inputs = fn.inputs
        assert inputs is not None  # checked during the sort
        fn.needs_input_grad = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        fn.retain_graph = retain_graph
        input_grads = fn.backward(grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for x, g in zip(inputs, input_grads):
            if g is None or not (isinstance(x, Tensor) and x.requires_grad):
                continue
            if g.shape != x.data.shape:
                g = sum_to(g, x.data.shape)
            if g.dtype != x.data.dtype:
                g = g.astype(x.data.dtype)
            previous = grads.get(id(x))
            grads[id(x)] = g if previous is None else previous + g
        if not retain_graph:
            node._ctx = _FREED  # drops the Function, its inputs and its saved arrays


def _accumulate_leaf(leaf: Tensor, grad: Any, assigned: set[int]) -> None:
    if leaf.grad is None:
        # A gradient may be a view (broadcast_to is read-only) or the very array
        # another leaf received (Add passes one array to both inputs): copy those so
        # each .grad is writable and private.
        if getattr(grad, "base", None) is not None or id(grad) in assigned:
            grad = grad.copy()
        leaf.grad = grad
        assigned.add(id(grad))
    else:
        leaf.grad = leaf.grad + grad


class _Freed(Function):
    """Marks a node whose graph was released by backward()."""

    inputs = None


_FREED = _Freed()


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Create a :class:`Tensor` (same arguments as the class).

    Example:
        >>> import steepest as st
        >>> st.tensor([[1.0, 2.0]]).shape
        (1, 2)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
