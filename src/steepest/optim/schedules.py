"""Learning-rate decay (concept O8): slowly lowering alpha as training goes on.

A schedule maps the current epoch (or step) number to a learning rate. Each schedule
says where its numbers start. Most count from 1, as the lecture's ``epoch_num`` does:
with alpha0 = 0.2 and decay_rate = 1, inverse-time decay gives 0.1 in epoch 1, 0.067
in epoch 2, 0.05 in epoch 3. :class:`FixedIntervalDecay`, the course's scheduled
decay, counts from 0 as its programming exercise does, so the first epoch runs at
alpha0.

An optimiser given a schedule as its ``lr`` consults it on every step with
:meth:`Schedule.after`: the number of epochs (steps) already completed, so the first
epoch of training always gets the schedule's *first* number, whichever that is.

Example:
    >>> schedule = InverseTimeDecay(lr0=0.2, decay_rate=1.0)
    >>> [round(schedule(epoch), 3) for epoch in (1, 2, 3)]
    [0.1, 0.067, 0.05]
    >>> [round(schedule.after(done), 3) for done in (0, 1, 2)]  # the optimiser's view
    [0.1, 0.067, 0.05]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, get_args

from .._validation import non_negative_int, one_of, positive_int, real

Unit = Literal["epoch", "step"]
"""What a schedule counts: epochs (the seed's epoch_num) or steps (mini-batch updates)."""


class Schedule:
    """Base class: ``schedule(t)`` is the learning rate for epoch (or step) ``t``.

    ``t`` counts from :attr:`first` (1 unless a schedule says otherwise). A subclass
    writes :meth:`rate` and, if it has settings, :meth:`get_config`.

    Args:
        lr0: the initial learning rate alpha0.
        unit: "epoch" (the seed's epoch_num) or "step" (one per mini-batch update).
    """

    first: ClassVar[Literal[0, 1]] = 1
    """The number of the first epoch (step): 0 or 1."""

    def __init__(self, lr0: float, unit: Unit = "epoch") -> None:
        self.lr0 = real(type(self).__name__, "lr0", lr0, low=0.0, low_inclusive=False)
        self.unit: Unit = one_of(type(self).__name__, "unit", unit, get_args(Unit))

    def __call__(self, t: int) -> float:
        if isinstance(t, bool) or not isinstance(t, int) or t < self.first:
            raise ValueError(f"{type(self).__name__}: the {self.unit} number counts from "
                             f"{self.first}; got {t!r}")
        return float(self.rate(t))

    def after(self, completed: int) -> float:
        """The rate of the epoch (step) that follows ``completed`` finished ones.

        This is ``self(completed + self.first)``: what an optimiser and the training
        loop ask, so that the first epoch gets the schedule's first number.

        Example:
            >>> FixedIntervalDecay(1.0, decay_rate=1.0, interval=2).after(2)  # epoch 2
            0.5
            >>> InverseTimeDecay(1.0, decay_rate=1.0).after(2)  # epoch 3
            0.25
        """
        completed = non_negative_int(type(self).__name__, "completed", completed)
        return self(completed + self.first)

    def rate(self, t: int) -> float:
        """The learning rate for number ``t`` (already checked); the subclass's rule."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The arguments that rebuild this schedule (saved in checkpoints)."""
        return {"lr0": self.lr0, "unit": self.unit}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class Constant(Schedule):
    """alpha = lr0 always. Counts from 1 (like the other schedules; the number is unused).

    Example:
        >>> Constant(0.1)(7)
        0.1
    """

    def rate(self, t: int) -> float:
        return self.lr0


class InverseTimeDecay(Schedule):
    """The seed's alpha = alpha0 / (1 + decay_rate * epoch_num), epoch_num from 1.

    Epochs count from 1, as in the lecture's table (alpha0 = 0.2, decay_rate = 1:
    0.1, 0.067, 0.05, 0.04 in epochs 1 to 4), so even the first epoch is decayed. The
    course's programming exercise counts from 0 and starts at alpha0; that form is
    ``FixedIntervalDecay(lr0, decay_rate, interval=1)``.

    Args:
        lr0: alpha0.
        decay_rate: another hyperparameter to tune, >= 0. Default 1.
        unit: see :class:`Schedule`.

    Example:
        >>> InverseTimeDecay(1.0, decay_rate=0.5)(2)
        0.5

    Reference: the seed's section on learning-rate decay (学习率衰减).
    """

    def __init__(self, lr0: float, decay_rate: float = 1.0, unit: Unit = "epoch") -> None:
        super().__init__(lr0, unit)
        self.decay_rate = real("InverseTimeDecay", "decay_rate", decay_rate, low=0.0)

    def rate(self, t: int) -> float:
        return self.lr0 / (1.0 + self.decay_rate * t)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "decay_rate": self.decay_rate}


