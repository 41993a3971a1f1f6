"""The dropout layer (I6)."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._validation import real
from ..autograd import Tensor
from ..backend import resolve_rng
from .module import Module


class Dropout(Module):
    """Inverted dropout with the seed's ``keep_prob`` (I6): active in training only.

    In training mode each unit is kept with probability ``keep_prob`` and the kept
    ones are divided by ``keep_prob`` (so the expected activation is unchanged); in
    eval mode, and for ``keep_prob=1``, the layer is the identity. Check that the
    cost J falls with dropout off before turning it on (the cost is not well defined
    with it), and do not gradient-check with it on (``gradcheck_model`` refuses).

    Args:
        keep_prob: probability of keeping a unit, in (0, 1].
        rng: generator or seed for the masks (default: steepest's generator).

    Example:
        >>> import numpy as np
        >>> layer = Dropout(keep_prob=0.5, rng=0)
        >>> x = np.ones((2, 4), dtype=np.float32)
        >>> layer(x).data
        array([[0., 0., 0., 2.],
               [2., 2., 2., 2.]], dtype=float32)
        >>> layer.eval()(x).data
        array([[1., 1., 1., 1.],
               [1., 1., 1., 1.]], dtype=float32)
    """

    def __init__(self, keep_prob: float = 0.5, rng: Any = None) -> None:
        super().__init__()
        self.keep_prob = real("Dropout", "keep_prob", keep_prob, low=0.0, low_inclusive=False,
                              high=1.0)
        # An int seed becomes one generator here, so successive masks differ.
        self.rng = None if rng is None else resolve_rng(rng)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.keep_prob, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"keep_prob={self.keep_prob}"
