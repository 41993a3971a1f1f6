"""The backend: array module, devices, dtypes and seeding."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import backend


def test_array_module_and_device() -> None:
    assert backend.array_module(np.zeros(2)) is np
    assert backend.array_module(3.0) is np
    assert backend.device_of(np.zeros(1)) == "cpu"
    assert st.tensor([1.0]).to("cpu").device == "cpu"


def test_bad_device_name() -> None:
    with pytest.raises(ValueError, match="`device` must be 'cpu' or 'gpu'; got 'cuda'"):
        backend.to_device(np.zeros(1), "cuda")


@pytest.mark.skipif(backend.gpu_available(), reason="checks the message without a GPU")
def test_gpu_without_cupy_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"needs CuPy|CUDA|cupy"):
        st.tensor([1.0]).to("gpu")


def test_seed_reproducibility() -> None:
    st.seed(7)
    a = backend.default_rng().random(4)
    st.seed(7)
    np.testing.assert_array_equal(a, backend.default_rng().random(4))
    with pytest.raises(ValueError, match="non-negative int"):
        st.seed(-1)


def test_default_dtype() -> None:
    assert st.get_default_dtype() == np.float32
    st.set_default_dtype(np.float64)
    assert st.tensor([1.0]).dtype == np.float64
    st.set_default_dtype("float32")
    with pytest.raises(TypeError, match="floating dtype"):
        st.set_default_dtype("int32")


def test_resolve_rng() -> None:
    g = np.random.default_rng(0)
    assert backend.resolve_rng(g) is g
    assert backend.resolve_rng(None) is backend.default_rng()
    with pytest.raises(TypeError, match="`rng` must be"):
        backend.resolve_rng("seed")


def test_the_scratch_pool_is_bounded_and_can_be_released() -> None:
    from steepest.backend import (
        give_buffer,
        release_scratch_memory,
        scratch_memory,
        take_buffer,
    )

    release_scratch_memory()
    _, limit = scratch_memory()
    try:
        scratch_memory(limit=10_000)
        give_buffer(take_buffer(np.zeros(1), (1000,), np.float32))   # 4,000 bytes: kept
        give_buffer(take_buffer(np.zeros(1), (2000,), np.float32))   # 8,000 more: over the bound
        assert scratch_memory()[0] == 4000
        reused = take_buffer(np.zeros(1), (1000,), np.float32)       # the kept one comes back
        assert scratch_memory()[0] == 0
        give_buffer(reused)
        assert release_scratch_memory() == 4000 and scratch_memory()[0] == 0
        with pytest.raises(ValueError, match="`limit` must be a non-negative int"):
            scratch_memory(limit=-1)
    finally:
        scratch_memory(limit=limit)


def test_the_scratch_pool_is_safe_to_share_between_threads() -> None:
    # predict() in several threads while one trains: every thread takes and gives.
    import sys
    import threading
    import time

    from steepest.backend import _Workspace

    pool, errors = _Workspace(), []

    def worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            try:
                arrays = [pool.take((int(rng.integers(1, 64)) * 16,), np.float32)
                          for _ in range(3)]
                for a in arrays:
                    a[...] = seed
                errors.extend("shared" for a in arrays if not (a == seed).all())
                for a in arrays:
                    pool.give(a)
            except Exception as error:  # any failure is the finding
                errors.append(repr(error))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    sizes = [b.nbytes for b in pool.free]
    assert errors == [] and sizes == sorted(sizes) and pool.bytes == sum(sizes)
