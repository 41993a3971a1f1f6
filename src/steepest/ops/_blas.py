"""The general matrix product (and axpby) of the BLAS that NumPy itself links.

NumPy's ``matmul`` always overwrites its output, so a sum of products costs one more
pass over memory per term, and it copies an operand whose rows are not contiguous.
BLAS's ``gemm`` does neither: C = A @ B + beta * C reads A and B through a leading
dimension (any row stride) and adds into C in place. That is what lets a stride-1
convolution multiply shifted views of its padded input directly, with no im2col
columns (see :mod:`steepest.ops.conv`).

The library is the OpenBLAS that NumPy's PyPI wheels bundle (``scipy-openblas``,
found through ``numpy.__config__``). Where NumPy was built against anything else
(Accelerate, MKL, a system BLAS) or the library cannot be loaded, :func:`available`
is False and callers keep their NumPy-only path (set ``STEEPEST_NO_BLAS=1`` to force
that everywhere). Calls go through :mod:`ctypes`, which releases the GIL, and use the
library's own thread count (the one ``OPENBLAS_NUM_THREADS`` or threadpoolctl set for
NumPy).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _find_library() -> tuple[ctypes.CDLL, str, type] | None:
    """NumPy's bundled OpenBLAS, its symbol prefix/suffix and its integer type."""
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    except (AttributeError, KeyError, TypeError):
        return None
    if not str(blas.get("name", "")).startswith("scipy-openblas"):
        return None
    ilp64 = "USE64BITINT" in str(blas.get("openblas configuration", ""))
    stem = "scipy_openblas64_" if ilp64 else "scipy_openblas"
    root = os.path.dirname(np.__file__)
    candidates = [path for folder in (os.path.join(root, os.pardir, "numpy.libs"),
                                      os.path.join(root, ".dylibs"))
                  for path in sorted(glob.glob(os.path.join(folder, f"*{stem}*")))]
    loaded = _mapped_files()
    if loaded is not None:
        # Only the very library NumPy runs on: loading a second copy would give the
        # process two BLAS thread pools.
        candidates = [path for path in candidates if os.path.realpath(path) in loaded]
    for path in candidates:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        return library, "64_" if ilp64 else "", ctypes.c_int64 if ilp64 else ctypes.c_int
    return None


def _mapped_files() -> set[str] | None:
    """The files mapped into this process (Linux's /proc/self/maps), or None elsewhere."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return {os.path.realpath(line.split(maxsplit=5)[5].strip())
                    for line in maps if line.count(" ") >= 5 and "/" in line}
    except (OSError, IndexError):
        return None


def _load() -> tuple[dict[np.dtype, Any], dict[np.dtype, Any], tuple[Any, Any] | None]:
    """(gemm, axpby) by dtype, and the library's (get, set) thread-count functions;
    empty or None where the library or a function is missing."""
    if os.environ.get("STEEPEST_NO_BLAS"):
        return {}, {}, None
    found = _find_library()
    if found is None:
        return {}, {}, None
    library, suffix, integer = found
    get_threads = getattr(library, f"scipy_openblas_get_num_threads{suffix}", None)
    set_threads = getattr(library, f"scipy_openblas_set_num_threads{suffix}", None)
    counts = None
    if get_threads is not None and set_threads is not None:
        get_threads.argtypes, get_threads.restype = [], ctypes.c_int
        set_threads.argtypes, set_threads.restype = [ctypes.c_int], None
        counts = get_threads, set_threads
    gemm, axpby = {}, {}
    for letter, scalar in (("s", ctypes.c_float), ("d", ctypes.c_double)):
        product = getattr(library, f"scipy_cblas_{letter}gemm{suffix}", None)
        blend = getattr(library, f"scipy_cblas_{letter}axpby{suffix}", None)
        if product is None or blend is None:
            return {}, {}, None
        product.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer, integer,
                            scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer,
                            scalar, ctypes.c_void_p, integer]
        blend.argtypes = [integer, scalar, ctypes.c_void_p, integer, scalar, ctypes.c_void_p,
                          integer]
        product.restype = blend.restype = None
        gemm[np.dtype(scalar)], axpby[np.dtype(scalar)] = product, blend
    return gemm, axpby, counts


_GEMM, _AXPBY, _THREADS = _load()
_held = 0  # how many callers hold the library at one thread (see one_thread)
_held_from = 1  # its thread count before the first of them
_hold_lock = threading.Lock()


def threads() -> int:
    """The library's thread count as NumPy's callers set it (``OPENBLAS_NUM_THREADS``,
    threadpoolctl), even while :func:`one_thread` holds it at one; 1 where steepest
    has no handle on it.

    Example:
        >>> threads() >= 1
        True
    """
    if _THREADS is None:
        return 1
    with _hold_lock:
        return _held_from if _held else max(1, int(_THREADS[0]()))


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Hold the library at one thread inside the block (nested and concurrent holds
    are counted; the last to leave restores the count the first one found).

    The count is process-wide: while a hold lasts, NumPy products in other threads
    run on one thread too. A hold is counted before the library is told (so a Ctrl-C
    between the two still restores it on the way out).
    """
    global _held, _held_from
    if _THREADS is None:
        yield
        return
    get_threads, set_threads = _THREADS
    counted = False
    try:
        with _hold_lock:
            if not _held:
                _held_from = max(1, int(get_threads()))
            _held += 1
            counted = True
            if _held == 1 and _held_from > 1:
                set_threads(1)
        yield
    finally:
        if counted:
            with _hold_lock:
                _held -= 1
                if not _held and _held_from > 1:
                    set_threads(_held_from)


def _before_fork() -> None:
    _hold_lock.acquire()  # no other thread is half-way through a hold when the child starts


def _after_fork_in_parent() -> None:
    _hold_lock.release()


