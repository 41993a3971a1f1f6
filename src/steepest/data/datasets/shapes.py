"""Synthetic images of coloured shapes with their classes and bounding boxes."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..._validation import non_negative_int, one_of, positive_int, real
from ...backend import resolve_rng

ShapeKind = Literal["circle", "square", "triangle"]
SHAPES: tuple[ShapeKind, ...] = ("circle", "square", "triangle")
BoxFormat = Literal["xyxy", "xywh", "cxcywh"]


def _mask(kind: ShapeKind, size: int, cx: float, cy: float, half: float) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    if kind == "circle":
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= half**2
    if kind == "square":
        return (np.abs(xs - cx) <= half) & (np.abs(ys - cy) <= half)
    # An upright isosceles triangle filling the box: apex at the top centre.
    top, bottom = cy - half, cy + half
    inside_height = (ys >= top) & (ys <= bottom)
    width_at_y = (ys - top) / (2 * half) * half
    return inside_height & (np.abs(xs - cx) <= width_at_y)


def convert_boxes(boxes: np.ndarray, source: BoxFormat, target: BoxFormat) -> np.ndarray:
    """Convert boxes between "xyxy" (corners), "xywh" (corner + size), "cxcywh" (centre + size).

    Example:
        >>> convert_boxes(np.array([[2.0, 4.0, 6.0, 10.0]]), "xyxy", "cxcywh")
        array([[4., 7., 4., 6.]])
    """
    one_of("convert_boxes", "source", source, ("xyxy", "xywh", "cxcywh"))
    one_of("convert_boxes", "target", target, ("xyxy", "xywh", "cxcywh"))
    b = np.asarray(boxes, dtype=np.float64)
    if source == "xywh":
        b = np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)
    elif source == "cxcywh":
        b = np.concatenate([b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], axis=-1)
    if target == "xywh":
        return np.concatenate([b[..., :2], b[..., 2:] - b[..., :2]], axis=-1)
    if target == "cxcywh":
        return np.concatenate([(b[..., :2] + b[..., 2:]) / 2, b[..., 2:] - b[..., :2]], axis=-1)
    return b


def _landmarks(kind: ShapeKind, cx: float, cy: float, half: float) -> np.ndarray:
    """The shape's key points (x, y), (4, 2), NaN-padded: vertices, or a circle's centre."""
    points = np.full((4, 2), np.nan)
    if kind == "circle":
        points[0] = cx, cy
    elif kind == "square":
        points[:] = [[cx - half, cy - half], [cx + half, cy - half],
                     [cx + half, cy + half], [cx - half, cy + half]]
    else:  # apex, bottom left, bottom right
        points[:3] = [[cx, cy - half], [cx - half, cy + half], [cx + half, cy + half]]
    return points


def make_shapes(m: int = 1000, image_size: int = 32, objects: int | tuple[int, int] = 1,
                shapes: tuple[ShapeKind, ...] = SHAPES, min_size: float = 0.2,
                max_size: float = 0.5, noise: float = 0.05, box_format: BoxFormat = "xyxy",
                rng: np.random.Generator | int | None = None, empty: float = 0.0,
                landmarks: bool = False, multi_label: bool = False,
                unknown: float = 0.0) -> tuple[np.ndarray, ...]:
    """Images of coloured circles, squares and triangles, with classes and boxes (OD1).

    Each image has ``objects`` shapes of random kind, colour, size and position on
    a dark, noisy background, placed so they do not overlap. For localisation
    (``objects=1``) the targets are the class and the box (the seed's bx, by, bh, bw
    with ``box_format="cxcywh"``); for detection, several per image
    (``objects=(1, 3)``) and some images with none (``empty=0.1``).

    Images with fewer objects than the most are padded: label -1, box and
    landmarks NaN (the seed's "?": no object, nothing to regress).

    Args:
        m: number of images.
        image_size: height and width in pixels.
        objects: shapes per image, or a range (low, high) drawn uniformly per image.
        shapes: the kinds to draw; the class of a shape is its index here.
        min_size: smallest shape side, as a fraction of the image size.
        max_size: largest shape side, as a fraction of the image size.
        noise: standard deviation of the background noise.
        box_format: "xyxy", "xywh" or "cxcywh", in pixels.
        rng: a Generator or seed.
        empty: the fraction of images with no object at all (background only), in [0, 1].
        landmarks: also return each shape's key points: a square's 4 corners
            (clockwise from top left), a triangle's 3 vertices (apex, bottom left,
            bottom right), a circle's centre; unused points are NaN.
        multi_label: return, in place of the labels, each image's presence vector
            (multi-task learning, M15): one 0/1 column per kind in ``shapes``, 1 when
            the image holds at least one shape of that kind (is there a circle? a
            square? a triangle?). Same images as without it, for the same seed.
        unknown: with ``multi_label=True``, the fraction of presence labels marked
            unknown (NaN, the seed's "?"), each independently, in [0, 1); drawn
            after the images, so they do not change.

    Returns:
        images float32 (m, 3, H, W) in [0, 1]; labels int64 (m, K); boxes float32
        (m, K, 4) in ``box_format``; with ``landmarks=True`` also landmarks float32
        (m, K, 4, 2) as (x, y) pixels. K is the largest number of objects. With
        ``multi_label=True`` the labels are replaced by the presence vectors,
        float32 (m, len(shapes)), 0, 1 or NaN (unknown): the targets of
        ``steepest.tasks.MultiLabel(len(shapes))``.

    Example:
        >>> images, labels, boxes = make_shapes(4, image_size=24, rng=0)
        >>> images.shape, labels.shape, boxes.shape
        ((4, 3, 24, 24), (4, 1), (4, 1, 4))
        >>> _, labels, _, points = make_shapes(3, objects=(0, 2), landmarks=True, rng=0)
        >>> labels.shape, points.shape
        ((3, 2), (3, 2, 4, 2))
        >>> _, present, _ = make_shapes(2, objects=3, multi_label=True, rng=0)
        >>> present.shape, present.dtype
        ((2, 3), dtype('float32'))
    """
    owner = "make_shapes"
    m = positive_int(owner, "m", m)
    size = positive_int(owner, "image_size", image_size)
    if isinstance(objects, (tuple, list)):
        if len(objects) != 2:
            raise ValueError(f"{owner}: `objects` must be a count or a range (low, high); got "
                             f"{objects!r}")
        fewest = non_negative_int(owner, "objects[0]", objects[0])
        most = non_negative_int(owner, "objects[1]", objects[1])
        if most < fewest or most == 0:
            raise ValueError(f"{owner}: `objects` range must have 0 <= low <= high and "
                             f"high >= 1; got {tuple(objects)!r}")
        counted = True
    else:
        fewest = most = positive_int(owner, "objects", objects)
        counted = False
    for kind in shapes:
        one_of(owner, "shapes", kind, SHAPES)
    if not shapes:
        raise ValueError(f"{owner}: `shapes` is empty")
    low = real(owner, "min_size", min_size, low=0.0, low_inclusive=False, high=1.0)
    high = real(owner, "max_size", max_size, low=low, high=1.0)
    noise = real(owner, "noise", noise, low=0.0)
    empty = real(owner, "empty", empty, low=0.0, high=1.0)
    one_of(owner, "box_format", box_format, ("xyxy", "xywh", "cxcywh"))
    unknown = real(owner, "unknown", unknown, low=0.0, high=1.0, high_inclusive=False)
    if unknown > 0 and not multi_label:
        raise ValueError(f"{owner}: `unknown` marks presence labels unknown; it needs "
                         "multi_label=True")
    if size * low < 3:
        raise ValueError(f"{owner}: shapes of {size * low:.1f} pixels are too small to draw; "
                         "raise `min_size` or `image_size`")
    generator = resolve_rng(rng)
    images = np.clip(generator.normal(0.1, noise, (m, 3, size, size)), 0, 1)
    labels = np.full((m, most), -1, dtype=np.int64)
    boxes = np.full((m, most, 4), np.nan)
    points = np.full((m, most, 4, 2), np.nan)
    # Extra draws only for the new options, so old seeds give the same images.
    counts = (generator.integers(fewest, most + 1, m) if counted
              else np.full(m, most, dtype=np.int64))
    if empty > 0:
        counts[generator.uniform(size=m) < empty] = 0
    for i in range(m):
        placed: list[np.ndarray] = []
        for k in range(int(counts[i])):
            for _ in range(100):
                side = generator.uniform(low, high) * size
                half = side / 2
                cx, cy = generator.uniform(half, size - half, 2)
                box = np.array([cx - half, cy - half, cx + half, cy + half])
                if all(box[0] >= b[2] or box[2] <= b[0] or box[1] >= b[3] or box[3] <= b[1]
                       for b in placed):
                    break
            else:
                raise ValueError(f"{owner}: could not place {most} shapes without overlap "
                                 f"in {size}x{size} images; use fewer or smaller shapes")
            placed.append(box)
            label = int(generator.integers(len(shapes)))
            colour = generator.uniform(0.4, 1.0, 3)
            mask = _mask(shapes[label], size, cx, cy, half)
            images[i][:, mask] = colour[:, None]
            labels[i, k] = label
            boxes[i, k] = box
            points[i, k] = _landmarks(shapes[label], cx, cy, half)
    targets: np.ndarray = labels
    if multi_label:
        kinds = np.arange(len(shapes))
        targets = (labels[:, :, None] == kinds).any(axis=1).astype(np.float32)
        if unknown > 0:  # drawn last: the images and boxes stay those of the seed
            targets[generator.uniform(size=targets.shape) < unknown] = np.nan
    result = (images.astype(np.float32), targets,
              convert_boxes(boxes, "xyxy", box_format).astype(np.float32))
    return (*result, points.astype(np.float32)) if landmarks else result
