"""Mean average precision, computed the way COCO computes it (pycocotools' COCOeval).

For each class and IoU threshold: every image's detections of the class, best
score first (at most ``max_detections`` per image), are matched greedily to the
unmatched ground-truth box of highest IoU >= the threshold; a match is a true
positive, anything else a false positive. Pooled over images and sorted by score,
they give a precision/recall curve; precision is made non-increasing (the
envelope), read at the 101 recall levels 0, 0.01, ..., 1 (0 beyond the largest
recall reached) and averaged: that is the class's AP. mAP averages AP over the
classes present in the ground truth (and over the IoU thresholds, when several).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np

from .._validation import ShapeError, fmt_shape, positive_int, real
from .boxes import _iou, check_boxes

__all__ = ["COCO_IOU_THRESHOLDS", "average_precision", "mean_average_precision"]

# COCO's 0.5:0.05:0.95, written as pycocotools writes it (bit for bit the same floats).
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1)
_RECALL_LEVELS = np.linspace(0.0, 1.0, 101)


def _image(owner: str, kind: str, index: int, item: Any, scored: bool
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(item, Mapping):
        raise TypeError(f"{owner}: `{kind}[{index}]` must be a dict with 'boxes', "
                        f"{'scores, ' if scored else ''}'labels'; got {type(item).__name__}")
    keys = ("boxes", "scores", "labels") if scored else ("boxes", "labels")
    missing = [key for key in keys if key not in item]
    if missing:
        raise ValueError(f"{owner}: `{kind}[{index}]` lacks {missing}; each image is a dict "
                         f"with keys {list(keys)}")
    boxes = check_boxes(owner, f"{kind}[{index}]['boxes']", item["boxes"])
    labels = np.asarray(item["labels"]).reshape(-1)
    if labels.shape != (len(boxes),):
        raise ShapeError(f"{owner}: `{kind}[{index}]` has {len(boxes)} boxes but "
                         f"{labels.size} labels")
    if labels.size and (labels.dtype.kind not in "iu" and
                        not np.all(labels == np.round(labels))):
        raise TypeError(f"{owner}: `{kind}[{index}]['labels']` must be integer classes")
    scores = np.zeros(len(boxes))
    if scored:
        scores = np.asarray(item["scores"], dtype=np.float64).reshape(-1)
        if scores.shape != (len(boxes),):
            raise ShapeError(f"{owner}: `{kind}[{index}]` has {len(boxes)} boxes but scores "
                             f"of shape {fmt_shape(np.shape(item['scores']))}")
        if not np.isfinite(scores).all():
            raise ValueError(f"{owner}: `{kind}[{index}]['scores']` contains NaN or Inf")
    return boxes, scores, labels.astype(np.int64)


def average_precision(detections: Sequence[Mapping[str, Any]],
                      ground_truth: Sequence[Mapping[str, Any]], label: int,
                      iou_threshold: float = 0.5, max_detections: int = 100) -> float:
    """AP of one class at one IoU threshold (COCO's 101-point interpolation).

    Returns NaN when the class has no ground-truth box (COCO's -1: not counted).

    Example:
        >>> gt = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
        >>> det = [{"boxes": [[0, 0, 10, 10], [50, 50, 60, 60]], "scores": [0.9, 0.8],
        ...         "labels": [0, 0]}]
        >>> average_precision(det, gt, label=0)
        1.0
    """
    return _evaluate("average_precision", detections, ground_truth, [float(iou_threshold)],
                     max_detections, only=int(label))[0][int(label)]


def _evaluate(owner: str, detections: Sequence[Mapping[str, Any]],
              ground_truth: Sequence[Mapping[str, Any]], thresholds: Sequence[float],
              max_detections: int, only: int | None = None
              ) -> tuple[dict[int, float], ...]:
    if isinstance(detections, Mapping) or isinstance(ground_truth, Mapping):
        raise TypeError(f"{owner}: `detections` and `ground_truth` are lists with one dict "
                        "per image; wrap a single image's dict in a list")
    if len(detections) != len(ground_truth):
        raise ValueError(f"{owner}: `detections` has {len(detections)} images but "
                         f"`ground_truth` has {len(ground_truth)}; give one dict per image to "
                         "both (an image without detections is {'boxes': np.zeros((0, 4)), "
                         "'scores': [], 'labels': []})")
    limit = positive_int(owner, "max_detections", max_detections)
    truth = [_image(owner, "ground_truth", i, g, False) for i, g in enumerate(ground_truth)]
    found = [_image(owner, "detections", i, d, True) for i, d in enumerate(detections)]
    classes = sorted({int(c) for _, _, labels in truth for c in labels})
    if only is not None:
        classes = [only]
    results: tuple[dict[int, float], ...] = tuple({} for _ in thresholds)
    for label in classes:
        scores_seen: list[np.ndarray] = []
        matches_seen: list[np.ndarray] = []  # (T, D) true-positive flags per image
        positives = 0
        for (gt_boxes, _, gt_labels), (dt_boxes, dt_scores, dt_labels) in zip(truth, found):
            gt = gt_boxes[gt_labels == label]
            mine = dt_labels == label
            order = np.argsort(-dt_scores[mine], kind="mergesort")[:limit]
            dt, score = dt_boxes[mine][order], dt_scores[mine][order]
            positives += len(gt)
            matched = np.zeros((len(thresholds), len(dt)), dtype=bool)
            if len(dt) and len(gt):
                iou = _iou(dt, gt)                                    # (D, G)
                for t, threshold in enumerate(thresholds):
                    taken = np.zeros(len(gt), dtype=bool)
                    for d in range(len(dt)):
                        candidates = np.where(taken, -1.0, iou[d])
                        g = int(np.argmax(candidates))
                        if candidates[g] >= min(threshold, 1 - 1e-10):
                            taken[g] = True
                            matched[t, d] = True
            scores_seen.append(score)
            matches_seen.append(matched)
        if positives == 0:
            for result in results:
                result[label] = float("nan")
            continue
        scores = np.concatenate(scores_seen)
        order = np.argsort(-scores, kind="mergesort")
        hits = np.concatenate(matches_seen, axis=1)[:, order]
        for t in range(len(thresholds)):
            results[t][label] = _interpolated_ap(hits[t], positives)
    return results


def _interpolated_ap(hits: np.ndarray, positives: int) -> float:
    """COCO's 101-point AP from true-positive flags in score order."""
    true_positives = np.cumsum(hits, dtype=np.float64)
    false_positives = np.cumsum(~hits, dtype=np.float64)
    recall = true_positives / positives
    precision = true_positives / (true_positives + false_positives + np.spacing(1))
    # The envelope: precision at recall r is the best precision at any recall >= r.
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    where = np.searchsorted(recall, _RECALL_LEVELS, side="left")
    sampled = np.where(where < len(precision), precision[np.minimum(where, len(hits) - 1)]
                       if len(hits) else 0.0, 0.0)
    return float(np.mean(sampled))


Thresholds = float | Sequence[float] | np.ndarray


@overload
def mean_average_precision(detections: Sequence[Mapping[str, Any]],
                           ground_truth: Sequence[Mapping[str, Any]],
                           iou_threshold: Thresholds = ..., per_class: Literal[False] = ...,
                           max_detections: int = ...) -> float: ...


@overload
def mean_average_precision(detections: Sequence[Mapping[str, Any]],
                           ground_truth: Sequence[Mapping[str, Any]],
                           iou_threshold: Thresholds = ..., *, per_class: Literal[True],
                           max_detections: int = ...) -> tuple[float, dict[int, float]]: ...


def mean_average_precision(detections: Sequence[Mapping[str, Any]],
                           ground_truth: Sequence[Mapping[str, Any]],
                           iou_threshold: Thresholds = 0.5,
                           per_class: bool = False, max_detections: int = 100
                           ) -> float | tuple[float, dict[int, float]]:
    """Mean average precision over classes (and IoU thresholds), as COCOeval computes it.

    Args:
        detections: one dict per image: ``boxes`` (N, 4) xyxy pixels, ``scores``
            (N,), ``labels`` (N,) integer classes.
        ground_truth: one dict per image: ``boxes`` (M, 4) xyxy pixels, ``labels`` (M,).
        iou_threshold: the IoU a detection needs to count as correct (0.5 is
            PASCAL VOC's mAP@0.5), or a sequence of them, averaged
            (:data:`COCO_IOU_THRESHOLDS` gives COCO's mAP@[.5:.95]).
        per_class: also return each class's AP (averaged over the thresholds).
        max_detections: detections kept per image and class, best first (COCO: 100).

    Returns:
        mAP in [0, 1], or ``(mAP, {class: AP})`` with ``per_class=True``. Classes
        absent from the ground truth are not counted (their detections are false
        positives of nothing); with no ground-truth box at all, mAP is NaN.

    Raises:
        ValueError / ShapeError / TypeError: mismatched lengths, bad boxes, missing keys.

    Example:
        >>> gt = [{"boxes": [[0, 0, 10, 10]], "labels": [0]},
        ...       {"boxes": [[5, 5, 15, 15]], "labels": [1]}]
        >>> det = [{"boxes": [[0, 0, 10, 10]], "scores": [0.9], "labels": [0]},
        ...        {"boxes": [[0, 0, 8, 8]], "scores": [0.6], "labels": [1]}]
        >>> mean_average_precision(det, gt)                   # class 1 is missed
        0.5
        >>> mean_average_precision(det, gt, per_class=True)[1]
        {0: 1.0, 1: 0.0}
    """
    owner = "mean_average_precision"
    if isinstance(iou_threshold, (int, float, np.number)):
        thresholds = [real(owner, "iou_threshold", iou_threshold, low=0.0, high=1.0)]
    else:
        thresholds = [real(owner, "iou_threshold", t, low=0.0, high=1.0)
                      for t in np.asarray(iou_threshold, dtype=np.float64).reshape(-1)]
        if not thresholds:
            raise ValueError(f"{owner}: `iou_threshold` is an empty sequence")
    results = _evaluate(owner, detections, ground_truth, thresholds, max_detections)
    classes = sorted(results[0])
    per = {c: float(np.mean([r[c] for r in results])) for c in classes}
    value = float(np.mean(list(per.values()))) if per else float("nan")
    return (value, per) if per_class else value
