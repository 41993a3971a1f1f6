"""Learning curves: error against epochs and against training-set size (H4, F3, I2)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import resolve_rng
from ..data.loader import check_examples
from ..nn.module import Module
from ..plotting import finish, pyplot
from ..train.history import History
from ..train.trainer import fit
from .model_errors import error_rates


@dataclass(frozen=True)
class LearningCurve:
    """Training and dev error at each point of ``x`` (epochs or training-set sizes)."""

    x: np.ndarray
    train_error: np.ndarray
    dev_error: np.ndarray | None
    x_label: str

    def plot(self, path: str | os.PathLike[str] | None = None,
             human_error: float | None = None) -> Any:
        """Plot both curves (and the human-level line); save to ``path`` if given."""
        plt = pyplot()
        figure, axis = plt.subplots(figsize=(5.5, 3.8))
        axis.plot(self.x, 100 * self.train_error, "o-", label="training error")
        if self.dev_error is not None:
            axis.plot(self.x, 100 * self.dev_error, "s--", label="dev error")
        if human_error is not None:
            axis.axhline(100 * human_error, color="gray", linestyle=":",
                         label="human level (Bayes proxy)")
        axis.set_xlabel(self.x_label)
        axis.set_ylabel("error (%)")
        axis.grid(alpha=0.3)
        axis.legend()
        return finish(figure, path)


def curve_from_history(history: History, metric: str = "accuracy") -> LearningCurve:
    """Error against epochs from a training run (1 - ``metric``, or ``error`` itself).

    Example:
        >>> h = History()
        >>> h.append(1, {"accuracy": 0.8, "dev_accuracy": 0.7})
        >>> curve_from_history(h).dev_error.round(2).tolist()
        [0.3]
    """
    def errors(key: str) -> np.ndarray | None:
        if key in history.history:
            values = np.asarray(history.history[key], dtype=np.float64)
            return values if metric == "error" else 1.0 - values
        return None

    train = errors(metric)
    if train is None:
        raise KeyError(f"curve_from_history: the history has no {metric!r}; train with "
                       f"metrics=['{metric}'] (it has {sorted(history.history)})")
    return LearningCurve(np.asarray(history.epochs), train, errors(f"dev_{metric}"), "epoch")


def learning_curve(make_model: Callable[[], Module], X: Any, y: Any, dev: tuple[Any, Any], *,
                   sizes: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 1.0),
                   rng: np.random.Generator | int | None = None,
                   **fit_kwargs: Any) -> LearningCurve:
    """Train a fresh model on growing shares of the training set; error against size (F3).

    A high and flat dev curve with a low training curve is variance that more data
    would cure; two curves that meet high are bias, which more data will not fix.

    Args:
        make_model: builds a new, untrained model each time.
        X: the training examples.
        y: their labels.
        dev: (X_dev, y_dev).
        sizes: fractions of the training set (or counts). The subsets are nested:
            each is the start of one random order of the training set.
        rng: a ``numpy.random.Generator``, an int seed or None for steepest's
            default generator. It draws the order of the examples and one seed that
            every run's ``fit(..., rng=...)`` gets, so the runs differ only in the
            amount of data, and an int seed reproduces the whole curve.
        **fit_kwargs: passed to :func:`~steepest.train.fit` (epochs, optimizer as a
            name, ...). The default is ``verbose=0``.

    Returns:
        A :class:`LearningCurve` over the training-set sizes.

    Raises:
        ValueError: a size gives fewer than 1 or more than m examples.
        TypeError: ``rng`` is not a Generator, an int or None.

    Example:
        >>> import steepest as st
        >>> X = np.random.default_rng(0).normal(size=(60, 2))
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> curve = learning_curve(lambda: st.models.MLP([2, 4, 2], rng=0), X, y, (X, y),
        ...                        sizes=(0.5, 1.0), rng=0, epochs=2)
        >>> curve.x.tolist(), curve.train_error.shape
        ([30, 60], (2,))
    """
    X, y = check_examples("learning_curve", X, y)
    m = int(X.shape[0])
    counts = []
    for size in sizes:
        count = int(size) if isinstance(size, (int, np.integer)) else round(size * m)
        if not 1 <= count <= m:
            raise ValueError(f"learning_curve: size {size!r} gives {count} examples; need 1 to "
                             f"{m}")
        counts.append(count)
    generator = resolve_rng(rng)
    order = generator.permutation(m)
    run_seed = int(generator.integers(2**32))
    train_errors, dev_errors = [], []
    fit_kwargs.setdefault("verbose", 0)
    for count in counts:
        subset = order[:count]
        model = make_model()
        fit(model, X[subset], y[subset], rng=run_seed, **fit_kwargs)
        rates = error_rates(model, {"train": (X[subset], y[subset]), "dev": dev})
        train_errors.append(rates["train"])
        dev_errors.append(rates["dev"])
    return LearningCurve(np.asarray(counts), np.asarray(train_errors), np.asarray(dev_errors),
                         "training examples")
