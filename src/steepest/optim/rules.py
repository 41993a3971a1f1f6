"""The update rules of the seed (concepts B5, O5, O6, O7), in place and allocation-free.

Each rule's docstring states it as math; ``dW`` is the gradient of the cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .._validation import real
from ..autograd import Tensor
from ..backend import array_module
from .optimizer import Optimizer
from .schedules import Schedule


class GradientDescent(Optimizer):
    """W := W - alpha dW (B5): with mini-batches, mini-batch gradient descent (O1, O2).

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> GradientDescent([w], lr=0.1).step(); w.data
        array([0.8], dtype=float32)
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.01,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)

    buffers = ("_step",)

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        step = state["_step"]
        array_module(param).multiply(grad, lr, out=step)
        param -= step


class Momentum(Optimizer):
    """Gradient descent with momentum, the seed's form (O5):

        v := beta v + (1 - beta) dW;  W := W - alpha v

    v is an exponentially weighted average of the gradients over about
    1 / (1 - beta) steps, which damps the oscillations across the valley. As the
    seed says, bias correction is usually left out (``bias_correction=False``).

    This differs from PyTorch's ``SGD(momentum=beta)``, which uses
    v := beta v + dW (no 1 - beta factor, so its effective rate is alpha / (1 - beta))
    and starts with v = dW.

    Args:
        params: the parameters.
        lr: alpha (or a schedule).
        beta: the weight of past gradients, in [0, 1); 0.9 is the usual value.
        bias_correction: divide v by 1 - beta^t (O4).
        weight_decay: see :class:`Optimizer`.
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.01,
                 beta: float = 0.9, bias_correction: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta = real("Momentum", "beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self.bias_correction = bool(bias_correction)

    buffers = ("v", "_step")

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        xp = array_module(param)
        v, step = state["v"], state["_step"]
        v *= self.beta
        xp.multiply(grad, 1.0 - self.beta, out=step)
        v += step
        scale = lr / (1.0 - self.beta**self.iterations) if self.bias_correction else lr
        xp.multiply(v, scale, out=step)
        param -= step

    def hyperparameters(self) -> dict[str, Any]:
        return {"beta": self.beta, "bias_correction": self.bias_correction,
                **super().hyperparameters()}


class RMSprop(Optimizer):
    """Root-mean-square prop (O6):

        s := beta s + (1 - beta) dW^2;  W := W - alpha dW / (sqrt(s) + eps)

    Directions with large, oscillating gradients get smaller steps, which allows a
    larger alpha. eps = 1e-8 keeps the division stable. Identical to PyTorch's
    ``RMSprop(lr, alpha=beta, eps=eps)``. The default beta = 0.999 is the seed's
    (PyTorch uses 0.99, Keras 0.9).

    Reference: Hinton, Neural Networks for Machine Learning, lecture 6e (2012).
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.001,
                 beta: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta = real("RMSprop", "beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self.eps = real("RMSprop", "eps", eps, low=0.0, low_inclusive=False)

    buffers = ("s", "_step")

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        xp = array_module(param)
        s, step = state["s"], state["_step"]
        s *= self.beta
        xp.multiply(grad, grad, out=step)
        step *= 1.0 - self.beta
        s += step
        xp.sqrt(s, out=step)
        step += self.eps
        xp.divide(grad, step, out=step)
        step *= lr
        param -= step

    def hyperparameters(self) -> dict[str, Any]:
        return {"beta": self.beta, "eps": self.eps, **super().hyperparameters()}


class Adam(Optimizer):
    """Adaptive moment estimation = momentum + RMSprop with bias correction (O7):

        v := beta1 v + (1 - beta1) dW          s := beta2 s + (1 - beta2) dW^2
        v_hat = v / (1 - beta1^t)               s_hat = s / (1 - beta2^t)
        W := W - alpha v_hat / (sqrt(s_hat) + eps)

    with the seed's defaults beta1 = 0.9, beta2 = 0.999, eps = 1e-8. Identical to
    PyTorch's ``Adam(lr, betas=(beta1, beta2), eps=eps)``. Adam leaves plateaus
    faster than plain gradient descent (O9).

    Reference: Kingma and Ba, Adam: A Method for Stochastic Optimization, ICLR 2015.
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.001,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta1 = real("Adam", "beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
        self.beta2 = real("Adam", "beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
        self.eps = real("Adam", "eps", eps, low=0.0, low_inclusive=False)

    buffers = ("v", "s", "_step")

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        xp = array_module(param)
        v, s, step = state["v"], state["s"], state["_step"]
        t = self.iterations
        v *= self.beta1
        xp.multiply(grad, 1.0 - self.beta1, out=step)
        v += step
        s *= self.beta2
        xp.multiply(grad, grad, out=step)
        step *= 1.0 - self.beta2
        s += step
        # alpha v_hat / (sqrt(s_hat) + eps) with c1 = 1 - beta1^t, c2 = 1 - beta2^t is
        # (alpha sqrt(c2) / c1) v / (sqrt(s) + eps sqrt(c2)): the corrections become
        # two scalars and the update one pass shorter.
        root_c2 = math.sqrt(1.0 - self.beta2**t)
        xp.sqrt(s, out=step)
        step += self.eps * root_c2
        xp.divide(v, step, out=step)
        step *= lr * root_c2 / (1.0 - self.beta1**t)
        param -= step

    def hyperparameters(self) -> dict[str, Any]:
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                **super().hyperparameters()}


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent, "sgd": GradientDescent, "momentum": Momentum,
    "rmsprop": RMSprop, "adam": Adam,
}
