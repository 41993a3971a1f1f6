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

import copy
import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._files import ModelFileError
from .._validation import NonFiniteError, ShapeError, finite_array, fmt_shape, positive_int
from ..autograd import Tensor, as_tensor, no_grad
from ..backend import default_rng, resolve_rng, to_device
from ..data.loader import DataLoader, check_examples
from ..io.checkpoint import load_checkpoint, save_checkpoint
from ..nn.module import Module, class_name
from ..nn.normalization import _BatchNorm
from ..optim.optimizer import Optimizer
from ..optim.rules import OPTIMIZERS, Adam
from ..tasks import (
    Auxiliary,
    Classification,
    Task,
    detach,
    resolve_loss,
    resolve_task,
    to_host,
    tree_concatenate,
    tree_index,
    tree_leaves,
    tree_map,
)
from .callbacks import Callback, EpochLogger, ProgressBar, TerminateOnNaN, copy_state
from .history import History

LossFunction = Callable[[Any, Any], Tensor]


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


def _model_task(task: Task | str | None, loss: str | LossFunction | None, model: Any,
                owner: str) -> tuple[LossFunction, Task]:
    """The loss function and the task: explicit ones first, then the model's."""
    return resolve_loss(loss, resolve_task(task, model, owner=owner), owner=owner)


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


def prepare_data(owner: str, model: Module, task: Task, X: Any, y: Any) -> tuple[Any, Any]:
    """Inputs cast to the model's dtype and targets encoded by the task, counts checked."""
    X = _prepare_inputs(owner, model, X)
    check_examples(owner, X)
    targets = task.encode_targets(y, owner=owner, dtype=model.dtype)
    leaves = tree_leaves(targets)
    counts = {int(leaf.shape[0]) if leaf.ndim else 0 for leaf in leaves}
    if counts != {int(X.shape[0])}:
        raise ShapeError(f"{owner}: `X` has {X.shape[0]} examples but `y` has "
                         f"{' / '.join(str(c) for c in sorted(counts))} (X shape "
                         f"{fmt_shape(X.shape)})")
    return X, targets


def _batches(X: Any, batch_size: int) -> Iterable[Any]:
    for start in range(0, X.shape[0], batch_size):
        yield X[start:start + batch_size]


# ---------------------------------------------------------------- inference
def forward_in_batches(model: Module, X: Any, batch_size: int = 256) -> Any:
    """Model outputs for every row of X, in eval mode, without recording a graph.

    Returns:
        Host arrays in the structure the model returns: one array, or a tuple or
        dict of arrays for a model with several heads.
    """
    X = _prepare_inputs("predict", model, X)
    check_examples("predict", X)
    batch_size = positive_int("predict", "batch_size", batch_size)
    was_training = model.training
    model.eval()
    device = model.device
    try:
        with no_grad():
            outputs = [detach(model(to_device(batch, device))) for batch in _batches(X, batch_size)]
    finally:
        model.train(was_training)
    return to_host(tree_concatenate(outputs))


def predict(model: Module, X: Any, *, task: Task | str | None = None,
            batch_size: int = 256, tta: Callable[[Any], Any] | None = None) -> Any:
    """Predicted labels (classifiers) or values (regression) for X.

    Args:
        model: a trained model.
        X: inputs, m first.
        task: how to read the outputs (default: the model's own task, e.g.
            argmax for a classifier, a > 0.5 for a binary one).
        batch_size: rows per forward pass.
        tta: test-time augmentation: a callable returning several views of X (e.g.
            :class:`~steepest.data.augment.MultiCrop`); the label is read from the
            probabilities averaged over the views (see :func:`predict_proba`).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.nn.Sequential(st.nn.Linear(2, 3))
        >>> predict(net, np.zeros((4, 2)), task="classification").shape
        (4,)
    """
    chosen = _inference_task(task, model, "predict")
    if tta is not None:
        probabilities = _tta_probabilities(model, X, chosen, batch_size, tta)
        inner = chosen.task if isinstance(chosen, Auxiliary) else chosen
        if isinstance(inner, Classification):
            return probabilities.argmax(axis=1)
        return (probabilities > 0.5).astype(np.int64)  # sigmoid units: a > 0.5
    return chosen.predict(forward_in_batches(model, X, batch_size))


