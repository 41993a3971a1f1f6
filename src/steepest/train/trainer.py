"""The training loop: ``fit``, ``evaluate``, ``predict`` (concepts B5, O1, O2, D2).

``fit`` runs mini-batch gradient descent with any optimiser: for every mini-batch,
forward pass, cost J (plus the regularisation term), backward pass, update. It
puts the model in train mode for the updates and in eval mode to evaluate, reports
per-epoch costs and metrics and the per-iteration cost, and hands control to
callbacks (early stopping, checkpoints, schedules, progress).

What it guarantees:

* a non-finite cost stops training with a message naming the epoch and batch,
  and the weights from the end of the last complete epoch are kept
  (:class:`~steepest.train.callbacks.TerminateOnNaN` is always included);
* Ctrl-C ends training cleanly, returning the history so far and keeping the
  weights reached;
* a run resumed from a :class:`~steepest.train.callbacks.ModelCheckpoint` continues
  exactly as if it had never stopped (same shuffles, dropout masks, optimiser
  moments: bit for bit on the CPU);
* ``fit`` leaves the model in eval mode.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .._validation import NonFiniteError, ShapeError, finite_array, fmt_shape, positive_int
from ..autograd import Tensor, no_grad
from ..backend import array_module, default_rng, resolve_rng, to_device, to_numpy
from ..data.loader import DataLoader, check_examples
from ..io.checkpoint import load_checkpoint, save_checkpoint
from ..io.files import ModelFileError
from ..metrics import accuracy, error_rate, f1_score, precision, recall
from ..nn.module import Module, class_name
from ..ops import loss as losses
from ..optim.optimizer import Optimizer
from ..optim.rules import OPTIMIZERS, Adam
from .callbacks import Callback, EpochLogger, ProgressBar, TerminateOnNaN
from .history import History

LossFunction = Callable[[Tensor, Any], Tensor]

LOSSES: dict[str, tuple[LossFunction, str]] = {
    "cross_entropy": (losses.cross_entropy, "softmax"),
    "binary_cross_entropy_with_logits": (losses.binary_cross_entropy_with_logits, "sigmoid"),
    "bce": (losses.binary_cross_entropy_with_logits, "sigmoid"),
    "masked_binary_cross_entropy_with_logits": (
        losses.masked_binary_cross_entropy_with_logits, "sigmoid"),
    "mse": (losses.mse_loss, "linear"),
    "mse_loss": (losses.mse_loss, "linear"),
}
DEFAULT_LOSS = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy_with_logits",
                "linear": "mse"}
METRICS = ("accuracy", "error", "precision", "recall", "f1")


# ---------------------------------------------------------------- resolution helpers
def resolve_loss(loss: str | LossFunction | None, model: Any) -> tuple[LossFunction, str]:
    """The loss function and the output kind ("softmax", "sigmoid" or "linear").

    With ``loss=None`` the model's ``output`` attribute picks the loss.
    """
    output = getattr(model, "output", None)
    if loss is None:
        if output not in DEFAULT_LOSS:
            raise ValueError("fit: pass `loss` (a name such as 'cross_entropy' or a function "
                             "such as F.cross_entropy); the model has no `output` attribute "
                             "to choose one from")
        loss = DEFAULT_LOSS[output]
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; use one of "
                             f"{', '.join(repr(k) for k in LOSSES)} or a function")
        function, kind = LOSSES[loss]
    elif callable(loss):
        function = loss
        kind = next((k for f, k in LOSSES.values() if f is loss), "linear")
    else:
        raise TypeError(f"fit: `loss` must be a name or a function; got {type(loss).__name__}")
    return function, output if output in DEFAULT_LOSS else kind


def resolve_optimizer(optimizer: Optimizer | str | None, model: Module) -> Optimizer:
    """An optimiser over the model's parameters (Adam with the seed's defaults if None)."""
    if optimizer is None:
        return Adam(model.parameters())
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"fit: unknown optimizer {optimizer!r}; use one of "
                             f"{', '.join(repr(k) for k in OPTIMIZERS)} or an Optimizer")
        return OPTIMIZERS[optimizer](model.parameters())  # type: ignore[call-arg]
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: `optimizer` must be an Optimizer or a name; got "
                        f"{type(optimizer).__name__}")
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    if trainable and not trainable & {id(p) for p in optimizer.params}:
        raise ValueError("fit: the optimizer updates none of this model's parameters; build it "
                         "with optimizer_class(model.parameters(), ...)")
    return optimizer


def resolve_metrics(metrics: Sequence[Any] | None, output: str) -> list[Any]:
    """Metric names or functions ``metric(y_true, y_pred) -> float``."""
    if metrics is None:
        return [] if output == "linear" else ["accuracy"]
    chosen = list(metrics)
    for metric in chosen:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"fit: unknown metric {metric!r}; use one of "
                                 f"{', '.join(repr(m) for m in METRICS)} or a function")
            if output == "linear":
                raise ValueError(f"fit: metric {metric!r} needs a classifier; the output is "
                                 "linear (regression), so leave `metrics` empty")
        elif not callable(metric):
            raise TypeError(f"fit: a metric must be a name or a function; got {metric!r}")
    return chosen


def metric_name(metric: Any) -> str:
    """The history key of a metric."""
    return metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")


def outputs_to_predictions(outputs: Any, output: str) -> np.ndarray:
    """Labels from logits: argmax for softmax, z > 0 (a > 0.5) for sigmoid; values otherwise."""
    z = to_numpy(outputs.data if isinstance(outputs, Tensor) else outputs)
    if output == "softmax":
        return np.asarray(z.argmax(axis=1))
    if output == "sigmoid":
        return (z > 0).astype(np.int64)
    return z


def outputs_to_probabilities(outputs: Any, output: str) -> np.ndarray:
    """Probabilities from logits: softmax rows or sigmoid units."""
    z = to_numpy(outputs.data if isinstance(outputs, Tensor) else outputs).astype(np.float64)
    if output == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if output == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    raise ValueError("predict_proba: the model's output is linear (regression); use predict")


def compute_metric(metric: Any, y_true: np.ndarray, y_pred: np.ndarray, output: str) -> float:
    """One metric on host arrays; sigmoid outputs count every (existing) label."""
    if output == "sigmoid":
        y_true = np.asarray(y_true, dtype=np.float64).ravel()
        y_pred = np.asarray(y_pred).ravel()
        exists = np.isfinite(y_true)  # multi-task labels may be missing (NaN)
        y_true, y_pred = y_true[exists].astype(np.int64), y_pred[exists]
    elif y_true.ndim == 2:  # one-hot targets
        y_true = y_true.argmax(axis=1)
    if callable(metric):
        return float(metric(y_true, y_pred))
    average: Literal["binary", "macro"] = "binary" if output == "sigmoid" else "macro"
    function = {"accuracy": accuracy, "error": error_rate}.get(metric)
    if function is not None:
        return function(y_true, y_pred)
    scorer = {"precision": precision, "recall": recall, "f1": f1_score}[metric]
    return float(scorer(y_true, y_pred, average=average))


def _prepare_inputs(owner: str, model: Module, X: Any) -> Any:
    X = np.asarray(X) if not hasattr(X, "shape") else X
    if isinstance(X, Tensor):
        X = X.data
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: `X` must hold numbers; got dtype {X.dtype}")
    target = model.dtype
    if X.dtype != target:
        X = X.astype(target)
    finite_array(owner, "X", X)
    return X


def _prepare_targets(owner: str, y: Any, output: str, dtype: np.dtype) -> Any:
    y = np.asarray(y) if not hasattr(y, "shape") else y
    if isinstance(y, Tensor):
        y = y.data
    if output == "softmax":
        if y.dtype.kind in "iub":
            if y.ndim == 2 and y.shape[1] == 1:
                raise ShapeError(f"{owner}: class labels must have shape (m,); got "
                                 f"{fmt_shape(y.shape)} (flatten them with y.reshape(-1))")
            return y
        if y.dtype.kind == "f" and y.ndim == 2:
            return y.astype(dtype)
        raise TypeError(f"{owner}: a softmax classifier needs integer labels of shape (m,) or "
                        f"one-hot targets (m, C); got dtype {y.dtype}, shape "
                        f"{fmt_shape(y.shape)}")
    # Binary and regression targets: (m,) is read as (m, 1), the shape of a one-unit
    # output layer (see the seed's advice on explicit shapes, B11).
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    y = y.astype(dtype)
    if output == "sigmoid":
        known = y[np.isfinite(y)]
        if known.size and (known.min() < 0 or known.max() > 1):
            raise ValueError(f"{owner}: binary targets must lie in [0, 1]; got values from "
                             f"{known.min()} to {known.max()}")
    return y


def _batches(X: Any, batch_size: int) -> Iterable[Any]:
    for start in range(0, X.shape[0], batch_size):
        yield X[start:start + batch_size]


# ---------------------------------------------------------------- inference
def forward_in_batches(model: Module, X: Any, batch_size: int = 256) -> np.ndarray:
    """Model outputs for every row of X, in eval mode, without recording a graph."""
    X = _prepare_inputs("predict", model, X)
    check_examples("predict", X)
    batch_size = positive_int("predict", "batch_size", batch_size)
    was_training = model.training
    model.eval()
    device = model.device
    try:
        with no_grad():
            outputs = [to_numpy(model(to_device(batch, device)).data)
                       for batch in _batches(X, batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(outputs)


def predict(model: Module, X: Any, *, output: str | None = None,
            batch_size: int = 256) -> np.ndarray:
    """Predicted labels (classifiers) or values (regression) for X.

    Args:
        model: a trained model; its ``output`` attribute (or ``output=``) says how to
            read the logits: "softmax" (argmax), "sigmoid" (a > 0.5) or "linear".
        X: inputs, m first.
        output: overrides the model's output kind.
        batch_size: rows per forward pass.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.nn.Sequential(st.nn.Linear(2, 3))
        >>> predict(net, np.zeros((4, 2)), output="softmax").shape
        (4,)
    """
    kind = output or str(getattr(model, "output", "linear"))
    return outputs_to_predictions(forward_in_batches(model, X, batch_size), kind)


def predict_proba(model: Module, X: Any, *, output: str | None = None,
                  batch_size: int = 256) -> np.ndarray:
    """Class probabilities: softmax rows (m, C) or sigmoid outputs (m, k)."""
    kind = output or str(getattr(model, "output", "linear"))
    return outputs_to_probabilities(forward_in_batches(model, X, batch_size), kind)


def evaluate(model: Module, X: Any, y: Any, *, loss: str | LossFunction | None = None,
             metrics: Sequence[Any] | None = None, batch_size: int = 256) -> dict[str, float]:
    """The loss and metrics on a data set, in eval mode (no dropout, running batch norm).

    Returns:
        ``{"loss": ..., "accuracy": ..., ...}``; the loss is the mean over examples
        (without a regularisation term).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.models.MLP([2, 3, 2], output="softmax")
        >>> sorted(evaluate(net, np.zeros((4, 2)), np.array([0, 1, 0, 1])))
        ['accuracy', 'loss']
    """
    loss_function, output = resolve_loss(loss, model)
    chosen = resolve_metrics(metrics, output)
    X = _prepare_inputs("evaluate", model, X)
    X, y = check_examples("evaluate", X, y)
    y = _prepare_targets("evaluate", y, output, model.dtype)
    outputs = forward_in_batches(model, X, batch_size)
    xp = array_module(outputs)
    with no_grad():
        value = loss_function(Tensor(xp.asarray(outputs)), y).item()
    results = {"loss": float(value)}
    predictions = outputs_to_predictions(outputs, output)
    for metric in chosen:
        results[metric_name(metric)] = compute_metric(metric, to_numpy(y), predictions, output)
    return results


# ---------------------------------------------------------------- the loop
class Trainer:
    """Runs the training loop; :func:`fit` is its one-call front end.

    Attributes (for callbacks):
        model, optimizer, history, epoch (counting from 1), epochs (the total),
        batches_per_epoch, stop_training, stop_reason, diverged.
    """

    def __init__(self, model: Module, *, loss: str | LossFunction | None = None,
                 optimizer: Optimizer | str | None = None, metrics: Sequence[Any] | None = None,
                 callbacks: Iterable[Callback] = (), regularization: Any = None,
                 verbose: int = 1) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"fit: `model` must be a steepest Module; got {type(model).__name__}")
        self.model = model
        self.loss, self.output = resolve_loss(loss, model)
        self.optimizer = resolve_optimizer(optimizer, model)
        self.metrics = resolve_metrics(metrics, self.output)
        if regularization is not None and not callable(regularization):
            raise TypeError("fit: `regularization` must be a penalty such as nn.L2(0.01)")
        self.regularization = regularization
        if verbose not in (0, 1, 2):
            raise ValueError(f"fit: `verbose` must be 0, 1 or 2; got {verbose!r}")
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"fit: {callback!r} is not a Callback")
        if not any(isinstance(c, TerminateOnNaN) for c in self.callbacks):
            self.callbacks.insert(0, TerminateOnNaN())
        if verbose == 1:
            self.callbacks.append(ProgressBar())
        elif verbose == 2:
            self.callbacks.append(EpochLogger())
        self.history = History()
        self.rng: np.random.Generator = default_rng()
        self.epoch = 0
        self.epochs = 0
        self.batches_per_epoch = 0
        self.stop_training = False
        self.stop_reason: str | None = None
        self.diverged = False
        self._checkpoint_requests: list[Path] = []

    # -------------------------------------------------------------- control
    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch or epoch, with a reason."""
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason

    def save_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Write a checkpoint once every callback has seen the epoch's end."""
        self._checkpoint_requests.append(Path(path))

    def _write_checkpoint(self, path: Path) -> None:
        values, arrays = [], {}
        for i, callback in enumerate(self.callbacks):
            state, callback_arrays = callback.state_dict()
            values.append({"class": type(callback).__name__, "state": state})
            arrays.update({f"{i}.{k}": v for k, v in callback_arrays.items()})
        trainer_state = {
            "epoch": self.epoch,
            "history": self.history.to_dict(),
            "rng": {"trainer": self.rng.bit_generator.state,
                    "default": default_rng().bit_generator.state,
                    "modules": {name: generator.bit_generator.state
                                for name, generator in self._module_generators().items()}},
            "callbacks": values,
        }
        save_checkpoint(path, self.model, self.optimizer, trainer_state, arrays)

    def _resume(self, path: str | os.PathLike[str]) -> int:
        checkpoint = load_checkpoint(path)
        expected = class_name(type(self.model))
        if checkpoint.model_spec.get("class") != expected:
            raise ModelFileError(f"fit(resume=...): the checkpoint holds a "
                                 f"{checkpoint.model_spec.get('class')}, not a {expected}")
        try:
            self.model.load_state_dict(checkpoint.model_state)
        except KeyError as error:
            raise ModelFileError(f"fit(resume=...): {error.args[0]}") from None
        if checkpoint.optimizer_state is not None:
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
        state = checkpoint.trainer_state
        self.history = History.from_dict(state["history"])
        generators = state["rng"]
        default_rng().bit_generator.state = generators["default"]
        self.rng.bit_generator.state = generators["trainer"]
        own = self._module_generators()
        for name, generator_state in generators["modules"].items():
            if name in own:
                own[name].bit_generator.state = generator_state
        for i, (callback, saved) in enumerate(zip(self.callbacks, state["callbacks"])):
            if saved["class"] == type(callback).__name__:
                prefix = f"{i}."
                arrays = {k[len(prefix):]: v for k, v in checkpoint.arrays.items()
                          if k.startswith(prefix)}
                callback.load_state_dict(saved["state"], arrays)
        return int(state["epoch"])

    def _module_generators(self) -> dict[str, np.random.Generator]:
        """Layers' own generators (Dropout(rng=...)), by module name."""
        found = {}
        for name, module in self.model.named_modules():
            generator = getattr(module, "rng", None)
            if isinstance(generator, np.random.Generator):
                found[name] = generator
        return found

    def _callbacks(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    # -------------------------------------------------------------- epochs
    def _train_epoch(self, loader: DataLoader) -> dict[str, float] | None:
        model, optimizer = self.model, self.optimizer
        model.train()
        device = model.device
        total, count = 0.0, 0
        predictions: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        for batch, (X_batch, y_batch) in enumerate(loader):
            m = int(X_batch.shape[0])
            # Overflow is how divergence shows; the loop reports it (TerminateOnNaN)
            # instead of NumPy warning about it.
            with np.errstate(over="ignore", invalid="ignore"):
                outputs = model(to_device(X_batch, device))
                try:
                    cost = self.loss(outputs, y_batch)
                    if self.regularization is not None:
                        cost = cost + self.regularization(model, m)
                    value = float(cost.item())
                except NonFiniteError:
                    value = math.nan
                if math.isfinite(value):
                    optimizer.zero_grad()
                    cost.backward()
                    optimizer.step()
                    total += value * m
                    count += m
                    if self.metrics:
                        predictions.append(outputs_to_predictions(outputs, self.output))
                        targets.append(to_numpy(y_batch))
            self.history.iteration_loss.append(value)
            self._callbacks("on_batch_end", batch, {"loss": value})
            if self.stop_training and self.diverged:
                return None
        logs = {"loss": total / max(count, 1)}
        if self.metrics:
            y_true, y_pred = np.concatenate(targets), np.concatenate(predictions)
            for metric in self.metrics:
                logs[metric_name(metric)] = compute_metric(metric, y_true, y_pred, self.output)
        return logs

    def fit(self, X: Any, y: Any, *, epochs: int = 10, batch_size: int | None = 64,
            dev: tuple[Any, Any] | None = None, seed: int | None = None, shuffle: bool = True,
            augment: Callable[[Any, np.random.Generator], Any] | None = None,
            resume: str | os.PathLike[str] | None = None) -> History:
        """Train; see :func:`fit` for the arguments."""
        self.epochs = positive_int("fit", "epochs", epochs)
        X = _prepare_inputs("fit", self.model, X)
        X, y = check_examples("fit", X, y)
        y = _prepare_targets("fit", y, self.output, self.model.dtype)
        dev_data = None
        if dev is not None:
            if not isinstance(dev, (tuple, list)) or len(dev) != 2:
                raise TypeError("fit: `dev` must be a pair (X_dev, y_dev)")
            X_dev = _prepare_inputs("fit (dev)", self.model, dev[0])
            X_dev, y_dev = check_examples("fit (dev)", X_dev, dev[1])
            dev_data = (X_dev, _prepare_targets("fit (dev)", y_dev, self.output,
                                                self.model.dtype))
        self.rng = np.random.default_rng(seed) if seed is not None else resolve_rng(None)
        loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, rng=self.rng,
                            transform=augment)
        self.batches_per_epoch = len(loader)
        self.history = History()
        self.stop_training, self.stop_reason, self.diverged = False, None, False
        completed = self._resume(resume) if resume is not None else 0
        self.optimizer.epoch = completed
        self._callbacks("on_train_begin")
        try:
            for epoch in range(completed + 1, self.epochs + 1):
                self.epoch = epoch
                self._callbacks("on_epoch_begin", epoch)
                lr = self.optimizer.lr  # a scheduler callback may have changed it
                logs = self._train_epoch(loader)
                if logs is None:
                    break
                if dev_data is not None:
                    dev_logs = evaluate(self.model, dev_data[0], dev_data[1], loss=self.loss,
                                        metrics=self.metrics)
                    logs.update({f"dev_{k}": v for k, v in dev_logs.items()})
                logs["lr"] = lr
                self.history.append(epoch, logs)
                self.optimizer.epoch = epoch
                self._callbacks("on_epoch_end", epoch, logs)
                for path in self._checkpoint_requests:
                    self._write_checkpoint(path)
                self._checkpoint_requests.clear()
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            self.stop(f"interrupted (Ctrl-C) during epoch {self.epoch}; kept the weights and "
                      "the history so far")
        finally:
            self.history.stop_reason = self.stop_reason
            self._callbacks("on_train_end")
            self.model.eval()
        return self.history


