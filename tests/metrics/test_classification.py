"""Metrics against scikit-learn on the same inputs, zero-division cases included (M2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from sklearn import metrics as skm

from steepest import ShapeError, metrics

CASES = {
    "binary": ([1, 0, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1, 0, 1]),
    "multiclass": ([0, 1, 2, 2, 1, 0, 2, 1], [0, 2, 2, 1, 1, 0, 0, 1]),
    "no predicted positives": ([1, 0, 1, 0], [0, 0, 0, 0]),
    "no actual positives": ([0, 0, 0, 0], [0, 1, 0, 1]),
    "all negative": ([0, 0, 0], [0, 0, 0]),
    "a class never predicted": ([0, 1, 2, 3], [0, 1, 1, 1]),
    "strings": (["cat", "dog", "dog", "cat"], ["cat", "cat", "dog", "cat"]),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted", None])
@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
def test_precision_recall_f1_match_sklearn(name, average, zero_division) -> None:
    y_true, y_pred = CASES[name]
    labels = set(y_true) | set(y_pred)
    if average == "binary" and (len(labels) > 2 or isinstance(y_true[0], str)):
        pytest.skip("binary needs 0/1 labels")
    for ours, theirs in [(metrics.precision, skm.precision_score),
                         (metrics.recall, skm.recall_score), (metrics.f1_score, skm.f1_score)]:
        expected = theirs(y_true, y_pred, average=average, zero_division=zero_division)
        got = ours(y_true, y_pred, average=average, zero_division=zero_division)
        np.testing.assert_allclose(got, expected, err_msg=f"{ours.__name__} {average}")


@pytest.mark.filterwarnings("ignore:A single label was found")  # scikit-learn's advice
@pytest.mark.parametrize("name", list(CASES))
def test_accuracy_and_confusion_matrix_match_sklearn(name) -> None:
    y_true, y_pred = CASES[name]
    assert metrics.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    assert metrics.error_rate(y_true, y_pred) == pytest.approx(1 - skm.accuracy_score(y_true,
                                                                                       y_pred))
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred),
                                  skm.confusion_matrix(y_true, y_pred))
    for normalize in ("true", "pred", "all"):
        np.testing.assert_allclose(metrics.confusion_matrix(y_true, y_pred, normalize=normalize),
                                   skm.confusion_matrix(y_true, y_pred, normalize=normalize))


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(0, 3), hs.integers(0, 3)), min_size=1, max_size=40))
def test_random_labels_match_sklearn(pairs) -> None:
    y_true = [a for a, _ in pairs]
    y_pred = [b for _, b in pairs]
    for average in ("macro", "micro", "weighted"):
        np.testing.assert_allclose(
            metrics.f1_score(y_true, y_pred, average=average),
            skm.f1_score(y_true, y_pred, average=average, zero_division=0.0))


def test_confusion_matrix_with_labels() -> None:
    np.testing.assert_array_equal(
        metrics.confusion_matrix([0, 1, 2], [0, 2, 2], labels=[2, 0]),
        skm.confusion_matrix([0, 1, 2], [0, 2, 2], labels=[2, 0]))


def test_the_seed_example_of_a_single_number() -> None:
    # Classifier A: P 95%, R 90%; B: P 98%, R 85%: F1 picks A.
    def f1(p, r):
        return 2 * p * r / (p + r)

    assert f1(0.95, 0.90) > f1(0.98, 0.85)


@pytest.mark.parametrize("call,error,message", [
    (lambda: metrics.accuracy([0, 1], [0]), ShapeError, "`y_true` has 2 labels but `y_pred` has 1"),
    (lambda: metrics.accuracy([], []), ValueError, "no labels"),
    (lambda: metrics.precision([0, 1, 2], [0, 1, 2]), ValueError,
     "multiclass .* but average='binary'"),
    (lambda: metrics.recall([0, 1], [0, 1], average="mean"), ValueError,
     "`average` must be one of"),
    (lambda: metrics.f1_score([0, 1], [0, 1], zero_division=0.5), ValueError,
     "`zero_division` must be"),
    (lambda: metrics.accuracy(np.zeros((2, 2)), np.zeros((2, 2))), ShapeError, "must be a 1-D"),
    (lambda: metrics.accuracy([0.0, np.nan], [0, 1]), ValueError, "contains NaN"),
    (lambda: metrics.precision([0, 2], [0, 2]), ValueError, "pos_label=1 is not a label"),
])
def test_bad_input(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()
