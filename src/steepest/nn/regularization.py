"""Regularisation penalties that the training loop adds to the cost (I4, I5).

A penalty is called as ``penalty(model, m)`` with the model (or a dict of named
tensors, for a hand-written network) and the number of examples m of the batch,
and returns a scalar tensor. ``fit(..., regularization=L2(0.01))`` adds it to the
cost it reports and differentiates, so the optimiser sees its gradient, and
``gradcheck_model(..., regularization=...)`` checks it (I14).

Which parameters are penalised is declared where each is created, never guessed
from names: a :class:`~steepest.nn.Parameter` that is trained (``requires_grad``) and
not exempt (``regularize=True``, the default). Layers create their weights that way
and their biases and batch norm's ``gamma``/``beta`` with ``regularize=False``, so
only weights are penalised, as in the seed (I4); a ``Parameter`` of your own is
penalised whatever its name, unless you create it with ``regularize=False``.

A dict of named tensors (a hand-written network, ``{"W1": ..., "b1": ...}``) follows
the same rule for the Parameters in it; a plain Tensor in it is penalised when it is
trained and its name starts with ``W`` or its last dotted part is ``weight`` (the
seed's ``W[l]``; PyTorch's ``weight``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import functional as F
from .._validation import real
from ..autograd import Tensor
from .module import Module, Parameter


def penalised_weights(model: Module | Mapping[str, Tensor]) -> list[Tensor]:
    """The tensors a penalty applies to (the rule is in the module docstring).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.nn.Sequential(st.nn.Linear(2, 3), st.nn.Linear(3, 1))
        >>> [w.shape for w in penalised_weights(net)]  # the weights, not the biases
        [(3, 2), (1, 3)]
        >>> custom = {"W1": st.tensor(np.ones((2, 2)), requires_grad=True),
        ...           "b1": st.tensor(np.ones(2), requires_grad=True),
        ...           "kernel": st.nn.Parameter(np.ones((2, 2)))}
        >>> [name for name, t in custom.items()
        ...  if any(t is w for w in penalised_weights(custom))]
        ['W1', 'kernel']
    """
    if isinstance(model, Module):
        return [p for p in model.parameters() if p.requires_grad and p.regularize]
    return [tensor for name, tensor in model.items()
            if tensor.requires_grad and _penalised(name, tensor)]


def _penalised(name: str, tensor: Tensor) -> bool:
    if isinstance(tensor, Parameter):
        return tensor.regularize
    return name.startswith("W") or name.rsplit(".", 1)[-1] == "weight"


def _zero(model: Module | Mapping[str, Tensor]) -> Tensor:
    """The penalty of a model with nothing to penalise (all frozen or exempt)."""
    dtype = model.dtype if isinstance(model, Module) else None
    return Tensor(0.0, dtype=dtype)


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
        weights = penalised_weights(model)
        return F.l2_penalty(weights, self.lambd, m) if weights else _zero(model)

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
        weights = penalised_weights(model)
        return F.l1_penalty(weights, self.lambd, m) if weights else _zero(model)

    def __repr__(self) -> str:
        return f"L1(lambd={self.lambd})"

    def get_config(self) -> dict[str, Any]:
        return {"lambd": self.lambd}
