"""Layers and models as Modules: parameters, buffers, modes, state dicts (S1, D3).

Example:
    >>> import numpy as np
    >>> import steepest as st
    >>> net = st.nn.Sequential(st.nn.Linear(2, 4), st.nn.Tanh(), st.nn.Linear(4, 1))
    >>> net(np.zeros((3, 2), dtype=np.float32)).shape
    (3, 1)
"""

from __future__ import annotations

from . import init
from .activation import Flatten, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Linear
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from .regularization import L1, L2, penalised_weights
from .summary import Summary, summary

__all__ = [
    "L1", "L2", "AvgPool2d", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "Dropout", "Flatten", "GlobalAvgPool2d", "Identity", "IncompatibleKeys",
    "LeakyReLU", "Linear", "MSELoss", "MaxPool2d", "Module", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Summary", "Tanh", "init", "penalised_weights", "summary",
]
