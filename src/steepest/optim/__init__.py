"""Optimisers with the seed's update rules and defaults, PyTorch's SGD, and learning-rate schedules.

Example:
    >>> import steepest as st
    >>> net = st.nn.Linear(3, 1)
    >>> optimizer = st.optim.Adam(net.parameters(), lr=st.optim.InverseTimeDecay(0.01, 1.0))
    >>> optimizer.lr  # epoch 1
    0.005
"""

from __future__ import annotations

from .ewma import EWMA
from .optimizer import Optimizer
from .rules import OPTIMIZERS, SGD, Adam, GradientDescent, Momentum, RMSprop
from .schedules import (
    Constant,
    ExponentialDecay,
    FixedIntervalDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    PiecewiseConstant,
    Schedule,
    StepDecay,
    Unit,
)

__all__ = [
    "EWMA", "OPTIMIZERS", "SGD", "Adam", "Constant", "ExponentialDecay", "FixedIntervalDecay",
    "GradientDescent", "InverseSqrtDecay", "InverseTimeDecay", "Momentum", "Optimizer",
    "PiecewiseConstant", "RMSprop", "Schedule", "StepDecay", "Unit",
]
