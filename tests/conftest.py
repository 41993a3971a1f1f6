"""Shared test settings: seeded randomness and a quiet, two-thread PyTorch oracle."""

from __future__ import annotations

import compileall
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import steepest


def pytest_sessionstart(session: pytest.Session) -> None:
    # The suite starts `python -m steepest` and other interpreters dozens of times.
    # Where bytecode is not written on import (PYTHONDONTWRITEBYTECODE, as in this
    # project's sandbox), each start would compile all of steepest again: 0.7 s instead
    # of 0.3 s for `python -m steepest --help`, about 9 s of the quick suite. Compile
    # once; Python validates each cached file against its source before using it.
    if sys.flags.dont_write_bytecode:
        compileall.compile_dir(Path(steepest.__file__).parent, quiet=1)


@pytest.fixture(autouse=True)
def _seeded() -> None:
    steepest.seed(1234)
    steepest.set_default_dtype("float32")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """steepest's own threads on, two of them, for work of any size: every kernel that
    can cut its work into parts does (see steepest.ops._parallel)."""
    from helpers.threads import force_threads

    force_threads(monkeypatch)