def _after_fork_in_child() -> None:
    """The child has only the forking thread: holds other threads had are gone, so the
    library gets back the count they found."""
    global _held, _hold_lock
    _hold_lock = threading.Lock()
    if _held and _THREADS is not None and _held_from > 1:
        _THREADS[1](_held_from)
    _held = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


def available(dtype: Any) -> bool:
    """Whether :func:`gemm` can multiply arrays of ``dtype`` (float32 and float64 where
    NumPy's BLAS is its bundled OpenBLAS).

    Example:
        >>> import numpy as np
        >>> available(np.float16)
        False
    """
    return np.dtype(dtype) in _GEMM


def _operand(a: np.ndarray, name: str) -> tuple[int, int]:
    """(transpose flag, leading dimension) of a 2-D view with one unit stride."""
    if any(stride % a.itemsize for stride in a.strides):
        raise ValueError(f"gemm: `{name}` needs strides in whole elements; got shape "
                         f"{a.shape} with strides {a.strides}")
    rows, cols = a.shape
    row_stride, col_stride = (s // a.itemsize for s in a.strides)
    if cols == 1 or col_stride == 1:  # row-major: each row contiguous
        lead = row_stride if rows > 1 else cols
        if lead >= max(cols, 1):
            return _NO_TRANS, lead
    if rows == 1 or row_stride == 1:  # the transpose of a row-major matrix
        lead = col_stride if cols > 1 else rows
        if lead >= max(rows, 1):
            return _TRANS, lead
    raise ValueError(f"gemm: `{name}` needs rows or columns of contiguous numbers; got shape "
                     f"{a.shape} with strides {a.strides}")


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False) -> None:
    """``out = a @ b``, or ``out += a @ b`` with ``accumulate``, in place.

    The operands may be any 2-D views with contiguous rows or contiguous columns
    (slices of a larger array, transposes); ``out`` needs contiguous rows and must not
    overlap ``a`` or ``b``.

    Raises:
        ValueError: no BLAS for the dtype, mixed dtypes, mismatched shapes or strides
            BLAS cannot describe.

    Example:
        >>> import numpy as np
        >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
        >>> out = np.ones((2, 2), dtype=np.float32)
        >>> if available(np.float32):
        ...     gemm(a, a.T, out, accumulate=True)  # a transpose is a view
        ... else:
        ...     out += a @ a.T
        >>> out
        array([[ 6., 15.],
               [15., 51.]], dtype=float32)
    """
    if not all(isinstance(array, np.ndarray) for array in (a, b, out)):
        raise ValueError("gemm: needs NumPy arrays")
    function = _GEMM.get(a.dtype)
    if function is None or b.dtype != a.dtype or out.dtype != a.dtype:
        raise ValueError(f"gemm: needs float32 or float64 operands of one dtype and a BLAS "
                         f"for it; got {a.dtype}, {b.dtype} -> {out.dtype}")
    if not out.flags.writeable:
        raise ValueError("gemm: `out` is read-only")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"gemm: operands must be 2-D; got shapes {a.shape} and {b.shape}")
    (m, k), (k_b, n) = a.shape, b.shape
    if k != k_b or out.shape != (m, n):
        raise ValueError(f"gemm: shapes {a.shape} @ {b.shape} -> {out.shape} do not match")
    if m == 0 or n == 0:
        return
    if k == 0:
        if not accumulate:
            out[...] = 0
        return
    if np.may_share_memory(out, a) or np.may_share_memory(out, b):
        raise ValueError("gemm: `out` overlaps an operand")
    trans_a, lead_a = _operand(a, "a")
    trans_b, lead_b = _operand(b, "b")
    trans_out, lead_out = _operand(out, "out")
    if trans_out != _NO_TRANS:
        raise ValueError(f"gemm: `out` needs contiguous rows; got strides {out.strides}")
    function(_ROW_MAJOR, trans_a, trans_b, m, n, k, 1.0, a.ctypes.data, lead_a,
             b.ctypes.data, lead_b, 1.0 if accumulate else 0.0, out.ctypes.data, lead_out)


def axpby_applies(x: Any, y: Any) -> bool:
    """Whether :func:`axpby` can take ``x`` and ``y``: contiguous NumPy arrays of one
    dtype with a BLAS function, the same shape, ``y`` writable and apart from ``x``."""
    return (type(x) is np.ndarray and type(y) is np.ndarray and x.dtype == y.dtype
            and x.dtype in _AXPBY and x.shape == y.shape and x.flags.c_contiguous
            and y.flags.c_contiguous and y.flags.writeable and not np.may_share_memory(x, y))


def axpby(alpha: float, x: np.ndarray, beta: float, y: np.ndarray) -> None:
    """``y = alpha * x + beta * y`` in place, in one pass over memory (NumPy needs two
    and a temporary); the arrays are taken element by element in memory order.

    Raises:
        ValueError: where :func:`axpby_applies` is False.

    Example:
        >>> import numpy as np
        >>> v = np.ones(3, dtype=np.float32)
        >>> g = np.arange(3, dtype=np.float32)
        >>> if axpby_applies(g, v):
        ...     axpby(0.1, g, 0.9, v)                   # a moving average
        ... else:
        ...     v[:] = 0.9 * v + 0.1 * g
        >>> v
        array([0.9, 1. , 1.1], dtype=float32)
    """
    if not axpby_applies(x, y):
        raise ValueError(f"axpby: needs contiguous float32 or float64 arrays of one shape and "
                         f"dtype that do not overlap, and a BLAS; got {x.dtype} {x.shape} and "
                         f"{y.dtype} {y.shape}")
    _AXPBY[x.dtype](x.size, alpha, x.ctypes.data, 1, beta, y.ctypes.data, 1)
