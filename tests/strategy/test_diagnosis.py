"""The diagnosis reproduces every worked example of the seed (I2, M7, M12)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import steepest as st
from steepest import NonFiniteError
from steepest.strategy import diagnose, diagnose_model


def test_high_variance_1_11() -> None:
    d = diagnose(0.01, 0.11)
    assert d.dominant == "variance"
    assert d.variance == pytest.approx(0.10) and d.avoidable_bias == pytest.approx(0.01)
    assert d.data_mismatch is None and d.dev_overfitting is None
    assert d.bayes_error_assumed and d.bayes_error == 0
    assert "more training data" in d.recommendations[0]


def test_high_bias_15_16() -> None:
    d = diagnose(0.15, 0.16)
    assert d.dominant == "avoidable_bias" and d.problems == ("avoidable_bias",)
    assert "bigger network" in d.recommendations[0]


def test_bayes_15_percent_makes_15_16_fine() -> None:
    d = diagnose(0.15, 0.16, human_error=0.15)
    assert d.dominant is None and d.problems == ()
    assert d.avoidable_bias == pytest.approx(0) and d.variance == pytest.approx(0.01)
    assert "No gap reaches" in d.report()


def test_data_mismatch_1_15_10() -> None:
    d = diagnose(0.01, 0.10, train_dev_error=0.015)
    assert d.dominant == "data_mismatch"
    assert d.variance == pytest.approx(0.005) and d.data_mismatch == pytest.approx(0.085)
    assert "synthesise" in d.recommendations[0]


def test_bias_and_mismatch_10_11_20() -> None:
    # The seed: high avoidable bias (Bayes about 0) and a serious data mismatch.
    d = diagnose(0.10, 0.20, train_dev_error=0.11)
    assert d.problems == ("avoidable_bias", "data_mismatch")
    assert d.dominant == "avoidable_bias"
    assert d.variance == pytest.approx(0.01)
    assert len(d.recommendations) == 2


def test_overfitting_the_dev_set() -> None:
    d = diagnose(0.02, 0.03, test_error=0.09, human_error=0.01)
    assert d.dominant == "dev_overfitting"
    assert "bigger dev set" in d.recommendations[0]


def test_report_is_readable() -> None:
    text = diagnose(0.01, 0.10, train_dev_error=0.015, human_error=0.005).report()
    for phrase in ("Bayes error (human-level proxy)", "training error", "train-dev error",
                   "data mismatch", "<- largest", "What to do"):
        assert phrase in text
    assert str(diagnose(0.01, 0.11)) == diagnose(0.01, 0.11).report()


@pytest.mark.parametrize("kwargs,error,message", [
    ({"train_error": math.nan, "dev_error": 0.1}, NonFiniteError, "`train_error` is NaN"),
    ({"train_error": 0.1, "dev_error": 1.2}, ValueError, r"`dev_error` must be in \[0, 1\]"),
    ({"train_error": -0.1, "dev_error": 0.1}, ValueError, r"`train_error` must be in \[0, 1\]"),
    ({"train_error": 0.1, "dev_error": 0.2, "human_error": float("nan")}, NonFiniteError,
     "`human_error` is NaN"),
    ({"train_error": 0.1}, ValueError, "give `dev_error`"),
    ({"train_error": 0.1, "train_dev_error": 0.2, "test_error": 0.3}, ValueError,
     "`test_error` needs `dev_error`"),
])
def test_bad_input(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        diagnose(**kwargs)


def test_diagnose_model_computes_the_errors() -> None:
    X, y = st.data.datasets.make_planar(200, rng=0)
    model = st.models.MLP([2, 8, 2], activation="tanh", rng=0)
    st.train.fit(model, X[:150], y[:150], epochs=5, verbose=0)
    splits = st.data.Splits(train=(X[:150], y[:150]), dev=(X[150:], y[150:]))
    d = diagnose_model(model, splits)
    predictions = model.predict(X[150:])
    assert d.dev_error == pytest.approx(float((predictions != y[150:]).mean()))
    assert d.train_error == pytest.approx(1 - st.train.evaluate(model, X[:150], y[:150])
                                          ["accuracy"])


def test_diagnose_model_with_binary_outputs() -> None:
    X, y = st.data.datasets.make_planar(100, rng=0)
    model = st.models.LogisticRegression(2)
    d = diagnose_model(model, {"train": (X, y), "dev": (X, y)})
    assert 0 <= d.train_error <= 1 and d.variance == pytest.approx(0)
    assert np.isfinite(d.avoidable_bias)