def predict_proba(model: Module, X: Any, *, task: Task | str | None = None,
                  batch_size: int = 256, tta: Callable[[Any], Any] | None = None) -> Any:
    """Probabilities: softmax rows (m, C) for a classifier, sigmoid outputs (m, k) otherwise.

    With ``tta`` (test-time augmentation, e.g.
    ``steepest.data.augment.MultiCrop(24, crops=10)``), ``tta(X)`` returns several
    views of X (an array (views, m, ...) or a list of arrays) and the probabilities
    are averaged over them (K10: probabilities, not logits).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.models.MLP([2, 3], output="softmax", rng=0)
        >>> float(predict_proba(net, np.zeros((1, 2))).sum())
        1.0
    """
    chosen = _inference_task(task, model, "predict_proba")
    if tta is not None:
        return _tta_probabilities(model, X, chosen, batch_size, tta)
    return chosen.predict_proba(forward_in_batches(model, X, batch_size))


def _tta_probabilities(model: Module, X: Any, task: Task, batch_size: int,
                       tta: Callable[[Any], Any]) -> np.ndarray:
    """The task's probabilities averaged over the views ``tta(X)``."""
    if not callable(tta):
        raise TypeError(f"predict: `tta` must be callable as tta(X) -> views (e.g. "
                        f"MultiCrop); got {type(tta).__name__}")
    views = list(tta(np.asarray(X)))
    if not views:
        raise ValueError("predict: `tta` returned no views")
    total = np.asarray(task.predict_proba(forward_in_batches(model, views[0], batch_size)))
    for view in views[1:]:
        total = total + task.predict_proba(forward_in_batches(model, view, batch_size))
    return np.asarray(total / len(views))


def _inference_task(task: Task | str | None, model: Module, owner: str) -> Task:
    chosen = resolve_task(task, model, owner=owner)
    if chosen is None:
        raise ValueError(f"{owner}: the model has no default task, so steepest cannot tell how "
                         "to read its outputs; pass task= (e.g. 'classification')")
    return chosen


def evaluate(model: Module, X: Any, y: Any, *, task: Task | str | None = None,
             loss: str | LossFunction | None = None, metrics: Sequence[Any] | None = None,
             batch_size: int = 256) -> dict[str, float]:
    """The loss and metrics on a data set, in eval mode (no dropout, running batch norm).

    Args:
        model: the model.
        X, y: the data set.
        task: how to read outputs and targets (default: the model's own task).
        loss: the loss to report (default: the task's).
        metrics: metric names or functions (default: the task's defaults).
        batch_size: rows per forward pass.

    Returns:
        ``{"loss": ..., "accuracy": ..., ...}``; the loss is the mean over examples
        (without a regularisation term). A task with several loss terms (several
        heads) adds each one, e.g. ``digit_loss``.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.models.MLP([2, 3, 2], output="softmax")
        >>> sorted(evaluate(net, np.zeros((4, 2)), np.array([0, 1, 0, 1])))
        ['accuracy', 'loss']
    """
    loss_function, chosen = _model_task(task, loss, model, "evaluate")
    checked = chosen.check_metrics(metrics, owner="evaluate")
    X, targets = prepare_data("evaluate", model, chosen, X, y)
    return _evaluate(model, chosen, loss_function, loss is None, checked, X, targets,
                     batch_size)


def _evaluate(model: Module, task: Task, loss_function: LossFunction, default_loss: bool,
              metrics: Sequence[Any], X: Any, targets: Any, batch_size: int) -> dict[str, float]:
    """evaluate() on data already prepared, with metrics already checked."""
    outputs = forward_in_batches(model, X, batch_size)
    task.validate(outputs, targets, owner="evaluate")
    with no_grad():
        if default_loss:
            terms = task.loss_terms(tree_map(as_tensor, outputs), targets)
        else:
            terms = {"loss": loss_function(tree_map(as_tensor, outputs), targets)}
    results = {name: float(term.item()) for name, term in terms.items()}
    results.update(task.compute_metrics(metrics, targets, outputs))
    return results


