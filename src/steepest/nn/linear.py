"""The fully connected layer (F1, D3): every unit sees every input feature."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._validation import positive_int
from ..autograd import Tensor
from .init import Initializer, InitName, initialize, zeros
from .module import Module, Parameter


class Linear(Module):
    """Z = X W^T + b, the seed's Z[l] = W[l] A[l-1] + b[l] for batch-first data.

    Args:
        in_features: n[l-1], the size of each input example.
        out_features: n[l], the number of units.
        bias: learn a bias b (drop it when batch norm follows, seed H6).
        init: weight initialisation: "he" (default, for ReLU), "xavier" (tanh),
            "small_random", "zeros" (only right for logistic regression) or a callable
            ``init(shape, rng=None, dtype=None)``.
        rng: generator or seed for the initial weights.
        dtype: parameter dtype (default float32).

    Shape:
        input (m, in_features) or (..., in_features); output (m, out_features).

    Attributes:
        weight: W of shape (out_features, in_features), as in the seed and PyTorch;
            L1/L2 penalise it.
        bias: b of shape (out_features,), or None; created with ``regularize=False``.

    Example:
        >>> import numpy as np
        >>> layer = Linear(784, 10)
        >>> layer(np.zeros((64, 784), dtype=np.float32)).shape
        (64, 10)
        >>> layer
        Linear(in_features=784, out_features=10, bias=True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: InitName | Initializer = "he", rng: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        self.init = init
        self.weight = Parameter(initialize(init, (self.out_features, self.in_features), rng,
                                           dtype, "Linear"))
        if bias:
            self.bias = Parameter(zeros((self.out_features,), dtype=self.weight.dtype),
                                  regularize=False)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias, owner=f"Linear(in_features={self.in_features})")

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
