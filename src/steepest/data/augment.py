"""Data augmentation on NCHW image batches (concepts I7, K9).

Every augmentation is a callable ``aug(images, rng) -> images`` on a batch of shape
(N, C, H, W) that draws its randomness from ``rng`` (a numpy Generator), so a
seeded run is reproducible. :class:`Compose` chains them; ``fit(..., augment=...)``
applies one to each training mini-batch (never to dev or test data). Inputs are
not modified in place.

* mirroring: :class:`RandomFlip`;
* random cropping: :class:`RandomCrop` (pad, then crop back at a random offset);
* colour shifting: :class:`ColorShift` (a random offset per channel);
* PCA colour augmentation: :class:`PCAColor`, whose principal components are
  fitted on *your* training images (AlexNet's "fancy PCA"), not hard-coded
  ImageNet numbers;
* multi-crop at test time: :class:`MultiCrop` (the 10-crop of K10), not a
  training augmentation but ``predict(..., tta=MultiCrop(...))``.

Example:
    >>> import numpy as np
    >>> batch = np.random.default_rng(0).random((8, 3, 32, 32)).astype(np.float32)
    >>> augment = Compose([RandomFlip(), RandomCrop(32, padding=4)])
    >>> augment(batch, np.random.default_rng(1)).shape
    (8, 3, 32, 32)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import ShapeError, fmt_shape, non_negative_int, pair, real
from ..backend import resolve_rng

Augmentation = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _images(owner: str, images: Any) -> np.ndarray:
    array = np.asarray(images)
    if array.ndim != 4:
        raise ShapeError(f"{owner}: expected a batch of images (N, C, H, W); got shape "
                         f"{fmt_shape(array.shape)}")
    return array


class Compose:
    """Apply augmentations one after another.

    Example:
        >>> Compose([RandomFlip(p=1.0)])(np.arange(4.0).reshape(1, 1, 1, 4), None)
        array([[[[3., 2., 1., 0.]]]])
    """

    def __init__(self, augmentations: Sequence[Augmentation]) -> None:
        self.augmentations = list(augmentations)
        for a in self.augmentations:
            if not callable(a):
                raise TypeError(f"Compose: {a!r} is not callable as aug(images, rng)")

    def __call__(self, images: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
        generator = resolve_rng(rng)
        for augmentation in self.augmentations:
            images = augmentation(images, generator)
        return np.asarray(images)

    def __repr__(self) -> str:
        return f"Compose({self.augmentations!r})"


class RandomFlip:
    """Mirror each image left-right (and/or top-bottom) with probability ``p``.

    Args:
        horizontal: flip left-right (mirroring, the usual one for photos).
        vertical: flip top-bottom (for images without an up, such as micrographs).
        p: the probability of flipping each image.
    """

    def __init__(self, horizontal: bool = True, vertical: bool = False, p: float = 0.5) -> None:
        if not horizontal and not vertical:
            raise ValueError("RandomFlip: choose at least one of `horizontal` and `vertical`")
        self.horizontal, self.vertical = bool(horizontal), bool(vertical)
        self.p = real("RandomFlip", "p", p, low=0.0, high=1.0)

    def __call__(self, images: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
        x = _images("RandomFlip", images).copy()
        generator = resolve_rng(rng)
        if self.horizontal:
            flip = generator.random(x.shape[0]) < self.p
            x[flip] = x[flip, :, :, ::-1]
        if self.vertical:
            flip = generator.random(x.shape[0]) < self.p
            x[flip] = x[flip, :, ::-1, :]
        return x

    def __repr__(self) -> str:
        return f"RandomFlip(horizontal={self.horizontal}, vertical={self.vertical}, p={self.p})"


class RandomCrop:
    """Zero-pad by ``padding``, then crop ``size`` at a random position per image.

    With ``padding`` p and ``size`` equal to the image size, this shifts each image
    by up to p pixels in each direction.

    Args:
        size: the output (height, width), an int or a pair.
        padding: zeros added on every side before cropping.

    Example:
        >>> x = np.ones((2, 1, 4, 4))
        >>> RandomCrop(4, padding=1)(x, np.random.default_rng(0)).shape
        (2, 1, 4, 4)
    """

    def __init__(self, size: int | tuple[int, int], padding: int = 0) -> None:
        self.size = pair("RandomCrop", "size", size)
        self.padding = non_negative_int("RandomCrop", "padding", padding)

    def __call__(self, images: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
        x = _images("RandomCrop", images)
        p = self.padding
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        n, _, height, width = x.shape
        out_h, out_w = self.size
        if out_h > height or out_w > width:
            raise ShapeError(f"RandomCrop: crop {self.size} is larger than the padded image "
                             f"({height}, {width})")
        generator = resolve_rng(rng)
        top = generator.integers(0, height - out_h + 1, n)
        left = generator.integers(0, width - out_w + 1, n)
        windows = sliding_window_view(x, (out_h, out_w), axis=(2, 3))  # (N, C, oy, ox, h, w)
        return np.ascontiguousarray(windows[np.arange(n), :, top, left])  # (N, C, h, w)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class ColorShift:
    """Add a random offset to each colour channel of each image (colour shifting, K9).

    Args:
        max_shift: offsets are uniform in [-max_shift, max_shift] (in the images'
            units, e.g. 20 for 0-255 pixels or 0.08 for 0-1).
        clip: clip the result to this (low, high) range, or None.
    """

    def __init__(self, max_shift: float, clip: tuple[float, float] | None = None) -> None:
        self.max_shift = real("ColorShift", "max_shift", max_shift, low=0.0)
        self.clip = clip

    def __call__(self, images: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
        x = _images("ColorShift", images)
        generator = resolve_rng(rng)
        shift = generator.uniform(-self.max_shift, self.max_shift, (x.shape[0], x.shape[1], 1, 1))
        out = x + shift.astype(x.dtype if x.dtype.kind == "f" else np.float32)
        return out if self.clip is None else np.clip(out, *self.clip)

    def __repr__(self) -> str:
        return f"ColorShift(max_shift={self.max_shift})"


class PCAColor:
    """PCA colour augmentation (K9; Krizhevsky et al., 2012, "fancy PCA").

    :meth:`fit` finds the principal components of the pixel colours of your
    training images: the eigenvectors p_i and eigenvalues lambda_i of the C x C
    covariance of all pixels' colour vectors. Each augmented image then gets the
    same colour offset at every pixel,

        delta = sum_i alpha_i * lambda_i^(1/2) * p_i,   alpha_i ~ N(0, std^2),

    so colours shift mostly along the directions in which they vary in the data.

    Args:
        std: the standard deviation of alpha (AlexNet used 0.1).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> train = rng.random((20, 3, 8, 8)).astype(np.float32)
        >>> pca = PCAColor(std=0.1).fit(train)
        >>> pca.eigenvalues.shape, pca.eigenvectors.shape
        ((3,), (3, 3))
    """

    def __init__(self, std: float = 0.1) -> None:
        self.std = real("PCAColor", "std", std, low=0.0)
        self.eigenvalues: np.ndarray | None = None
        self.eigenvectors: np.ndarray | None = None

    def fit(self, images: Any) -> PCAColor:
        """Fit the colour components on training images (N, C, H, W)."""
        x = _images("PCAColor.fit", images)
        if x.shape[0] == 0:
            raise ValueError("PCAColor.fit: no images")
        pixels = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]).astype(np.float64)  # (P, C)
        covariance = np.atleast_2d(np.cov(pixels, rowvar=False))
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)  # ascending
        self.eigenvalues = np.clip(eigenvalues[::-1], 0.0, None)
        self.eigenvectors = eigenvectors[:, ::-1]  # columns p_i, largest first
        return self

    def __call__(self, images: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
        if self.eigenvalues is None or self.eigenvectors is None:
            raise RuntimeError("PCAColor: call fit(training_images) first")
        x = _images("PCAColor", images)
        channels = self.eigenvalues.shape[0]
        if x.shape[1] != channels:
            raise ShapeError(f"PCAColor: fitted on {channels} channels; got images with "
                             f"{x.shape[1]}")
        alpha = resolve_rng(rng).normal(0.0, self.std, (x.shape[0], channels))  # (N, C)
        delta = (alpha * np.sqrt(self.eigenvalues)) @ self.eigenvectors.T  # (N, C)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        return x + delta[:, :, None, None].astype(dtype)

    def __repr__(self) -> str:
        return f"PCAColor(std={self.std})"


class Reshape:
    """Give flat examples an image shape for the augmentations, and flatten them back.

    Wraps an augmentation so it can run on (N, C*H*W) batches, as an MLP eats them.

    Example:
        >>> flat = np.zeros((5, 784))
        >>> Reshape((1, 28, 28), RandomCrop(28, padding=2))(flat, 0).shape
        (5, 784)
    """

    def __init__(self, image_shape: tuple[int, int, int], augmentation: Augmentation) -> None:
        if len(image_shape) != 3:
            raise ValueError(f"Reshape: `image_shape` must be (C, H, W); got {image_shape}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.augmentation = augmentation

    def __call__(self, flat: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
        x = np.asarray(flat)
        images = x.reshape(x.shape[0], *self.image_shape)
        return np.asarray(self.augmentation(images, resolve_rng(rng))).reshape(x.shape)

    def __repr__(self) -> str:
        return f"Reshape({self.image_shape}, {self.augmentation!r})"


class MultiCrop:
    """Fixed crops of each test image, for test-time augmentation (multi-crop, K10).

    The seed's 10-crop: the centre crop, the four corner crops, and the same five of
    the mirrored image. ``predict(model, X, tta=MultiCrop(...))`` runs the model on
    every crop and averages the probabilities. Unlike the random augmentations it
    is deterministic and returns all the crops at once: a (crops, N, C, h, w) array.

    Args:
        size: the crop's (height, width), an int or a pair.
        crops: 1 (centre), 2 (centre and its mirror), 5 (corners and centre) or 10
            (those five and their mirrors).
        padding: zeros added on every side first, so ``size`` may equal the image
            size (the crops are then shifts by ``padding`` pixels, matching a
            ``RandomCrop(size, padding)`` used in training).

    Raises:
        ValueError: ``crops`` not one of 1, 2, 5, 10.
        ShapeError: the crop is larger than the (padded) image.

    Example:
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> views = MultiCrop(2, crops=10)(x)
        >>> views.shape
        (10, 1, 1, 2, 2)
        >>> views[0, 0, 0].tolist(), views[5, 0, 0].tolist()   # centre, mirrored centre
        ([[5.0, 6.0], [9.0, 10.0]], [[6.0, 5.0], [10.0, 9.0]])
    """

    def __init__(self, size: int | tuple[int, int], crops: int = 10, padding: int = 0) -> None:
        self.size = pair("MultiCrop", "size", size)
        if crops not in (1, 2, 5, 10) or isinstance(crops, bool):
            raise ValueError(f"MultiCrop: `crops` must be 1, 2, 5 or 10; got {crops!r}")
        self.crops = int(crops)
        self.padding = non_negative_int("MultiCrop", "padding", padding)

    def __call__(self, images: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
        x = _images("MultiCrop", images)
        p = self.padding
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        height, width = x.shape[2:]
        h, w = self.size
        if h > height or w > width:
            raise ShapeError(f"MultiCrop: crop {self.size} is larger than the "
                             f"{'padded ' if p else ''}image ({height}, {width})")
        top, left = (height - h) // 2, (width - w) // 2
        corners = [(top, left), (0, 0), (0, width - w), (height - h, 0),
                   (height - h, width - w)]
        chosen = corners[:1] if self.crops in (1, 2) else corners
        views = [x[:, :, y:y + h, c:c + w] for y, c in chosen]
        if self.crops in (2, 10):
            views += [v[:, :, :, ::-1] for v in views]
        return np.stack(views)  # (crops, N, C, h, w)

    def __repr__(self) -> str:
        return f"MultiCrop(size={self.size}, crops={self.crops}, padding={self.padding})"
