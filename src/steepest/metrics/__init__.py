"""Evaluation metrics on the host (NumPy), identical to scikit-learn's (concept M2).

A single-number metric speeds up iteration: precision P (of the examples predicted
positive, how many are), recall R (of the positive examples, how many were found),
and their harmonic mean F1 = 2PR / (P + R).

Zero division: where a ratio has a zero denominator (no predicted positives for
precision, no actual positives for recall, neither for F1), the value is
``zero_division`` (default 0.0, scikit-learn's result with ``zero_division=0``;
``np.nan`` leaves such classes out of ``"macro"`` and ``"weighted"`` averages, as in
scikit-learn). No warning is raised.

Example:
    >>> y_true = [1, 0, 1, 1, 0]
    >>> y_pred = [1, 0, 0, 1, 1]
    >>> precision(y_true, y_pred), recall(y_true, y_pred), round(f1_score(y_true, y_pred), 4)
    (0.6666666666666666, 0.6666666666666666, 0.6667)
"""

from __future__ import annotations

from .classification import (
    accuracy,
    classification_counts,
    confusion_matrix,
    error_rate,
    f1_score,
    precision,
    recall,
)

__all__ = ["accuracy", "classification_counts", "confusion_matrix", "error_rate", "f1_score",
           "precision", "recall"]
