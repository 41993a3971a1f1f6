"""steepest: deep learning from logistic regression to object detection.

Tensors with reverse-mode autograd on NumPy (CuPy on a GPU), layers, optimisers, a
training loop, and the machine-learning-strategy tools of the course notes.

Example:
    >>> import steepest as st
    >>> x = st.tensor([3.0], requires_grad=True)
    >>> (x ** 2).backward()
    >>> x.grad
    array([6.], dtype=float32)
"""

from __future__ import annotations

import importlib
from typing import Any

from . import (
    backend,
    data,
    functional,
    io,
    metrics,
    models,
    nn,
    ops,
    optim,
    strategy,
    tasks,
    train,
)
from ._validation import NonFiniteError, ShapeError
from .autograd import Function, Tensor, as_tensor, enable_grad, is_grad_enabled, no_grad, tensor
from .backend import get_default_dtype, seed, set_default_dtype
from .creation import arange, eye, full, ones, rand, randn, zeros
from .gradcheck import gradcheck, gradcheck_model
from .io import load, save
from .nn.summary import summary
from .ops import concatenate, stack, where

cat = concatenate  # PyTorch's name

# Submodules with optional engines (Optuna, onnx, scikit-learn) or heavier code load on
# first use, so `import steepest` stays at NumPy, safetensors and tqdm.
_LAZY = ("detection", "onnx", "sklearn", "transfer", "tune")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'steepest' has no attribute {name!r}")

__version__ = "0.1.0"

__all__ = [
    "Function", "NonFiniteError", "ShapeError", "Tensor", "arange", "as_tensor", "backend",
    "cat", "concatenate", "data", "enable_grad", "eye", "full", "functional",
    "get_default_dtype", "gradcheck", "gradcheck_model", "io", "is_grad_enabled", "load",
    "metrics", "models", "nn", "no_grad", "ones", "ops", "optim", "rand", "randn", "save",
    "seed", "set_default_dtype", "strategy", "stack", "summary", "tasks", "tensor", "train",
    "where", "zeros",
]
