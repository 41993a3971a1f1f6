"""Loss modules: PyTorch's names around the losses of :mod:`steepest.functional`.

A loss module holds its configuration (``reduction``) and is called as
``loss(prediction, target)``; its ``forward`` is one call into ``functional``, which
accepts Tensors, arrays and lists, checks shapes and dtypes without reading values
back from a GPU, and checks values (class indices, finiteness) on the device (see
:mod:`steepest.ops.loss`). The training loop validates the targets of a whole data
set once, before the first epoch.

Example:
    >>> import numpy as np
    >>> import steepest as st
    >>> criterion = st.nn.CrossEntropyLoss()
    >>> logits = st.tensor([[2.0, 0.0, -2.0]], requires_grad=True)
    >>> loss = criterion(logits, np.array([0]))
    >>> round(loss.item(), 4)
    0.1429
    >>> loss.backward()
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._validation import one_of
from ..autograd import Tensor
from ..ops.loss import REDUCTIONS, Reduction
from .module import Module


class _Loss(Module):
    """Shared configuration: the reduction over the examples."""

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.reduction: Reduction = one_of(type(self).__name__, "reduction", reduction,
                                           REDUCTIONS)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits (H9), PyTorch's ``nn.CrossEntropyLoss``.

    Args:
        reduction: "mean" (the cost J, default), "sum", or "none" (one loss per
            example).

    Shape:
        logits (m, C); target (m,) integer class indices in [0, C), or (m, C) one-hot
        or soft targets; output a scalar, or (m,) for ``reduction="none"``.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> CrossEntropyLoss(reduction="none")(st.tensor([[0.0, 0.0]]), np.array([1])).data
        array([0.6931472], dtype=float32)
    """

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits, computed stably (B4), PyTorch's name.

    Args:
        reduction: "mean" over all elements (default), "sum" or "none".

    Shape:
        logits of any shape; target of the same shape, values in [0, 1].

    Example:
        >>> import steepest as st
        >>> round(BCEWithLogitsLoss()(st.tensor([[0.0]]), [[1.0]]).item(), 4)  # log 2
        0.6931
    """

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error (a - y)^2, the regression loss (S4), PyTorch's ``nn.MSELoss``.

    Args:
        reduction: "mean" over all elements (default), "sum" or "none".

    Shape:
        prediction of any shape; target of the same shape.

    Example:
        >>> import steepest as st
        >>> MSELoss()(st.tensor([1.0, 3.0]), [0.0, 1.0]).item()
        2.5
    """

    def forward(self, prediction: Any, target: Any) -> Tensor:
        return F.mse_loss(prediction, target, reduction=self.reduction)
