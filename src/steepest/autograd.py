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
* **In-place changes are caught, not silently differentiated.** Every tensor has a
  version counter (``_version``). Assigning ``x.data`` (including augmented
  assignment: ``x.data *= 10`` and ``w.data -= lr * grad`` go through the setter)
  bumps it; each recorded operation remembers the versions of its inputs, and
  ``backward()`` raises ``RuntimeError`` naming the operation when an input (or the
  output) it saved has changed since the forward pass, instead of computing the
  gradient of values that no longer exist. Operations whose backward reads neither
  (``Function.saves_inputs`` / ``saves_output`` set to False: add, sum, reshape ...)
  do not raise. What cannot be seen: item assignment into the raw array
  (``x.data[0] = 5``, ``x.data[...] = new``), NumPy functions writing with ``out=``,
  and writes through another tensor or array that shares memory (``x.detach()``,
  ``x.reshape(...)``, ``x.numpy()``). After such a write call ``x.bump_version()``
  (optimisers do) or assign the whole array (``x.data = new``).
* **Recording is per thread.** :class:`no_grad` and :class:`enable_grad` switch
  recording for the calling thread only, so a ``predict`` running under ``no_grad``
  in one thread never stops another thread's training step from recording.

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
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ._validation import ShapeError, fmt_shape
from .backend import array_module, check_device, device_of, get_default_dtype, to_device

