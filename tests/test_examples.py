"""The examples run and show what they claim."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow  # over a second of learning: runs with `pytest -m slow` (CI runs both)
def test_edge_detection_finds_the_strokes(tmp_path) -> None:
    module = runpy.run_path(str(EXAMPLES / "edge_detection.py"))
    image = np.zeros((12, 12), dtype=np.uint8)
    image[:, 6:] = 255  # one vertical edge
    maps = module["edge_maps"](image)
    vertical = np.abs(maps["sobel vertical"])
    assert vertical[:, 5:7].min() > 0.5 and vertical[2:-2, :4].max() == 0
    assert np.abs(maps["sobel horizontal"][2:-2]).max() == 0
    result = subprocess.run([sys.executable, str(EXAMPLES / "edge_detection.py"), "--out",
                             str(tmp_path / "edges.png")], capture_output=True, text=True,
                            check=True)
    assert "wrote" in result.stdout and (tmp_path / "edges.png").stat().st_size > 5000
