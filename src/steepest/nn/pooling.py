"""Pooling layers (C7): fixed windows, hyperparameters only, no learnable parameters."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from ..ops.conv import pool_arguments
from .module import Module


class _Pool(Module):
    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = pool_arguments(
            type(self).__name__, kernel_size, stride, padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """The largest value of each window, per channel (C7). f = 2, s = 2 halves H and W.

    Example:
        >>> import numpy as np
        >>> MaxPool2d(2)(np.zeros((1, 6, 28, 28), dtype=np.float32)).shape
        (1, 6, 14, 14)
    """

    def forward(self, x: Any) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool):
    """The mean of each window, per channel (C7).

    Example:
        >>> import numpy as np
        >>> AvgPool2d(2)(np.zeros((1, 6, 28, 28), dtype=np.float32)).shape
        (1, 6, 14, 14)
    """

    def forward(self, x: Any) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class GlobalAvgPool2d(Module):
    """The mean of each channel: (N, C, H, W) -> (N, C), as ResNet and Inception end.

    Example:
        >>> import numpy as np
        >>> GlobalAvgPool2d()(np.zeros((2, 512, 4, 4), dtype=np.float32)).shape
        (2, 512)
    """

    def forward(self, x: Any) -> Tensor:
        return F.global_avg_pool2d(x)
