"""Random primitives: inverted dropout (concept I6)."""

from __future__ import annotations

from typing import Any

from .._validation import real
from ..autograd import Tensor, as_tensor
from ..backend import array_module, uniform
from .elementwise import mul


def dropout(x: Any, keep_prob: float, training: bool = True, rng: Any = None) -> Tensor:
    """Inverted dropout: keep each unit with probability ``keep_prob``, then divide by it.

    Dividing by ``keep_prob`` keeps the expected value of each activation (and of
    the next layer's z) unchanged, so nothing needs rescaling at test time, when
    dropout is off. The same mask multiplies the gradient in backward.

    Args:
        x: activations of any shape.
        keep_prob: the probability of keeping a unit, in (0, 1]; 1 keeps all.
        training: dropout is applied only in training; otherwise ``x`` is returned
            (as a Tensor).
        rng: a numpy Generator or seed (default: steepest's generator).

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> a = st.tensor(np.ones((1000, 100)))
        >>> out = dropout(a, keep_prob=0.8, rng=0)
        >>> sorted(set(np.unique(out.data).round(6).tolist())), round(float(out.data.mean()), 2)
        ([0.0, 1.25], 1.0)
    """
    keep_prob = real("dropout", "keep_prob", keep_prob, low=0.0, low_inclusive=False, high=1.0)
    x = as_tensor(x)  # the mask needs the data's shape, dtype and device
    if not training or keep_prob == 1.0:
        return x
    data = x.data
    xp = array_module(data)
    mask = xp.less(uniform(data.shape, rng, data), keep_prob).astype(data.dtype)
    mask *= 1.0 / keep_prob
    return mul(x, mask)
