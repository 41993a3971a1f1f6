"""Pictures of detections: boxes with class and score drawn on the image (matplotlib)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["draw_detections"]

_COLOURS = ["#ffd400", "#00e5ff", "#ff4dd2", "#7CFC00", "#ff8c00", "#ffffff"]


def draw_detections(image: np.ndarray, detections: Mapping[str, Any],
                    class_names: Sequence[str], axis: Any = None) -> Any:
    """Draw xyxy boxes labelled "class score" over an image on a matplotlib axis.

    Args:
        image: (3, H, W) or (H, W, 3) floats in [0, 1], or (H, W) grey.
        detections: ``boxes`` (N, 4) xyxy pixels, ``scores`` (N,), ``labels`` (N,).
        class_names: the name of each class.
        axis: the matplotlib axis (default: a new figure's).

    Returns:
        The axis.
    """
    from ..plotting import pyplot

    plt = pyplot()
    picture = np.asarray(image, dtype=np.float64)
    if picture.ndim == 3 and picture.shape[0] in (1, 3) and picture.shape[2] not in (1, 3, 4):
        picture = picture.transpose(1, 2, 0)
    if picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[..., 0]
    if axis is None:
        _, axis = plt.subplots(figsize=(4, 4))
    axis.imshow(np.clip(picture, 0, 1), cmap="gray" if picture.ndim == 2 else None,
                interpolation="nearest")
    for box, score, label in zip(np.asarray(detections["boxes"]).reshape(-1, 4),
                                 np.asarray(detections["scores"]).reshape(-1),
                                 np.asarray(detections["labels"]).reshape(-1)):
        colour = _COLOURS[int(label) % len(_COLOURS)]
        x0, y0, x1, y1 = box - 0.5  # pixel centres sit at integer coordinates in imshow
        axis.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                     edgecolor=colour, linewidth=1.5))
        name = class_names[int(label)] if 0 <= int(label) < len(class_names) else str(label)
        axis.text(x0, y0, f"{name} {score:.2f}", color="black", fontsize=7,
                  verticalalignment="bottom",
                  bbox={"facecolor": colour, "edgecolor": "none", "pad": 1})
    axis.set_axis_off()
    return axis


def figure_png(figure: Any) -> bytes:
    """A figure as PNG bytes (closed afterwards)."""
    from ..plotting import pyplot

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    pyplot().close(figure)
    return buffer.getvalue()
