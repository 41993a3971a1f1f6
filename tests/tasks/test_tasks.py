"""Tasks: the contract between a model's outputs, its targets, the loss and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error

import steepest as st
import steepest.functional as F
from steepest.tasks import (
    Auxiliary,
    Binary,
    Classification,
    MultiLabel,
    MultiTask,
    Regression,
    Task,
    resolve_loss,
    resolve_task,
)


# ---------------------------------------------------------------- encoding and checks
@pytest.mark.parametrize("task,y,error,message", [
    (Classification(), np.zeros((4, 1), int), st.ShapeError, r"labels must have shape \(m,\)"),
    (Classification(), np.array([0.0, 1.5, 1, 0]), TypeError, r"whole class numbers"),
    (Classification(3), np.array([0, 3, 1, 0]), ValueError, r"\[0, 3\); got 3"),
    (Classification(), np.array([-1, 0, 1, 0]), ValueError, r"\[0, C\); got -1"),
    (Classification(), np.array(["a", "b", "a", "b"]), TypeError,
     r"Classification targets must be numbers.*return_inverse"),
    (Classification(3), np.eye(4)[:, :4], st.ShapeError, r"4 columns but the task has 3"),
    (Binary(), np.zeros((4, 2)), st.ShapeError, r"MultiLabel"),
    (Binary(), np.array([0, 1, 2, 1]), ValueError, r"Binary targets must lie in \[0, 1\]"),
    (Binary(), np.array([0, 1, np.nan, 1]), ValueError, r"NaN or Inf"),
    (MultiLabel(2), np.zeros((4, 3)), st.ShapeError, r"need 2 columns; got 3"),
    (MultiLabel(), np.array([[0, 2.0]] * 4), ValueError, r"0, 1 or NaN"),
    (Regression(), np.array([1.0, np.inf, 0, 0]), ValueError, r"NaN or Inf"),
])
def test_bad_targets_name_the_task_and_the_fix(task, y, error, message) -> None:
    with pytest.raises(error, match=message):
        task.encode_targets(y)


def test_targets_are_encoded_for_their_loss() -> None:
    assert Classification().encode_targets([0.0, 2.0, 1.0]).dtype == np.int64
    assert Binary().encode_targets(np.array([True, False])).tolist() == [[1.0], [0.0]]
    assert Regression().encode_targets([1.5, 2.5]).shape == (2, 1)
    multi = MultiLabel().encode_targets([[1, np.nan], [0, 1]])
    assert np.isnan(multi[0, 1]) and multi.dtype == np.float32


@pytest.mark.parametrize("task,outputs,targets,message", [
    (Classification(), np.zeros((4, 1)), np.zeros(4, int), r"C >= 2 logits.*Binary"),
    (Classification(), np.zeros((4, 3)), np.array([0, 1, 5, 0]), r"a label is 5 but the model"
                                                                    r" has 3 outputs"),
    (Classification(4), np.zeros((4, 3)), np.zeros(4, int), r"4 classes but the model returns 3"),
    (Binary(), np.zeros((4, 2)), np.zeros((4, 1)), r"one logit per example.*Classification"),
    (MultiLabel(), np.zeros((4, 2)), np.zeros((4, 3)), r"3 labels needs outputs of shape"),
    (Regression(), np.zeros((4, 2)), np.zeros((4, 1)), r"do not match the model's outputs"),
    (Classification(), (np.zeros((4, 2)), np.zeros((4, 2))), np.zeros(4, int), r"MultiTask"),
])
def test_outputs_are_checked_against_the_targets(task, outputs, targets, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        task.validate(outputs, targets)


def test_a_mismatched_model_fails_on_the_first_batch_with_the_tasks_words() -> None:
    X = np.zeros((8, 2), np.float32)
    with pytest.raises(ValueError, match=r"a label is 4 but the model has 3 outputs"):
        st.train.fit(st.nn.Sequential(st.nn.Linear(2, 3)), X, np.arange(8) % 5,
                     task="classification", epochs=1, verbose=0)


# ---------------------------------------------------------------- reading outputs
def test_classifier_predictions_probabilities_and_metrics_match_sklearn(rng) -> None:
    z = rng.normal(size=(50, 4))
    y = rng.integers(0, 4, 50)
    task = Classification(4)
    np.testing.assert_array_equal(task.predict(z), z.argmax(1))
    np.testing.assert_allclose(task.predict_proba(z), torch.softmax(torch.from_numpy(z), 1),
                               rtol=1e-12)
    results = task.compute_metrics(["accuracy", "error", "f1", "precision"], y, z)
    assert results["accuracy"] == pytest.approx(accuracy_score(y, z.argmax(1)))
    assert results["error"] == pytest.approx(1 - results["accuracy"])
    assert results["f1"] == pytest.approx(f1_score(y, z.argmax(1), average="macro"))
    # one-hot targets read as their argmax
    assert task.compute_metrics(["accuracy"], np.eye(4)[y], z) == {"accuracy": results["accuracy"]}


def test_binary_reads_logits_at_zero_and_reports_two_class_probabilities(rng) -> None:
    z = rng.normal(size=(30, 1))
    y = (rng.random(30) < 0.5).astype(float).reshape(-1, 1)
    task = Binary()
    np.testing.assert_array_equal(task.predict(z).ravel(), (z.ravel() > 0).astype(int))
    p = task.class_probabilities(z)
    np.testing.assert_allclose(p[:, 1], torch.sigmoid(torch.from_numpy(z)).numpy().ravel())
    np.testing.assert_allclose(p.sum(1), 1.0)
    f1 = task.compute_metrics(["f1"], y, z)["f1"]
    assert f1 == pytest.approx(f1_score(y.ravel(), z.ravel() > 0))


def test_multilabel_metrics_count_only_known_labels() -> None:
    y = np.array([[1, np.nan, 0], [0, 1, np.nan], [np.nan, 0, 1]], dtype=np.float32)
    z = np.array([[5.0, 5.0, 5.0], [-5, 5, 5], [5, -5, 5]])  # 1 wrong of 6 known
    results = MultiLabel(3).compute_metrics(["accuracy", "f1"], y, z)
    known = ~np.isnan(y)
    assert results["accuracy"] == pytest.approx(5 / 6)
    assert results["f1"] == pytest.approx(f1_score(y[known].astype(int), (z > 0)[known]))


def test_regression_metrics_match_sklearn(rng) -> None:
    y = rng.normal(size=(20, 2))
    z = y + rng.normal(size=(20, 2))
    results = Regression().compute_metrics(["mse", "rmse", "mae"], y, z)
    assert results["mse"] == pytest.approx(mean_squared_error(y, z))
    assert results["rmse"] == pytest.approx(mean_squared_error(y, z) ** 0.5)
    assert results["mae"] == pytest.approx(mean_absolute_error(y, z))
    with pytest.raises(ValueError, match="Regression task has no metric 'accuracy'"):
        Regression().check_metrics(["accuracy"])
    with pytest.raises(ValueError, match="no error rate"):
        Regression().error_rate(y, z)


# ---------------------------------------------------------------- resolution
def test_models_carry_their_default_task() -> None:
    assert st.models.LeNet5().default_task() == Classification(10)
    assert st.models.LogisticRegression(3).default_task() == Binary()
    assert st.models.MLP([2, 4], output="sigmoid").default_task() == MultiLabel(4)
    assert st.models.MLP([2, 1], output="sigmoid").default_task() == Binary()
    assert st.models.MLP([2, 1], output="linear").default_task() == Regression()
    assert resolve_task(None, st.nn.Linear(2, 2)) is None
    assert resolve_task("binary", st.models.LeNet5()) == Binary()


def test_a_custom_loss_keeps_the_tasks_encoding_and_a_bare_module_needs_a_task() -> None:
    custom = lambda z, t: F.cross_entropy(z, t)  # noqa: E731
    function, task = resolve_loss(custom, Classification())
    assert function is custom and task == Classification()
    assert resolve_loss("mse", None)[1] == Regression()  # a library loss implies its task
    assert type(resolve_loss(custom, None)[1]) is Task  # anything else passes targets through
    with pytest.raises(ValueError, match=r"no default task; pass task="):
        st.train.fit(st.nn.Linear(2, 2), np.zeros((4, 2)), np.zeros(4, int), verbose=0)
    with pytest.raises(ValueError, match=r"unknown task 'ranking'"):
        st.train.fit(st.nn.Linear(2, 2), np.zeros((4, 2)), np.zeros(4, int), task="ranking")


def test_predict_and_evaluate_take_a_task_override(rng) -> None:
    net = st.models.MLP([3, 2], output="softmax", rng=0)
    X = rng.normal(size=(10, 3)).astype(np.float32)
    z = net(X).data
    np.testing.assert_array_equal(st.train.predict(net, X), z.argmax(1))
    multi = st.train.predict(net, X, task=MultiLabel(2))  # the same logits read per unit
    np.testing.assert_array_equal(multi, (z > 0).astype(int))
    result = st.train.evaluate(net, X, (z > 0).astype(float), task="multilabel")
    assert result["accuracy"] == 1.0


# ---------------------------------------------------------------- learning through fit
def test_lenet5_learns_with_a_lambda_wrapped_cross_entropy_and_integer_labels() -> None:
    # The review's report: a user's own loss made fit turn integer labels into (m, 1)
    # floats. The task encodes the targets, so any callable works.
    images, labels = st.data.datasets.load_mnist_sample()
    order = np.random.default_rng(0).permutation(len(images))[:1200]
    X = images[order, None].astype(np.float32) / 255
    y = labels[order]
    model = st.models.LeNet5(rng=0)
    history = st.train.fit(model, X[:1000], y[:1000], dev=(X[1000:], y[1000:]),
                           loss=lambda z, t: F.cross_entropy(z, t), epochs=2, batch_size=32,
                           optimizer=st.optim.Adam(model.parameters(), lr=3e-3), rng=0,
                           verbose=0)
    assert history.last("dev_accuracy") >= 0.85


def test_multilabel_mlp_learns_with_30_percent_unknown_labels() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 6)).astype(np.float32)
    W = rng.normal(size=(6, 3))
    y = (X @ W > 0).astype(np.float32)                      # three yes/no labels
    y_train = y[:900].copy()
    y_train[rng.random(y_train.shape) < 0.3] = np.nan      # the seed's "?"
    model = st.models.MLP([6, 32, 3], output="sigmoid", rng=0)
    history = st.train.fit(model, X[:900], y_train, epochs=30, batch_size=64, rng=0,
                           optimizer=st.optim.Adam(model.parameters(), lr=0.01), verbose=0,
                           metrics=["accuracy", "f1"])
    assert np.isfinite(history["loss"]).all()
    predicted = st.train.predict(model, X[900:])
    per_label = [f1_score(y[900:, k], predicted[:, k]) for k in range(3)]
    assert min(per_label) >= 0.9, per_label
    # unknown labels in the evaluation set are skipped, not counted as wrong
    y_test = y[900:].copy()
    y_test[::2, 0] = np.nan
    known = ~np.isnan(y_test)
    expected = (predicted[known] == y_test[known]).mean()
    assert st.train.evaluate(model, X[900:], y_test)["accuracy"] == pytest.approx(expected)


class TwoHeads(st.nn.Module):
    """A shared body with a class head and a regression head."""

    def __init__(self) -> None:
        super().__init__()
        self.body = st.nn.Linear(4, 16, rng=0)
        self.digit = st.nn.Linear(16, 3, rng=1)
        self.size = st.nn.Linear(16, 1, rng=2)

    def forward(self, x):
        h = F.relu(self.body(x))
        return {"digit": self.digit(h), "size": self.size(h)}


def test_a_two_headed_model_trains_on_a_weighted_sum_of_losses() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4)).astype(np.float32)
    digit = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    size = (X[:, 2] * 2 - X[:, 3]).astype(np.float32)
    task = MultiTask({"digit": Classification(3), "size": Regression()},
                     weights={"digit": 1.0, "size": 0.5})
    model = TwoHeads()
    targets = {"digit": digit, "size": size}
    before = st.train.evaluate(model, X, targets, task=task, metrics={"size": ["mae"],
                                                                      "digit": ["accuracy"]})
    # the reported loss is the weighted sum of the heads' losses
    assert before["loss"] == pytest.approx(before["digit_loss"] + 0.5 * before["size_loss"],
                                           rel=1e-5)
    history = st.train.fit(model, X[:500], {"digit": digit[:500], "size": size[:500]},
                           dev=(X[500:], {"digit": digit[500:], "size": size[500:]}), task=task,
                           epochs=40, batch_size=50, rng=0, verbose=0,
                           optimizer=st.optim.Adam(model.parameters(), lr=0.01))
    assert {"digit_accuracy", "dev_digit_accuracy", "dev_size_loss"} <= set(history.history)
    after = st.train.evaluate(model, X[500:], {"digit": digit[500:], "size": size[500:]},
                              task=task, metrics=["accuracy", "mae"])
    assert after["digit_accuracy"] >= 0.9
    assert after["size_mae"] < 0.3
    predictions = st.train.predict(model, X[:5], task=task)
    assert set(predictions) == {"digit", "size"} and predictions["digit"].shape == (5,)


def test_multitask_refuses_targets_that_miss_a_head() -> None:
    task = MultiTask({"a": Classification(), "b": Regression()})
    with pytest.raises(ValueError, match=r"lack the head\(s\) \['b'\]"):
        task.encode_targets({"a": [0, 1]})
    with pytest.raises(ValueError, match="weights"):
        MultiTask({"a": Classification()}, weights={"b": 1.0})


def test_auxiliary_heads_add_their_losses_with_a_weight() -> None:
    task = Auxiliary(Classification(2), weight=0.3)
    y = task.encode_targets([0, 1, 1])
    main = st.tensor(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    side = st.tensor(np.array([[0.0, 1.0], [3.0, 0.0], [0.0, 0.0]]))
    expected = F.cross_entropy(main, y).item() + 0.3 * F.cross_entropy(side, y).item()
    assert task.loss((main, side), y).item() == pytest.approx(expected, rel=1e-6)
    assert task.loss(main, y).item() == pytest.approx(F.cross_entropy(main, y).item())
    np.testing.assert_array_equal(task.predict((main.data, side.data)), [0, 1, 0])


def test_diagnose_model_reads_the_tasks_error_rate() -> None:
    net = st.models.MLP([2, 2], output="softmax", rng=0)
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    y = st.train.predict(net, X)
    splits = {"train": (X, y), "dev": (X, 1 - y)}
    rates = st.strategy.error_rates(net, splits)
    assert rates == {"train": 0.0, "dev": 1.0}
    with pytest.raises(ValueError, match="no error rate"):
        st.strategy.diagnose_model(net, splits, task="regression")