# ---------------------------------------------------------------- the loop
class Trainer:
    """Runs the training loop; :func:`fit` is its one-call front end.

    Attributes (for callbacks):
        model, optimizer, history, epoch (counting from 1), epochs (the total),
        batches_per_epoch, stop_training, stop_reason, diverged.
    """

    def __init__(self, model: Module, *, task: Task | str | None = None,
                 loss: str | LossFunction | None = None,
                 optimizer: Optimizer | str | None = None, metrics: Sequence[Any] | None = None,
                 callbacks: Iterable[Callback] = (), regularization: Any = None,
                 verbose: int = 1) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"fit: `model` must be a steepest Module; got {type(model).__name__}")
        self.model = model
        self.loss, self.task = _model_task(task, loss, model, "fit")
        self._default_loss = loss is None
        self.optimizer = resolve_optimizer(optimizer, model)
        self.metrics = self.task.check_metrics(metrics, owner="fit")
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
        self.interrupted = False
        self._finish_reason: str | None = None
        self._validated = False
        self.keep_resume_point = False
        self._resume_point: tuple[Any, Any, Any, Any] | None = None
        self._checkpoint_requests: list[Path] = []

    # -------------------------------------------------------------- control
    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current batch or epoch, with a reason.

        This ends the run (early stopping, divergence): a checkpoint written after it
        resumes as finished. An interruption is :meth:`interrupt`.
        """
        self.stop_training = True
        if self._finish_reason is None:
            self._finish_reason = reason
        if self.stop_reason is None:
            self.stop_reason = reason

    def save_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Write a checkpoint once every callback has seen the epoch's end."""
        self._checkpoint_requests.append(Path(path))

    def _callback_keys(self) -> dict[str, Callback]:
        """Callbacks by identity: their ``name`` (or class name), ``#2``... for repeats.

        Checkpoints store callback state under these keys, so resuming with the
        callbacks in another order, or with one added, still gives each its own state.
        """
        keys: dict[str, Callback] = {}
        for callback in self.callbacks:
            base = str(getattr(callback, "name", None) or type(callback).__name__)
            key, n = base, 1
            while key in keys:
                n += 1
                key = f"{base}#{n}"
            keys[key] = callback
        return keys

    def interrupt(self, reason: str) -> None:
        """Stop after the current mini-batch without finishing the epoch (Ctrl-C, SIGTERM).

        The unfinished epoch is not recorded; :meth:`write_resume_point` writes the
        state at the end of the last complete epoch, from which ``fit(resume=...)``
        continues exactly.
        """
        self.interrupted = True
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason

    def write_resume_point(self, path: str | os.PathLike[str]) -> bool:
        """Write a checkpoint of the last complete epoch kept by ``keep_resume_point``.

        The live model and optimiser are set back to that state first (the partial
        epoch after it is discarded). Returns False when no epoch was completed.
        """
        if self._resume_point is None:
            return False
        model_state, optimizer_state, trainer_state, arrays = self._resume_point
        self.model.load_state_dict(model_state)
        self.optimizer.load_state_dict(optimizer_state)
        save_checkpoint(path, self.model, self.optimizer, trainer_state, arrays)
        return True

    def _trainer_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        values, arrays = {}, {}
        for key, callback in self._callback_keys().items():
            state, callback_arrays = callback.state_dict()
            if not state and not callback_arrays:
                continue  # stateless (progress bars, loggers): nothing to restore
            values[key] = {"class": type(callback).__name__, "state": state}
            arrays.update({f"{key}.{k}": v for k, v in callback_arrays.items()})
        trainer_state = {
            "epoch": self.epoch,
            # Finished by a callback (early stopping), not merely interrupted: an
            # interrupt can land between the last batch and the end-of-epoch state.
            "stopped": self._finish_reason is not None and not self.diverged,
            "stop_reason": self._finish_reason,
            "history": self.history.to_dict(),
            "rng": {"trainer": self.rng.bit_generator.state,
                    "default": default_rng().bit_generator.state,
                    "modules": {name: generator.bit_generator.state
                                for name, generator in self._module_generators().items()}},
            "callbacks": values,
        }
        return trainer_state, arrays

    def _write_checkpoint(self, path: Path) -> None:
        trainer_state, arrays = self._trainer_state()
        save_checkpoint(path, self.model, self.optimizer, trainer_state, arrays)

    def _keep_resume_point(self) -> None:
        """Copy, in memory, what a checkpoint of this epoch's end would hold."""
        trainer_state, arrays = self._trainer_state()
        self._resume_point = (copy_state(self.model.state_dict()),
                              copy.deepcopy(self.optimizer.state_dict()),
                              copy.deepcopy(trainer_state), copy_state(arrays))

    def _resume(self, path: str | os.PathLike[str]) -> int:
        checkpoint = load_checkpoint(path)
        expected = class_name(type(self.model))
        if checkpoint.model_spec.get("class") != expected:
            raise ModelFileError(f"fit(resume=...): the checkpoint holds a "
                                 f"{checkpoint.model_spec.get('class')}, not a {expected}")
        try:
            self.model.load_state_dict(checkpoint.model_state)
        except ValueError as error:  # missing or unexpected keys, or a ShapeError
            raise ModelFileError(f"fit(resume=...): {error.args[0]}") from None
        if checkpoint.optimizer_state is not None:
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
        state = checkpoint.trainer_state
        try:
            self.history = History.from_dict(state["history"])
            generators = state["rng"]
            default_rng().bit_generator.state = generators["default"]
            self.rng.bit_generator.state = generators["trainer"]
            own = self._module_generators()
            for name, generator_state in generators["modules"].items():
                if name in own:
                    own[name].bit_generator.state = generator_state
            self._restore_callbacks(state["callbacks"], checkpoint.arrays)
            epoch = int(state["epoch"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ModelFileError(f"fit(resume=...): {checkpoint.path / 'trainer.json'} is "
                                 f"malformed ({type(error).__name__}: {error}); the checkpoint "
                                 "was edited or damaged") from None
        if state.get("stopped"):
            # The run had finished (early stopping): resuming it trains nothing more.
            self.stop_training = True
            self.stop_reason = self._finish_reason = state.get("stop_reason")
        return epoch

    def _restore_callbacks(self, saved: Any, arrays: dict[str, Any]) -> None:
        if isinstance(saved, list):  # checkpoints before callbacks were keyed by identity
            keyed: dict[str, Any] = {}
            counts: dict[str, int] = {}
            for i, entry in enumerate(saved):
                counts[entry["class"]] = counts.get(entry["class"], 0) + 1
                n = counts[entry["class"]]
                key = entry["class"] if n == 1 else f"{entry['class']}#{n}"
                keyed[key] = entry
                arrays = {(f"{key}." + k[len(f"{i}."):] if k.startswith(f"{i}.") else k): v
                          for k, v in arrays.items()}
            saved = keyed
        own = self._callback_keys()
        for key, entry in saved.items():
            callback = own.get(key)
            if callback is None or type(callback).__name__ != entry["class"]:
                continue
            prefix = f"{key}."
            callback.load_state_dict(entry["state"], {k[len(prefix):]: v
                                                      for k, v in arrays.items()
                                                      if k.startswith(prefix)})
        stateful = {key for key, c in own.items() if c.state_dict() != ({}, {})}
        missing = sorted(set(saved) - set(own))
        added = sorted(stateful - set(saved))
        if missing or added:
            changes = []
            if missing:
                changes.append(f"not given now, so their state is dropped: {', '.join(missing)}")
            if added:
                changes.append(f"new, so they start fresh: {', '.join(added)}")
            warnings.warn(f"fit(resume=...): the callbacks differ from the checkpoint's: "
                          f"{'; '.join(changes)}", stacklevel=4)

    def _module_generators(self) -> dict[str, np.random.Generator]:
        """Layers' own generators (Dropout(rng=...)), by module name."""
        found = {}
        for name, module in self.model.named_modules():
            generator = getattr(module, "rng", None)
            if isinstance(generator, np.random.Generator):
                found[name] = generator
        return found

    def _lone_last_example(self, m: int, batch_size: int | None) -> bool:
        """Whether the last mini-batch would be one example that batch norm cannot use.

        Batch norm in training mode needs two or more examples to estimate a
        variance; with m = 65 and batches of 64 the last batch has one. By default
        ``fit`` then drops that one example from each epoch (a different one each
        epoch, as the data are reshuffled) instead of failing mid-epoch.
        """
        if batch_size is None or m <= batch_size or m % batch_size != 1:
            return False
        return any(isinstance(module, _BatchNorm) for module in self.model.modules())

    def _terminator(self) -> TerminateOnNaN:
        return next(c for c in self.callbacks if isinstance(c, TerminateOnNaN))

    def _callbacks(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    # -------------------------------------------------------------- epochs
    def _train_epoch(self, loader: DataLoader, targets: Any) -> dict[str, float] | None:
        model, optimizer, task = self.model, self.optimizer, self.task
        model.train()
        device = model.device
        total, count = 0.0, 0
        outputs_seen: list[Any] = []
        targets_seen: list[Any] = []
        # The loader shuffles example indices; the targets (one array, or a tuple or
        # dict of arrays for several heads) are indexed with them.
        for batch, (X_batch, index) in enumerate(loader):
            m = int(X_batch.shape[0])
            y_batch = tree_index(targets, index)
            # Overflow is how divergence shows; the loop reports it (TerminateOnNaN)
            # instead of NumPy warning about it.
            with np.errstate(over="ignore", invalid="ignore"):
                outputs = model(to_device(X_batch, device))
                if not self._validated:
                    task.validate(detach(outputs), y_batch, owner="fit")
                    self._validated = True
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
                        outputs_seen.append(detach(outputs))
                        targets_seen.append(y_batch)
            self.history.iteration_loss.append(value)
            self._callbacks("on_batch_end", batch, {"loss": value})
            if self.stop_training and (self.diverged or self.interrupted):
                return None
        logs = {"loss": total / max(count, 1)}
        if self.metrics and outputs_seen:
            # The running training-mode figures: each batch's outputs as the weights
            # were when it was seen (dropout on), concatenated once per epoch.
            logs.update(task.compute_metrics(self.metrics, tree_concatenate(targets_seen),
                                             to_host(tree_concatenate(outputs_seen))))
        return logs

    def fit(self, X: Any, y: Any, *, epochs: int = 10, batch_size: int | None = 64,
            dev: tuple[Any, Any] | None = None, rng: Any = None, shuffle: bool = True,
            augment: Callable[[Any, np.random.Generator], Any] | None = None,
            resume: str | os.PathLike[str] | None = None,
            drop_last: bool | None = None) -> History:
        """Train; see :func:`fit` for the arguments."""
        self.epochs = positive_int("fit", "epochs", epochs)
        X, targets = prepare_data("fit", self.model, self.task, X, y)
        dev_data = None
        if dev is not None:
            if not isinstance(dev, (tuple, list)) or len(dev) != 2:
                raise TypeError("fit: `dev` must be a pair (X_dev, y_dev)")
            dev_data = prepare_data("fit (dev)", self.model, self.task, dev[0], dev[1])
        self.rng = resolve_rng(rng)
        if drop_last is None:
            drop_last = self._lone_last_example(int(X.shape[0]), batch_size)
        loader = DataLoader(X, np.arange(X.shape[0]), batch_size=batch_size, shuffle=shuffle,
                            rng=self.rng, transform=augment, drop_last=drop_last)
        self.batches_per_epoch = len(loader)
        self.history = History()
        self.stop_training, self.stop_reason, self.diverged = False, None, False
        self.interrupted, self._resume_point, self._finish_reason = False, None, None
        self._validated = False
        completed = self._resume(resume) if resume is not None else 0
        self.optimizer.epoch = self.epoch = completed
        self._callbacks("on_train_begin")
        try:
            for epoch in range(completed + 1, self.epochs + 1):
                if self.stop_training:
                    break
                self.epoch = epoch
                self._callbacks("on_epoch_begin", epoch)
                lr = self.optimizer.lr  # a scheduler callback may have changed it
                logs = self._train_epoch(loader, targets)
                if logs is None:
                    break
                if dev_data is not None:
                    try:
                        with np.errstate(over="ignore", invalid="ignore"):
                            dev_logs = _evaluate(self.model, self.task, self.loss,
                                                 self._default_loss, self.metrics,
                                                 dev_data[0], dev_data[1], 256)
                    except NonFiniteError:
                        # The dev inputs are finite (checked above): the weights blew up.
                        self._terminator().diverged(
                            self, f"the model's outputs on the dev set became NaN or Inf "
                            f"after epoch {epoch}")
                        break
                    logs.update({f"dev_{k}": v for k, v in dev_logs.items()})
                logs["lr"] = lr
                self.history.append(epoch, logs)
                self.optimizer.epoch = epoch
                self._callbacks("on_epoch_end", epoch, logs)
                for path in self._checkpoint_requests:
                    self._write_checkpoint(path)
                self._checkpoint_requests.clear()
                if self.keep_resume_point:
                    self._keep_resume_point()
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            self.interrupt(f"interrupted (Ctrl-C) during epoch {self.epoch}; kept the weights "
                           "and the history so far")
        finally:
            self.history.stop_reason = self.stop_reason
            self._callbacks("on_train_end")
            self.model.eval()
        return self.history


def fit(model: Module, X: Any, y: Any, *, task: Task | str | None = None,
        loss: str | LossFunction | None = None, optimizer: Optimizer | str | None = None,
        epochs: int = 10, batch_size: int | None = 64, dev: tuple[Any, Any] | None = None,
        metrics: Sequence[Any] | None = None, callbacks: Iterable[Callback] = (),
        regularization: Any = None, rng: Any = None, verbose: int = 1,
        shuffle: bool = True, augment: Callable[[Any, np.random.Generator], Any] | None = None,
        resume: str | os.PathLike[str] | None = None, drop_last: bool | None = None) -> History:
    """Train ``model`` on (X, y) with mini-batch gradient descent.

    Args:
        model: the network; calling it returns raw outputs (logits: the last layer's
            Z), one tensor or a tuple/dict of tensors for several heads.
        X: training inputs, m first ((m, n_x) or (m, C, H, W)); cast to the model's
            dtype.
        y: targets, checked and encoded by the task: integer classes (m,) or one-hot
            rows for classification, 0/1 targets (m,) or (m, 1) for a binary task,
            (m, k) with NaN for unknown labels for multi-label, values for
            regression; a dict/tuple of those for a :class:`~steepest.tasks.MultiTask`.
        task: what the model predicts (a :class:`~steepest.tasks.Task` or a name:
            "classification", "binary", "multilabel", "regression"); default the
            model's own task (``LeNet5`` classifies, ``LogisticRegression`` is binary,
            ``MLP(output=...)`` follows its output).
        loss: any function ``loss(outputs, targets) -> scalar Tensor``, or a library
            loss's name; default the task's loss.
        optimizer: an :class:`~steepest.optim.Optimizer` over the model's parameters,
            or a name ("adam", "momentum", "rmsprop", "gd", "sgd"); default Adam(lr=0.001).
        epochs: the total number of epochs (counting any a resumed run already did).
        batch_size: mini-batch size (default 64; None = all m, batch gradient
            descent; 1 = stochastic gradient descent).
        dev: (X_dev, y_dev), evaluated after every epoch (``dev_loss``, ``dev_<metric>``).
        metrics: names (for classifiers "accuracy", "error", "precision", "recall",
            "f1"; for regression "mse", "rmse", "mae") or functions
            ``metric(y_true, y_pred)``; default the task's (accuracy for classifiers).
        callbacks: e.g. EarlyStopping, ModelCheckpoint, LearningRateScheduler.
        regularization: a penalty such as ``nn.L2(lambd)`` added to the cost J the
            loop reports and differentiates (I4).
        rng: a numpy Generator or int seed for the shuffling (default: steepest's
            generator, see ``steepest.seed``).
        verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
        shuffle: reshuffle the training set every epoch.
        augment: ``augment(X_batch, rng) -> X_batch`` applied to each training batch.
        resume: a checkpoint folder written by ModelCheckpoint to continue from.
        drop_last: drop the last, smaller mini-batch of each epoch. Default (None):
            only when it would hold a single example and the model has batch norm,
            which cannot normalise one example (m = 65 with batches of 64).

    Returns:
        The :class:`History`. Its training metrics are running averages over the
        epoch's mini-batches in training mode (dropout on, the weights changing);
        ``dev_*`` values come from an eval-mode pass after the epoch.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2)).astype(np.float32)
        >>> y = (X[:, 0] * X[:, 1] > 0).astype(int)       # XOR-like: needs a hidden layer
        >>> model = st.models.MLP([2, 8, 2], activation="tanh", output="softmax", rng=0)
        >>> history = fit(model, X, y, optimizer=st.optim.Adam(model.parameters(), lr=0.05),
        ...               epochs=60, batch_size=None, verbose=0, rng=0)
        >>> history.last("accuracy") > 0.9
        True
    """
    trainer = Trainer(model, task=task, loss=loss, optimizer=optimizer, metrics=metrics,
                      callbacks=callbacks, regularization=regularization, verbose=verbose)
    return trainer.fit(X, y, epochs=epochs, batch_size=batch_size, dev=dev, rng=rng,
                       shuffle=shuffle, augment=augment, resume=resume, drop_last=drop_last)
