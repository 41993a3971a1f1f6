"""Boxes: intersection over union, non-max suppression, grid and anchor encodings.

Every box here is in **xyxy** format, (x1, y1, x2, y2) in pixels with x2 >= x1 and
y2 >= y1, as in torchvision's ``torchvision.ops``; convert other formats with
:func:`steepest.data.datasets.convert_boxes`. These are host-side functions on
NumPy arrays (detection's post-processing runs once per image, not per step).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import ShapeError, fmt_shape, positive_int, real
from ..data.datasets import convert_boxes

__all__ = ["batched_nms", "box_area", "box_iou", "check_boxes", "decode_grid_boxes",
           "encode_grid_boxes", "grid_cells", "nms"]


def check_boxes(owner: str, name: str, boxes: Any) -> np.ndarray:
    """``boxes`` as a float64 (N, 4) xyxy array, or one clear error.

    Raises:
        ShapeError: not of shape (N, 4).
        ValueError: NaN or Inf values, or a box with x2 < x1 or y2 < y1.

    Example:
        >>> check_boxes("box_iou", "a", [[4.0, 0.0, 2.0, 1.0]])
        Traceback (most recent call last):
        ...
        ValueError: box_iou: `a` must hold xyxy boxes with x2 >= x1 and y2 >= y1; box 0 is ...
    """
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ShapeError(f"{owner}: `{name}` must have shape (N, 4) (xyxy boxes); got "
                         f"{fmt_shape(array.shape)}")
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{owner}: `{name}` contains NaN or Inf (first in box {first}: "
                         f"{array[first].tolist()})")
    bad = (array[:, 2] < array[:, 0]) | (array[:, 3] < array[:, 1])
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{owner}: `{name}` must hold xyxy boxes with x2 >= x1 and y2 >= y1; "
                         f"box {first} is {array[first].tolist()} (convert xywh or cxcywh "
                         "boxes with steepest.data.datasets.convert_boxes)")
    return array


def box_area(boxes: Any) -> np.ndarray:
    """Areas (N,) of xyxy boxes (N, 4).

    Example:
        >>> box_area([[0, 0, 2, 3]])
        array([6.])
    """
    b = check_boxes("box_area", "boxes", boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of checked xyxy arrays (N, 4) x (M, 4) -> (N, M)."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])        # (N, M, 2)
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])    # (N, M, 2)
    sides = np.clip(bottom_right - top_left, 0, None)
    intersection = sides[..., 0] * sides[..., 1]                 # (N, M)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - intersection
    # Two empty boxes have no overlap to speak of: IoU 0, not 0/0.
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def box_iou(a: Any, b: Any) -> np.ndarray:
    """Intersection over union of every pair of boxes (the seed's IoU, beyond OD3).

    IoU = area(a ∩ b) / area(a ∪ b), in [0, 1]; 1 only for identical boxes.
    Zero-area boxes are allowed and have IoU 0 with everything.

    Args:
        a: (N, 4) boxes, xyxy.
        b: (M, 4) boxes, xyxy.

    Returns:
        float64 (N, M): IoU of a[i] and b[j].

    Raises:
        ShapeError: a or b not (K, 4).
        ValueError: NaN/Inf coordinates, or x2 < x1 / y2 < y1.

    Example:
        >>> box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]])
        array([[0.14285714, 1.        ]])
    """
    return _iou(check_boxes("box_iou", "a", a), check_boxes("box_iou", "b", b))


def _check_scores(owner: str, scores: Any, count: int) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (count,):
        raise ShapeError(f"{owner}: `scores` must have shape ({count},), one per box; got "
                         f"{fmt_shape(s.shape)}")
    if not np.isfinite(s).all():
        raise ValueError(f"{owner}: `scores` contains NaN or Inf")
    return s


def nms(boxes: Any, scores: Any, iou_threshold: float) -> np.ndarray:
    """Non-max suppression: keep the best box, drop the boxes overlapping it, repeat.

    torchvision's semantics: a box is suppressed when its IoU with a kept, higher
    scoring box is **greater than** ``iou_threshold``; ties in score keep the
    earlier box.

    Args:
        boxes: (N, 4) xyxy.
        scores: (N,) confidence of each box.
        iou_threshold: in [0, 1]; 0.5 is usual.

    Returns:
        int64 (K,): indices of the kept boxes, highest score first.

    Example:
        >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
        >>> nms(boxes, [0.9, 0.8, 0.7], iou_threshold=0.5)
        array([0, 2])
    """
    owner = "nms"
    b = check_boxes(owner, "boxes", boxes)
    s = _check_scores(owner, scores, len(b))
    threshold = real(owner, "iou_threshold", iou_threshold, low=0.0, high=1.0)
    return _nms(b, s, threshold)


def _nms(b: np.ndarray, s: np.ndarray, threshold: float) -> np.ndarray:
    order = np.argsort(-s, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if order.size == 1:
            break
        overlap = _iou(b[best:best + 1], b[order[1:]])[0]
        order = order[1:][overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes: Any, scores: Any, classes: Any, iou_threshold: float) -> np.ndarray:
    """Non-max suppression within each class: boxes of different classes never suppress.

    Args:
        boxes: (N, 4) xyxy.
        scores: (N,).
        classes: (N,) integer class of each box.
        iou_threshold: in [0, 1].

    Returns:
        int64 (K,): kept indices, highest score first (as torchvision's ``batched_nms``).

    Example:
        >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11]]
        >>> batched_nms(boxes, [0.9, 0.8], [0, 1], 0.5)   # different classes: both kept
        array([0, 1])
    """
    owner = "batched_nms"
    b = check_boxes(owner, "boxes", boxes)
    s = _check_scores(owner, scores, len(b))
    c = np.asarray(classes)
    if c.shape != (len(b),):
        raise ShapeError(f"{owner}: `classes` must have shape ({len(b)},); got "
                         f"{fmt_shape(c.shape)}")
    threshold = real(owner, "iou_threshold", iou_threshold, low=0.0, high=1.0)
    keep = [np.flatnonzero(c == k)[_nms(b[c == k], s[c == k], threshold)] for k in np.unique(c)]
    kept = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    return kept[np.argsort(-s[kept], kind="stable")].astype(np.int64)


# ---------------------------------------------------------------- grid encodings
def grid_cells(boxes: Any, grid_size: int, image_size: float) -> tuple[np.ndarray, np.ndarray]:
    """The grid cell (row, column) holding each box's centre (YOLO's assignment rule).

    Args:
        boxes: (N, 4) xyxy pixels.
        grid_size: S, the grid is S x S cells.
        image_size: the image side in pixels.

    Returns:
        rows and columns, int64 (N,) each, in [0, S).

    Example:
        >>> grid_cells([[0, 0, 10, 10], [20, 0, 32, 12]], 4, 32)
        (array([0, 0]), array([0, 3]))
    """
    b = check_boxes("grid_cells", "boxes", boxes)
    size = positive_int("grid_cells", "grid_size", grid_size)
    stride = real("grid_cells", "image_size", image_size, low=0.0, low_inclusive=False) / size
    centre = convert_boxes(b, "xyxy", "cxcywh")[:, :2] / stride
    cells = np.clip(np.floor(centre), 0, size - 1).astype(np.int64)
    return cells[:, 1], cells[:, 0]


def encode_grid_boxes(boxes: Any, rows: Any, columns: Any, anchors: Any,
                      stride: float) -> np.ndarray:
    """Boxes as offsets from their grid cell and anchor: the regression targets (YOLOv2).

    tx, ty = the centre's position inside its cell, in [0, 1] (the model predicts
    them through a sigmoid); tw, th = log(w / anchor_w), log(h / anchor_h).

    Args:
        boxes: (N, 4) xyxy pixels.
        rows, columns: (N,) the cell of each box (see :func:`grid_cells`).
        anchors: (N, 2) the (width, height) in pixels of each box's anchor.
        stride: the side of a cell in pixels.

    Returns:
        float64 (N, 4): (tx, ty, tw, th).

    Example:
        >>> encode_grid_boxes([[8, 8, 16, 24]], [1], [1], [[8, 8]], stride=8.0)
        array([[0.5       , 0.        , 0.        , 0.69314718]])
    """
    b = convert_boxes(check_boxes("encode_grid_boxes", "boxes", boxes), "xyxy", "cxcywh")
    a = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    tx = b[:, 0] / stride - np.asarray(columns)
    ty = b[:, 1] / stride - np.asarray(rows)
    # A zero-width box would give log(0): a tenth of a pixel is as small as it gets.
    tw = np.log(np.maximum(b[:, 2], 0.1) / a[:, 0])
    th = np.log(np.maximum(b[:, 3], 0.1) / a[:, 1])
    return np.stack([tx, ty, tw, th], axis=1)


def decode_grid_boxes(raw: Any, anchors: Any, stride: float) -> np.ndarray:
    """A grid of raw box outputs as xyxy pixel boxes (the inverse of the encoding).

    cx = (column + sigmoid(t_x)) * stride, w = anchor_w * exp(t_w), and likewise
    for y and h.

    Args:
        raw: (N, S, S, B, 4) raw outputs (t_x, t_y, t_w, t_h): row, column, anchor.
        anchors: (B, 2) anchor (width, height) in pixels.
        stride: the side of a cell in pixels.

    Returns:
        float64 (N, S, S, B, 4) boxes, xyxy pixels.

    Example:
        >>> raw = np.zeros((1, 2, 2, 1, 4))
        >>> decode_grid_boxes(raw, [[4.0, 4.0]], stride=8.0)[0, 1, 0, 0]   # row 1, column 0
        array([ 2., 10.,  6., 14.])
    """
    t = np.asarray(raw, dtype=np.float64)
    if t.ndim != 5 or t.shape[-1] != 4:
        raise ShapeError(f"decode_grid_boxes: `raw` must have shape (N, S, S, B, 4); got "
                         f"{fmt_shape(t.shape)}")
    a = np.asarray(anchors, dtype=np.float64).reshape(1, 1, 1, -1, 2)
    rows, columns = t.shape[1], t.shape[2]
    grid_y, grid_x = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
    sigmoid = 0.5 * (1.0 + np.tanh(0.5 * t[..., :2]))  # sigmoid without overflow
    cx = (grid_x[None, :, :, None] + sigmoid[..., 0]) * stride
    cy = (grid_y[None, :, :, None] + sigmoid[..., 1]) * stride
    # exp of a wild output would overflow: no box is wider than e^10 anchors.
    wh = a * np.exp(np.clip(t[..., 2:], -10.0, 10.0))
    return np.stack([cx - wh[..., 0] / 2, cy - wh[..., 1] / 2,
                     cx + wh[..., 0] / 2, cy + wh[..., 1] / 2], axis=-1)
