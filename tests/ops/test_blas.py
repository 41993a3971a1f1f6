"""The BLAS product behind the implicit-GEMM convolution, against NumPy's matmul."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from steepest.ops import _blas

pytestmark = pytest.mark.skipif(not _blas.available(np.float32),
                                reason="NumPy is not linked to its bundled OpenBLAS")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_matches_matmul_on_views_transposes_and_accumulation(dtype) -> None:
    rng = np.random.default_rng(0)
    big = rng.standard_normal((7, 40)).astype(dtype)
    a = big[:, 3:12]                       # rows 40 apart: a leading dimension above 9
    b = rng.standard_normal((5, 9)).astype(dtype).T  # a transpose: contiguous columns
    target = rng.standard_normal((7, 20)).astype(dtype)
    out = target[:, 4:9]                   # a slice of a wider array, written in place
    before, snapshot = out.copy(), target.copy()
    _blas.gemm(a, b, out, accumulate=True)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, before + a @ b, rtol=tolerance, atol=tolerance)
    _blas.gemm(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=tolerance, atol=tolerance)
    # Only the view was written: the columns around it are as they were.
    np.testing.assert_array_equal(target[:, :4], snapshot[:, :4])
    np.testing.assert_array_equal(target[:, 9:], snapshot[:, 9:])


def test_gemm_handles_single_rows_and_columns_and_an_empty_inner_axis() -> None:
    rng = np.random.default_rng(1)
    for m, k, n in [(1, 5, 3), (4, 1, 6), (3, 5, 1), (1, 1, 1)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        out = np.empty((m, n), np.float32)
        _blas.gemm(a, b, out)
        np.testing.assert_allclose(out, a @ b, rtol=1e-6)
    out = np.ones((2, 3), np.float32)
    _blas.gemm(np.ones((2, 0), np.float32), np.ones((0, 3), np.float32), out)
    np.testing.assert_array_equal(out, 0)


def test_gemm_refuses_what_blas_cannot_describe() -> None:
    a = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="one dtype"):
        _blas.gemm(a, np.ones((4, 4)), np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="one dtype and a BLAS"):
        _blas.gemm(a.astype(np.float16), a.astype(np.float16), np.empty((4, 4), np.float16))
    with pytest.raises(ValueError, match=r"shapes \(4, 4\) @ \(3, 4\)"):
        _blas.gemm(a, np.ones((3, 4), np.float32), np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="`b` needs rows or columns of contiguous"):
        _blas.gemm(a, np.ones((8, 8), np.float32)[::2, ::2], np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="`out` needs contiguous rows"):
        _blas.gemm(a, a, np.empty((4, 4), np.float32).T)
    with pytest.raises(ValueError, match="overlaps"):
        _blas.gemm(a, a, a)
    frozen = np.zeros((4, 4), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="`out` is read-only"):
        _blas.gemm(a, a, frozen)
    assert not frozen.any()
    # A float32 field of packed records: strides (12, 6) are not whole elements.
    records = np.zeros((2, 2), dtype=[("x", "<f4"), ("tag", "<i2")])
    records["tag"] = 7
    with pytest.raises(ValueError, match="strides in whole elements"):
        _blas.gemm(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), records["x"])
    assert (records["tag"] == 7).all()
    with pytest.raises(ValueError, match="must be 2-D"):
        _blas.gemm(np.ones(4, np.float32), a, np.empty((4, 4), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpby_blends_in_place_like_numpy(dtype) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 50)).astype(dtype)
    y = rng.standard_normal((3, 50)).astype(dtype)
    expected = 0.9 * y.astype(np.float64) + 0.25 * x.astype(np.float64)
    target = y
    _blas.axpby(0.25, x, 0.9, y)
    assert y is target  # in place
    np.testing.assert_allclose(y, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_axpby_refuses_what_it_cannot_take() -> None:
    a = np.ones(8, np.float32)
    assert not _blas.axpby_applies(a, a)  # overlapping
    assert not _blas.axpby_applies(a, np.ones(8))  # mixed dtypes
    assert not _blas.axpby_applies(np.ones(16, np.float32)[::2], a)  # strided
    assert not _blas.axpby_applies(a, np.ones(4, np.float32))  # sizes
    assert not _blas.axpby_applies(a, np.ones((2, 4), np.float32))  # shapes
    frozen = np.ones(8, np.float32)
    frozen.flags.writeable = False
    assert not _blas.axpby_applies(a, frozen)
    with pytest.raises(ValueError, match="axpby: needs contiguous float32 or float64"):
        _blas.axpby(1.0, a, 1.0, a[::-1])


def test_steepest_no_blas_switches_every_blas_path_off() -> None:
    code = ("import numpy as np; from steepest.ops import _blas; "
            "print(_blas.available(np.float32), "
            "_blas.axpby_applies(np.ones(3, np.float32), np.ones(3, np.float32)))")
    environment = {**os.environ, "STEEPEST_NO_BLAS": "1"}
    result = subprocess.run([sys.executable, "-c", code], env=environment, check=True,
                            capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux's /proc")
def test_the_library_is_the_one_numpy_already_runs_on(monkeypatch) -> None:
    # In a fresh interpreter: the file steepest binds to was mapped by NumPy before.
    code = ("import os, numpy; before = open('/proc/self/maps').read(); "
            "from steepest.ops import _blas; "
            "print(os.path.realpath(_blas._find_library()[0]._name) in before)")
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True)
    assert result.stdout.split() == ["True"]
    # A library NumPy does not run on is never loaded (two BLAS thread pools).
    monkeypatch.setattr(_blas, "_mapped_files", lambda: set())
    assert _blas._find_library() is None
