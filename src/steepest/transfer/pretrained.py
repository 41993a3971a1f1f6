"""Shipped pre-trained weights and the seed's small target task (concepts K8, M14)."""

from __future__ import annotations

import numpy as np

from ..data.datasets.sklearn import load_digits
from ..models.lenet import LeNet5


def pretrained_lenet5() -> LeNet5:
    """The LeNet-5 shipped with steepest, trained on the 5,000 embedded MNIST digits.

    The same as :meth:`steepest.models.LeNet5.pretrained`; see there.

    Example:
        >>> pretrained_lenet5().num_classes
        10
    """
    return LeNet5.pretrained()


def _interpolation_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) weights of linear interpolation, pixel centres aligned."""
    centres = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    centres = np.clip(centres, 0, size_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    frac = centres - low
    matrix = np.zeros((size_out, size_in))
    matrix[np.arange(size_out), low] += 1 - frac
    matrix[np.arange(size_out), high] += frac
    return matrix


def load_digits_28() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits made to look like MNIST: 28x28 float images in [0, 1].

    The transfer target of ``docs/transfer.md``: 1,797 digits written by other
    people, scanned differently, at a quarter of the resolution. Each 8x8 image
    (grey levels 0-16) is enlarged to 20x20 by bilinear interpolation and centred
    in a 28x28 frame with a 4-pixel border, as MNIST centres its digits in a
    20x20 box.

    Returns:
        images float32 (1797, 1, 28, 28) in [0, 1]; labels int64 (1797,).

    Raises:
        ImportError: scikit-learn is not installed.

    Example:
        >>> images, labels = load_digits_28()
        >>> images.shape, float(images.max()) <= 1.0
        ((1797, 1, 28, 28), True)
    """
    small, labels = load_digits()
    grow = _interpolation_matrix(8, 20)  # (20, 8)
    large = np.einsum("ij,njk,lk->nil", grow, small / 16.0, grow)  # (N, 20, 20)
    images = np.zeros((len(small), 1, 28, 28), np.float32)
    images[:, 0, 4:24, 4:24] = large
    return images, labels
