"""The one place that decides between NumPy and CuPy, plus dtypes and randomness.

Every device-side function asks an array for its module with :func:`array_module`
instead of importing NumPy or CuPy itself, so the same code runs on the CPU and on
a GPU. CuPy is imported lazily, the first time a GPU is asked for; steepest works
without it.

Randomness: every random operation in steepest takes an optional
``numpy.random.Generator``; when none is passed it uses the library's default
generator, which :func:`seed` resets. A seeded run is reproducible bit for bit on
the CPU.

Example:
    >>> import numpy as np
    >>> import steepest
    >>> steepest.seed(0)
    >>> a = steepest.backend.default_rng().standard_normal(3)
    >>> steepest.seed(0)
    >>> bool(np.array_equal(a, steepest.backend.default_rng().standard_normal(3)))
    True
"""

from __future__ import annotations

import bisect
import contextlib
import math
import threading
import types
import weakref
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

Device = Literal["cpu", "gpu"]

_DEFAULT_DTYPE: np.dtype = np.dtype(np.float32)
_rng: np.random.Generator = np.random.default_rng()
_cupy: types.ModuleType | None = None


def _import_cupy() -> types.ModuleType:
    """Import CuPy once, with a message that names the extra when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as error:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "steepest: the GPU backend needs CuPy; install it with "
                "`pip install steepest[gpu]` (or a cupy-cudaXXx wheel matching your CUDA)"
            ) from error
        _cupy = cupy
    return _cupy


def gpu_available() -> bool:
    """Return True when CuPy imports and sees at least one CUDA device.

    Example:
        >>> isinstance(gpu_available(), bool)
        True
    """
    try:
        cupy = _import_cupy()
        return bool(cupy.cuda.runtime.getDeviceCount() > 0)
    except Exception:  # CuPy missing, no driver, no device: all mean "no GPU"
        return False


def array_module(array: Any) -> types.ModuleType:
    """Return the array library (``numpy`` or ``cupy``) that owns ``array``.

    Host objects (NumPy arrays, Python scalars, lists) give NumPy. This is the only
    function in steepest that tells the two apart.

    Example:
        >>> import numpy as np
        >>> array_module(np.zeros(2)) is np
        True
    """
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def device_of(array: Any) -> Device:
    """Return ``"gpu"`` for a CuPy array and ``"cpu"`` for anything else.

    Example:
        >>> import numpy as np
        >>> device_of(np.zeros(1))
        'cpu'
    """
    return "gpu" if array_module(array) is not np else "cpu"


def check_device(device: str) -> Device:
    """Validate a device name and return it."""
    if device not in ("cpu", "gpu"):
        raise ValueError(f"steepest: `device` must be 'cpu' or 'gpu'; got {device!r}")
    return device  # type: ignore[return-value]


def to_device(array: Any, device: str) -> Any:
    """Move ``array`` to ``device`` (``"cpu"`` or ``"gpu"``); a no-op when already there.

    Example:
        >>> import numpy as np
        >>> to_device(np.ones(2), "cpu")
        array([1., 1.])
    """
    device = check_device(device)
    if device == "cpu":
        if array_module(array) is np:
            return np.asarray(array)
        return _import_cupy().asnumpy(array)
    cupy = _import_cupy()
    return cupy.asarray(array)


def to_numpy(array: Any) -> np.ndarray:
    """Return ``array`` as a NumPy array (a copy only when it lives on the GPU)."""
    return to_device(array, "cpu")


def get_default_dtype() -> np.dtype:
    """The floating dtype new tensors and parameters get (float32 unless changed).

    Example:
        >>> get_default_dtype()
        dtype('float32')
    """
    return _DEFAULT_DTYPE


def set_default_dtype(dtype: Any) -> None:
    """Set the floating dtype of new tensors and parameters (float16, float32 or float64).

    Example:
        >>> set_default_dtype("float64"); get_default_dtype()
        dtype('float64')
        >>> set_default_dtype("float32")
    """
    global _DEFAULT_DTYPE
    value = np.dtype(dtype)
    if value.kind != "f":
        raise TypeError(f"steepest: the default dtype must be a floating dtype; got {value}")
    _DEFAULT_DTYPE = value


def seed(n: int) -> None:
    """Reset steepest's default random generator, so a run is reproducible.

    Args:
        n: a non-negative integer seed.

    Example:
        >>> seed(42)
    """
    global _rng
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"steepest.seed: `n` must be a non-negative int; got {n!r}")
    _rng = np.random.default_rng(int(n))


def default_rng() -> np.random.Generator:
    """The generator random operations use when they are not given one."""
    return _rng


@contextlib.contextmanager
def using_default_rng(generator: np.random.Generator) -> Iterator[np.random.Generator]:
    """Make ``generator`` the default generator inside a ``with`` block, then restore it.

    Loading a model uses it so that rebuilding the architecture draws its throwaway
    initial weights without advancing the user's random stream. The default
    generator is process-wide: another thread drawing from it inside the block
    draws from ``generator``.

    Example:
        >>> before = default_rng()
        >>> with using_default_rng(np.random.default_rng(0)) as g:
        ...     default_rng() is g
        True
        >>> default_rng() is before
        True
    """
    global _rng
    saved = _rng
    _rng = generator
    try:
        yield generator
    finally:
        _rng = saved


def resolve_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Turn an ``rng`` argument (Generator, int seed or None) into a Generator.

    None gives the default generator (reset by :func:`seed`); an int gives a fresh
    generator seeded with it.

    Example:
        >>> isinstance(resolve_rng(3), np.random.Generator)
        True
    """
    if rng is None:
        return _rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"steepest: `rng` must be a numpy.random.Generator, a non-negative int seed or None; "
        f"got {type(rng).__name__}"
    )


