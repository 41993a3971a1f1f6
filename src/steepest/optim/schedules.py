"""Learning-rate decay (concept O8): slowly lowering alpha as training goes on.

A schedule maps the current epoch (or step) number to a learning rate. Numbers
count from 1, as in the seed's ``epoch_num``: with lr0 = 0.2 and decay_rate = 1,
inverse-time decay gives 0.1 in epoch 1, 0.067 in epoch 2, 0.05 in epoch 3.
An optimiser given a schedule as its ``lr`` consults it on every step.

Example:
    >>> schedule = InverseTimeDecay(lr0=0.2, decay_rate=1.0)
    >>> [round(schedule(epoch), 3) for epoch in (1, 2, 3)]
    [0.1, 0.067, 0.05]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from .._validation import one_of, positive_int, real

Unit = Literal["epoch", "step"]


class Schedule:
    """Base class: ``schedule(t)`` is the learning rate for epoch (or step) ``t >= 1``.

    Args:
        lr0: the initial learning rate alpha0.
        unit: "epoch" (the seed's epoch_num) or "step" (one per mini-batch update).
    """

    def __init__(self, lr0: float, unit: Unit = "epoch") -> None:
        self.lr0 = real(type(self).__name__, "lr0", lr0, low=0.0, low_inclusive=False)
        self.unit: Unit = one_of(type(self).__name__, "unit", unit, ("epoch", "step"))

    def __call__(self, t: int) -> float:
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise ValueError(f"{type(self).__name__}: the {self.unit} number counts from 1; "
                             f"got {t!r}")
        return float(self.rate(t))

    def rate(self, t: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The arguments that rebuild this schedule (saved in checkpoints)."""
        return {"lr0": self.lr0, "unit": self.unit}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class Constant(Schedule):
    """alpha = lr0 always.

    Example:
        >>> Constant(0.1)(7)
        0.1
    """

    def rate(self, t: int) -> float:
        return self.lr0


class InverseTimeDecay(Schedule):
    """The seed's alpha = alpha0 / (1 + decay_rate * epoch_num).

    Example:
        >>> InverseTimeDecay(1.0, decay_rate=0.5)(2)
        0.5
    """

    def __init__(self, lr0: float, decay_rate: float = 1.0, unit: Unit = "epoch") -> None:
        super().__init__(lr0, unit)
        self.decay_rate = real("InverseTimeDecay", "decay_rate", decay_rate, low=0.0)

    def rate(self, t: int) -> float:
        return self.lr0 / (1.0 + self.decay_rate * t)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "decay_rate": self.decay_rate}


class ExponentialDecay(Schedule):
    """alpha = base ** epoch_num * alpha0 (the seed's 0.95 ** epoch_num * alpha0).

    Example:
        >>> round(ExponentialDecay(1.0)(2), 4)
        0.9025
    """

    def __init__(self, lr0: float, base: float = 0.95, unit: Unit = "epoch") -> None:
        super().__init__(lr0, unit)
        self.base = real("ExponentialDecay", "base", base, low=0.0, low_inclusive=False,
                         high=1.0)

    def rate(self, t: int) -> float:
        return self.base**t * self.lr0

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "base": self.base}


class InverseSqrtDecay(Schedule):
    """alpha = k / sqrt(epoch_num) * alpha0.

    Example:
        >>> InverseSqrtDecay(0.1, k=1.0)(4)
        0.05
    """

    def __init__(self, lr0: float, k: float = 1.0, unit: Unit = "epoch") -> None:
        super().__init__(lr0, unit)
        self.k = real("InverseSqrtDecay", "k", k, low=0.0, low_inclusive=False)

    def rate(self, t: int) -> float:
        return self.k / math.sqrt(t) * self.lr0

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "k": self.k}


class StepDecay(Schedule):
    """The discrete staircase: alpha = alpha0 * factor ** floor((epoch_num - 1) / step_size).

    Example:
        >>> schedule = StepDecay(1.0, step_size=2, factor=0.5)
        >>> [schedule(t) for t in (1, 2, 3, 4, 5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, lr0: float, step_size: int = 10, factor: float = 0.5,
                 unit: Unit = "epoch") -> None:
        super().__init__(lr0, unit)
        self.step_size = positive_int("StepDecay", "step_size", step_size)
        self.factor = real("StepDecay", "factor", factor, low=0.0, low_inclusive=False, high=1.0)

    def rate(self, t: int) -> float:
        return self.lr0 * self.factor ** ((t - 1) // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "step_size": self.step_size, "factor": self.factor}


class PiecewiseConstant(Schedule):
    """Hand-set rates: ``values[i]`` until ``boundaries[i]``, then the next (manual decay).

    ``lr0`` is ``values[0]``.

    Example:
        >>> schedule = PiecewiseConstant(boundaries=[2, 4], values=[0.1, 0.01, 0.001])
        >>> [schedule(t) for t in (1, 2, 3, 4, 5)]
        [0.1, 0.1, 0.01, 0.01, 0.001]
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[float],
                 unit: Unit = "epoch") -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstant: need one more value than boundaries; got "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        super().__init__(values[0], unit)
        self.boundaries = [positive_int("PiecewiseConstant", "boundaries", b) for b in boundaries]
        if sorted(self.boundaries) != self.boundaries or len(set(self.boundaries)) != len(
                self.boundaries):
            raise ValueError(f"PiecewiseConstant: `boundaries` must increase strictly; got "
                             f"{list(boundaries)}")
        self.values = [real("PiecewiseConstant", "values", v, low=0.0, low_inclusive=False)
                       for v in values]

    def rate(self, t: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if t <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "unit": self.unit}


SCHEDULES: dict[str, type[Schedule]] = {
    cls.__name__: cls for cls in (Constant, InverseTimeDecay, ExponentialDecay,
                                  InverseSqrtDecay, StepDecay, PiecewiseConstant)
}


def schedule_from_config(name: str, config: dict[str, Any]) -> Schedule:
    """Rebuild a schedule saved by name and :meth:`Schedule.get_config`."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {name!r}; known: "
                         f"{', '.join(SCHEDULES)}")
    return SCHEDULES[name](**config)
