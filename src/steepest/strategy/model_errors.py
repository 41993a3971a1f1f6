"""Error rates of a trained model on each part of the data, and its diagnosis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.split import Splits
from ..nn.module import Module
from ..tasks import Task, resolve_task
from ..train.trainer import forward_in_batches, prepare_data
from .diagnosis import Diagnosis, diagnose


def error_rates(model: Module, splits: Splits | Mapping[str, tuple[Any, Any]], *,
                task: Task | str | None = None, batch_size: int = 256) -> dict[str, float]:
    """The error rate of ``model`` on each part ("train", "train_dev", "dev", "test").

    The task (default: the model's own) says what an error is: 1 - accuracy for a
    classifier, the share of wrong known labels for a multi-label model.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.models.MLP([2, 3, 2], rng=0)
        >>> data = {"train": (np.zeros((4, 2)), np.array([0, 1, 0, 1]))}
        >>> list(error_rates(net, data))
        ['train']
    """
    chosen = resolve_task(task, model, owner="error_rates")
    if chosen is None:
        raise ValueError("error_rates: the model has no default task; pass task= (e.g. "
                         "'classification')")
    parts = splits.parts() if isinstance(splits, Splits) else dict(splits)
    rates = {}
    for name, (X, y) in parts.items():
        if y is None:
            raise ValueError(f"error_rates: the {name!r} part has no labels")
        X, targets = prepare_data(f"error_rates ({name})", model, chosen, X, y)
        rates[name] = chosen.error_rate(targets, forward_in_batches(model, X, batch_size))
    return rates


def diagnose_model(model: Module, splits: Splits | Mapping[str, tuple[Any, Any]], *,
                   task: Task | str | None = None, human_error: float | None = None,
                   min_gap: float = 0.02, batch_size: int = 256) -> Diagnosis:
    """Compute the model's error on every part of ``splits`` and :func:`diagnose` them.

    Args:
        model: a trained classifier.
        splits: a :class:`~steepest.data.Splits` or a dict with "train" and "dev"
            (optionally "train_dev" and "test") pairs (X, y).
        human_error: human-level error, the Bayes-error proxy.
        task: what counts as an error (default: the model's own task).
        min_gap: the smallest gap that counts as a problem.
        batch_size: rows per forward pass.
    """
    rates = error_rates(model, splits, task=task, batch_size=batch_size)
    if "train" not in rates:
        raise ValueError("diagnose_model: `splits` needs a 'train' part")
    return diagnose(rates["train"], rates.get("dev"), human_error=human_error,
                    train_dev_error=rates.get("train_dev"), test_error=rates.get("test"),
                    min_gap=min_gap)
