"""Shared test settings: seeded randomness and a quiet, two-thread PyTorch oracle."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import steepest


@pytest.fixture(autouse=True)
def _seeded() -> None:
    steepest.seed(1234)
    steepest.set_default_dtype("float32")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
