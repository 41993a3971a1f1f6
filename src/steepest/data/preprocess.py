"""Preprocessing: input normalisation (I9) and image unrolling (B1)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validation import ShapeError, finite_array, fmt_shape, non_empty, one_of, real
from ..backend import get_default_dtype


class Standardizer:
    """Zero mean and unit variance per feature, with the *training* set's mu and sigma (I9).

    Fit on the training set only, then apply the same transformation to dev and
    test data: normalising them with their own statistics would make them a
    different distribution. Features whose training variance is zero are only
    centred (their sigma is taken as 1), so they do not become NaN or infinite.

    Args:
        per: "feature" (every input number separately: every column of (m, n_x),
            every pixel of images) or "channel" (one mu and sigma per channel of
            (m, C, H, W) images).
        eps: variances below this count as zero.

    Example:
        >>> train = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]])
        >>> scaler = Standardizer().fit(train)
        >>> scaler.transform(train)
        array([[-1., -1.,  0.],
               [ 1.,  1.,  0.]], dtype=float32)
        >>> scaler.transform(np.array([[2.0, 50.0, 7.0]]))   # dev data: training mu, sigma
        array([[0., 3., 2.]], dtype=float32)
    """

    def __init__(self, per: Literal["feature", "channel"] = "feature", eps: float = 1e-12) -> None:
        self.per = one_of("Standardizer", "per", per, ("feature", "channel"))
        self.eps = real("Standardizer", "eps", eps, low=0.0)
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def _axes(self, X: np.ndarray) -> tuple[int, ...]:
        if self.per == "channel":
            if X.ndim != 4:
                raise ShapeError(f"Standardizer(per='channel'): expected images (m, C, H, W); "
                                 f"got shape {fmt_shape(X.shape)}")
            return (0, 2, 3)
        return (0,)

    def fit(self, X: Any) -> Standardizer:
        """Learn mu and sigma from the training set."""
        X = np.asarray(X, dtype=np.float64)
        non_empty("Standardizer.fit", "X", X)
        finite_array("Standardizer.fit", "X", X)
        axes = self._axes(X)
        self.mean_ = X.mean(axis=axes, keepdims=True)[0]
        std = X.std(axis=axes, keepdims=True)[0]
        self.std_ = np.where(std**2 > self.eps, std, 1.0)
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("Standardizer: call fit(X_train) first")
        return self.mean_, self.std_

    def transform(self, X: Any, dtype: Any = None) -> np.ndarray:
        """(X - mu) / sigma with the fitted statistics."""
        mean, std = self._fitted()
        X = np.asarray(X)
        if X.shape[1:] != mean.shape and not (self.per == "channel" and X.ndim == 4
                                              and X.shape[1] == mean.shape[0]):
            raise ShapeError(f"Standardizer: fitted on examples of shape {fmt_shape(mean.shape)}; "
                             f"got {fmt_shape(X.shape[1:])}")
        out = (X - mean) / std
        return out.astype(np.dtype(dtype) if dtype is not None else get_default_dtype())

    def fit_transform(self, X: Any, dtype: Any = None) -> np.ndarray:
        """:meth:`fit`, then :meth:`transform`, on the training set."""
        return self.fit(X).transform(X, dtype)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: X * sigma + mu."""
        mean, std = self._fitted()
        return np.asarray(X) * std + mean

    def state_dict(self) -> dict[str, Any]:
        """The fitted statistics, to save beside a model."""
        mean, std = self._fitted()
        return {"per": self.per, "mean": mean, "std": std}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted standardizer from :meth:`state_dict`."""
        scaler = cls(per=state["per"])
        scaler.mean_ = np.asarray(state["mean"], dtype=np.float64)
        scaler.std_ = np.asarray(state["std"], dtype=np.float64)
        return scaler


def unroll(images: Any) -> np.ndarray:
    """Each image (C, H, W) or (H, W) as one feature vector x of size n_x (B1).

    Example:
        >>> unroll(np.zeros((5, 3, 64, 64))).shape    # the seed's 64x64 RGB cat: n_x = 12288
        (5, 12288)
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ShapeError(f"unroll: expected m images; got shape {fmt_shape(images.shape)}")
    return images.reshape(images.shape[0], -1)


def roll(X: Any, image_shape: tuple[int, ...]) -> np.ndarray:
    """Feature vectors back into images of ``image_shape`` (the inverse of :func:`unroll`).

    Example:
        >>> roll(np.zeros((5, 784)), (1, 28, 28)).shape
        (5, 1, 28, 28)
    """
    X = np.asarray(X)
    size = int(np.prod(image_shape))
    if X.ndim != 2 or X.shape[1] != size:
        raise ShapeError(f"roll: expected (m, {size}) for images of shape {tuple(image_shape)}; "
                         f"got {fmt_shape(X.shape)}")
    return X.reshape(X.shape[0], *image_shape)


def scale_images(images: Any, dtype: Any = None) -> np.ndarray:
    """uint8 pixels 0-255 -> floats in [0, 1] (the default dtype, float32).

    Example:
        >>> scale_images(np.array([[0, 255]], dtype=np.uint8))
        array([[0., 1.]], dtype=float32)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        if images.dtype.kind not in "iu" or images.min() < 0 or images.max() > 255:
            raise TypeError(f"scale_images: expected uint8 pixels 0-255; got dtype "
                            f"{images.dtype} (values {images.min()} to {images.max()})")
    target = np.dtype(dtype) if dtype is not None else get_default_dtype()
    return images.astype(target) / target.type(255)
