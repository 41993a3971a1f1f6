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
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter
from .regularization import L1, L2, penalised_weights

__all__ = [
    "L1", "L2", "Dropout", "Flatten", "Identity", "LeakyReLU", "Linear", "Module", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "init", "penalised_weights",
]
