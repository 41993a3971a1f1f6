"""Object detection: localisation, sliding windows, a YOLO-style grid detector (OD1-OD3).

The seed's notes stop at the convolutional implementation of sliding windows (OD3);
this package adds what a user of a detector expects next: intersection over union,
non-max suppression, anchor boxes, a grid detector and COCO-style mAP.

* Boxes (host side, NumPy, **xyxy** pixels): :func:`box_iou`, :func:`nms`,
  :func:`batched_nms`, grid/anchor encodings.
* OD1: :class:`Localization` (the seed's y = [p_c, bx, by, bh, bw, c1..cn] and its
  two-case loss, plus landmarks), :class:`Localizer`, :func:`localization_targets`.
* OD2/OD3: :func:`sliding_windows`, :func:`to_fully_convolutional`.
* Grid detector: :func:`kmeans_anchors`, :func:`assign_targets`, :class:`Detection`,
  :class:`GridDetector`.
* Evaluation: :func:`mean_average_precision` (equal to pycocotools' COCOeval).

Example:
    >>> import numpy as np
    >>> from steepest.detection import box_iou, nms
    >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    >>> box_iou(boxes[:1], boxes).round(3)
    array([[1.   , 0.681, 0.   ]])
    >>> nms(boxes, np.array([0.9, 0.8, 0.7]), iou_threshold=0.5)
    array([0, 2])
"""

from __future__ import annotations

from .boxes import (
    batched_nms,
    box_area,
    box_iou,
    decode_grid_boxes,
    encode_grid_boxes,
    grid_cells,
    nms,
)
from .evaluation import COCO_IOU_THRESHOLDS, average_precision, mean_average_precision
from .localization import Localization, Localizer, localization_targets, seed_box_iou
from .sliding import sliding_windows, to_fully_convolutional, window_stride
from .yolo import Detection, GridDetector, assign_targets, kmeans_anchors, shape_iou

__all__ = [
    "COCO_IOU_THRESHOLDS", "Detection", "GridDetector", "Localization", "Localizer",
    "assign_targets", "average_precision", "batched_nms", "box_area", "box_iou",
    "decode_grid_boxes", "encode_grid_boxes", "grid_cells", "kmeans_anchors",
    "localization_targets", "mean_average_precision", "nms", "seed_box_iou", "shape_iou",
    "sliding_windows", "to_fully_convolutional", "window_stride",
]
