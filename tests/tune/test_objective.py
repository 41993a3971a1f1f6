"""fit_objective: one small real training run per trial, reported each epoch, pruned."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

import steepest as st
from steepest.tune import Choice, fit_objective, search


def build(params):
    return st.models.MLP([2, int(params.get("hidden", 8)), 2], output="softmax", rng=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X[:150], y[:150], (X[150:], y[150:])


def test_fit_objective_trains_reports_each_epoch_and_is_pruned(data):
    X, y, dev = data
    objective = fit_objective(build, X, y, dev, epochs=4, batch_size=50)
    # lr 1e-6 barely moves the weights: its dev error stays above the threshold and
    # the pruner stops it after the first epoch; lr 0.05 learns the linear rule.
    result = search(objective, {"lr": Choice([1e-6, 0.05])}, 4, rng=0,
                    pruner=optuna.pruners.ThresholdPruner(upper=0.2), metric="dev_error")
    by_lr = {t["params"]["lr"]: t for t in result.trials}
    assert set(by_lr) == {1e-6, 0.05}
    slow, good = by_lr[1e-6], by_lr[0.05]
    assert slow["state"] == "pruned" and len(slow["curve"]) == 1
    assert good["state"] == "complete" and [s for s, _ in good["curve"]] == [1, 2, 3, 4]
    assert good["value"] == good["curve"][-1][1] < 0.1
    # the value is the dev error of fit with the same settings
    model = build({})
    history = st.train.fit(model, X, y, dev=dev, epochs=4, batch_size=50, rng=0, verbose=0,
                           metrics=["accuracy", "error"],
                           optimizer=st.optim.Adam(model.parameters(), lr=0.05))
    assert good["value"] == pytest.approx(history.last("dev_error"))


def test_fit_objective_checks_its_arguments(data):
    X, y, dev = data
    with pytest.raises(TypeError, match="`dev` must be a pair"):
        fit_objective(build, X, y, dev[0])
    with pytest.raises(ValueError, match="`monitor` must be a dev-set value"):
        fit_objective(build, X, y, dev, monitor="loss")
    with pytest.raises(ValueError, match="`optimizer` must be one of"):
        fit_objective(build, X, y, dev, optimizer="lbfgs")


def test_a_trial_is_not_pruned_after_its_last_epoch() -> None:
    # A new user saw "pruned after epoch 10" for a 10-epoch trial: it had run to the end.
    from types import SimpleNamespace

    from steepest.tune.objective import ReportToTrial

    reports = []
    trial = SimpleNamespace(report=lambda value, step: reports.append(step),
                            should_prune=lambda: True)
    callback = ReportToTrial(trial, "dev_error")
    stops = []
    trainer = SimpleNamespace(epochs=3, stop=stops.append)
    callback.on_epoch_end(trainer, 3, {"dev_error": 0.1})
    assert reports == [3] and stops == [] and callback.pruned_at is None
    callback.on_epoch_end(trainer, 2, {"dev_error": 0.1})
    assert callback.pruned_at == 2 and len(stops) == 1
