"""Choosing a model with one optimising metric and N-1 satisficing ones (concept M3)."""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

_COMPARISONS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}


@dataclass(frozen=True)
class Selection:
    """The result of :func:`select_model`.

    Attributes:
        best: the chosen candidate's name, or None when none meets every threshold.
        value: its optimising metric.
        feasible: the names that meet every satisficing threshold, best first.
        rejected: name -> the thresholds it missed, as sentences.
    """

    best: str | None
    value: float | None
    feasible: tuple[str, ...]
    rejected: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.best is None:
            reasons = "; ".join(f"{name}: {', '.join(why)}" for name, why in self.rejected.items())
            return f"No candidate meets every satisficing threshold ({reasons})"
        return f"Best: {self.best} ({self.value:g}); feasible: {', '.join(self.feasible)}"


def select_model(candidates: Mapping[str, Mapping[str, float]], optimizing: str, *,
                 maximize: bool = True,
                 satisficing: Mapping[str, tuple[str, float]] | None = None) -> Selection:
    """Pick the best candidate by one metric among those meeting thresholds on the others.

    The seed's example: maximise accuracy subject to a running time of at most
    100 ms. A single optimising metric keeps the choice a single number; the others
    only need to be good enough.

    Args:
        candidates: name -> metrics, e.g. ``{"A": {"accuracy": 0.90, "ms": 80}, ...}``.
        optimizing: the metric to maximise (or minimise, with ``maximize=False``).
        maximize: whether higher ``optimizing`` is better.
        satisficing: metric -> (comparison, threshold), comparison one of "<=", "<",
            ">=", ">", e.g. ``{"ms": ("<=", 100)}``.

    Returns:
        A :class:`Selection`; ``best`` is None (with the reasons in ``rejected``)
        when no candidate qualifies.

    Example:
        >>> candidates = {"A": {"accuracy": 0.90, "ms": 80},
        ...               "B": {"accuracy": 0.92, "ms": 95},
        ...               "C": {"accuracy": 0.95, "ms": 1500}}
        >>> select_model(candidates, "accuracy", satisficing={"ms": ("<=", 100)}).best
        'B'
    """
    if not candidates:
        raise ValueError("select_model: no candidates")
    satisficing = dict(satisficing or {})
    for metric, rule in satisficing.items():
        if (not isinstance(rule, (tuple, list)) or len(rule) != 2
                or rule[0] not in _COMPARISONS):
            raise ValueError(f"select_model: threshold for {metric!r} must be (comparison, "
                             f"value) with comparison one of {', '.join(_COMPARISONS)}; got "
                             f"{rule!r}")
    scores: dict[str, float] = {}
    rejected: dict[str, tuple[str, ...]] = {}
    for name, metrics in candidates.items():
        if optimizing not in metrics:
            raise KeyError(f"select_model: candidate {name!r} has no {optimizing!r} metric "
                           f"(it has {sorted(metrics)})")
        value = float(metrics[optimizing])
        if math.isnan(value):
            raise ValueError(f"select_model: candidate {name!r} has {optimizing} = NaN")
        misses = []
        for metric, (comparison, threshold) in satisficing.items():
            if metric not in metrics:
                raise KeyError(f"select_model: candidate {name!r} has no {metric!r} metric")
            if not _COMPARISONS[comparison](float(metrics[metric]), float(threshold)):
                misses.append(f"{metric} = {metrics[metric]:g} is not {comparison} "
                              f"{threshold:g}")
        if misses:
            rejected[name] = tuple(misses)
        else:
            scores[name] = value
    order = sorted(scores, key=lambda n: scores[n], reverse=maximize)
    best = order[0] if order else None
    return Selection(best=best, value=None if best is None else scores[best],
                     feasible=tuple(order), rejected=rejected)
