"""Error rates of a trained model on each part of the data, and its diagnosis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..data.split import Splits
from ..metrics import error_rate
from ..nn.module import Module
from ..train.trainer import predict
from .diagnosis import Diagnosis, diagnose


def error_rates(model: Module, splits: Splits | Mapping[str, tuple[Any, Any]],
                batch_size: int = 256) -> dict[str, float]:
    """1 - accuracy of ``model`` on each part ("train", "train_dev", "dev", "test").

    Example:
        >>> import steepest as st
        >>> net = st.models.MLP([2, 3, 2], rng=0)
        >>> data = {"train": (np.zeros((4, 2)), np.array([0, 1, 0, 1]))}
        >>> list(error_rates(net, data))
        ['train']
    """
    parts = splits.parts() if isinstance(splits, Splits) else dict(splits)
    rates = {}
    for name, (X, y) in parts.items():
        if y is None:
            raise ValueError(f"error_rates: the {name!r} part has no labels")
        predictions = predict(model, X, batch_size=batch_size)
        rates[name] = error_rate(np.asarray(y).ravel(), np.asarray(predictions).ravel())
    return rates


def diagnose_model(model: Module, splits: Splits | Mapping[str, tuple[Any, Any]], *,
                   human_error: float | None = None, min_gap: float = 0.02,
                   batch_size: int = 256) -> Diagnosis:
    """Compute the model's error on every part of ``splits`` and :func:`diagnose` them.

    Args:
        model: a trained classifier (its ``output`` says how to read its logits).
        splits: a :class:`~steepest.data.Splits` or a dict with "train" and "dev"
            (optionally "train_dev" and "test") pairs (X, y).
        human_error: human-level error, the Bayes-error proxy.
        min_gap: the smallest gap that counts as a problem.
        batch_size: rows per forward pass.
    """
    rates = error_rates(model, splits, batch_size)
    if "train" not in rates:
        raise ValueError("diagnose_model: `splits` needs a 'train' part")
    return diagnose(rates["train"], rates.get("dev"), human_error=human_error,
                    train_dev_error=rates.get("train_dev"), test_error=rates.get("test"),
                    min_gap=min_gap)
