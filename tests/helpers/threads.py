"""steepest's own threads forced on for tests (see steepest.ops._parallel)."""

from __future__ import annotations

import pytest

from steepest.ops import _blas, _parallel


def force_threads(patch: pytest.MonkeyPatch, threads: int = 2) -> None:
    """Turn steepest's threads on, ``threads`` of them, for work of any size, for as long
    as ``patch`` lasts: every kernel that can cut its work into parts does."""
    patch.setattr(_blas, "threads", lambda: threads)
    patch.setattr(_parallel, "MIN_PART", 4)
    patch.setattr(_parallel, "SPLIT_MACS", 16)
    patch.setattr(_parallel, "ACTIVE", float("inf"))  # on for the whole test
    patch.setattr(_parallel, "_active_until", float("inf"))
