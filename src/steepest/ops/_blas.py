"""The general matrix product of the BLAS that NumPy itself links, with accumulation.

NumPy's ``matmul`` always overwrites its output, so a sum of products costs one more
pass over memory per term, and it copies an operand whose rows are not contiguous.
BLAS's ``gemm`` does neither: C = A @ B + beta * C reads A and B through a leading
dimension (any row stride) and adds into C in place. That is what lets a stride-1
convolution multiply shifted views of its padded input directly, with no im2col
columns (see :mod:`steepest.ops.conv`).

The library is the OpenBLAS that NumPy's PyPI wheels bundle (``scipy-openblas``,
found through ``numpy.__config__``). Where NumPy was built against anything else
(Accelerate, MKL, a system BLAS) or the library cannot be loaded, :func:`available`
is False and callers keep their NumPy-only path. Calls go through :mod:`ctypes`,
which releases the GIL, and use the library's own thread count (the one
``OPENBLAS_NUM_THREADS`` or threadpoolctl set for NumPy).
"""

from __future__ import annotations

import ctypes
import glob
import os
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
    for folder in (os.path.join(root, os.pardir, "numpy.libs"), os.path.join(root, ".dylibs")):
        for path in sorted(glob.glob(os.path.join(folder, f"*{stem}*"))):
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            return library, "64_" if ilp64 else "", ctypes.c_int64 if ilp64 else ctypes.c_int
    return None


def _load() -> dict[np.dtype, Any]:
    if os.environ.get("STEEPEST_NO_BLAS_GEMM"):
        return {}
    found = _find_library()
    if found is None:
        return {}
    library, suffix, integer = found
    functions = {}
    for letter, scalar in (("s", ctypes.c_float), ("d", ctypes.c_double)):
        function = getattr(library, f"scipy_cblas_{letter}gemm{suffix}", None)
        if function is None:
            return {}
        function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer, integer,
                             scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer,
                             scalar, ctypes.c_void_p, integer]
        function.restype = None
        functions[np.dtype(scalar)] = function
    return functions


_GEMM = _load()


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
    function = _GEMM.get(a.dtype)
    if function is None or b.dtype != a.dtype or out.dtype != a.dtype:
        raise ValueError(f"gemm: needs float32 or float64 operands of one dtype and a BLAS "
                         f"for it; got {a.dtype}, {b.dtype} -> {out.dtype}")
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