class FixedIntervalDecay(Schedule):
    """The course's scheduled decay: alpha = alpha0 / (1 + decay_rate * floor(t / interval)).

    Inverse-time decay that only moves every ``interval`` epochs (a staircase), so
    the rate does not fall towards zero too quickly over many epochs. Epochs count
    from 0, as in the course's exercise: epochs 0 to interval - 1 run at alpha0, the
    next ``interval`` at alpha0 / (1 + decay_rate), and so on. With ``interval=1`` it
    is the exercise's per-epoch alpha0 / (1 + decay_rate * epoch_num), epoch_num from 0.

    Args:
        lr0: alpha0.
        decay_rate: >= 0. Default 1.
        interval: epochs (steps) per stair, a positive int. Default 1000, the course's
            ``time_interval`` (it trains for thousands of epochs of batch gradient
            descent; use a few epochs for mini-batch training).
        unit: see :class:`Schedule`.

    Example:
        >>> schedule = FixedIntervalDecay(0.1, decay_rate=1.0, interval=2)
        >>> [round(schedule(t), 4) for t in (0, 1, 2, 3, 4)]
        [0.1, 0.1, 0.05, 0.05, 0.0333]

    Reference: deeplearning.ai, Improving Deep Neural Networks, week 2 programming
    exercise (Optimization Methods), "fixed interval scheduling".
    """

    first = 0

    def __init__(self, lr0: float, decay_rate: float = 1.0, interval: int = 1000,
                 unit: Unit = "epoch") -> None:
        super().__init__(lr0, unit)
        self.decay_rate = real("FixedIntervalDecay", "decay_rate", decay_rate, low=0.0)
        self.interval = positive_int("FixedIntervalDecay", "interval", interval)

    def rate(self, t: int) -> float:
        return self.lr0 / (1.0 + self.decay_rate * (t // self.interval))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "decay_rate": self.decay_rate,
                "interval": self.interval}


class ExponentialDecay(Schedule):
    """alpha = base ** epoch_num * alpha0 (the lecture's 0.95 ** epoch_num * alpha0), from 1.

    Epochs count from 1, so the first epoch runs at base * alpha0.

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
    """alpha = k / sqrt(epoch_num) * alpha0 (one of the lecture's other forms), from 1.

    Epochs count from 1 (epoch 0 would divide by zero).

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

    Epochs count from 1: epochs 1 to step_size run at alpha0.

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

    Epochs count from 1; ``values[0]`` holds for epochs 1 to ``boundaries[0]``.
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
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
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
    cls.__name__: cls for cls in (Constant, InverseTimeDecay, FixedIntervalDecay,
                                  ExponentialDecay, InverseSqrtDecay, StepDecay,
                                  PiecewiseConstant)
}


def schedule_from_config(name: str, config: dict[str, Any]) -> Schedule:
    """Rebuild a schedule saved by name and :meth:`Schedule.get_config`.

    Example:
        >>> schedule_from_config("FixedIntervalDecay", {"lr0": 0.1, "interval": 5})
        FixedIntervalDecay(lr0=0.1, unit='epoch', decay_rate=1.0, interval=5)
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule_from_config: unknown learning-rate schedule {name!r}; "
                         f"known: {', '.join(SCHEDULES)}")
    return SCHEDULES[name](**config)
