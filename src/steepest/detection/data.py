"""The default detection data: make_shapes images with 0-3 shapes each, fixed splits."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import non_negative_int, positive_int
from ..data.datasets import convert_boxes, make_shapes

__all__ = ["SHAPES_CLASSES", "SHAPES_DETECTION", "shapes_detection_splits", "target_dict"]

SHAPES_CLASSES = ["circle", "square", "triangle"]
# make_shapes' arguments of the default detection data set: 48x48 images, one to
# three shapes of 10-19 pixels, and one image in ten without any.
SHAPES_DETECTION: dict[str, Any] = {"image_size": 48, "objects": (1, 3), "empty": 0.1,
                                    "min_size": 0.2, "max_size": 0.4}


def target_dict(labels: np.ndarray, boxes: np.ndarray) -> dict[str, np.ndarray]:
    """make_shapes' (labels, boxes) as the ``{"boxes", "labels"}`` dict Detection reads."""
    return {"boxes": boxes, "labels": labels}


def shapes_detection_splits(seed: int = 0, train: int = 2000, dev: int = 250, test: int = 500
                            ) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Train, dev and test sets of the default shapes detection data.

    Each split is drawn from its own seed (``seed``, ``seed + 1``, ``seed + 2``), so
    the test images of seed 0 are the same whatever the training set's size.

    Returns:
        ``{"train": (images, {"boxes", "labels"}), "dev": ..., "test": ...}``: images
        float32 (m, 3, 48, 48) in [0, 1], boxes (m, 3, 4) xyxy pixels (NaN padding),
        labels (m, 3) (-1 padding).

    Example:
        >>> splits = shapes_detection_splits(train=4, dev=2, test=2)
        >>> splits["train"][0].shape, splits["test"][1]["boxes"].shape
        ((4, 3, 48, 48), (2, 3, 4))
    """
    seed = non_negative_int("shapes_detection_splits", "seed", seed)
    sizes = {"train": train, "dev": dev, "test": test}
    splits = {}
    for offset, (name, m) in enumerate(sizes.items()):
        m = positive_int("shapes_detection_splits", name, m)
        images, labels, boxes = make_shapes(m, rng=seed + offset, **SHAPES_DETECTION)
        splits[name] = (images, target_dict(labels, boxes))
    return splits


def box_sizes(targets: dict[str, np.ndarray]) -> np.ndarray:
    """(N, 2) widths and heights of the real boxes in ``{"boxes", "labels"}`` targets."""
    boxes = np.asarray(targets["boxes"])[np.asarray(targets["labels"]) >= 0]
    return convert_boxes(boxes, "xyxy", "xywh")[:, 2:]
