"""Activation layers (S3, S4, H8): each layer of a network may use its own."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._validation import real
from ..autograd import Tensor, as_tensor
from .module import Module


class ReLU(Module):
    """max(0, z): the default for hidden layers (F1, S3).

    Example:
        >>> import steepest as st
        >>> ReLU()(st.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """max(negative_slope * z, z): a small slope where ReLU is flat (S3).

    Example:
        >>> import steepest as st
        >>> LeakyReLU(0.1)(st.tensor([-1.0, 2.0]))
        tensor([-0.1,  2. ])
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = real("LeakyReLU", "negative_slope", negative_slope, low=0.0,
                                   high=1.0, high_inclusive=False)

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + e^-z): for a binary output unit (S3).

    Example:
        >>> import steepest as st
        >>> Sigmoid()(st.tensor([0.0]))
        tensor([0.5])
    """

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(z): zero-centred, usually better than sigmoid in hidden layers (S3).

    Example:
        >>> import steepest as st
        >>> Tanh()(st.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """Softmax over ``axis`` (H8). For training, feed logits to ``F.cross_entropy`` instead.

    Example:
        >>> import steepest as st
        >>> Softmax()(st.tensor([[0.0, 0.0]]))
        tensor([[0.5, 0.5]])
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Identity(Module):
    """Returns its input: the linear activation of a regression output (S4).

    A Tensor comes back unchanged (the same object); an array or a list comes back
    as a Tensor, as from every other layer.

    Example:
        >>> import steepest as st
        >>> Identity()(st.tensor([3.0]))
        tensor([3.])
    """

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x)


class Flatten(Module):
    """Unroll each example into one feature vector: (m, C, H, W) -> (m, C*H*W) (B1).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> Flatten()(st.tensor(np.zeros((2, 3, 4, 4)))).shape
        (2, 48)
    """

    def __init__(self, start_axis: int = 1) -> None:
        super().__init__()
        self.start_axis = int(start_axis)

    def forward(self, x: Any) -> Tensor:
        return F.flatten(x, self.start_axis)
