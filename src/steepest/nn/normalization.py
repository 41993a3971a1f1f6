"""Batch normalisation layers (H5, H6, H7)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._validation import ShapeError, fmt_shape, positive_int, real
from ..autograd import Tensor
from ..backend import get_default_dtype
from .module import Module, Parameter


class _BatchNorm(Module):
    """Shared code of BatchNorm1d and BatchNorm2d."""

    expected_ndim = 2
    running_mean: Any
    running_var: Any

    def __init__(self, num_features: int, momentum: float = 0.9, eps: float = 1e-5,
                 dtype: Any = None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.num_features = positive_int(owner, "num_features", num_features)
        self.momentum = real(owner, "momentum", momentum, low=0.0, high=1.0,
                             high_inclusive=False)
        self.eps = real(owner, "eps", eps, low=0.0, low_inclusive=False)
        dtype = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.gamma = Parameter(np.ones(self.num_features, dtype=dtype), regularize=False)
        self.beta = Parameter(np.zeros(self.num_features, dtype=dtype), regularize=False)
        self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        owner = f"{type(self).__name__}({self.num_features})"
        # The layer's own rule (batch_norm accepts both layouts); the channel count is
        # checked once, by batch_norm. np.ndim reads tensors, arrays and lists alike.
        if np.ndim(x) != self.expected_ndim:
            layout = "(N, C)" if self.expected_ndim == 2 else "(N, C, H, W)"
            raise ShapeError(f"{owner}: expected a {self.expected_ndim}-D input {layout}; got "
                             f"shape {fmt_shape(np.shape(x))}")
        return F.batch_norm(x, self.gamma, self.beta, self.running_mean, self.running_var,
                            self.training, self.momentum, self.eps, owner=owner)

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"


class BatchNorm1d(_BatchNorm):
    """Batch norm of the z of a fully connected layer, per unit: input (N, C) (H5).

    z_norm = (z - mu) / sqrt(var + eps) and z_tilde = gamma z_norm + beta, with mu and
    var from the mini-batch in training and from their running estimates in eval
    mode (H6). ``gamma`` and ``beta`` are learned (the seed's names); the layer before
    can drop its bias (``Linear(..., bias=False)``), since beta replaces it (H6).
    The running estimates are exponentially weighted averages with weight
    ``momentum`` on the old value (the seed's beta = 0.9, Keras's convention).
    PyTorch's ``momentum`` is 1 minus ours: our 0.9 is its 0.1. The running variance
    uses the unbiased batch variance (m / (m - 1)), as in PyTorch; normalisation
    uses the biased one.

    Args:
        num_features: C, the number of units.
        momentum: weight of the old value in the running averages, in [0, 1).
        eps: added to the variance.
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> layer = BatchNorm1d(3)
        >>> out = layer(np.random.default_rng(0).normal(5, 2, (64, 3)).astype(np.float32))
        >>> bool(np.allclose(out.data.mean(axis=0), 0, atol=1e-5))
        True
        >>> [name for name, _ in layer.named_parameters()], list(layer.state_dict())
        (['gamma', 'beta'], ['gamma', 'beta', 'running_mean', 'running_var'])
    """

    expected_ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch norm per channel of a convolutional layer's output: input (N, C, H, W).

    The statistics are over the batch and all positions of each channel. See
    :class:`BatchNorm1d` for the conventions.

    Example:
        >>> import numpy as np
        >>> BatchNorm2d(16)(np.zeros((4, 16, 8, 8), dtype=np.float32)).shape
        (4, 16, 8, 8)
    """

    expected_ndim = 4
