"""The update rules of the seed (concepts B5, O5, O6, O7) and PyTorch's SGD, in place.

Each rule's docstring states it as math; ``dW`` is the gradient of the cost and t
is the parameter's own step count (1 on its first update).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .._validation import real
from ..autograd import Tensor
from ..backend import array_module
from ..ops import _blas
from .optimizer import Optimizer
from .schedules import Schedule


def _blend(y: Any, beta: float, x: Any, alpha: float, scratch: Any) -> None:
    """y := beta y + alpha x in place: one BLAS axpby pass where NumPy's OpenBLAS has
    it for these arrays, else two or three NumPy passes through ``scratch`` (which may
    be ``x`` itself). A zero coefficient takes the NumPy passes: BLAS skips the
    operand it multiplies, so a NaN there would not spread as in NumPy and PyTorch."""
    if alpha and beta and _blas.axpby_applies(x, y):
        _blas.axpby(alpha, x, beta, y)
        return
    if beta != 1.0:
        y *= beta
    array_module(y).multiply(x, alpha, out=scratch)
    y += scratch


class GradientDescent(Optimizer):
    """W := W - alpha dW (B5): with mini-batches, mini-batch gradient descent (O1, O2).

    Args:
        params: the parameters.
        lr: alpha (or a schedule). Default 0.01.
        weight_decay: see :class:`Optimizer`.

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> GradientDescent([w], lr=0.1).step(); w.data
        array([0.8], dtype=float32)
    """

    buffers = ("_step",)
    elementwise = True

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.01,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        _blend(param, 1.0, grad, -lr, state["_step"])


class SGD(Optimizer):
    """PyTorch's stochastic gradient descent, with its momentum form (not the seed's):

        g = dW + weight_decay W
        v := g on the first step, else v := mu v + (1 - dampening) g
        d = g + mu v if nesterov else v          (d = g when mu = 0)
        W := W - alpha d

    The same numbers as ``torch.optim.SGD`` with the same arguments, for porting
    PyTorch recipes. The seed's :class:`Momentum` averages instead,
    v := beta v + (1 - beta) dW, so its v is (1 - beta) times this one (v_0 = 0 makes
    the first steps agree too): ``SGD(lr=alpha, momentum=mu)`` takes the same steps as
    ``Momentum(lr=alpha / (1 - mu), beta=mu)``, and ``Momentum(lr=alpha, beta=beta)``
    the same as ``SGD(lr=alpha * (1 - beta), momentum=beta)``. A PyTorch learning rate
    is about 1 / (1 - mu) = 10 times too large for the seed's form, and vice versa.

    Args:
        params: the parameters.
        lr: alpha (or a schedule). Default 0.01, as :class:`GradientDescent`
            (PyTorch's is 0.001).
        momentum: mu >= 0; 0 (the default) is plain gradient descent.
        dampening: the weight 1 - dampening of new gradients in v, in [0, 1]. Default 0.
        weight_decay: see :class:`Optimizer` (PyTorch's ``weight_decay`` is the same).
        nesterov: Nesterov momentum (Sutskever et al. form); needs ``momentum > 0``
            and ``dampening = 0``.

    Raises:
        ValueError: an argument out of range, or ``nesterov`` with zero momentum or
            nonzero dampening.

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> sgd = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     w.grad = w.data.copy() * 0 + 1.0  # dW = 1
        ...     sgd.step()
        >>> w.data  # 1 - 0.1 * 1 - 0.1 * (0.9 + 1)
        array([0.71], dtype=float32)

    Reference: Sutskever, Martens, Dahl and Hinton, On the importance of
    initialization and momentum in deep learning, ICML 2013; PyTorch's
    ``torch.optim.SGD`` documentation.
    """

    elementwise = True

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.01,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = real("SGD", "momentum", momentum, low=0.0)
        self.dampening = real("SGD", "dampening", dampening, low=0.0, high=1.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError(f"SGD: `nesterov=True` needs `momentum` > 0 and `dampening` = 0; "
                             f"got momentum={momentum!r}, dampening={dampening!r}")

    @property
    def buffers(self) -> tuple[str, ...]:  # type: ignore[override]
        """v (``"momentum_buffer"``, PyTorch's name) only when there is momentum."""
        return ("momentum_buffer", "_step") if self.momentum else ("_step",)

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        xp = array_module(param)
        step = state["_step"]
        if self.momentum == 0.0:
            _blend(param, 1.0, grad, -lr, step)
            return
        v = state["momentum_buffer"]
        if state["step"] == 1:  # PyTorch starts from v = g, not from v = 0
            v[...] = grad
        else:
            _blend(v, self.momentum, grad, 1.0 - self.dampening, step)
        if self.nesterov:
            xp.multiply(v, self.momentum, out=step)
            step += grad
            _blend(param, 1.0, step, -lr, step)
        else:
            _blend(param, 1.0, v, -lr, step)

    def hyperparameters(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, **super().hyperparameters()}


class Momentum(Optimizer):
    """Gradient descent with momentum, the seed's form (O5):

        v := beta v + (1 - beta) dW;  W := W - alpha v       (v_0 = 0)

    v is an exponentially weighted average of the gradients over about
    1 / (1 - beta) steps, which damps the oscillations across the valley. As the
    seed says, bias correction is usually left out (``bias_correction=False``); with
    it, W := W - alpha v / (1 - beta^t), t counted per parameter.

    PyTorch's ``SGD(momentum=beta)`` (:class:`SGD` here) accumulates v := beta v + dW
    instead, a v 1 / (1 - beta) times larger: ``Momentum(lr=alpha, beta=beta)`` takes
    the same steps as ``SGD(lr=alpha * (1 - beta), momentum=beta)``.

    Args:
        params: the parameters.
        lr: alpha (or a schedule). Default 0.01.
        beta: the weight of past gradients, in [0, 1); 0.9 is the usual value.
        bias_correction: divide v by 1 - beta^t (O4). Default False.
        weight_decay: see :class:`Optimizer`.

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> w.grad = w.data.copy()  # dW = 1
        >>> Momentum([w], lr=0.1, beta=0.9).step(); w.data  # v = 0.1
        array([0.99], dtype=float32)

    Reference: Polyak, Some methods of speeding up the convergence of iteration
    methods, 1964; the seed's section on momentum (动量梯度下降法).
    """

    buffers = ("v", "_step")
    elementwise = True

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.01,
                 beta: float = 0.9, bias_correction: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta = real("Momentum", "beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self.bias_correction = bool(bias_correction)

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        v, step = state["v"], state["_step"]
        _blend(v, self.beta, grad, 1.0 - self.beta, step)
        scale = lr / (1.0 - self.beta ** state["step"]) if self.bias_correction else lr
        _blend(param, 1.0, v, -scale, step)

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

    Args:
        params: the parameters.
        lr: alpha (or a schedule). Default 0.001.
        beta: the weight of past squared gradients, in [0, 1). Default 0.999.
        eps: > 0. Default 1e-8.
        weight_decay: see :class:`Optimizer`.

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> w.grad = w.data.copy()  # dW = 1, so s = 0.001 and the step is lr / sqrt(s)
        >>> RMSprop([w], lr=0.001).step(); w.data
        array([0.9684], dtype=float32)

    Reference: Hinton, Neural Networks for Machine Learning, lecture 6e (2012).
    """

    buffers = ("s", "_step")
    elementwise = True

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.001,
                 beta: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta = real("RMSprop", "beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self.eps = real("RMSprop", "eps", eps, low=0.0, low_inclusive=False)

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        xp = array_module(param)
        s, step = state["s"], state["_step"]
        xp.multiply(grad, grad, out=step)
        _blend(s, self.beta, step, 1.0 - self.beta, step)
        xp.sqrt(s, out=step)
        step += self.eps
        xp.divide(grad, step, out=step)
        _blend(param, 1.0, step, -lr, step)

    def hyperparameters(self) -> dict[str, Any]:
        return {"beta": self.beta, "eps": self.eps, **super().hyperparameters()}


class Adam(Optimizer):
    """Adaptive moment estimation = momentum + RMSprop with bias correction (O7):

        v := beta1 v + (1 - beta1) dW          s := beta2 s + (1 - beta2) dW^2
        v_hat = v / (1 - beta1^t)               s_hat = s / (1 - beta2^t)
        W := W - alpha v_hat / (sqrt(s_hat) + eps)

    with the seed's defaults beta1 = 0.9, beta2 = 0.999, eps = 1e-8. t is the
    parameter's own step count, so a layer unfrozen after k steps starts its bias
    correction at t = 1. Identical to PyTorch's
    ``Adam(lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)``. Adam
    leaves plateaus faster than plain gradient descent (O9).

    Args:
        params: the parameters.
        lr: alpha (or a schedule). Default 0.001.
        beta1: the momentum term's beta, in [0, 1). Default 0.9.
        beta2: the RMSprop term's beta, in [0, 1). Default 0.999.
        eps: > 0. Default 1e-8.
        weight_decay: see :class:`Optimizer` (L2 added to the gradient, not AdamW).

    Example:
        >>> import steepest as st
        >>> w = st.tensor([1.0], requires_grad=True)
        >>> w.grad = w.data.copy()  # the first step is alpha * sign(dW), whatever |dW|
        >>> Adam([w], lr=0.1).step(); w.data
        array([0.9], dtype=float32)

    Reference: Kingma and Ba, Adam: A Method for Stochastic Optimization, ICLR 2015.
    """

    buffers = ("v", "s", "_step")
    elementwise = True

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 0.001,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta1 = real("Adam", "beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
        self.beta2 = real("Adam", "beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
        self.eps = real("Adam", "eps", eps, low=0.0, low_inclusive=False)

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        xp = array_module(param)
        v, s, step = state["v"], state["s"], state["_step"]
        t = state["step"]
        _blend(v, self.beta1, grad, 1.0 - self.beta1, step)
        xp.multiply(grad, grad, out=step)
        _blend(s, self.beta2, step, 1.0 - self.beta2, step)
        # alpha v_hat / (sqrt(s_hat) + eps) with c1 = 1 - beta1^t, c2 = 1 - beta2^t is
        # (alpha sqrt(c2) / c1) v / (sqrt(s) + eps sqrt(c2)): the corrections become
        # two scalars and the update one pass shorter.
        root_c2 = math.sqrt(1.0 - self.beta2**t)
        xp.sqrt(s, out=step)
        step += self.eps * root_c2
        xp.divide(v, step, out=step)
        _blend(param, 1.0, step, -lr * root_c2 / (1.0 - self.beta1**t), step)

    def hyperparameters(self) -> dict[str, Any]:
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                **super().hyperparameters()}


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent, "sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam,
}
"""Optimiser classes by the names ``fit(optimizer=...)`` and the CLI accept.

``"sgd"`` is :class:`SGD`; built with defaults (no momentum, lr 0.01) it takes the
same steps as ``"gd"``.
"""
