"""Classification metrics: accuracy, error rate, precision, recall, F1, confusion matrix."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validation import ShapeError, fmt_shape, one_of
from ..autograd import Tensor
from ..backend import to_numpy

Average = Literal["binary", "macro", "micro", "weighted"] | None


def _labels_1d(owner: str, name: str, values: Any) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.data
    array = to_numpy(values) if hasattr(values, "shape") else np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ShapeError(f"{owner}: `{name}` must be a 1-D array of labels (m,) or (m, 1); got "
                         f"shape {fmt_shape(array.shape)}")
    return array


def _pair(owner: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _labels_1d(owner, "y_true", y_true)
    p = _labels_1d(owner, "y_pred", y_pred)
    if t.shape[0] != p.shape[0]:
        raise ShapeError(f"{owner}: `y_true` has {t.shape[0]} labels but `y_pred` has "
                         f"{p.shape[0]}")
    if t.shape[0] == 0:
        raise ValueError(f"{owner}: no labels (empty y_true and y_pred)")
    for name, array in (("y_true", t), ("y_pred", p)):
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{owner}: `{name}` contains NaN or Inf")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of examples whose prediction equals the label.

    Example:
        >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
        0.75
    """
    t, p = _pair("accuracy", y_true, y_pred)
    return float(np.mean(t == p))


def error_rate(y_true: Any, y_pred: Any) -> float:
    """1 - accuracy: the error that bias/variance diagnosis works with (I2, M7).

    Example:
        >>> error_rate([0, 1, 2, 2], [0, 1, 1, 2])
        0.25
    """
    return 1.0 - accuracy(y_true, y_pred)


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Any = None,
                     normalize: Literal["true", "pred", "all"] | None = None) -> np.ndarray:
    """C[i, j] = number of examples of class labels[i] predicted as labels[j].

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        labels: the classes, in order (default: all seen in either, sorted).
        normalize: divide by row sums ("true"), column sums ("pred") or the total.

    Example:
        >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
        array([[1, 0, 0],
               [0, 1, 1],
               [0, 0, 1]])
    """
    t, p = _pair("confusion_matrix", y_true, y_pred)
    classes = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    if classes.size == 0:
        raise ValueError("confusion_matrix: `labels` is empty")
    index = {value: i for i, value in enumerate(classes.tolist())}
    keep = np.array([a in index and b in index for a, b in zip(t.tolist(), p.tolist())])
    rows = np.array([index[a] for a in t[keep].tolist()], dtype=np.intp)
    cols = np.array([index[b] for b in p[keep].tolist()], dtype=np.intp)
    matrix = np.zeros((classes.size, classes.size), dtype=np.int64)
    np.add.at(matrix, (rows, cols), 1)
    if normalize is None:
        return matrix
    one_of("confusion_matrix", "normalize", normalize, ("true", "pred", "all"))
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            result = matrix / matrix.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            result = matrix / matrix.sum(axis=0, keepdims=True)
        else:
            result = matrix / matrix.sum()
    return np.nan_to_num(result)


def classification_counts(y_true: Any, y_pred: Any, labels: Any = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per class: (labels, true positives, predicted positives, actual positives = support).

    Example:
        >>> classification_counts([0, 1, 1], [0, 1, 0])[1:]
        (array([1., 1.]), array([2., 1.]), array([1., 2.]))
    """
    t, p = _pair("classification_counts", y_true, y_pred)
    classes = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    tp = np.array([np.sum((t == c) & (p == c)) for c in classes], dtype=np.float64)
    predicted = np.array([np.sum(p == c) for c in classes], dtype=np.float64)
    actual = np.array([np.sum(t == c) for c in classes], dtype=np.float64)
    return classes, tp, predicted, actual


def _divide(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    result = np.full(numerator.shape, float(zero_division))
    np.divide(numerator, denominator, out=result, where=denominator != 0)
    return result


def _score(owner: str, which: str, y_true: Any, y_pred: Any, average: Average, pos_label: Any,
           labels: Any, zero_division: float) -> Any:
    one_of(owner, "average", average, ("binary", "macro", "micro", "weighted", None))
    if not (zero_division in (0, 1) or np.isnan(zero_division)):
        raise ValueError(f"{owner}: `zero_division` must be 0.0, 1.0 or np.nan; got "
                         f"{zero_division!r}")
    t, p = _pair(owner, y_true, y_pred)
    if average == "binary":
        present = np.unique(np.concatenate([t, p]))
        if present.size > 2:
            raise ValueError(f"{owner}: the labels are multiclass ({present.size} classes: "
                             f"{present.tolist()[:10]}) but average='binary'; choose 'macro', "
                             "'micro', 'weighted' or None")
        if present.size == 2 and pos_label not in present.tolist():
            raise ValueError(f"{owner}: pos_label={pos_label!r} is not a label; labels are "
                             f"{present.tolist()}")
        labels = [pos_label]
    _, tp, predicted, actual = classification_counts(t, p, labels)
    support = actual  # per class, kept before micro-averaging pools the counts
    if average == "micro":
        tp, predicted, actual = tp.sum(keepdims=True), predicted.sum(keepdims=True), \
            actual.sum(keepdims=True)
    if which == "precision":
        values = _divide(tp, predicted, zero_division)
    elif which == "recall":
        values = _divide(tp, actual, zero_division)
    else:
        values = _divide(2 * tp, predicted + actual, zero_division)
    if average is None:
        return values
    if average in ("binary", "micro"):
        return float(values[0])
    weights = support if average == "weighted" else np.ones_like(values)
    keep = ~np.isnan(values)  # zero_division=nan leaves those classes out
    if not keep.any():
        return float("nan")
    if weights[keep].sum() == 0:
        return 0.0
    return float(np.average(values[keep], weights=weights[keep]))


def precision(y_true: Any, y_pred: Any, *, average: Average = "binary", pos_label: Any = 1,
              labels: Any = None, zero_division: float = 0.0) -> Any:
    """TP / (TP + FP): of the examples predicted positive, the share that are (M2).

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        average: "binary" (the ``pos_label`` class), "macro" (unweighted mean over
            classes), "micro" (from totals), "weighted" (by support) or None (per class).
        pos_label: the positive class for "binary".
        labels: the classes to report (default: all seen, sorted).
        zero_division: the value where TP + FP = 0.

    Example:
        >>> precision([0, 1, 2, 2], [0, 1, 1, 2], average=None)
        array([1. , 0.5, 1. ])
    """
    return _score("precision", "precision", y_true, y_pred, average, pos_label, labels,
                  zero_division)


def recall(y_true: Any, y_pred: Any, *, average: Average = "binary", pos_label: Any = 1,
           labels: Any = None, zero_division: float = 0.0) -> Any:
    """TP / (TP + FN): of the positive examples, the share that was found (M2).

    Example:
        >>> recall([0, 1, 2, 2], [0, 1, 1, 2], average="macro")
        0.8333333333333334
    """
    return _score("recall", "recall", y_true, y_pred, average, pos_label, labels, zero_division)


def f1_score(y_true: Any, y_pred: Any, *, average: Average = "binary", pos_label: Any = 1,
             labels: Any = None, zero_division: float = 0.0) -> Any:
    """F1 = 2 P R / (P + R) = 2 TP / (2 TP + FP + FN), the harmonic mean (M2).

    Example:
        >>> f1_score([0, 1, 2, 2], [0, 1, 1, 2], average="micro")
        0.75
    """
    return _score("f1_score", "f1", y_true, y_pred, average, pos_label, labels, zero_division)
