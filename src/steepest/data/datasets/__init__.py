"""Data sets: the embedded MNIST digits, downloadable MNIST, scikit-learn's, synthetic ones."""

from __future__ import annotations

from .mnist import load_mnist_sample
from .synthetic import make_planar

__all__ = ["load_mnist_sample", "make_planar"]
