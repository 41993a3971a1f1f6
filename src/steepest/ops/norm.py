"""Normalising primitives: softmax and log-softmax (H8, H9), batch normalisation (H5)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import ShapeError, fmt_shape, real
from ..autograd import Function, Tensor, apply_unary
from ..backend import array_module, give_buffer, take_buffer
from . import _parallel


def _log_softmax(x: Any, axis: int) -> Any:
    xp = array_module(x)
    # Subtract the max before exp: exp never overflows and the result is unchanged.
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class SoftmaxFunction(Function):
    saves_inputs = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        self.out = e
        return e

    def backward(self, grad: Any) -> Any:
        out = self.out
        return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Exponentiate and normalise along ``axis``: outputs are positive and sum to 1 (H8).

    Example:
        >>> import steepest as st
        >>> softmax(st.tensor([[1.0, 1.0], [0.0, 1000.0]]))
        tensor([[0.5, 0.5],
                [0. , 1. ]])
    """
    return apply_unary(SoftmaxFunction(axis), x)


class LogSoftmaxFunction(Function):
    saves_inputs = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        self.out = _log_softmax(x, self.axis)
        return self.out

    def backward(self, grad: Any) -> Any:
        xp = array_module(grad)
        return grad - xp.exp(self.out) * grad.sum(axis=self.axis, keepdims=True)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log(softmax(x)) computed stably (no log of 0 for very negative logits).

    Example:
        >>> import steepest as st
        >>> log_softmax(st.tensor([0.0, -1000.0]))
        tensor([    0., -1000.])
    """
    return apply_unary(LogSoftmaxFunction(axis), x)


# ------------------------------------------------------------------ batch norm (H5-H7)
def _per_channel_sum(a: Any, b: Any = None) -> Any:
    """sum over every axis but the channel axis 1 of ``a`` (or of ``a * b``), as (C,).

    einsum on an (N, C, H*W) view is 2-3 times faster than ``sum(axis=(0, 2, 3))``
    and, for a product, never materialises ``a * b``.
    """
    xp = array_module(a)
    a3 = a.reshape(a.shape[0], a.shape[1], -1)
    if b is None:
        return xp.einsum("nck->c", a3)
    return xp.einsum("nck,nck->c", a3, b.reshape(a3.shape))


class BatchNormFunction(Function):
    saves_output = False

    def __init__(self, running_mean: Any, running_var: Any, training: bool, momentum: float,
                 eps: float, owner: str = "batch_norm") -> None:
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps
        self.owner = owner

    def forward(self, x: Any, gamma: Any, beta: Any) -> Any:
        xp = array_module(x)
        owner = self.owner
        if x.ndim not in (2, 4):
            raise ShapeError(f"{owner}: input must be (N, C) or (N, C, H, W); got shape "
                             f"{fmt_shape(x.shape)}")
        channels = x.shape[1]
        # gamma and beta agree with each other but not with x: the input is what is wrong
        # (a layer's case: its parameters are right by construction).
        if gamma.ndim == 1 and beta.shape == gamma.shape and gamma.shape[0] != channels:
            raise ShapeError(f"{owner}: input has {channels} features/channels (shape "
                             f"{fmt_shape(x.shape)}); expected {gamma.shape[0]}, the size of "
                             "`gamma`")
        for name, value in (("gamma", gamma), ("beta", beta)):
            if value.shape != (channels,):
                raise ShapeError(f"{owner}: `{name}` must have shape ({channels},) for input "
                                 f"{fmt_shape(x.shape)}; got {fmt_shape(value.shape)}")
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)  # a run of channels, broadcast
        m = x.size // channels
        use_batch = self.training or self.running_mean is None
        if use_batch and m < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel "
                             f"to estimate a variance; got input {fmt_shape(x.shape)}")
        if use_batch:  # (statistics of integers are floats, as NumPy's mean would give)
            stat = np.result_type(x.dtype, 1.0)
            mean, var = xp.empty(channels, dtype=stat), xp.empty(channels, dtype=stat)
        else:
            mean = self.running_mean.copy()  # (the running mean may change later)
            var = self.running_var
        inv_std = xp.empty(channels, dtype=xp.result_type(x, var))
        out = xp.empty(x.shape, dtype=xp.result_type(x, mean, gamma, beta, inv_std))

        def channels_of(start: int, stop: int) -> None:
            """Normalise channels [start, stop): x - mu into ``out``, then scaled and
            shifted there in place (x - mu is not kept for backward: recomputed there
            from x, which the graph holds anyway; keeping it would add one
            activation-sized array per batch norm, 75 MB in a ResNet-18 at batch 32)."""
            part = out[:, start:stop]
            if use_batch:
                mean[start:stop] = _per_channel_sum(x[:, start:stop]) / m
            xp.subtract(x[:, start:stop], mean[start:stop].reshape(shape), out=part)
            if use_batch:  # biased: 1/m, for normalising
                var[start:stop] = _per_channel_sum(part, part) / m
            inv_std[start:stop] = 1.0 / xp.sqrt(var[start:stop] + self.eps)
            part *= (gamma[start:stop] * inv_std[start:stop]).reshape(shape)
            part += beta[start:stop].reshape(shape)
        _parallel.run_over(channels_of, channels, x)
        if self.training and self.running_mean is not None:
            # The seed's exponentially weighted averages; the running variance uses
            # the unbiased estimate m/(m-1) var, as PyTorch does.
            self.running_mean *= self.momentum
            self.running_mean += (1.0 - self.momentum) * mean
            self.running_var *= self.momentum
            self.running_var += (1.0 - self.momentum) * (m / (m - 1)) * var
        self.x, self.mean, self.inv_std, self.gamma = x, mean, inv_std, gamma
        self.shape, self.m, self.use_batch = shape, m, use_batch
        return out

    def backward(self, grad: Any) -> tuple[Any, Any, Any]:
        xp = array_module(grad)
        shape, m, inv_std, x, mean = self.shape, self.m, self.inv_std, self.x, self.mean
        channels = x.shape[1]
        scale = self.gamma * inv_std  # (C,)
        grad_beta = xp.empty(channels, dtype=grad.dtype)
        grad_gamma = xp.empty(channels, dtype=xp.result_type(grad, x, inv_std))
        grad_x = xp.empty(grad.shape, dtype=xp.result_type(grad, scale))
        centered = take_buffer(x, x.shape, xp.result_type(x, mean))

        def channels_of(start: int, stop: int) -> None:
            """Channels [start, stop), in closed form through the batch mean and variance:
            dx = gamma / sigma * (dy - mean(dy) - x_hat mean(dy x_hat)),
            x_hat = (x - mu) / sigma."""
            dy, dx, c = grad[:, start:stop], grad_x[:, start:stop], centered[:, start:stop]
            xp.subtract(x[:, start:stop], mean[start:stop].reshape(shape), out=c)
            grad_beta[start:stop] = _per_channel_sum(dy)
            grad_gamma[start:stop] = _per_channel_sum(dy, c) * inv_std[start:stop]  # sum(dy x_hat)
            k = scale[start:stop]
            xp.multiply(dy, k.reshape(shape), out=dx)
            if self.use_batch:
                c *= (k * inv_std[start:stop] * grad_gamma[start:stop] / m).reshape(shape)
                dx -= c
                dx -= (k * grad_beta[start:stop] / m).reshape(shape)
        _parallel.run_over(channels_of, channels, x)
        give_buffer(centered)
        return grad_x, grad_gamma, grad_beta


def batch_norm(x: Any, gamma: Any, beta: Any, running_mean: Any = None,
               running_var: Any = None, training: bool = True, momentum: float = 0.9,
               eps: float = 1e-5, *, owner: str = "batch_norm") -> Tensor:
    """Batch normalisation of z per channel (H5): gamma * (z - mu) / sqrt(var + eps) + beta.

    In training, mu and var are the mini-batch's (over N, or N, H and W) and the
    running estimates are updated in place as exponentially weighted averages,
    ``running = momentum * running + (1 - momentum) * batch`` (the seed's beta; it is
    1 - PyTorch's ``momentum``). The batch variance is the biased one (1/m) for the
    normalisation and the unbiased one (1/(m - 1)) for ``running_var``, as in PyTorch.
    In evaluation the running estimates are used (H6).

    Args:
        x: z of shape (N, C) or (N, C, H, W).
        gamma: the learned scale, shape (C,).
        beta: the learned shift, shape (C,).
        running_mean: (C,) array updated in place, or None (always batch statistics).
        running_var: (C,) array updated in place, or None.
        training: use (and update) batch statistics.
        momentum: the weight of the old running value, in [0, 1).
        eps: added to the variance for stability.
        owner: the name error messages start with (the layers pass their own, e.g.
            ``BatchNorm2d(16)``).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> z = st.tensor(np.array([[1.0, 10.0], [3.0, 30.0]]))
        >>> batch_norm(z, st.tensor(np.ones(2)), st.tensor(np.zeros(2)), eps=0.0).data
        array([[-1., -1.],
               [ 1.,  1.]])
    """
    real(owner, "momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    real(owner, "eps", eps, low=0.0)
    fn = BatchNormFunction(running_mean, running_var, bool(training), float(momentum),
                           float(eps), owner)
    return fn(x, gamma, beta)
