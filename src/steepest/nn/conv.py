"""The convolutional layer (C4, C5, K5)."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._validation import pair, positive_int
from ..autograd import Tensor
from ..ops.conv import Padding, resolve_padding
from .init import Initializer, InitName, initialize, zeros
from .module import Module, Parameter


class Conv2d(Module):
    """A bank of learned filters slid over the image, plus a bias each (C4, C5).

    Each of the ``out_channels`` filters spans all ``in_channels`` and makes one
    output channel. The number of parameters, out * (in * kh * kw + 1), does not
    depend on the image size (C5): parameter sharing and sparse connections (C9).
    A 1x1 convolution (``kernel_size=1``) is a fully connected layer applied at every
    position, which shrinks or keeps the channel count (K5).

    Args:
        in_channels: C of the input.
        out_channels: the number of filters F.
        kernel_size: f, an int or (kh, kw) (odd sizes are the custom, C2).
        stride: s, an int or a pair.
        padding: an int, a pair, "valid" or "same".
        bias: learn a bias per filter (drop it when batch norm follows, H6).
        init: "he" (default), "xavier", "small_random", "zeros" or a callable.
        rng: generator or seed for the initial weights.
        dtype: parameter dtype.

    Shape:
        input (N, in_channels, H, W); output (N, out_channels, OH, OW) with
        OH = floor((H + 2p - f) / s) + 1.

    Example:
        >>> import numpy as np
        >>> layer = Conv2d(3, 16, kernel_size=3, padding="same")
        >>> layer(np.zeros((8, 3, 32, 32), dtype=np.float32)).shape
        (8, 16, 32, 32)
        >>> layer.num_parameters()                      # 16 * (3 * 3 * 3 + 1)
        448
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: Padding = 0, bias: bool = True,
                 init: InitName | Initializer = "he", rng: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_channels = positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = positive_int("Conv2d", "out_channels", out_channels)
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size)
        self.stride = pair("Conv2d", "stride", stride)
        resolve_padding("Conv2d", padding, self.kernel_size, self.stride)  # validate now
        self.padding = padding if isinstance(padding, str) else pair("Conv2d", "padding",
                                                                     padding, minimum=0)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(initialize(init, shape, rng, dtype, "Conv2d"))
        if bias:
            self.bias = Parameter(zeros((self.out_channels,), dtype=self.weight.dtype),
                                  regularize=False)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, owner=(
            f"Conv2d(in_channels={self.in_channels}, out_channels={self.out_channels})"))

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        return text + ("" if self.bias is not None else ", bias=False")
