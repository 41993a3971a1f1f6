"""A YOLO-style grid detector: anchors, target assignment, the loss, decoding.

The image is cut into an S x S grid; each cell has B anchor boxes (typical
shapes, found by k-means on the training boxes). For each cell and anchor the
network predicts 5 + C numbers: the box offsets (t_x, t_y, t_w, t_h), an
objectness logit and C class logits, so its output is (m, B * (5 + C), S, S).

Each ground-truth object is assigned to the cell holding its centre and, in that
cell, to the anchor whose shape has the best IoU with it (YOLOv2); the other
cells and anchors learn "no object". Decoding turns every cell's prediction into
an xyxy box with score = sigmoid(objectness) x the best class probability; a
confidence threshold and per-class non-max suppression leave the detections.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

import steepest.functional as F

from .._validation import ShapeError, fmt_shape, positive_int, real
from ..autograd import Tensor
from ..models.base import Model
from ..nn import BatchNorm2d, Conv2d, LeakyReLU, MaxPool2d, Sequential
from ..tasks import Task
from ..tasks.base import Metric, _as_array, metric_name
from .boxes import _nms, check_boxes, decode_grid_boxes, encode_grid_boxes, grid_cells
from .evaluation import COCO_IOU_THRESHOLDS, mean_average_precision

__all__ = ["Detection", "GridDetector", "assign_targets", "kmeans_anchors", "shape_iou"]


def shape_iou(sizes: Any, anchors: Any) -> np.ndarray:
    """IoU of (width, height) pairs placed at the same centre: (N, 2) x (K, 2) -> (N, K).

    Example:
        >>> shape_iou([[2.0, 2.0]], [[2.0, 2.0], [4.0, 1.0]])
        array([[1.        , 0.33333333]])
    """
    a = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    inter = np.minimum(a[:, None, 0], b[None, :, 0]) * np.minimum(a[:, None, 1], b[None, :, 1])
    union = (a[:, 0] * a[:, 1])[:, None] + (b[:, 0] * b[:, 1])[None, :] - inter
    return inter / np.maximum(union, 1e-12)


def kmeans_anchors(sizes: Any, k: int, iterations: int = 100,
                   rng: np.random.Generator | int | None = None) -> np.ndarray:
    """k anchor shapes from the training boxes: k-means with the distance 1 - IoU (YOLOv2).

    Euclidean k-means on (w, h) would let big boxes dominate; 1 - IoU of boxes
    sharing a centre treats small and large boxes alike.

    Args:
        sizes: (N, 2) box widths and heights (xywh's last two columns), N >= k.
        k: number of anchors, B.
        iterations: at most this many assignment/update rounds.
        rng: seed of the initial centroids (k distinct boxes).

    Returns:
        float64 (k, 2) anchors (width, height), smallest area first.

    Example:
        >>> sizes = [[10, 10], [11, 9], [30, 31], [29, 30]]
        >>> kmeans_anchors(sizes, 2, rng=0).round(1)
        array([[10.5,  9.5],
               [29.5, 30.5]])
    """
    owner = "kmeans_anchors"
    s = np.asarray(sizes, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != 2:
        raise ShapeError(f"{owner}: `sizes` must have shape (N, 2) (width, height); got "
                         f"{fmt_shape(s.shape)}")
    s = s[np.isfinite(s).all(axis=1)]
    k = positive_int(owner, "k", k)
    if len(s) < k:
        raise ValueError(f"{owner}: {len(s)} boxes cannot give {k} anchors; use k <= "
                         f"{len(s)}")
    if np.any(s <= 0):
        raise ValueError(f"{owner}: widths and heights must be positive")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    centroids = s[generator.choice(len(s), k, replace=False)]
    assignment = np.full(len(s), -1)
    for _ in range(positive_int(owner, "iterations", iterations)):
        nearest = np.argmax(shape_iou(s, centroids), axis=1)  # least 1 - IoU
        if np.array_equal(nearest, assignment):
            break
        assignment = nearest
        for j in range(k):
            if np.any(assignment == j):  # an emptied cluster keeps its centroid
                centroids[j] = s[assignment == j].mean(axis=0)
    return centroids[np.argsort(centroids.prod(axis=1), kind="stable")]


def assign_targets(boxes: Any, labels: Any, anchors: Any, grid_size: int,
                   image_size: float) -> np.ndarray:
    """One image's objects as the grid's training targets.

    Each object goes to the cell holding its centre and, there, to the free anchor
    of best shape IoU: a second object whose best anchor in the same cell is taken
    gets its next best, so two objects in one cell both count (objects beyond B
    in one cell are dropped).

    Args:
        boxes: (K, 4) xyxy pixels (rows with a negative label are padding).
        labels: (K,) classes, -1 for padding.
        anchors: (B, 2) anchor widths and heights in pixels.
        grid_size: S.
        image_size: the image side in pixels.

    Returns:
        float32 (S, S, B, 6): per row, column and anchor [objectness, t_x, t_y, t_w,
        t_h, class] (see :func:`~steepest.detection.encode_grid_boxes`); zeros and
        class -1 where no object is assigned.

    Example:
        >>> grid = assign_targets([[0, 0, 8, 8], [18, 0, 30, 28]], [2, 0],
        ...                       [[8, 8], [12, 28]], grid_size=2, image_size=32)
        >>> np.argwhere(grid[..., 0] == 1).tolist()      # (row, column, anchor)
        [[0, 0, 0], [0, 1, 1]]
        >>> grid[0, 1, 1].round(3).tolist()
        [1.0, 0.5, 0.875, 0.0, 0.0, 0.0]
    """
    owner = "assign_targets"
    keep = np.asarray(labels).reshape(-1) >= 0
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[keep]
    classes = np.asarray(labels).reshape(-1)[keep]
    b = check_boxes(owner, "boxes", b)
    a = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    size = positive_int(owner, "grid_size", grid_size)
    grid = np.zeros((size, size, len(a), 6), dtype=np.float32)
    grid[..., 5] = -1
    if not len(b):
        return grid
    rows, columns = grid_cells(b, size, image_size)
    stride = float(image_size) / size
    preference = np.argsort(-shape_iou(b[:, 2:] - b[:, :2], a), axis=1, kind="stable")
    for i in range(len(b)):
        free = [j for j in preference[i] if grid[rows[i], columns[i], j, 0] == 0]
        if not free:
            continue
        j = free[0]
        t = encode_grid_boxes(b[i:i + 1], rows[i:i + 1], columns[i:i + 1], a[j:j + 1], stride)
        grid[rows[i], columns[i], j] = [1.0, *t[0], classes[i]]
    return grid


class Detection(Task):
    """Several objects per image on an S x S grid with B anchors per cell (YOLO).

    Args:
        num_classes: C.
        anchors: (B, 2) anchor widths and heights in pixels (see :func:`kmeans_anchors`).
        grid_size: S.
        image_size: the (square) input side in pixels.
        box_weight: weight of the box terms (YOLOv1's lambda_coord).
        noobj_weight: weight of the objectness loss of cells without an object
            (YOLOv1's lambda_noobj).
        score_threshold: detections below this score are dropped by :meth:`predict`
            (a low value, 0.01, suits mAP; show users 0.3 or more).
        iou_threshold: NMS threshold of :meth:`predict`.
        max_detections: detections kept per image.

    Outputs are raw, (m, B * (5 + C), S, S): for anchor b the channels
    b * (5 + C) + [t_x, t_y, t_w, t_h, objectness, C class logits]. Targets are
    ``{"boxes": (m, K, 4) xyxy pixels, "labels": (m, K)}`` (or make_shapes'
    ``(labels, boxes)``), padded with label -1 (boxes NaN) where an image has fewer
    than K objects. The loss per image, summed over cells and anchors and averaged
    over images: BCE of the objectness (weighted by ``noobj_weight`` where no object
    is assigned), and where one is: ``box_weight`` x (squared error of
    sigmoid(t_x, t_y) and of (t_w, t_h)) + the softmax loss of the class.

    Metrics: ``map50`` (mAP@0.5) and ``map`` (mAP@[.5:.95]), COCO-style.

    Example:
        >>> task = Detection(num_classes=2, anchors=[[8, 8]], grid_size=2, image_size=16)
        >>> y = task.encode_targets({"boxes": [[[0, 0, 8, 8]]], "labels": [[1]]})
        >>> z = np.zeros((1, 7, 2, 2)); z[0, 4] = -9; z[0, 4, 0, 0] = 9; z[0, 6, 0, 0] = 9
        >>> found = task.predict(z)[0]
        >>> found["boxes"].tolist(), found["labels"].tolist()
        ([[0.0, 0.0, 8.0, 8.0]], [1])
        >>> task.compute_metrics(["map50"], y, z)
        {'map50': 1.0}
    """

    metric_names: ClassVar[tuple[str, ...]] = ("map50", "map")
    default_metrics: ClassVar[tuple[str, ...]] = ("map50",)

    def __init__(self, num_classes: int, anchors: Any, grid_size: int, image_size: int,
                 box_weight: float = 5.0, noobj_weight: float = 0.5,
                 score_threshold: float = 0.01, iou_threshold: float = 0.5,
                 max_detections: int = 100) -> None:
        owner = "Detection"
        self.num_classes = positive_int(owner, "num_classes", num_classes)
        a = np.asarray(anchors, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 2 or not len(a) or not np.all(np.isfinite(a)) or \
                np.any(a <= 0):
            raise ValueError(f"{owner}: `anchors` must be positive (width, height) pairs, shape "
                             f"(B, 2); got {np.asarray(anchors).tolist()!r}")
        self.anchors = a.tolist()
        self.grid_size = positive_int(owner, "grid_size", grid_size)
        self.image_size = positive_int(owner, "image_size", image_size)
        self.box_weight = real(owner, "box_weight", box_weight, low=0.0)
        self.noobj_weight = real(owner, "noobj_weight", noobj_weight, low=0.0)
        self.score_threshold = real(owner, "score_threshold", score_threshold, low=0.0,
                                    high=1.0)
        self.iou_threshold = real(owner, "iou_threshold", iou_threshold, low=0.0, high=1.0)
        self.max_detections = positive_int(owner, "max_detections", max_detections)

    @property
    def num_anchors(self) -> int:
        """B."""
        return len(self.anchors)

    @property
    def stride(self) -> float:
        """The side of a cell in pixels."""
        return self.image_size / self.grid_size

    def get_config(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes, "anchors": self.anchors,
                "grid_size": self.grid_size, "image_size": self.image_size,
                "box_weight": self.box_weight, "noobj_weight": self.noobj_weight,
                "score_threshold": self.score_threshold, "iou_threshold": self.iou_threshold,
                "max_detections": self.max_detections}

    # ------------------------------------------------------------ targets
    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        if isinstance(y, Mapping) and "grid" in y:
            return y  # already encoded (a split of encoded targets)
        if isinstance(y, Mapping):
            if "boxes" not in y or "labels" not in y:
                raise ValueError(f"{owner}: Detection targets are a dict with 'boxes' (m, K, 4) "
                                 f"and 'labels' (m, K); got keys {list(y)}")
            boxes, labels = _as_array(y["boxes"]), _as_array(y["labels"])
        elif isinstance(y, (tuple, list)) and len(y) == 2:
            labels, boxes = (_as_array(part) for part in y)
        else:
            raise TypeError(f"{owner}: Detection targets are {{'boxes': (m, K, 4) xyxy pixels, "
                            f"'labels': (m, K)}} or make_shapes' (labels, boxes); got "
                            f"{type(y).__name__}")
        boxes = np.asarray(boxes, dtype=np.float64)
        labels = np.asarray(labels)
        if labels.ndim == 1:
            labels, boxes = labels[:, None], boxes.reshape(len(labels), 1, 4)
        if boxes.ndim != 3 or boxes.shape[2] != 4 or boxes.shape[:2] != labels.shape:
            raise ShapeError(f"{owner}: Detection targets need boxes (m, K, 4) and labels "
                             f"(m, K); got {fmt_shape(boxes.shape)} and "
                             f"{fmt_shape(labels.shape)}")
        if labels.size and labels.max() >= self.num_classes:
            raise ValueError(f"{owner}: a label is {int(labels.max())} but the task has "
                             f"{self.num_classes} classes (labels 0..{self.num_classes - 1}, "
                             "-1 for padding)")
        present = labels >= 0
        if not np.all(np.isfinite(boxes[present])):
            raise ValueError(f"{owner}: a box of a real object (label >= 0) contains NaN or "
                             "Inf; mark padding with label -1")
        check_boxes(owner, "boxes", boxes[present])
        grid = np.stack([assign_targets(b, l, self.anchors, self.grid_size, self.image_size)
                         for b, l in zip(boxes, labels)]) if len(labels) else \
            np.zeros((0, self.grid_size, self.grid_size, self.num_anchors, 6), np.float32)
        return {"grid": grid.astype(dtype), "boxes": np.where(present[..., None], boxes,
                                                               np.nan).astype(dtype),
                "labels": np.where(present, labels, -1).astype(np.int64)}

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        z = outputs.data if isinstance(outputs, Tensor) else outputs
        expected = (self.num_anchors * (5 + self.num_classes), self.grid_size, self.grid_size)
        if not hasattr(z, "shape") or z.ndim != 4 or tuple(z.shape[1:]) != expected:
            shape = fmt_shape(z.shape) if hasattr(z, "shape") else type(z).__name__
            raise ShapeError(f"{owner}: {self.name} with B={self.num_anchors} anchors, "
                             f"C={self.num_classes} classes and an S={self.grid_size} grid needs "
                             f"outputs (m, {expected[0]}, {expected[1]}, {expected[2]}); the "
                             f"model returned {shape}")

    # ------------------------------------------------------------ the loss
    def _cells(self, outputs: Any) -> Any:
        """(m, B*(5+C), S, S) -> (m, S, S, B, 5+C): one row per cell and anchor."""
        m, s = outputs.shape[0], self.grid_size
        return outputs.reshape(m, self.num_anchors, 5 + self.num_classes, s, s).transpose(
            0, 3, 4, 1, 2)

    def loss_terms(self, outputs: Any, targets: Any) -> dict[str, Tensor]:
        grid = targets["grid"]
        m = grid.shape[0]
        p = self._cells(outputs)
        obj = grid[..., 0:1]                                         # (m, S, S, B, 1)
        weight = np.where(obj > 0, 1.0, self.noobj_weight).astype(grid.dtype)
        objectness = (F.binary_cross_entropy_with_logits(p[..., 4:5], obj, reduction="none")
                      * weight).sum() / m
        xy = (F.sigmoid(p[..., 0:2]) - grid[..., 1:3]) * obj
        wh = (p[..., 2:4] - grid[..., 3:5]) * obj
        box = ((xy * xy).sum() + (wh * wh).sum()) / m
        classes = grid[..., 5].astype(np.int64)
        one_hot = (np.eye(self.num_classes, dtype=grid.dtype)[np.maximum(classes, 0)]
                   * obj)                                            # (m, S, S, B, C)
        cls = -(F.log_softmax(p[..., 5:], axis=-1) * one_hot).sum() / m
        total = objectness + box * self.box_weight + cls
        return {"loss": total, "objectness_loss": objectness, "box_loss": box,
                "class_loss": cls}

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return self.loss_terms(outputs, targets)["loss"]

    # ------------------------------------------------------------ reading outputs
    def decode(self, outputs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every cell and anchor's box, score and class, before thresholds and NMS.

        Returns:
            boxes (m, S*S*B, 4) xyxy pixels, scores (m, S*S*B) = sigmoid(objectness)
            x best class probability, labels (m, S*S*B).
        """
        z = np.asarray(outputs.data if isinstance(outputs, Tensor) else outputs,
                       dtype=np.float64)
        p = z.reshape(len(z), self.num_anchors, 5 + self.num_classes, self.grid_size,
                      self.grid_size).transpose(0, 3, 4, 1, 2)
        boxes = decode_grid_boxes(p[..., :4], self.anchors, self.stride)
        objectness = 0.5 * (1.0 + np.tanh(0.5 * p[..., 4]))
        logits = p[..., 5:]
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probabilities = e / e.sum(axis=-1, keepdims=True)
        m = len(z)
        return (boxes.reshape(m, -1, 4), (objectness * probabilities.max(axis=-1)).reshape(m, -1),
                probabilities.argmax(axis=-1).reshape(m, -1))

    def predict(self, outputs: Any, score_threshold: float | None = None
                ) -> list[dict[str, np.ndarray]]:
        """Detections per image: ``boxes`` (N, 4) xyxy pixels, ``scores`` (N,), ``labels``.

        Decoding, then the confidence threshold, then non-max suppression per class,
        best first, at most ``max_detections`` per image.
        """
        threshold = self.score_threshold if score_threshold is None else real(
            "Detection.predict", "score_threshold", score_threshold, low=0.0, high=1.0)
        boxes, scores, labels = self.decode(outputs)
        size = float(self.image_size)
        results = []
        for b, s, c in zip(boxes, scores, labels):
            keep = s >= threshold
            b, s, c = np.clip(b[keep], 0.0, size), s[keep], c[keep]
            kept = [np.flatnonzero(c == k)[_nms(b[c == k], s[c == k], self.iou_threshold)]
                    for k in np.unique(c)]
            index = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
            index = index[np.argsort(-s[index], kind="stable")][:self.max_detections]
            results.append({"boxes": b[index], "scores": s[index],
                            "labels": c[index].astype(np.int64)})
        return results

    def ground_truth(self, targets: Any) -> list[dict[str, np.ndarray]]:
        """Encoded targets as one dict per image (``boxes``, ``labels``), padding removed."""
        return [{"boxes": b[l >= 0].astype(np.float64), "labels": l[l >= 0]}
                for b, l in zip(np.asarray(targets["boxes"]), np.asarray(targets["labels"]))]

    def compute_metrics(self, metrics: Sequence[Metric], targets: Any, outputs: Any
                        ) -> dict[str, float]:
        found = self.predict(outputs)
        truth = self.ground_truth(targets)
        results = {}
        for metric in metrics:
            if callable(metric):
                value = float(metric(truth, found))  # type: ignore[arg-type]
            elif metric == "map50":
                value = float(mean_average_precision(found, truth, 0.5))
            else:
                value = float(mean_average_precision(found, truth, COCO_IOU_THRESHOLDS))
            results[metric_name(metric)] = value
        return results

    def metric_label(self, metric: str) -> str:
        return {"map50": "mAP@0.5", "map": "mAP@[.5:.95]"}.get(metric, metric)


class GridDetector(Model):
    """A small YOLO-style detector: a CNN whose output is the S x S x B x (5 + C) grid.

    Blocks of (3x3 conv "same", batch norm, leaky ReLU 0.1, 2x2 max pool) halve the
    image until it is S x S; a 3x3 conv block and a 1x1 conv give each cell's
    B * (5 + C) raw outputs. The objectness biases start at log(0.01 / 0.99), so the
    first steps are not spent learning that most cells are empty (RetinaNet's prior).

    Args:
        num_classes: C.
        anchors: (B, 2) anchor widths and heights in pixels (see :func:`kmeans_anchors`),
            as a list (``anchors.tolist()``) so that ``steepest.save`` can record it.
        image_size: the (square) input side; image_size / grid_size a power of two.
        grid_size: S.
        in_channels: 3 for colour.
        width: channels of the first block (doubled per block, at most 8x).
        rng: seed of the initial weights.

    Shape:
        input (m, in_channels, image_size, image_size) -> (m, B * (5 + C), S, S).

    Example:
        >>> net = GridDetector(3, anchors=[[8, 8], [16, 16]], image_size=32, grid_size=4, rng=0)
        >>> net(np.zeros((1, 3, 32, 32), dtype=np.float32)).shape
        (1, 16, 4, 4)
        >>> net.default_task().grid_size
        4
    """

    def __init__(self, num_classes: int, anchors: Any, image_size: int = 64,
                 grid_size: int = 8, in_channels: int = 3, width: int = 16,
                 rng: Any = None) -> None:
        super().__init__()
        owner = "GridDetector"
        self.num_classes = positive_int(owner, "num_classes", num_classes)
        self.anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2).tolist()
        self.image_size = positive_int(owner, "image_size", image_size)
        self.grid_size = positive_int(owner, "grid_size", grid_size)
        ratio = self.image_size / self.grid_size
        pools = round(math.log2(ratio)) if ratio >= 1 else -1
        if pools < 0 or 2 ** pools != ratio:
            raise ValueError(f"{owner}: image_size / grid_size must be a power of two; got "
                             f"{self.image_size} / {self.grid_size}")
        width = positive_int(owner, "width", width)
        generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        channels = positive_int(owner, "in_channels", in_channels)
        layers: list[Any] = []
        for block in range(pools):
            out = width * 2 ** min(block, 3)
            layers += [Conv2d(channels, out, 3, padding="same", bias=False, rng=generator),
                       BatchNorm2d(out), LeakyReLU(0.1), MaxPool2d(2)]
            channels = out
        out = 2 * channels
        layers += [Conv2d(channels, out, 3, padding="same", bias=False, rng=generator),
                   BatchNorm2d(out), LeakyReLU(0.1)]
        self.features = Sequential(*layers)
        per_anchor = 5 + self.num_classes
        self.head = Conv2d(out, len(self.anchors) * per_anchor, 1, init="xavier", rng=generator)
        bias = self.head.bias.data.reshape(len(self.anchors), per_anchor)
        bias[:, 4] = math.log(0.01 / 0.99)
        self.head.bias.data = bias.reshape(-1).copy()

    def forward(self, x: Any) -> Tensor:
        return self.head(self.features(x))

    def default_task(self) -> Detection:
        return Detection(self.num_classes, self.anchors, self.grid_size, self.image_size)
