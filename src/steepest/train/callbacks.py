"""Callbacks: code that the training loop runs at fixed points.

Hooks receive the :class:`~steepest.train.trainer.Trainer`, which exposes ``model``,
``optimizer``, ``history``, ``epoch`` (counting from 1) and ``stop_training``. Epoch
numbers count from 1, as in the seed's epoch_num.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._validation import non_negative_int, one_of, real
from ..optim.ewma import EWMA
from ..optim.schedules import Schedule
from .history import _higher_is_better

if TYPE_CHECKING:
    from .trainer import Trainer


def copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """Independent copies of a state dict's arrays (a snapshot of the weights)."""
    return {k: v.copy() for k, v in state.items()}


class Callback:
    """Base class; override the hooks you need.

    Callbacks with state a resumed run must continue from (the best value so far,
    say) override :meth:`state_dict` and :meth:`load_state_dict`.
    """

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Before each epoch (``epoch`` counts from 1)."""

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, float]) -> None:
        """After each mini-batch (``logs["loss"]`` is its cost; NaN if not finite)."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """After each complete epoch, with its costs and metrics."""

    def on_train_end(self, trainer: Trainer) -> None:
        """After the last epoch, also when training stopped early or was interrupted."""

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(JSON-friendly values, arrays) to save in a checkpoint."""
        return {}, {}

    def load_state_dict(self, values: dict[str, Any], arrays: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""


def _monitor_mode(owner: str, monitor: str, mode: str) -> Literal["min", "max"]:
    one_of(owner, "mode", mode, ("auto", "min", "max"))
    if mode == "auto":
        return "max" if _higher_is_better(monitor) else "min"
    return mode  # type: ignore[return-value]


def _require_monitor(owner: str, monitor: str, logs: dict[str, float]) -> float:
    if monitor not in logs:
        hint = (" (fit has no dev set: pass dev=(X_dev, y_dev) or monitor a training value "
                "such as 'loss')") if monitor.startswith("dev_") else ""
        raise KeyError(f"{owner}: monitored value {monitor!r} is not among "
                       f"{sorted(logs)}{hint}")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when the monitored dev value stops improving, and keep the best weights (I8).

    The seed's caveat: early stopping couples two jobs, fitting the cost J and not
    overfitting, so it is not "orthogonal"; L2 with a tuned lambda is the
    alternative.

    With ``restore_best=True`` the weights of the best epoch are restored at the end
    of training, whether or not the patience ran out (Keras issue #12511 is the bug
    of restoring only when it fires).

    Args:
        monitor: the history key to watch (default ``"dev_loss"``).
        patience: epochs without improvement before stopping.
        min_delta: a change smaller than this is not an improvement.
        mode: "min", "max" or "auto" (max for accuracy-like names).
        restore_best: restore the best epoch's weights when training ends.

    Example:
        >>> EarlyStopping(patience=3)
        EarlyStopping(monitor='dev_loss', patience=3, min_delta=0.0)
    """

    def __init__(self, monitor: str = "dev_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: Literal["auto", "min", "max"] = "auto", restore_best: bool = True) -> None:
        self.monitor = monitor
        self.patience = non_negative_int("EarlyStopping", "patience", patience)
        self.min_delta = real("EarlyStopping", "min_delta", min_delta, low=0.0)
        self.mode = _monitor_mode("EarlyStopping", monitor, mode)
        self.restore_best = bool(restore_best)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_weights: dict[str, Any] | None = None
        self.stopped_epoch: int | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        value = _require_monitor("EarlyStopping", self.monitor, logs)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = copy_state(trainer.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop(f"early stopping: {self.monitor} did not improve for {self.wait} "
                         f"epoch(s); the best was {self.best:.6g} at epoch {self.best_epoch}")

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        values = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        return values, ({} if self.best_weights is None else dict(self.best_weights))

    def load_state_dict(self, values: dict[str, Any], arrays: dict[str, Any]) -> None:
        self.best = float(values["best"])
        self.best_epoch = values["best_epoch"]
        self.wait = int(values["wait"])
        self.best_weights = copy_state(arrays) if arrays else None

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta})")


class LearningRateScheduler(Callback):
    """Set the optimiser's learning rate at the start of every epoch (O8).

    Args:
        schedule: a :class:`~steepest.optim.Schedule` (called with the epoch number)
            or a function ``schedule(epoch, lr) -> new_lr``, as in Keras.

    Example:
        >>> from steepest.optim import InverseTimeDecay
        >>> LearningRateScheduler(InverseTimeDecay(0.1, decay_rate=1.0))
        LearningRateScheduler(InverseTimeDecay(lr0=0.1, unit='epoch', decay_rate=1.0))
    """

    def __init__(self, schedule: Any) -> None:
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: `schedule` must be a Schedule or a function "
                            "schedule(epoch, lr)")
        self.schedule = schedule

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        if isinstance(self.schedule, Schedule):
            lr = self.schedule.after(epoch - 1)  # each schedule counts from its own first
        else:
            lr = self.schedule(epoch, trainer.optimizer.lr)
        trainer.optimizer.lr = float(lr)

    def __repr__(self) -> str:
        return f"LearningRateScheduler({self.schedule!r})"


class TerminateOnNaN(Callback):
    """Stop when the cost stops being finite, keeping the last good weights.

    At the start of each epoch it keeps a copy of the weights; when a mini-batch
    cost is NaN or infinite it restores that copy (the weights at the end of the
    last complete epoch), names the epoch and batch, and stops. :func:`fit` always
    includes one.
    """

    def __init__(self) -> None:
        self.snapshot: dict[str, Any] | None = None

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.snapshot = copy_state(trainer.model.state_dict())

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, float]) -> None:
        if not math.isfinite(logs["loss"]):
            self.diverged(trainer, f"the cost became {logs['loss']} at epoch {trainer.epoch}, "
                          f"batch {batch + 1}")

    def diverged(self, trainer: Trainer, what: str) -> None:
        """Restore the last good weights and stop, naming what blew up and the learning rate.

        The inputs were checked for NaN and Inf before training, so a non-finite
        value here is the model's own divergence, not the data's.
        """
        if self.snapshot is not None:
            trainer.model.load_state_dict(self.snapshot)
        trainer.diverged = True
        trainer.stop(f"training diverged: {what}; stopped and kept the weights from the end of "
                     f"epoch {trainer.epoch - 1}. The learning rate was "
                     f"{trainer.optimizer.lr:.3g}: try a smaller one (about 3-10x)")

    def __repr__(self) -> str:
        return "TerminateOnNaN()"


class ModelCheckpoint(Callback):
    """Write a checkpoint (model, optimiser, schedule, epoch, history, random states).

    The checkpoint is written atomically at the end of every epoch (or only when
    ``monitor`` improves, with ``save_best_only``), so it is always a complete,
    loadable state; ``fit(..., resume=path)`` continues from it exactly as if the
    run had never stopped (bit for bit on the CPU).

    Args:
        path: the checkpoint folder.
        monitor: the value that decides "best" (with ``save_best_only``).
        save_best_only: write only when ``monitor`` improves.
        mode: "min", "max" or "auto".

    Example:
        >>> ModelCheckpoint("runs/ckpt")
        ModelCheckpoint('runs/ckpt')
    """

    def __init__(self, path: str | os.PathLike[str], monitor: str = "dev_loss",
                 save_best_only: bool = False,
                 mode: Literal["auto", "min", "max"] = "auto") -> None:
        self.path = Path(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _monitor_mode("ModelCheckpoint", monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.save_best_only:
            value = _require_monitor("ModelCheckpoint", self.monitor, logs)
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        trainer.save_checkpoint(self.path)

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"best": self.best}, {}

    def load_state_dict(self, values: dict[str, Any], arrays: dict[str, Any]) -> None:
        self.best = float(values["best"])

    def __repr__(self) -> str:
        return f"ModelCheckpoint({str(self.path)!r})"


class ProgressBar(Callback):
    """Progress bars with the mini-batch cost smoothed by an EWMA (O3, O4).

    One bar per epoch over its mini-batches; when an epoch is only a batch or two
    (batch gradient descent on a small data set, typically run for hundreds of
    epochs), one bar over the epochs instead, so the screen is not flooded.

    Args:
        beta: the smoothing of the displayed cost (about 1 / (1 - beta) batches).
        stream: where to write (default stderr).
    """

    def __init__(self, beta: float = 0.9, stream: Any = None) -> None:
        self.beta = real("ProgressBar", "beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self.stream = stream
        self.bar: Any = None
        self.smoothed = EWMA(self.beta)
        self.per_epoch = True

    def _open(self, total: int, description: str, unit: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=description, unit=unit, leave=True,
                        file=self.stream or sys.stderr, dynamic_ncols=True)

    def on_train_begin(self, trainer: Trainer) -> None:
        self.per_epoch = trainer.batches_per_epoch > 2
        self.smoothed = EWMA(self.beta)
        if not self.per_epoch:
            self._open(trainer.epochs, "epochs", "epoch")
            self.bar.update(trainer.epoch)  # a resumed run starts where it stopped

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        if self.per_epoch:
            self.smoothed = EWMA(self.beta)
            self._open(trainer.batches_per_epoch, f"epoch {epoch}/{trainer.epochs}", "batch")

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, float]) -> None:
        if self.bar is None:
            return
        if math.isfinite(logs["loss"]):
            self.smoothed.update(logs["loss"])
        if self.per_epoch:
            self.bar.set_postfix_str(f"cost {self.smoothed.value:.4f}", refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is None:
            return
        self.bar.set_postfix_str(format_logs(logs), refresh=self.per_epoch)
        if self.per_epoch:
            self.bar.close()
            self.bar = None
        else:
            self.bar.update(1)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EpochLogger(Callback):
    """One line per epoch (``verbose=2``)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        print(f"epoch {epoch}/{trainer.epochs}  {format_logs(logs)}",
              file=self.stream or sys.stdout, flush=True)


def format_logs(logs: dict[str, float]) -> str:
    """``loss 0.1234  accuracy 0.9700 ...`` for display."""
    parts = []
    for key, value in logs.items():
        parts.append(f"{key} {value:.2e}" if key == "lr" else f"{key} {value:.4f}")
    return "  ".join(parts)


class CSVLogger(Callback):
    """Write one row per epoch to a CSV file: the epoch, its costs, metrics and lr.

    The header is the first epoch's keys (``epoch``, ``loss``, ``accuracy``, ...,
    ``dev_loss``, ..., ``lr``); each row is flushed as soon as its epoch ends, so
    the file is current while training runs and survives an interrupted one.
    Numbers are written in full precision (``repr``), NaN as ``nan``.

    Args:
        path: the CSV file.
        separator: the field separator.
        append: keep all rows already in the file instead of starting it afresh
            (the header is written only into an empty file). A run resumed with
            ``fit(resume=...)`` keeps the rows up to the epoch it resumes after
            either way.

    Example:
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> import steepest as st
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
        >>> X, y = np.zeros((8, 2), dtype=np.float32), np.array([0, 1] * 4)
        >>> _ = st.train.fit(st.models.MLP([2, 2], rng=0), X, y, epochs=2, verbose=0,
        ...                  callbacks=[st.train.CSVLogger(path)])
        >>> path.read_text().splitlines()[0]
        'epoch,loss,accuracy,lr'
        >>> len(path.read_text().splitlines())
        3
    """

    def __init__(self, path: str | os.PathLike[str], separator: str = ",",
                 append: bool = False) -> None:
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: `separator` must be one character; got {separator!r}")
        self.path = Path(path)
        self.separator = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._file: Any = None

    def on_train_begin(self, trainer: Trainer) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        completed = int(getattr(trainer, "epoch", 0) or 0)
        # A resumed run (fit(resume=...)) keeps the rows of the epochs it resumes
        # after and drops later ones, so the file ends as an uninterrupted run's would.
        keep = (self.append or completed > 0) and self.path.is_file() and \
            self.path.stat().st_size > 0
        self.keys = None
        if keep:
            lines = self.path.read_text().splitlines(keepends=True)
            self.keys = lines[0].rstrip("\r\n").split(self.separator)[1:]
            if completed > 0 and not self.append:
                rows = [line for line in lines[1:]
                        if line.split(self.separator, 1)[0].strip().isdigit()
                        and int(line.split(self.separator, 1)[0]) <= completed]
                self.path.write_text("".join([lines[0], *rows]))
        self._file = open(self.path, "a" if keep else "w", newline="")

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self._file is None:  # used without on_train_begin (a resumed loop)
            self.on_train_begin(trainer)
        if self.keys is None:
            self.keys = list(logs)
            self._file.write(self.separator.join(["epoch", *self.keys]) + "\n")
        cells = [str(epoch)] + [_csv_number(logs.get(key, math.nan)) for key in self.keys]
        self._file.write(self.separator.join(cells) + "\n")
        self._file.flush()

    def on_train_end(self, trainer: Trainer) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __repr__(self) -> str:
        return f"CSVLogger({str(self.path)!r})"


def _csv_number(value: Any) -> str:
    number = float(value)
    return repr(number) if math.isfinite(number) else str(number)


def _summary_writer_class() -> Any:
    """tensorboardX's SummaryWriter, imported without importing PyTorch.

    tensorboardX imports torch at import time when it is installed (seconds, and
    steepest never imports torch); steepest hands it NumPy values only, so torch is
    hidden during that one import unless it is loaded already. tensorboardX imports
    torch lazily everywhere else.
    """
    hide = "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        import tensorboardX
    except ImportError as error:  # the one line a missing extra gets
        raise ImportError("TensorBoard logging needs tensorboardX: pip install "
                          "steepest[tensorboard] (or pip install tensorboardX)") from error
    finally:
        if hide and sys.modules.get("torch", False) is None:
            del sys.modules["torch"]
    return tensorboardX.SummaryWriter


class TensorBoard(Callback):
    """Write TensorBoard event files: scalars per epoch and per batch, lr, histograms.

    Each epoch's values (``loss``, metrics, ``dev_*``, ``lr``) go under
    ``epoch/<name>`` at step = epoch; each mini-batch's cost under ``batch/loss`` at
    step = the number of mini-batches so far (the seed's cost-per-iteration curve,
    noisy with mini-batches, O2). With ``histogram_freq=k`` the weights go under
    ``weights/<parameter name>`` every k epochs. View them with
    ``tensorboard --logdir DIR``.

    Needs tensorboardX: ``pip install steepest[tensorboard]``.

    Args:
        log_dir: the folder for the event files (created).
        batch_scalars: also write every mini-batch's cost.
        histogram_freq: write weight histograms every this many epochs (0: never).
        flush_secs: how often the writer flushes to disk, in seconds (it also
            flushes at the end of every epoch).

    Raises:
        ImportError: tensorboardX is not installed.

    Example:
        >>> import tempfile
        >>> callback = TensorBoard(tempfile.mkdtemp(), histogram_freq=1)
        >>> callback
        TensorBoard(histogram_freq=1)
    """

    def __init__(self, log_dir: str | os.PathLike[str], batch_scalars: bool = True,
                 histogram_freq: int = 0, flush_secs: int = 30) -> None:
        self._writer_class = _summary_writer_class()
        self.log_dir = Path(log_dir)
        self.batch_scalars = bool(batch_scalars)
        self.histogram_freq = non_negative_int("TensorBoard", "histogram_freq", histogram_freq)
        self.flush_secs = non_negative_int("TensorBoard", "flush_secs", flush_secs)
        self.writer: Any = None
        self.step = 0

    def _open(self, trainer: Trainer) -> None:
        if self.writer is None:
            self.writer = self._writer_class(logdir=str(self.log_dir),
                                             flush_secs=max(self.flush_secs, 1))
            self.step = max(int(trainer.epoch), 0) * int(trainer.batches_per_epoch)

    def on_train_begin(self, trainer: Trainer) -> None:
        self._open(trainer)

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, float]) -> None:
        self._open(trainer)
        self.step += 1
        if self.batch_scalars:
            self.writer.add_scalar("batch/loss", float(logs["loss"]), self.step)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self._open(trainer)
        for key, value in logs.items():
            self.writer.add_scalar(f"epoch/{key}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, param in trainer.model.named_parameters():
                values = param.data
                get = getattr(values, "get", None)  # CuPy arrays come to the host
                self.writer.add_histogram(f"weights/{name}", get() if callable(get) and
                                          type(values).__module__.startswith("cupy")
                                          else values, epoch)
        self.writer.flush()

    def on_train_end(self, trainer: Trainer) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def __repr__(self) -> str:
        return f"TensorBoard(histogram_freq={self.histogram_freq})"
