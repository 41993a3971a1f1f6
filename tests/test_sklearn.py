"""steepest.sklearn: the estimator contract, Pipelines, grid search and cross-validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import steepest as st
from steepest.data.datasets import load_breast_cancer
from steepest.sklearn import (
    EXPECTED_FAILED_CHECKS,
    NeuralNetClassifier,
    NeuralNetRegressor,
)

FAST = {"hidden_layer_sizes": (8,), "epochs": 10, "batch_size": 64, "lr": 0.05, "rng": 0}


@pytest.mark.parametrize("estimator", [NeuralNetClassifier(**FAST), NeuralNetRegressor(**FAST)],
                         ids=["classifier", "regressor"])
def test_check_estimator(estimator: Any) -> None:
    # The default settings pass too (measured); these train in a fraction of the time.
    results = check_estimator(estimator, expected_failed_checks=EXPECTED_FAILED_CHECKS,
                              on_fail=None, on_skip=None)
    failed = [f"{r['check_name']}: {r['exception']}" for r in results
              if r["status"] == "failed"]
    assert len(results) > 50 and failed == []


def test_grid_search_over_the_learning_rate_on_breast_cancer() -> None:
    X, y = load_breast_cancer()
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_layer_sizes=(16,),
                                                               epochs=5, rng=0))
    search = GridSearchCV(pipe, {"neuralnetclassifier__lr": [1e-5, 0.03]}, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"neuralnetclassifier__lr": 0.03}
    assert search.best_score_ > 0.93
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] < scores[1]  # a learning rate too small barely moves in 5 epochs


def test_binary_probabilities_have_two_columns_like_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.where(X[:, 0] > 0, "pos", "neg")
    clf = NeuralNetClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert clf.classes_.tolist() == ["neg", "pos"] and clf.n_features_in_ == 3
    assert proba.shape == (90, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.module_.layer_sizes == [3, 8, 1]  # one sigmoid unit for two classes
    assert cross_val_score(NeuralNetClassifier(**FAST), X, y, cv=3).mean() > 0.9


def test_multiclass_factory_and_clone() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = np.argmax(X[:, :3], axis=1) * 10  # classes 0, 10, 20
    built: list[tuple[int, int]] = []

    def factory(n_features: int, n_outputs: int) -> st.nn.Module:
        built.append((n_features, n_outputs))
        return st.models.MLP([n_features, 16, n_outputs], rng=0)

    clf = NeuralNetClassifier(factory, epochs=30, lr=0.05, rng=0).fit(X, y)
    assert built == [(4, 3)] and clf.classes_.tolist() == [0, 10, 20]
    assert clf.predict_proba(X).shape == (120, 3) and clf.score(X, y) > 0.9
    twin = clone(clf)
    assert twin.get_params()["epochs"] == 30 and not hasattr(twin, "module_")


def test_a_given_module_is_trained_as_a_copy() -> None:
    X = np.random.default_rng(2).normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    net = st.models.LogisticRegression(2)
    before = {k: v.copy() for k, v in net.state_dict().items()}
    clf = NeuralNetClassifier(net, epochs=20, lr=0.1, regularization=0.01, rng=0).fit(X, y)
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())
    assert clf.module_ is not net and clf.score(X, y) > 0.9
    assert isinstance(clf._regularization(), st.nn.L2)


def test_partial_fit_trains_more_epochs_with_the_same_optimizer() -> None:
    X, y = load_breast_cancer()
    X = StandardScaler().fit_transform(X)
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), lr=0.001, rng=0)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    optimizer, first_loss = clf.optimizer_, clf.history_["loss"][-1]
    clf.partial_fit(X[:100], y[:100], epochs=3)
    assert clf.n_iter_ == 4 and clf.optimizer_ is optimizer
    assert clf.history_["loss"][-1] < first_loss
    only_zeros = NeuralNetClassifier(**FAST).partial_fit(X[:5], np.zeros(5), classes=[0, 1])
    assert only_zeros.classes_.tolist() == [0, 1]


def test_regressor_one_and_several_targets() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 3))
    Y = np.stack([X @ [1.0, -1.0, 0.5], X[:, 0] - 0.5 * X[:, 2]], axis=1)
    reg = NeuralNetRegressor(hidden_layer_sizes=(), epochs=40, lr=0.05, rng=0)
    assert reg.fit(X, Y).predict(X).shape == (150, 2) and reg.score(X, Y) > 0.98
    assert reg.fit(X, Y[:, 0]).predict(X).shape == (150,)
    reg.partial_fit(X, Y[:, 0])
    assert reg.n_iter_ == 41


@pytest.mark.parametrize(("settings", "error", "message"), [
    ({"epochs": 0}, ValueError, "NeuralNetClassifier: `epochs` must be a positive int; got 0"),
    ({"lr": -1.0}, ValueError, "`lr` must be a positive number; got -1.0"),
    ({"optimizer": "newton"}, ValueError, r"`optimizer` must be one of \['adam'"),
    ({"module": 42}, TypeError, "`module` must be None, a steepest Module or a factory"),
    ({"module": lambda n, k: "net"}, TypeError, r"`module\(2, 1\)` must return a steepest "
                                                "Module; got str"),
])
def test_bad_settings_are_reported_at_fit(settings: dict[str, Any], error: type,
                                          message: str) -> None:
    clf = NeuralNetClassifier(**settings)  # the constructor stores, as scikit-learn requires
    with pytest.raises(error, match=message):
        clf.fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_one_class_and_unknown_labels() -> None:
    with pytest.raises(ValueError, match="y has only one class"):
        NeuralNetClassifier(**FAST).fit(np.zeros((4, 2)), [1, 1, 1, 1])
    clf = NeuralNetClassifier(**FAST).partial_fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"labels not in classes_ \[0, 1\]: \[7\]"):
        clf.partial_fit(np.zeros((2, 2)), [0, 7])
