"""A ready objective: build a model from the hyperparameters, ``fit`` it, report each epoch.

The callback reports the dev metric after every epoch to the Optuna trial, so a pruner
(median, successive halving) can stop a run whose learning curve is already worse
than the others' at the same epoch: the "pandas" habit of watching curves and stopping
bad runs early, done for every model of a "caviar" search (H4).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

from .._validation import one_of, positive_int
from ..nn.module import Module
from ..nn.regularization import L2
from ..optim.rules import OPTIMIZERS
from ..optim.schedules import InverseTimeDecay
from ..train.callbacks import Callback

#: Hyperparameter names the objective uses itself; every other one is for build_model.
TRAINING_NAMES = ("lr", "decay", "batch", "batch_size", "l2", "epochs")


def report(trial: Any, value: float, step: int) -> None:
    """Report a learning-curve point; raise Optuna's TrialPruned if the pruner says stop.

    For hand-written objectives:
    ``for epoch in ...: report(trial, dev_error, epoch)``.
    """
    trial.report(float(value), int(step))
    if trial.should_prune():
        from ._optuna import trial_pruned
        raise trial_pruned(f"pruned after step {step} ({value:.4g})")


class ReportToTrial(Callback):
    """Report ``monitor`` after each epoch to an Optuna trial; stop training if pruned."""

    name = "report_to_trial"

    def __init__(self, trial: Any, monitor: str) -> None:
        self.trial = trial
        self.monitor = monitor
        self.pruned_at: int | None = None

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise KeyError(f"fit_objective: monitored value {self.monitor!r} is not among "
                           f"{sorted(logs)}; monitor e.g. 'dev_error', 'dev_loss' or "
                           "'dev_accuracy'")
        value = float(logs[self.monitor])
        self.trial.report(value if math.isfinite(value) else float("inf"), epoch)
        # A trial that has run all its epochs is complete: pruning it then saves nothing.
        if epoch < trainer.epochs and self.trial.should_prune():
            self.pruned_at = epoch
            trainer.stop(f"pruned by the search after epoch {epoch} ({self.monitor} "
                         f"{value:.4g})")


class FitObjective:
    """``objective(params, trial)`` that trains ``build_model(params)`` with :func:`fit`.

    Made by :func:`fit_objective`; picklable when ``build_model`` is (a module-level
    function or class), so ``search(jobs=N)`` can send it to worker processes.
    """

    def __init__(self, build_model: Callable[[dict[str, Any]], Module], X: Any, y: Any,
                 dev: tuple[Any, Any], *, epochs: int, monitor: str, optimizer: str,
                 batch_size: int | None, lr: float, decay: float,
                 metrics: Sequence[str] | None, rng: Any, fixed: dict[str, Any]) -> None:
        self.build_model = build_model
        self.X, self.y, self.dev = X, y, dev
        self.epochs, self.monitor, self.optimizer = epochs, monitor, optimizer
        self.batch_size, self.lr, self.decay = batch_size, lr, decay
        self.metrics = None if metrics is None else list(metrics)
        self.rng, self.fixed = rng, dict(fixed)

    def _optimizer(self, model: Module, params: dict[str, Any]) -> Any:
        cls = OPTIMIZERS[self.optimizer]
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "params", "lr"}
        options = {k: v for k, v in params.items() if k in accepted}
        lr = float(params.get("lr", self.lr))
        decay = float(params.get("decay", self.decay))
        schedule: Any = InverseTimeDecay(lr, decay) if decay else lr
        return cls(model.parameters(), lr=schedule, **options)

    def __call__(self, params: dict[str, Any], trial: Any) -> float:
        from ..train.trainer import fit

        params = {**self.fixed, **params}
        model = self.build_model(params)
        if not isinstance(model, Module):
            raise TypeError(f"fit_objective: build_model must return a steepest Module; got "
                            f"{type(model).__name__}")
        batch = params.get("batch", params.get("batch_size", self.batch_size))
        reporter = ReportToTrial(trial, self.monitor)
        l2 = params.get("l2")
        history = fit(model, self.X, self.y, dev=self.dev, optimizer=self._optimizer(model, params),
                      epochs=int(params.get("epochs", self.epochs)),
                      batch_size=None if batch is None else int(batch), metrics=self.metrics,
                      callbacks=[reporter], regularization=L2(float(l2)) if l2 else None,
                      rng=self.rng, verbose=0)
        if reporter.pruned_at is not None:
            from ._optuna import trial_pruned
            raise trial_pruned(f"pruned after epoch {reporter.pruned_at}")
        values = list(history[self.monitor]) if history.epochs else []
        if not values or not math.isfinite(values[-1]):
            return float("nan")  # diverged before the first epoch ended: a failed trial
        return float(values[-1])


def fit_objective(build_model: Callable[[dict[str, Any]], Module], X: Any, y: Any,
                  dev: tuple[Any, Any], *, epochs: int = 10, monitor: str = "dev_error",
                  optimizer: str = "adam", batch_size: int | None = 64, lr: float = 1e-3,
                  decay: float = 0.0, rng: Any = 0,
                  fixed: dict[str, Any] | None = None) -> FitObjective:
    """An objective that trains a model per trial and returns its dev metric.

    The hyperparameters of a trial are used like this: ``lr`` (and ``decay``,
    alpha = lr / (1 + decay * epoch)) set the learning rate; ``batch`` (or
    ``batch_size``), ``epochs`` and ``l2`` (lambda) set ``fit``; names the optimiser
    takes (``beta1``, ``beta2`` for Adam, ``beta`` for RMSprop) go to it; the whole
    dict goes to ``build_model(params)``, which reads what it needs (``hidden``,
    ``keep_prob`` ...). Every epoch's ``monitor`` value is reported to the trial, so
    a pruner can stop the run; the value returned is the last epoch's.

    Args:
        build_model: ``build_model(params) -> Module``. Module-level, so worker
            processes can import it.
        X, y: training data.
        dev: (X_dev, y_dev): the dev set the metric is measured on.
        epochs: epochs per trial (unless ``params`` has ``epochs``).
        monitor: the history key to optimise: "dev_error" (default; minimise),
            "dev_loss", "dev_accuracy" (maximise: pass direction="maximize").
        optimizer: an optimiser name ("adam", "momentum", "rmsprop", "gd", "sgd").
        batch_size, lr, decay: values used when the space does not search them.
        rng: the seed of every trial's weight initialisation is build_model's; this
            one seeds the shuffling, the same for every trial (default 0), so two
            trials differ only by their hyperparameters.
        fixed: hyperparameters held fixed, merged under each trial's.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> from steepest.tune import LogUniform, fit_objective, search
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(120, 2)).astype(np.float32); y = (X[:, 0] > 0).astype(int)
        >>> def build(params):
        ...     return st.models.MLP([2, 4, 2], output="softmax", rng=0)
        >>> objective = fit_objective(build, X[:80], y[:80], (X[80:], y[80:]), epochs=3)
        >>> result = search(objective, {"lr": LogUniform(1e-3, 1e-1)}, trials=2, rng=0)
        >>> [len(t["curve"]) for t in result.trials]
        [3, 3]
    """
    owner = "fit_objective"
    if not callable(build_model):
        raise TypeError(f"{owner}: `build_model` must be a function params -> Module; got "
                        f"{type(build_model).__name__}")
    if not isinstance(dev, (tuple, list)) or len(dev) != 2:
        raise TypeError(f"{owner}: `dev` must be a pair (X_dev, y_dev): the search measures "
                        "the dev set")
    epochs = positive_int(owner, "epochs", epochs)
    one_of(owner, "optimizer", optimizer, tuple(OPTIMIZERS))
    if not isinstance(monitor, str) or not monitor.startswith("dev_"):
        raise ValueError(f"{owner}: `monitor` must be a dev-set value such as 'dev_error', "
                         f"'dev_loss' or 'dev_accuracy'; got {monitor!r}")
    metric = monitor[len("dev_"):]
    metrics: list[str] | None = (None if metric == "loss" else ["accuracy", "error"]
                                 if metric in ("accuracy", "error") else [metric])
    return FitObjective(build_model, X, y, tuple(dev), epochs=epochs, monitor=monitor,
                        optimizer=optimizer, batch_size=batch_size, lr=lr, decay=decay,
                        metrics=metrics, rng=rng, fixed=fixed or {})
