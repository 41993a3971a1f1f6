"""The training loop, its callbacks and history.

Example:
    >>> import steepest as st
    >>> callbacks = [st.train.EarlyStopping(patience=3)]
"""

from __future__ import annotations

from .callbacks import (
    Callback,
    EarlyStopping,
    EpochLogger,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    TerminateOnNaN,
)
from .history import History
from .trainer import Trainer, evaluate, fit, predict, predict_proba

__all__ = [
    "Callback", "EarlyStopping", "EpochLogger", "History", "LearningRateScheduler",
    "ModelCheckpoint", "ProgressBar", "TerminateOnNaN", "Trainer", "evaluate", "fit", "predict",
    "predict_proba",
]
