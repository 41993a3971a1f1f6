"""Data: mini-batches, splits, preprocessing, augmentation and the embedded data sets."""

from __future__ import annotations

from . import augment, datasets
from .loader import DataLoader, check_examples
from .preprocess import Standardizer, roll, scale_images, unroll
from .split import Splits, recommend_split, train_dev_split, train_dev_test_split

__all__ = ["DataLoader", "Splits", "Standardizer", "augment", "check_examples", "datasets",
           "recommend_split", "roll", "scale_images", "train_dev_split", "train_dev_test_split",
           "unroll"]
