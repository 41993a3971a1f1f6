"""The record of a training run: per-epoch costs and metrics, per-iteration cost."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._files import read_json, write_json


@dataclass
class History:
    """What :func:`~steepest.train.fit` returns (Keras users know it as ``history``).

    Attributes:
        epochs: the epoch numbers run, counting from 1 (the seed's epoch_num).
        history: per-epoch series by name: ``loss`` (the training cost J, with the
            regularisation term, averaged over the epoch's mini-batches), ``lr``,
            the training metrics (``accuracy`` ...) and, with a dev set,
            ``dev_loss`` and ``dev_accuracy`` ...
        iteration_loss: the cost of every mini-batch, the seed's noisy "cost vs
            iterations" curve of mini-batch gradient descent (O2).
        stop_reason: why training ended early (early stopping, a non-finite cost,
            Ctrl-C), or None when it ran all epochs.
    """

    epochs: list[int] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    iteration_loss: list[float] = field(default_factory=list)
    stop_reason: str | None = None

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        """Record one epoch's values."""
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def last(self, key: str) -> float:
        """The latest value of ``key``."""
        return self.history[key][-1]

    def best_epoch(self, monitor: str = "dev_loss") -> int:
        """The epoch with the lowest ``monitor`` (highest for accuracy-like names)."""
        values = self.history[monitor]
        pick = max if _higher_is_better(monitor) else min
        best = pick(range(len(values)), key=lambda i: values[i])
        return self.epochs[best]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (NaN and Inf written as strings)."""
        return {
            "epochs": list(self.epochs),
            "history": {k: [_json_float(v) for v in vs] for k, vs in self.history.items()},
            "iteration_loss": [_json_float(v) for v in self.iteration_loss],
            "stop_reason": self.stop_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            epochs=[int(e) for e in data.get("epochs", [])],
            history={k: [float(v) for v in vs] for k, vs in data.get("history", {}).items()},
            iteration_loss=[float(v) for v in data.get("iteration_loss", [])],
            stop_reason=data.get("stop_reason"),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the history as JSON (atomically)."""
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> History:
        """Read a history written by :meth:`save`."""
        return cls.from_dict(read_json(path, "History.load"))

    def plot(self, path: str | os.PathLike[str] | None = None,
             keys: tuple[str, ...] | None = None) -> Any:
        """Plot the learning curves (cost and metrics per epoch, train vs dev).

        The train line is what ``fit`` measured while it trained: the average over
        the epoch's mini-batches, in training mode (dropout on, weights changing),
        so it lags the weights at the end of the epoch. The dev line is an eval-mode
        pass after the epoch. The legend says which is which.

        The "pandas" way of babysitting one model is watching these curves (H4).

        Args:
            path: save the figure there (PNG, PDF, ...) instead of returning it open.
            keys: the series to plot (default: every loss and metric, not ``lr``).

        Returns:
            The matplotlib Figure.

        Raises:
            ImportError: matplotlib is not installed (``pip install steepest[plot]``).
        """
        from ..plotting import finish, pyplot

        plt = pyplot()
        names = [k for k in self.history if k != "lr"] if keys is None else list(keys)
        groups = sorted({k.removeprefix("dev_") for k in names}, key=lambda k: k != "loss")
        figure, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.6),
                                    squeeze=False)
        for axis, group in zip(axes[0], groups):
            for key, style in ((group, "-"), (f"dev_{group}", "--")):
                if key in self.history and key in names:
                    label = ("dev (eval mode, after the epoch)" if key.startswith("dev_")
                             else "train (running average over the epoch, training mode)")
                    axis.plot(self.epochs, self.history[key], style, marker="o", markersize=3,
                              label=label)
            axis.set_xlabel("epoch")
            axis.set_ylabel(group)
            axis.set_title(group)
            axis.grid(alpha=0.3)
            axis.legend()
        return finish(figure, path)


def write_learning_curves(history: History, folder: Path, written: list[str]) -> None:
    """``folder/learning_curves.png`` for a run folder, listed in ``written``; without
    matplotlib a note says how to get it (the run itself is complete either way)."""
    try:
        history.plot(folder / "learning_curves.png")
        written.append("learning_curves.png")
    except ImportError:
        print("note: learning_curves.png skipped (pip install steepest[plot] for plots)")


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _higher_is_better(name: str) -> bool:
    return any(word in name for word in ("accuracy", "precision", "recall", "f1", "auc"))
