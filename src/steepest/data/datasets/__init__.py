"""Data sets: the embedded MNIST digits, the full MNIST, scikit-learn's, synthetic ones.

Example:
    >>> from steepest.data import datasets
    >>> images, labels = datasets.load_mnist_sample()
    >>> images.shape
    (5000, 28, 28)
"""

from __future__ import annotations

from .mnist import DatasetError, load_mnist, load_mnist_sample, read_idx
from .shapes import convert_boxes, make_shapes
from .sklearn import load_breast_cancer, load_digits
from .synthetic import make_planar

__all__ = ["DatasetError", "convert_boxes", "load_breast_cancer", "load_digits", "load_mnist",
           "load_mnist_sample", "make_planar", "make_shapes", "read_idx"]
