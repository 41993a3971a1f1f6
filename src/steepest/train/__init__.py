"""The training loop, its callbacks and history.

Example:
    >>> import steepest as st
    >>> callbacks = [st.train.EarlyStopping(patience=3)]
"""

from __future__ import annotations

from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    EpochLogger,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    TensorBoard,
    TerminateOnNaN,
)
from .history import History
from .trainer import Trainer, evaluate, fit, predict, predict_proba

__all__ = [
    "CSVLogger", "Callback", "EarlyStopping", "EpochLogger", "History", "LearningRateScheduler",
    "ModelCheckpoint", "ProgressBar", "TensorBoard", "TerminateOnNaN", "Trainer", "evaluate",
    "fit", "predict", "predict_proba",
]