def fit(model: Module, X: Any, y: Any, *, loss: str | LossFunction | None = None,
        optimizer: Optimizer | str | None = None, epochs: int = 10,
        batch_size: int | None = 64, dev: tuple[Any, Any] | None = None,
        metrics: Sequence[Any] | None = None, callbacks: Iterable[Callback] = (),
        regularization: Any = None, seed: int | None = None, verbose: int = 1,
        shuffle: bool = True, augment: Callable[[Any, np.random.Generator], Any] | None = None,
        resume: str | os.PathLike[str] | None = None) -> History:
    """Train ``model`` on (X, y) with mini-batch gradient descent.

    Args:
        model: the network; calling it returns logits (the last layer's Z).
        X: training inputs, m first ((m, n_x) or (m, C, H, W)); cast to the model's
            dtype.
        y: labels: integer classes (m,) for a softmax output, 0/1 targets (m,) or
            (m, k) for sigmoid outputs, values for regression.
        loss: a function ``loss(logits, y) -> scalar Tensor`` such as
            ``F.cross_entropy``, or its name; default from ``model.output``.
        optimizer: an :class:`~steepest.optim.Optimizer` over the model's parameters,
            or a name ("adam", "momentum", "rmsprop", "gd"); default Adam(lr=0.001).
        epochs: the total number of epochs (counting any a resumed run already did).
        batch_size: mini-batch size (default 64; None = all m, batch gradient
            descent; 1 = stochastic gradient descent).
        dev: (X_dev, y_dev), evaluated after every epoch (``dev_loss``, ``dev_<metric>``).
        metrics: names ("accuracy", "error", "precision", "recall", "f1") or functions
            ``metric(y_true, y_pred)``; default ("accuracy",) for classifiers, none for
            regression.
        callbacks: e.g. EarlyStopping, ModelCheckpoint, LearningRateScheduler.
        regularization: a penalty such as ``nn.L2(lambd)`` added to the cost J the
            loop reports and differentiates (I4).
        seed: seeds the shuffling (default: steepest's generator, see
            ``steepest.seed``).
        verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
        shuffle: reshuffle the training set every epoch.
        augment: ``augment(X_batch, rng) -> X_batch`` applied to each training batch.
        resume: a checkpoint folder written by ModelCheckpoint to continue from.

    Returns:
        The :class:`History`.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2)).astype(np.float32)
        >>> y = (X[:, 0] * X[:, 1] > 0).astype(int)       # XOR-like: needs a hidden layer
        >>> model = st.models.MLP([2, 8, 2], activation="tanh", output="softmax", rng=0)
        >>> history = fit(model, X, y, optimizer=st.optim.Adam(model.parameters(), lr=0.05),
        ...               epochs=60, batch_size=None, verbose=0, seed=0)
        >>> history.last("accuracy") > 0.9
        True
    """
    trainer = Trainer(model, loss=loss, optimizer=optimizer, metrics=metrics,
                      callbacks=callbacks, regularization=regularization, verbose=verbose)
    return trainer.fit(X, y, epochs=epochs, batch_size=batch_size, dev=dev, seed=seed,
                       shuffle=shuffle, augment=augment, resume=resume)