_F = TypeVar("_F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """This thread's recording switch and the states saved by open contexts."""

    enabled = True

    def __init__(self) -> None:
        self.saved: list[bool] = []


_mode = _GradMode()
# How many threads have recording off right now. The hot paths read this plain
# global first and look at the (slower) thread-local switch only when some thread
# is inside no_grad: while it is 0 every thread records. The count only has to be at
# least the number of threads whose switch is off, so a stale count is slower, never wrong.
_threads_without_grad = 0
_mode_lock = threading.Lock()


def _set_grad_enabled(enabled: bool) -> bool:
    """Switch recording for the calling thread; return the previous state."""
    global _threads_without_grad
    previous = _mode.enabled
    if enabled != previous:
        with _mode_lock:
            _mode.enabled = enabled
            _threads_without_grad += -1 if enabled else 1
    return previous


class _GradModeContext:
    _enabled = True

    def __enter__(self) -> None:
        # The previous state is kept per thread, so one instance may be shared.
        _mode.saved.append(_set_grad_enabled(self._enabled))

    def __exit__(self, *exc_info: object) -> None:
        saved = _mode.saved
        _set_grad_enabled(saved.pop() if saved else True)

    def __call__(self, function: _F) -> _F:
        context = type(self)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with context():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Context manager and decorator that stops graph recording in this thread.

    Inside it, operations compute values only: nothing is saved for backward, and
    results have ``requires_grad=False``. Evaluation, prediction and optimiser
    updates run under it. The switch is per thread (as in PyTorch): other threads
    keep recording.

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> with st.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    _enabled = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns recording back on inside ``no_grad``.

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> with st.no_grad():
        ...     with st.enable_grad():
        ...         y = w * 2
        >>> y.requires_grad
        True
    """

    _enabled = True


def is_grad_enabled() -> bool:
    """True unless this thread is inside :class:`no_grad` (and not in :class:`enable_grad`).

    Example:
        >>> import steepest as st
        >>> with st.no_grad():
        ...     st.is_grad_enabled()
        False
    """
    return _mode.enabled


def _as_array(data: Any, dtype: Any = None) -> Any:
    """Turn user data into a backend array: floats get the default dtype."""
    if isinstance(data, Tensor):
        data = data._data
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
        data: the backend array. Assigning it (``x.data = new``, ``x.data -= step``)
            bumps the tensor's version counter, so a graph recorded before the
            change refuses to backpropagate through the old values.
        grad: the accumulated gradient (a backend array of ``data``'s shape) or None.
        requires_grad: whether gradients flow to or through this tensor.

    Operators ``+ - * / ** @``, unary ``-``, indexing and comparisons work between
    tensors, arrays, lists and Python numbers from either side, and always return a
    Tensor. Python numbers (alone or in a list) never change the dtype (float32 stays
    float32). ``np.asarray(tensor)`` gives the data.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> a = st.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
        >>> (np.full(3, 2.0, dtype=np.float32) * a).sum().backward()
        >>> a.grad
        array([[2., 2., 2.],
               [2., 2., 2.]], dtype=float32)
    """

    __slots__ = ("__weakref__", "_ctx", "_data", "_version", "grad", "requires_grad")
    # NumPy defers to our reflected operators: ndarray + Tensor calls Tensor.__radd__.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data = _as_array(data, dtype)
        self._version = 0
        self.grad: Any = None
        self._ctx: Function | None = None
        if requires_grad:
            _check_floating(self._data, "Tensor")
        self.requires_grad = bool(requires_grad)

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> Any:
        """The backend array; assigning it bumps the version counter."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        # `x.data *= 10` is `x.data = x.data.__imul__(10)`: the same array comes back
        # through here, so augmented assignment is seen too.
        self._data = value
        self._version += 1

    def bump_version(self) -> None:
        """Record that ``data`` was changed in place behind the setter's back.

        Call it after writing into the array directly (``x.data[0] = 5``,
        ``np.subtract(w.data, step, out=w.data)``): a graph recorded before the write
        then raises in ``backward()`` instead of using the new values as if they
        were the old ones. Optimisers call it for every parameter they update.

        Example:
            >>> import steepest as st
            >>> x = st.tensor([1.0, 2.0], requires_grad=True)
            >>> y = (x * x).sum()
            >>> x.data[0] = 5.0
            >>> x.bump_version()
            >>> y.backward()
            Traceback (most recent call last):
            ...
            RuntimeError: backward(): input 0 of Mul was changed in place (version 0 -> 1)...
        """
        self._version += 1

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return tuple(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of ``data``."""
        return self._data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return int(self._data.ndim)

    @property
    def size(self) -> int:
        """The number of elements."""
        return int(self._data.size)

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"gpu"``."""
        return device_of(self._data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded operation)."""
        return self._ctx is None

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared with the tensor on the CPU, copied from a GPU)."""
        return to_device(self._data, "cpu")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(tensor)`` and ``np.array(tensor)`` give the data, not an object array.

        Example:
            >>> import numpy as np
            >>> import steepest as st
            >>> np.asarray(st.tensor([1.0, 2.0]))
            array([1., 2.], dtype=float32)
        """
        array = self.numpy()
        converts = dtype is not None and np.dtype(dtype) != array.dtype
        if copy is False and (converts or array is not self._data):
            raise ValueError(
                "Tensor.__array__: copy=False was asked for, but the data must be copied "
                f"({'to dtype ' + str(np.dtype(dtype)) if converts else 'from the GPU'}); "
                "use np.asarray(tensor) to allow the copy"
            )
        if converts:
            return array.astype(dtype)
        return array.copy() if copy else array

    def tolist(self) -> Any:
        """The data as (nested) Python lists of Python numbers; a 0-d tensor gives a number.

        Example:
            >>> import steepest as st
            >>> st.tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
        """
        return self.numpy().tolist()

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(
                f"Tensor.item(): only one-element tensors convert to a Python number; "
                f"got shape {fmt_shape(self.shape)}"
            )
        return self._data.reshape(()).item()

    def detach(self) -> Tensor:
        """A tensor sharing ``data`` but cut off from the graph."""
        return Tensor._make(self._data, None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaf tensors only) and return self."""
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor; use .detach() to cut it off the graph"
            )
        if requires_grad:
            _check_floating(self._data, "Tensor.requires_grad_")
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
        if dtype == self._data.dtype:
            return self
        return Cast(dtype)(self)

    # ----------------------------------------------------------------- protocol
    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype != get_default_dtype() and self._data.dtype.kind == "f":
            extra += f", dtype={self._data.dtype}"
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self._data.shape[0])

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all() on .data"
            )
        return bool(self._data.reshape(()))

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
        out._data = data
        out._version = 0
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
        xp = array_module(self._data)
        if grad is None:
            if self._data.size != 1:
                raise ShapeError(
                    f"backward(): called without `grad` on a tensor of shape "
                    f"{fmt_shape(self.shape)}; the implicit gradient 1 only exists for a "
                    "one-element tensor (a scalar loss). Reduce it first (.sum() or .mean()) "
                    f"or pass grad= an array of shape {fmt_shape(self.shape)}"
                )
            seed = xp.ones_like(self._data)
        else:
            seed = xp.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if seed.shape != self._data.shape:
                raise ShapeError(
                    f"backward(): `grad` has shape {fmt_shape(seed.shape)} but the tensor has "
                    f"shape {fmt_shape(self.shape)}"
                )
        _backward(self, seed, retain_graph)

    # ----------------------------------------------------------------- methods
    # The differentiable ones call the public wrappers of steepest.ops, imported
    # when called: the ops need this class first, so autograd cannot import them.
    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for :meth:`reshape` (the result may share memory with ``self``).

        Example:
            >>> import steepest as st
            >>> st.tensor([1.0, 2.0, 3.0, 4.0]).view(2, -1).shape
            (2, 2)
        """
        return self.reshape(*shape)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest value along ``axis`` (None: of the flattened tensor).

        Not differentiable: the result is an int64 tensor without gradient. Ties give
        the first index, as in NumPy and PyTorch.

        Example:
            >>> import steepest as st
            >>> st.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]).argmax(axis=1)
            tensor([1, 0])
        """
        return self._arg_extreme("argmax", axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest value along ``axis`` (None: of the flattened tensor).

        Not differentiable: the result is an int64 tensor without gradient.

        Example:
            >>> import steepest as st
            >>> st.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]).argmin(axis=1)
            tensor([0, 1])
        """
        return self._arg_extreme("argmin", axis, keepdims)

    def _arg_extreme(self, name: str, axis: int | None, keepdims: bool) -> Tensor:
        data = self._data
        if axis is not None:
            if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
                raise TypeError(f"Tensor.{name}: `axis` must be an int or None; got {axis!r}")
            if not -data.ndim <= axis < max(data.ndim, 1):
                raise ShapeError(f"Tensor.{name}: axis {axis} is out of range for a tensor "
                                 f"with {data.ndim} dimension(s)")
            axis = int(axis) % max(data.ndim, 1)
            if data.ndim == 0:
                axis = None
        if data.size == 0 or (axis is not None and data.shape[axis] == 0):
            raise ShapeError(f"Tensor.{name}: no values to choose from in a tensor of shape "
                             f"{fmt_shape(data.shape)}")
        xp = array_module(data)
        index = getattr(xp, name)(data, axis=axis, keepdims=keepdims)
        return Tensor._make(xp.asarray(index, dtype=xp.int64), None)

    def relu(self) -> Tensor:
        """:func:`steepest.functional.relu` of this tensor.

        Example:
            >>> import steepest as st
            >>> st.tensor([-1.0, 2.0]).relu()
            tensor([0., 2.])
        """
        from .ops import relu

        return relu(self)

    def sigmoid(self) -> Tensor:
        """:func:`steepest.functional.sigmoid` of this tensor.

        Example:
            >>> import steepest as st
            >>> st.tensor([0.0]).sigmoid()
            tensor([0.5])
        """
        from .ops import sigmoid

        return sigmoid(self)

    def tanh(self) -> Tensor:
        """:func:`steepest.functional.tanh` of this tensor.

        Example:
            >>> import steepest as st
            >>> st.tensor([0.0]).tanh()
            tensor([0.])
        """
        from .ops import tanh

        return tanh(self)

    def softmax(self, axis: int = -1) -> Tensor:
        """:func:`steepest.functional.softmax` of this tensor along ``axis``.

        Example:
            >>> import steepest as st
            >>> st.tensor([[0.0, 0.0]]).softmax(axis=1)
            tensor([[0.5, 0.5]])
        """
        from .ops import softmax

        return softmax(self, axis=axis)

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

    Two class attributes say what ``backward`` reads, for the in-place check:
    ``saves_inputs`` (default True) when it reads the forward inputs, and
    ``saves_output`` (default True) when it reads the forward output. Set one to
    False when backward does not need it (``Add`` needs neither), so changing that
    value in place after the forward pass does not make ``backward()`` raise.

    Calling an instance on tensors, arrays, lists or numbers runs ``forward`` on
    their arrays (lists and tuples become arrays, Python floats the default dtype)
    and, when any input requires grad (and this thread records), records the
    operation.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> class Cube(st.Function):
        ...     saves_output = False  # backward reads x, not x ** 3
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
    saves_inputs: bool = True
    saves_output: bool = True
    # The inputs' versions when the operation was recorded (0 for non-tensors); the
    # hot paths leave it empty when all were 0, the common case.
    _input_versions: tuple[int, ...] = ()

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *inputs: Any) -> Tensor:
        out = self.forward(*[x._data if isinstance(x, Tensor) else _raw(x) for x in inputs])
        if not _threads_without_grad or _mode.enabled:
            for x in inputs:
                if isinstance(x, Tensor) and x.requires_grad:
                    self.inputs = inputs
                    for v in inputs:  # versions are kept only when one is not 0
                        if isinstance(v, Tensor) and v._version:
                            self._input_versions = tuple(
                                u._version if isinstance(u, Tensor) else 0 for u in inputs
                            )
                            break
                    return Tensor._make(out, self)
        self.discard()
        return Tensor._make(out, None)

    def discard(self) -> None:
        """Called when the operation is not recorded: release what forward saved."""


