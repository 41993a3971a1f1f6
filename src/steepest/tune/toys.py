"""Small objectives for examples, tests and the figures of ``docs/tune.md``.

They cost microseconds, so a search's machinery (sampling, pruning, parallel workers,
shared databases) can be shown and tested without training a network. They are
module-level functions, so worker processes can import them.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any


def one_that_matters(params: dict[str, Any], trial: Any = None) -> float:
    """A 2-D problem where only the learning rate matters (the notes' grid-vs-random case).

    The "dev error" is a valley in log10(lr) with its floor at lr = 10**-2.3;
    ``epsilon`` (Adam's, say) changes nothing. A 5 x 5 grid tries only 5 learning
    rates; 25 random points try 25.

    Example:
        >>> round(one_that_matters({"lr": 10**-2.3, "epsilon": 1e-8}), 3)
        0.05
    """
    return 0.05 + 0.08 * (math.log10(params["lr"]) + 2.3) ** 2


def learning_curve(params: dict[str, Any], trial: Any, *, epochs: int = 8,
                   bad_above: float = 0.7) -> float:
    """A synthetic learning curve reported each epoch; ``x > bad_above`` is a bad region.

    Good points fall from 0.5 towards 0.05 + 0.1 * x; bad ones stay near 0.9. Each epoch
    is reported to the trial, so a pruner can stop bad runs early.
    """
    from .objective import report

    x = float(params["x"])
    value = 1.0
    for epoch in range(1, epochs + 1):
        if x > bad_above:
            value = 0.9 - 0.01 * epoch * (1 - x)
        else:
            value = 0.05 + 0.1 * x + 0.45 * math.exp(-epoch / 2)
        report(trial, value, epoch)
    return value


def sleepy(params: dict[str, Any], trial: Any, *, seconds: float = 0.1,
           folder: str | None = None) -> float:
    """Wait ``seconds`` (a stand-in for training), noting the start in ``folder``.

    The note is a file ``<pid>-<trial number>`` so a test can tell which process is
    in the middle of which trial.
    """
    if folder is not None:
        Path(folder, f"{os.getpid()}-{trial.number}").touch()
    time.sleep(seconds)
    return float(sum(float(v) for v in params.values() if isinstance(v, (int, float))))


def quadratic(params: dict[str, Any], trial: Any = None) -> float:
    """A bowl with its minimum at lr = 1e-2, beta1 = 0.99 (on their sampled scales)."""
    value = (math.log10(params["lr"]) + 2) ** 2
    if "beta1" in params:
        value += (math.log10(1 - params["beta1"]) + 2) ** 2
    return value