def scatter_add(out: Any, key: Any, values: Any) -> None:
    """``out[key] += values`` where repeated indices each add (unbuffered), in place.

    Example:
        >>> out = np.zeros(3)
        >>> scatter_add(out, np.array([0, 0, 2]), np.ones(3))
        >>> out
        array([2., 0., 1.])
    """
    array_module(out).add.at(out, key, values)  # CuPy 13+ has add.at too


def uniform(shape: tuple[int, ...], rng: np.random.Generator | int | None, like: Any) -> Any:
    """Uniform [0, 1) numbers with the dtype and device of ``like``, drawn from ``rng``.

    They are drawn on the host from the (seedable) NumPy generator, so a CPU run is
    reproducible bit for bit; on a GPU they are copied over.

    Example:
        >>> u = uniform((2, 2), 0, np.zeros(1, dtype=np.float32))
        >>> u.dtype, bool(((0 <= u) & (u < 1)).all())
        (dtype('float32'), True)
    """
    dtype = np.float64 if like.dtype == np.float64 else np.float32
    values = resolve_rng(rng).random(shape, dtype=dtype)
    if array_module(like) is np:
        return values
    return to_device(values, "gpu")  # pragma: no cover - needs a GPU


class _Workspace:
    """Free scratch memory, so big temporaries are reused between training steps.

    Allocating a fresh 75 MB array costs thousands of page faults on first touch; a
    training loop that asks for the same sizes every step gets them back from here
    instead. The pool holds flat byte buffers: a request takes the smallest free one
    that is large enough (and not more than twice the size), as a view of the wanted
    shape and dtype, so arrays of different shapes share memory and the pool stays
    near the most scratch memory in use at once. Only memory handed back with
    :func:`give_buffer` is kept, up to ``limit`` bytes; CuPy has a memory pool of its
    own and bypasses this.
    """

    def __init__(self, limit: int = 1 << 31) -> None:
        self.limit = limit
        self.free: list[np.ndarray] = []  # flat uint8 buffers, smallest first
        # Buffers out on loan, by id; weakly, so one never handed back is freed as usual.
        self.lent: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()
        self.bytes = 0
        self.lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        dtype = np.dtype(dtype)
        need = math.prod(shape) * dtype.itemsize  # (np.prod costs 5-20 µs a call here)
        with self.lock:  # threads (predicting while another trains) share the pool
            k = bisect.bisect_left(self.free, need, key=_nbytes)
            if k < len(self.free) and self.free[k].nbytes <= 2 * need:
                buffer = self.free.pop(k)
                self.bytes -= buffer.nbytes
            else:
                buffer = np.empty(max(need, 1), dtype=np.uint8)
            self.lent[id(buffer)] = buffer
        return buffer[:need].view(dtype).reshape(shape)

    def give(self, array: np.ndarray) -> None:
        base = array.base if array.base is not None else array
        with self.lock:
            buffer = self.lent.pop(id(base), None)
            if buffer is None or self.bytes + buffer.nbytes > self.limit:
                return  # not the pool's, or more than the limit: the garbage collector's
            bisect.insort(self.free, buffer, key=_nbytes)
            self.bytes += buffer.nbytes

    def release(self) -> int:
        with self.lock:
            released = self.bytes
            self.free.clear()
            self.bytes = 0
        return released


def _nbytes(array: np.ndarray) -> int:
    return array.nbytes


_workspace = _Workspace()


def take_buffer(like: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """An uninitialised scratch array on ``like``'s device, reused when one is free.

    Example:
        >>> buffer = take_buffer(np.zeros(1), (2, 3), np.float32)
        >>> buffer.shape
        (2, 3)
        >>> give_buffer(buffer)
    """
    if array_module(like) is not np:
        return array_module(like).empty(shape, dtype=dtype)  # pragma: no cover - GPU
    return _workspace.take(shape, dtype)


def give_buffer(array: Any) -> None:
    """Hand a scratch array from :func:`take_buffer` back; the caller must not use it again."""
    if array is not None and isinstance(array, np.ndarray):
        _workspace.give(array)


def scratch_memory(limit: int | None = None) -> tuple[int, int]:
    """The scratch pool's held bytes and limit; with ``limit``, set a new bound first.

    The pool keeps the big temporaries of convolutions between training steps (up to
    the limit, 2 GiB by default); lowering the limit drops what no longer fits.

    Example:
        >>> held, limit = scratch_memory()
        >>> limit == 1 << 31
        True
    """
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"scratch_memory: `limit` must be a non-negative int of bytes; "
                             f"got {limit!r}")
        _workspace.limit = limit
        if _workspace.bytes > limit:
            release_scratch_memory()
    return _workspace.bytes, _workspace.limit


def release_scratch_memory() -> int:
    """Free every array the scratch pool holds (after training, say); returns the bytes.

    Example:
        >>> give_buffer(take_buffer(np.zeros(1), (1024,), np.float32))
        >>> release_scratch_memory() >= 4096
        True
        >>> scratch_memory()[0]
        0
    """
    return _workspace.release()