def _raw(value: Any) -> Any:
    """A non-tensor input as ``forward`` gets it: lists and tuples become arrays."""
    return _as_array(value) if isinstance(value, _SEQUENCES) else value


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a Tensor: the tensor itself when it already is one of ``dtype``.

    The one coercion point of steepest: a Tensor passes through unchanged (or is
    cast, differentiably, when ``dtype`` differs); arrays, lists and scalars are
    wrapped by the rules of :class:`Tensor` (NumPy arrays without a copy when the
    dtype matches, Python floats in the default dtype, float32).

    Args:
        data: a Tensor, a NumPy or CuPy array, a (nested) list or tuple, or a scalar.
        dtype: the dtype wanted; None keeps the data's own (or the default for floats).

    Returns:
        A Tensor. It is ``data`` itself when ``data`` is a Tensor of that dtype.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> t = st.tensor([1.0, 2.0])
        >>> st.as_tensor(t) is t
        True
        >>> st.as_tensor([1.0, 2.0]).dtype, st.as_tensor(np.arange(2)).dtype
        (dtype('float32'), dtype('int64'))
    """
    if isinstance(data, Tensor):
        if dtype is None or np.dtype(dtype) == data._data.dtype:
            return data
        return data.astype(dtype)
    return Tensor(data, dtype=dtype)


def _sequence_as_array(value: Any, other: Any) -> Any:
    """A list or tuple operand as an array; numbers in it do not upcast ``other``.

    Like a Python number, a list of numbers meeting a floating array takes that
    array's dtype (``float32_tensor * [1, 2]`` stays float32).
    """
    array = _as_array(value)
    like = getattr(other, "dtype", None)
    if like is not None and like.kind == "f" and array.dtype.kind in "biuf":
        array = array.astype(like, copy=False)
    xp = array_module(other)
    return array if xp is np else xp.asarray(array)  # onto the other operand's device


# Fast paths for the one- and two-input elementwise operations, with Tensor._make
# inlined: the generic __call__ costs about 0.4 microseconds more per operation, as
# much as NumPy's own work on a small array. They read the private slots directly.
def apply_unary(fn: Function, x: Any) -> Tensor:
    """Run a one-input Function on a tensor, array, list or number and record it.

    Example:
        >>> import numpy as np
        >>> from steepest.ops.elementwise import relu
        >>> relu(np.array([-1.0, 2.0]))  # arrays are wrapped (no gradient)
        tensor([0., 2.], dtype=float64)
    """
    try:
        data = x._data
    except AttributeError:  # not a Tensor: costs nothing until it happens
        x = as_tensor(x)
        data = x._data
    data = fn.forward(data)
    if isinstance(data, np.generic):
        data = np.asarray(data)
    out = _new_tensor(Tensor)
    out._data = data
    out._version = 0
    out.grad = None
    if x.requires_grad and (not _threads_without_grad or _mode.enabled):
        fn.inputs = (x,)
        if x._version:
            fn._input_versions = (x._version,)
        out.requires_grad = True
        out._ctx = fn
    else:
        out.requires_grad = False
        out._ctx = None
    return out


def apply_binary(fn: Function, a: Any, b: Any) -> Tensor:
    """Run a two-input Function on tensors, arrays, lists or numbers and record it.

    Python numbers stay Python numbers (so they never change a tensor's dtype);
    lists and tuples become arrays.

    Example:
        >>> import steepest as st
        >>> st.tensor([1.0, 2.0]) + [10, 20]
        tensor([11., 22.])
    """
    a_is_tensor = isinstance(a, Tensor)
    b_is_tensor = isinstance(b, Tensor)
    a_data = a._data if a_is_tensor else a
    b_data = b._data if b_is_tensor else b
    if not a_is_tensor and isinstance(a, _SEQUENCES):
        a = a_data = _sequence_as_array(a, b_data)
    if not b_is_tensor and isinstance(b, _SEQUENCES):
        b = b_data = _sequence_as_array(b, a_data)
    try:
        data = fn.forward(a_data, b_data)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ShapeError(
            f"{_op_name(fn).lower()}: operands could not be broadcast together: shapes "
            f"{fmt_shape(np.shape(a_data))} and {fmt_shape(np.shape(b_data))} (trailing "
            "dimensions must be equal or 1)"
        ) from None
    if isinstance(data, np.generic):
        data = np.asarray(data)
    out = _new_tensor(Tensor)
    out._data = data
    out._version = 0
    out.grad = None
    if ((a_is_tensor and a.requires_grad) or (b_is_tensor and b.requires_grad)) and (
        not _threads_without_grad or _mode.enabled
    ):
        fn.inputs = (a, b)
        a_version = a._version if a_is_tensor else 0
        b_version = b._version if b_is_tensor else 0
        if a_version or b_version:
            fn._input_versions = (a_version, b_version)
        out.requires_grad = True
        out._ctx = fn
    else:
        out.requires_grad = False
        out._ctx = None
    return out


_SEQUENCES = (list, tuple)


def _op_name(fn: Function) -> str:
    """The operation's name for messages: ``MulFunction`` and ``Mul`` both say ``Mul``."""
    name = type(fn).__name__
    return name.removesuffix("Function") or name


_new_tensor = object.__new__


class ToDevice(Function):
    """Copy to another device; the gradient goes back to the source device."""

    saves_inputs = False
    saves_output = False

    def __init__(self, device: str) -> None:
        self.device = device

    def forward(self, x: Any) -> Any:
        self.source = device_of(x)
        return to_device(x, self.device)

    def backward(self, grad: Any) -> Any:
        return to_device(grad, self.source)


class Cast(Function):
    """Change dtype; the gradient is cast back to the source dtype by the engine."""

    saves_inputs = False
    saves_output = False

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
        # The in-place check (inlined: it runs for every node).
        if fn.saves_inputs:
            versions = fn._input_versions
            if versions:
                for x, recorded in zip(inputs, versions):
                    if isinstance(x, Tensor) and x._version != recorded:
                        _raise_changed(fn, _index_of(inputs, x), recorded, x._version)
            else:
                for x in inputs:
                    if isinstance(x, Tensor) and x._version:
                        _raise_changed(fn, _index_of(inputs, x), 0, x._version)
        if node._version and fn.saves_output:  # every output starts at version 0
            _raise_changed(fn, None, 0, node._version)
        fn.needs_input_grad = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        fn.retain_graph = retain_graph
        input_grads = fn.backward(grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for x, g in zip(inputs, input_grads):
            if g is None or not (isinstance(x, Tensor) and x.requires_grad):
                continue
            if g.shape != x._data.shape:
                g = sum_to(g, x._data.shape)
            if g.dtype != x._data.dtype:
                g = g.astype(x._data.dtype)
            previous = grads.get(id(x))
            grads[id(x)] = g if previous is None else previous + g
        if not retain_graph:
            node._ctx = _FREED  # drops the Function, its inputs and its saved arrays


def _index_of(inputs: Sequence[Any], x: Tensor) -> int:
    """Position of ``x`` among ``inputs`` by identity (``==`` on tensors is elementwise)."""
    return next(i for i, value in enumerate(inputs) if value is x)


def _raise_changed(fn: Function, index: int | None, recorded: int, now: int) -> None:
    """Refuse to differentiate through a value changed in place after the forward pass."""
    name = _op_name(fn)
    what = "the output" if index is None else f"input {index}"
    raise RuntimeError(
        f"backward(): {what} of {name} was changed in place (version {recorded} -> {now}) "
        f"after the forward pass, and {name} needs its old value, so the gradient would be "
        "wrong. Change it before the forward pass, or after backward(); or compute a new "
        "tensor instead (x = x * 10, not x.data *= 10)"
    )


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
