"""Data: mini-batches, splits, preprocessing, augmentation and the embedded data sets."""

from __future__ import annotations

from . import augment, datasets
from .loader import DataLoader, check_examples

__all__ = ["DataLoader", "augment", "check_examples", "datasets"]
