"""Exponentially weighted averages (concepts O3, O4)."""

from __future__ import annotations

from .._validation import real


class EWMA:
    """v_t = beta * v_{t-1} + (1 - beta) * x_t, with optional bias correction v_t / (1 - beta^t).

    It averages over roughly the last 1 / (1 - beta) values and keeps one number in
    memory (O3). Without bias correction the first values are too small, because
    v_0 = 0 (O4). The training progress bar uses one to smooth the noisy
    mini-batch cost.

    Args:
        beta: the weight of the past, in [0, 1).
        bias_correction: divide by 1 - beta^t.

    Example:
        >>> average = EWMA(beta=0.9)
        >>> [round(average.update(x), 3) for x in (10.0, 10.0, 10.0)]
        [10.0, 10.0, 10.0]
        >>> raw = EWMA(beta=0.9, bias_correction=False)
        >>> [round(raw.update(x), 3) for x in (10.0, 10.0, 10.0)]
        [1.0, 1.9, 2.71]
    """

    def __init__(self, beta: float = 0.9, bias_correction: bool = True) -> None:
        self.beta = real("EWMA", "beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self.bias_correction = bool(bias_correction)
        self.raw = 0.0
        self.t = 0

    def update(self, x: float) -> float:
        """Add one value and return the current average."""
        self.t += 1
        self.raw = self.beta * self.raw + (1.0 - self.beta) * float(x)
        return self.value

    @property
    def value(self) -> float:
        """The current (corrected, if asked) average; 0 before any value."""
        if self.t == 0:
            return 0.0
        if self.bias_correction:
            return self.raw / (1.0 - self.beta**self.t)
        return self.raw

    @property
    def window(self) -> float:
        """About how many recent values the average covers: 1 / (1 - beta)."""
        return 1.0 / (1.0 - self.beta)
