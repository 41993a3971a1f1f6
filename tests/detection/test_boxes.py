"""Boxes: IoU, NMS and grid encodings against brute-force loops and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steepest._validation import ShapeError
from steepest.detection import (
    batched_nms,
    box_iou,
    decode_grid_boxes,
    encode_grid_boxes,
    grid_cells,
    nms,
)


def random_boxes(rng: np.random.Generator, n: int, size: float = 50.0) -> np.ndarray:
    corner = rng.uniform(0, size, (n, 2))
    return np.concatenate([corner, corner + rng.uniform(1, size / 2, (n, 2))], axis=1)


def iou_loop(a: list[float], b: list[float]) -> float:
    """IoU of two xyxy boxes, written out."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms_loop(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """torchvision's rule written out: visit by score, drop what overlaps a kept box."""
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    keep: list[int] = []
    for i in order:
        if all(iou_loop(boxes[i].tolist(), boxes[k].tolist()) <= threshold for k in keep):
            keep.append(i)
    return keep


def test_box_iou_matches_the_loop(rng: np.random.Generator) -> None:
    a, b = random_boxes(rng, 7), random_boxes(rng, 5)
    expected = [[iou_loop(x.tolist(), y.tolist()) for y in b] for x in a]
    np.testing.assert_allclose(box_iou(a, b), expected, rtol=1e-12)
    assert box_iou(a, np.zeros((0, 4))).shape == (7, 0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.floats(0, 100)] * 4), min_size=1, max_size=6))
def test_box_iou_is_in_unit_interval_and_symmetric(raw: list[tuple[float, ...]]) -> None:
    boxes = np.array([[min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]
                      for x1, y1, x2, y2 in raw])
    iou = box_iou(boxes, boxes)
    assert np.all((iou >= 0) & (iou <= 1 + 1e-12))
    np.testing.assert_allclose(iou, iou.T)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    np.testing.assert_allclose(np.diag(iou)[area > 0], 1.0)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 1.0])
def test_nms_matches_the_loop(rng: np.random.Generator, threshold: float) -> None:
    boxes = random_boxes(rng, 40, size=30.0)
    scores = rng.uniform(size=40).round(1)  # ties: the earlier box wins
    kept = nms(boxes, scores, threshold)
    assert kept.tolist() == nms_loop(boxes, scores, threshold)
    assert np.all(np.diff(scores[kept]) <= 0)


def test_nms_suppresses_only_above_the_threshold() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5]], dtype=float)  # IoU exactly 0.5
    assert nms(boxes, [0.9, 0.8], 0.5).tolist() == [0, 1]
    assert nms(boxes, [0.9, 0.8], 0.49).tolist() == [0]
    assert nms(np.zeros((0, 4)), [], 0.5).tolist() == []


def test_batched_nms_is_nms_per_class(rng: np.random.Generator) -> None:
    boxes = random_boxes(rng, 30, size=20.0)
    scores, classes = rng.uniform(size=30), rng.integers(0, 3, 30)
    expected = [i for c in range(3) for i in np.flatnonzero(classes == c)[
        nms_loop(boxes[classes == c], scores[classes == c], 0.4)]]
    kept = batched_nms(boxes, scores, classes, 0.4)
    assert sorted(kept.tolist()) == sorted(expected)
    assert np.all(np.diff(scores[kept]) <= 0)


def test_bad_boxes_are_one_clear_error_each() -> None:
    with pytest.raises(ValueError, match=r"box_iou: `a` must hold xyxy boxes with x2 >= x1.*"
                                         r"box 1 is \[5.0, 0.0, 1.0, 1.0\]"):
        box_iou([[0, 0, 1, 1], [5, 0, 1, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"nms: `boxes` contains NaN or Inf \(first in box 0"):
        nms([[np.nan, 0, 1, 1]], [0.5], 0.5)
    with pytest.raises(ValueError, match=r"nms: `iou_threshold` must be in \[0, 1\]; got 1.5"):
        nms([[0, 0, 1, 1]], [0.5], 1.5)
    with pytest.raises(ShapeError, match=r"box_iou: `b` must have shape \(N, 4\).*\(3,\)"):
        box_iou([[0, 0, 1, 1]], [0, 1, 2])
    with pytest.raises(ShapeError, match=r"nms: `scores` must have shape \(1,\)"):
        nms([[0, 0, 1, 1]], [0.5, 0.2], 0.5)


def test_grid_encoding_round_trips(rng: np.random.Generator) -> None:
    boxes = random_boxes(rng, 20, size=40.0)
    anchors = rng.uniform(5, 20, (20, 2))
    rows, columns = grid_cells(boxes, 8, 64)
    stride = 8.0
    t = encode_grid_boxes(boxes, rows, columns, anchors, stride)
    assert np.all((t[:, :2] >= 0) & (t[:, :2] < 1))  # the centre lies in its cell
    # Place each encoded box in its own image's grid and decode it back.
    raw = np.zeros((20, 8, 8, 1, 4))
    index = np.arange(20)
    raw[index, rows, columns, 0, :2] = np.log(t[:, :2] / (1 - t[:, :2]))  # logit
    raw[index, rows, columns, 0, 2:] = t[:, 2:]
    decoded = np.stack([decode_grid_boxes(raw[i:i + 1], anchors[i:i + 1], stride)
                        [0, rows[i], columns[i], 0] for i in range(20)])
    np.testing.assert_allclose(decoded, boxes, atol=1e-9)
