"""The L-layer fully connected network of the seed (concepts S1-S5, D1-D3, I6)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from .._validation import ShapeError, one_of, positive_int, real
from ..autograd import Tensor
from ..backend import resolve_rng
from ..nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from ..nn.container import Sequential
from ..nn.dropout import Dropout
from ..nn.init import Initializer, InitName
from ..nn.linear import Linear
from ..nn.module import Module
from ..tasks import Task, for_output
from .base import Model

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "leaky_relu": LeakyReLU,
}


class MLP(Model):
    """A deep network for any list of layer sizes [n_x, n[1], ..., n[L]] (D3).

    Layer l computes Z[l] = A[l-1] W[l]^T + b[l] and A[l] = g(Z[l]) with the hidden
    activation g; the last layer returns Z[L] (logits), and ``output`` says how to
    read them. Inverted dropout with ``keep_prob`` follows each hidden activation.

    Args:
        layer_sizes: [n_x, hidden sizes..., n_y]; at least two numbers.
        activation: hidden activation: "relu" (default), "tanh", "sigmoid",
            "leaky_relu" (S3). Without one, depth collapses to a linear map (S4).
        output: "softmax" (C classes), "sigmoid" (binary or multi-label) or "linear"
            (regression).
        keep_prob: dropout keep probability, one number for every hidden layer or a
            list with one per hidden layer (1.0 = no dropout).
        init: weight initialisation: "he" (default, for ReLU), "xavier" (for tanh),
            "small_random", "zeros" or a callable.
        rng: generator or seed for the initial weights and dropout masks.
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> net = MLP([784, 128, 10], output="softmax", keep_prob=0.8)
        >>> net
        MLP(
          (layers): Sequential(
            (0): Linear(in_features=784, out_features=128, bias=True)
            (1): ReLU()
            (2): Dropout(keep_prob=0.8)
            (3): Linear(in_features=128, out_features=10, bias=True)
          )
        )
        >>> net(np.zeros((5, 784), dtype=np.float32)).shape
        (5, 10)
    """

    def __init__(self, layer_sizes: Sequence[int], activation: str = "relu",
                 output: str = "softmax", keep_prob: float | Sequence[float] = 1.0,
                 init: InitName | Initializer = "he", rng: Any = None, dtype: Any = None) -> None:
        super().__init__()
        sizes = [positive_int("MLP", "layer_sizes", n) for n in layer_sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: `layer_sizes` needs the input size and at least one layer; "
                             f"got {list(layer_sizes)}")
        self.layer_sizes = sizes
        self.activation = one_of("MLP", "activation", activation, tuple(ACTIVATIONS))
        self.output = one_of("MLP", "output", output, ("softmax", "sigmoid", "linear"))
        if output == "softmax" and sizes[-1] < 2:
            raise ValueError("MLP: a softmax output needs at least 2 units (use output='sigmoid'"
                             " for one)")
        hidden = len(sizes) - 2
        if isinstance(keep_prob, (list, tuple)):
            if len(keep_prob) != hidden:
                raise ShapeError(f"MLP: `keep_prob` has {len(keep_prob)} values for {hidden} "
                                 "hidden layer(s); give one per hidden layer or a single number")
            probs = list(keep_prob)
        else:
            probs = [keep_prob] * hidden
        self.keep_prob = [real("MLP", "keep_prob", p, low=0.0, low_inclusive=False, high=1.0)
                          for p in probs]
        generator = resolve_rng(rng) if rng is not None else None
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(Linear(n_in, n_out, init=init, rng=generator, dtype=dtype))
            if i < hidden:
                layers.append(ACTIVATIONS[self.activation]())
                if self.keep_prob[i] < 1.0:
                    layers.append(Dropout(self.keep_prob[i], rng=generator))
        self.layers = Sequential(*layers)

    def default_task(self) -> Task:
        """The task of ``output``: softmax -> Classification, sigmoid -> Binary (one
        unit) or MultiLabel (several), linear -> Regression."""
        return for_output(self.output, self.layer_sizes[-1])

    def forward(self, x: Any) -> Tensor:
        return self.layers(x)
