"""Stateless functions of tensors: activations, the linear op, losses, penalties.

Import it as ``import steepest.functional as F``. Layers in :mod:`steepest.nn` hold
parameters and call these (a layer's ``forward`` is one call into this module).
Everything here is differentiable; the losses take logits and are numerically
stable. Every function accepts Tensors, NumPy arrays and Python lists or numbers
alike and returns a Tensor.

Example:
    >>> import numpy as np
    >>> import steepest as st
    >>> import steepest.functional as F
    >>> z = st.tensor(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)
    >>> F.cross_entropy(z, np.array([2])).backward()
    >>> bool(np.allclose(z.grad.sum(), 0.0, atol=1e-7))  # softmax - one_hot sums to 0
    True
"""

from __future__ import annotations

from .ops.conv import avg_pool2d, conv2d, conv_output_size, global_avg_pool2d, max_pool2d
from .ops.elementwise import leaky_relu, relu, sigmoid, tanh
from .ops.linalg import linear
from .ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_penalty,
    l2_penalty,
    masked_binary_cross_entropy_with_logits,
    mse_loss,
)
from .ops.norm import batch_norm, log_softmax, softmax
from .ops.random import dropout
from .ops.shape import flatten

__all__ = [
    "avg_pool2d", "batch_norm", "conv2d", "conv_output_size", "global_avg_pool2d", "max_pool2d",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout",
    "flatten", "l1_penalty",
    "l2_penalty", "leaky_relu", "linear", "log_softmax", "masked_binary_cross_entropy_with_logits",
    "mse_loss", "relu", "sigmoid", "softmax", "tanh",
]
