"""Regularisation penalties that the training loop adds to the cost (I4, I5).

A penalty is called as ``penalty(model, m)`` with the model (or a dict of named
tensors, for a hand-written network) and the number of examples m of the batch,
and returns a scalar tensor. ``fit(..., regularization=L2(0.01))`` adds it to the
cost it reports and differentiates, so the optimiser sees its gradient, and
``gradcheck_model(..., regularization=...)`` checks it (I14).

Only weights are penalised, not biases or batch-norm parameters: the parameters
whose name ends in ``weight`` (``W1``-style names for a dict of tensors), and that
are trained (``requires_grad``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._validation import real
from ..autograd import Tensor
from ..ops.loss import l1_penalty, l2_penalty
from .module import Module


def penalised_weights(model: Module | Mapping[str, Tensor]) -> list[Tensor]:
    """The weights a penalty applies to (see the module docstring).

    Example:
        >>> import steepest as st
        >>> net = st.nn.Sequential(st.nn.Linear(2, 3), st.nn.Linear(3, 1))
        >>> [w.shape for w in penalised_weights(net)]
        [(3, 2), (1, 3)]
    """
    items: list[tuple[str, Tensor]]
    if isinstance(model, Module):
        items = list(model.named_parameters())
        chosen = [p for name, p in items if name.rsplit(".", 1)[-1] == "weight"]
    else:
        items = list(model.items())
        chosen = [p for name, p in items
                  if name.rsplit(".", 1)[-1] == "weight" or name.startswith("W")]
    return [p for p in chosen if p.requires_grad]


class L2:
    """The seed's L2 penalty lambd / (2m) * sum ||W||_F^2 ("weight decay", I4).

    Args:
        lambd: lambda >= 0; choose it on the dev set.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.nn.Linear(2, 1, init="zeros")
        >>> net.weight.data[:] = [[3.0, 4.0]]
        >>> L2(0.1)(net, m=5).item()  # 0.1 / 10 * 25
        0.25
    """

    def __init__(self, lambd: float) -> None:
        self.lambd = real("L2", "lambd", lambd, low=0.0)

    def __call__(self, model: Module | Mapping[str, Tensor], m: int) -> Tensor:
        return l2_penalty(penalised_weights(model), self.lambd, m)

    def __repr__(self) -> str:
        return f"L2(lambd={self.lambd})"

    def get_config(self) -> dict[str, Any]:
        return {"lambd": self.lambd}


class L1:
    """The L1 penalty lambd / (2m) * sum |W|, which makes weights sparse (I4).

    Example:
        >>> import steepest as st
        >>> net = st.nn.Linear(2, 1, init="zeros")
        >>> net.weight.data[:] = [[3.0, -4.0]]
        >>> L1(0.1)(net, m=5).item()  # 0.1 / 10 * 7
        0.07
    """

    def __init__(self, lambd: float) -> None:
        self.lambd = real("L1", "lambd", lambd, low=0.0)

    def __call__(self, model: Module | Mapping[str, Tensor], m: int) -> Tensor:
        return l1_penalty(penalised_weights(model), self.lambd, m)

    def __repr__(self) -> str:
        return f"L1(lambd={self.lambd})"

    def get_config(self) -> dict[str, Any]:
        return {"lambd": self.lambd}
