"""Object localisation (OD1): a class, a presence score and one bounding box per image.

The seed's target vector for an image with n classes (and, beyond the seed, k
landmarks) is

    y = [p_c, bx, by, bh, bw, c1 ... cn, l1x, l1y ... lkx, lky]

* ``p_c``: 1 if there is an object, 0 if the image is background only;
* ``bx, by``: the box's centre, ``bh, bw``: its height and width, all as fractions
  of the image side (the upper left corner is (0, 0), the lower right (1, 1));
* ``c1 ... cn``: the one-hot class;
* ``lix, liy``: landmark i, as fractions of the image side (NaN: no such point).

When p_c = 0 the rest is "don't care" (the seed writes "?"; here NaN). The loss
has the seed's two cases: with an object everything counts, without one only
p_c does. Following the course's advice for practice, p_c uses the logistic loss,
the classes the softmax loss and the box and landmarks squared error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

import steepest.functional as F

from .._validation import ShapeError, fmt_shape, non_negative_int, positive_int, real
from ..autograd import Tensor
from ..data.datasets import convert_boxes
from ..models.base import Model
from ..nn import BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from ..ops.shape import concatenate
from ..tasks import Task
from ..tasks.base import Metric, _as_array, metric_name
from .boxes import _iou

__all__ = ["Localization", "Localizer", "localization_targets"]


def localization_targets(labels: Any, boxes: Any, image_size: float, num_classes: int,
                         landmarks: Any = None) -> np.ndarray:
    """The seed's y vectors from labels and xyxy pixel boxes (as make_shapes returns them).

    Args:
        labels: (m,) or (m, 1) classes; -1 for an image without an object.
        boxes: (m, 4) or (m, 1, 4) boxes, xyxy pixels (NaN where there is no object).
        image_size: the image side in pixels (boxes are divided by it).
        num_classes: n.
        landmarks: optional (m, k, 2) or (m, 1, k, 2) points (x, y) in pixels, NaN if absent.

    Returns:
        float32 (m, 5 + n + 2k): [p_c, bx, by, bh, bw, c1..cn, l1x, l1y, ...], with NaN
        ("?") after p_c where p_c = 0.

    Example:
        >>> y = localization_targets([1, -1], [[8, 4, 24, 12], [np.nan] * 4], 32, 3)
        >>> y[0].tolist()      # p_c, bx, by, bh, bw, c1, c2, c3
        [1.0, 0.5, 0.25, 0.25, 0.5, 0.0, 1.0, 0.0]
        >>> bool(np.isnan(y[1, 1:]).all())
        True
    """
    owner = "localization_targets"
    n = positive_int(owner, "num_classes", num_classes)
    size = real(owner, "image_size", image_size, low=0.0, low_inclusive=False)
    labels = np.asarray(labels).reshape(-1)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(b) != len(labels):
        raise ShapeError(f"{owner}: {len(labels)} labels but {len(b)} boxes (one object per "
                         "image; for several use steepest.detection.Detection)")
    if labels.size and labels.max() >= n:
        raise ValueError(f"{owner}: a label is {int(labels.max())} but `num_classes` is {n}")
    present = labels >= 0
    points = np.zeros((len(labels), 0, 2))
    if landmarks is not None:
        points = np.asarray(landmarks, dtype=np.float64)
        points = points.reshape(len(labels), -1, 2)
    y = np.full((len(labels), 5 + n + 2 * points.shape[1]), np.nan)
    y[:, 0] = present
    centre = convert_boxes(b[present], "xyxy", "cxcywh") / size       # cx, cy, w, h
    y[present, 1:5] = centre[:, [0, 1, 3, 2]]                          # bx, by, bh, bw
    y[present, 5:5 + n] = np.eye(n)[labels[present]]
    y[present, 5 + n:] = points[present].reshape(int(present.sum()), -1) / size
    return y.astype(np.float32)


class Localization(Task):
    """One object or none per image: presence, class, box and landmarks (OD1).

    Args:
        num_classes: n, the classes of the object.
        num_landmarks: k, the (x, y) points regressed besides the box (0: none).
        box_weight: weight of the squared error of the box and landmarks.

    Outputs are raw, (m, 5 + n + 2k): [z_pc (a logit), bx, by, bh, bw, n class
    logits, landmark coordinates]; targets are the seed's y vectors (see
    :func:`localization_targets`). The loss, per image, is the seed's two cases:

    * y_pc = 1: BCE(z_pc, 1) + box_weight * (||b̂ - b||² + ||l̂ - l||²) + CE(classes);
    * y_pc = 0: BCE(z_pc, 0) only;

    averaged over the batch. Missing landmarks (NaN) do not count.

    Metrics: ``iou`` (mean IoU of predicted and true boxes over images with an
    object, the figure of merit), ``presence_accuracy``, ``class_accuracy`` (on
    images with an object) and ``landmark_error`` (mean distance, as a fraction of
    the image side).

    Example:
        >>> task = Localization(num_classes=2)
        >>> y = task.encode_targets(localization_targets([0, -1], [[0, 0, 16, 16],
        ...                                                [np.nan] * 4], 32, 2))
        >>> z = np.array([[5.0, 0.25, 0.25, 0.5, 0.5, 3.0, 0.0],
        ...               [-5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
        >>> task.compute_metrics(["iou", "presence_accuracy"], y, z)
        {'iou': 1.0, 'presence_accuracy': 1.0}
    """

    metric_names: ClassVar[tuple[str, ...]] = ("iou", "presence_accuracy", "class_accuracy",
                                               "landmark_error")
    default_metrics: ClassVar[tuple[str, ...]] = ("iou",)

    def __init__(self, num_classes: int, num_landmarks: int = 0, box_weight: float = 5.0
                 ) -> None:
        self.num_classes = positive_int("Localization", "num_classes", num_classes)
        self.num_landmarks = non_negative_int("Localization", "num_landmarks", num_landmarks)
        self.box_weight = real("Localization", "box_weight", box_weight, low=0.0)

    @property
    def width(self) -> int:
        """Outputs per image: 5 + n + 2k."""
        return 5 + self.num_classes + 2 * self.num_landmarks

    def get_config(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes, "num_landmarks": self.num_landmarks,
                "box_weight": self.box_weight}

    # ------------------------------------------------------------ training
    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        y = _as_array(y)
        if isinstance(y, (dict, tuple)) or y.ndim != 2 or y.shape[1] != self.width:
            shape = fmt_shape(y.shape) if hasattr(y, "shape") else type(y).__name__
            raise ShapeError(f"{owner}: {self!r} targets are the seed's y vectors [p_c, bx, by, "
                             f"bh, bw, c1..c{self.num_classes}"
                             f"{', landmarks' if self.num_landmarks else ''}] of shape "
                             f"(m, {self.width}); got {shape} (build them with "
                             "steepest.detection.localization_targets)")
        y = y.astype(dtype)
        pc = y[:, 0]
        if not np.all((pc == 0) | (pc == 1)):
            raise ValueError(f"{owner}: Localization targets' p_c (column 0) must be 0 or 1")
        present = pc == 1
        known = y[present, 1:5 + self.num_classes]
        if not np.all(np.isfinite(known)):
            raise ValueError(f"{owner}: Localization targets with p_c = 1 need a finite box "
                             "and class (NaN is only for p_c = 0, the seed's '?')")
        if present.any() and not np.allclose(known[:, 4:].sum(axis=1), 1):
            raise ValueError(f"{owner}: Localization targets' classes (columns 5..) must be "
                             "one-hot where p_c = 1")
        return y

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        z = outputs.data if isinstance(outputs, Tensor) else outputs
        if isinstance(z, (tuple, list, dict)) or z.ndim != 2 or z.shape[1] != self.width:
            shape = fmt_shape(z.shape) if hasattr(z, "shape") else type(z).__name__
            raise ShapeError(f"{owner}: {self!r} needs outputs of shape (m, {self.width}) "
                             f"(5 + {self.num_classes} classes + 2 x {self.num_landmarks} "
                             f"landmarks); the model returned {shape}")

    def loss_terms(self, outputs: Any, targets: Any) -> dict[str, Tensor]:
        y = targets
        m = y.shape[0]
        n = self.num_classes
        present = y[:, 0:1]                                         # (m, 1) 0/1
        presence = F.binary_cross_entropy_with_logits(outputs[:, 0:1], present,
                                                      reduction="sum") / m
        # Where p_c = 0 the targets are '?': zero them, and mask their errors away.
        regress = np.nan_to_num(np.concatenate([y[:, 1:5], y[:, 5 + n:]], axis=1))
        mask = np.concatenate([np.broadcast_to(present, (m, 4)),
                               present * np.isfinite(y[:, 5 + n:])], axis=1).astype(y.dtype)
        predicted = concatenate([outputs[:, 1:5], outputs[:, 5 + n:]], axis=1) \
            if self.num_landmarks else outputs[:, 1:5]
        error = (predicted - regress) * mask
        box = (error * error).sum() / m
        one_hot = np.nan_to_num(y[:, 5:5 + n]) * present
        classes = -(F.log_softmax(outputs[:, 5:5 + n], axis=1) * one_hot).sum() / m
        total = presence + box * self.box_weight + classes
        return {"loss": total, "presence_loss": presence, "box_loss": box,
                "class_loss": classes}

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return self.loss_terms(outputs, targets)["loss"]

    # ------------------------------------------------------------ reading outputs
    def predict(self, outputs: Any) -> dict[str, np.ndarray]:
        """``scores`` (m,) = sigmoid(z_pc), ``labels`` (m,), ``boxes`` (m, 4) as the seed's
        (bx, by, bh, bw) fractions, ``landmarks`` (m, k, 2) fractions."""
        z = np.asarray(outputs.data if isinstance(outputs, Tensor) else outputs,
                       dtype=np.float64)
        n = self.num_classes
        return {"scores": 0.5 * (1.0 + np.tanh(0.5 * z[:, 0])),
                "labels": z[:, 5:5 + n].argmax(axis=1),
                "boxes": z[:, 1:5],
                "landmarks": z[:, 5 + n:].reshape(len(z), self.num_landmarks, 2)}

    def class_probabilities(self, outputs: Any) -> np.ndarray:
        z = np.asarray(outputs, dtype=np.float64)[:, 5:5 + self.num_classes]
        e = np.exp(z - z.max(axis=1, keepdims=True))  # subtract the row max before exp
        return e / e.sum(axis=1, keepdims=True)

    def compute_metrics(self, metrics: Sequence[Metric], targets: Any, outputs: Any
                        ) -> dict[str, float]:
        y = np.asarray(targets, dtype=np.float64)
        predicted = self.predict(outputs)
        present = y[:, 0] == 1
        results = {}
        for metric in metrics:
            if callable(metric):
                value = float(metric(y, np.asarray(outputs)))
            elif metric == "presence_accuracy":
                value = float(np.mean((predicted["scores"] > 0.5) == present))
            elif not present.any():
                value = float("nan")
            elif metric == "iou":
                value = float(np.mean(seed_box_iou(predicted["boxes"][present],
                                                   y[present, 1:5])))
            elif metric == "class_accuracy":
                value = float(np.mean(predicted["labels"][present]
                                      == y[present, 5:5 + self.num_classes].argmax(axis=1)))
            else:
                true = y[present, 5 + self.num_classes:].reshape(-1, self.num_landmarks, 2)
                guess = predicted["landmarks"][present]
                distance = np.sqrt(((guess - true) ** 2).sum(axis=2))
                value = float(np.nanmean(distance)) if np.isfinite(distance).any() else \
                    float("nan")
            results[metric_name(metric)] = value
        return results


def seed_box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-by-row IoU of two (m, 4) arrays of the seed's (bx, by, bh, bw) boxes.

    Predicted sizes below zero count as empty boxes.

    Example:
        >>> seed_box_iou(np.array([[0.5, 0.5, 0.2, 0.2]]), np.array([[0.5, 0.5, 0.2, 0.4]]))
        array([0.5])
    """
    def corners(boxes: np.ndarray) -> np.ndarray:
        cxcywh = boxes[:, [0, 1, 3, 2]].copy()
        cxcywh[:, 2:] = np.maximum(cxcywh[:, 2:], 0)
        return convert_boxes(cxcywh, "cxcywh", "xyxy")

    first, second = corners(np.asarray(a, dtype=np.float64)), corners(
        np.asarray(b, dtype=np.float64))
    return np.array([_iou(first[i:i + 1], second[i:i + 1])[0, 0] for i in range(len(first))])


class Localizer(Model):
    """A small CNN localiser: CONV-POOL blocks, then FC layers to the seed's y vector (OD1).

    ``blocks`` blocks of (3x3 conv "same", batch norm, ReLU, 2x2 max pool) halve
    the image each; a hidden FC layer and the output layer give the
    5 + n + 2k raw outputs that :class:`Localization` reads.

    Args:
        num_classes: n.
        num_landmarks: k points besides the box.
        image_size: the (square) input side; a multiple of 2 ** blocks.
        in_channels: 3 for colour.
        width: channels of the first block (doubled in each next one).
        hidden: units of the hidden FC layer.
        blocks: conv-pool blocks (fewer keep more of the position for the box).
        rng: seed or Generator of the initial weights.

    Shape:
        input (m, in_channels, image_size, image_size) -> output (m, 5 + n + 2k).

    Example:
        >>> net = Localizer(num_classes=3, num_landmarks=4, image_size=32, rng=0)
        >>> net(np.zeros((2, 3, 32, 32), dtype=np.float32)).shape
        (2, 16)
        >>> net.default_task()
        Localization(num_classes=3, num_landmarks=4, box_weight=5.0)
    """

    def __init__(self, num_classes: int, num_landmarks: int = 0, image_size: int = 32,
                 in_channels: int = 3, width: int = 16, hidden: int = 256, blocks: int = 3,
                 rng: Any = None) -> None:
        super().__init__()
        self.num_classes = positive_int("Localizer", "num_classes", num_classes)
        self.num_landmarks = non_negative_int("Localizer", "num_landmarks", num_landmarks)
        size = positive_int("Localizer", "image_size", image_size)
        blocks = positive_int("Localizer", "blocks", blocks)
        if size % 2 ** blocks:
            raise ValueError(f"Localizer: `image_size` must be a multiple of {2 ** blocks} "
                             f"({blocks} 2x2 pools); got {size}")
        width = positive_int("Localizer", "width", width)
        hidden = positive_int("Localizer", "hidden", hidden)
        channels = positive_int("Localizer", "in_channels", in_channels)
        generator = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) \
            else rng
        layers: list[Any] = []
        for block in range(blocks):
            out = width * 2 ** block
            layers += [Conv2d(channels, out, 3, padding="same", bias=False, rng=generator),
                       BatchNorm2d(out), ReLU(), MaxPool2d(2)]
            channels = out
        self.features = Sequential(*layers)
        self.head = Sequential(
            Flatten(), Linear(channels * (size // 2 ** blocks) ** 2, hidden, rng=generator),
            ReLU(),
            Linear(hidden, 5 + self.num_classes + 2 * self.num_landmarks, init="xavier",
                   rng=generator))

    def forward(self, x: Any) -> Tensor:
        return self.head(self.features(x))

    def default_task(self) -> Localization:
        return Localization(self.num_classes, self.num_landmarks)
