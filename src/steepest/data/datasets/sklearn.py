"""Small classic data sets through scikit-learn (an optional extra)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _sklearn_datasets() -> Any:
    try:
        from sklearn import datasets
    except ImportError as error:
        raise ImportError("this data set comes from scikit-learn: pip install steepest[sklearn] "
                          "(or pip install scikit-learn)") from error
    return datasets


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The Wisconsin breast-cancer set: 569 tumours, 30 features, malignant (0) / benign (1).

    Structured (tabular) data for binary classification (B1, F2). Standardise it
    (``Standardizer``) before gradient descent (I9).

    Returns:
        X float32 (569, 30), y int64 (569,).

    Example:
        >>> X, y = load_breast_cancer()
        >>> X.shape, sorted(set(y.tolist()))
        ((569, 30), [0, 1])
    """
    X, y = _sklearn_datasets().load_breast_cancer(return_X_y=True)
    return X.astype(np.float32), y.astype(np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """1,797 handwritten digits as 8x8 images with 17 grey levels (0-16), 10 classes.

    Returns:
        images float32 (1797, 8, 8), labels int64 (1797,).

    Example:
        >>> images, labels = load_digits()
        >>> images.shape, int(labels.max())
        ((1797, 8, 8), 9)
    """
    data = _sklearn_datasets().load_digits()
    return data.images.astype(np.float32), data.target.astype(np.int64)
