"""The hand-built pipeline of examples/end_to_end.py (M16) measures what it claims."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np

from steepest.data.datasets.shapes import make_shapes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "end_to_end.py"


def test_hand_features_tell_clean_shapes_apart() -> None:
    features = runpy.run_path(str(EXAMPLE))["hand_features"]
    images, labels, _ = make_shapes(60, image_size=32, noise=0.02, min_size=0.3, rng=0)
    fill = features(images)[:, 0]  # how much of its bounding box the shape fills
    by_kind = {kind: fill[labels[:, 0] == kind].mean() for kind in range(3)}
    circle, square, triangle = by_kind[0], by_kind[1], by_kind[2]
    assert square > 0.9 and 0.7 < circle < 0.88 and 0.4 < triangle < 0.65, by_kind
    assert np.all(features(np.zeros((2, 3, 32, 32), np.float32)) == 0)  # nothing segmented
