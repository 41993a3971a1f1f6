"""What a search leaves: the trials, the best point, records (CSV/JSON) and plots."""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from typing import Any

from .._files import atomic_write, write_json
from .space import Dimension, _num

STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "fail", "RUNNING": "running",
          "WAITING": "waiting"}


def trial_record(trial: Any, space: dict[str, Dimension]) -> dict[str, Any]:
    """One Optuna trial as a plain dict, with the hyperparameters decoded to values."""
    params = dict(trial.user_attrs.get("params") or {})
    if not params:
        for name, dimension in space.items():
            internal = dimension.internal_name(name)
            if internal in trial.params:
                params[name] = dimension.decode(trial.params[internal])
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    return {
        "number": trial.number,
        "params": params,
        "value": trial.value,
        "state": STATES.get(trial.state.name, trial.state.name.lower()),
        "host": trial.user_attrs.get("host"),
        "pid": trial.user_attrs.get("pid"),
        "round": trial.user_attrs.get("round"),
        "retry_of": trial.system_attrs.get("failed_trial"),
        "duration_s": duration,
        "curve": [[int(step), float(value)] for step, value in
                  sorted(trial.intermediate_values.items())],
    }


@dataclass
class SearchResult:
    """The outcome of :func:`~steepest.tune.search`.

    Attributes:
        study: the Optuna study (every trial, also those of earlier searches on it).
        space: the search space, ``{name: Dimension}``.
        direction: "minimize" or "maximize".
        trials: one dict per trial of the study: ``number``, ``params`` (values, e.g.
            beta1 = 0.99, not 1 - beta1), ``value``, ``state`` ("complete", "pruned",
            "fail", "running", "waiting"), ``host``, ``pid``, ``round``, ``retry_of``
            (the failed trial this one repeats), ``duration_s``, ``curve`` ([[step,
            value], ...] reported per epoch).
        metric: the name of the value, for records and plots.
    """

    study: Any
    space: dict[str, Dimension]
    direction: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    metric: str = "value"

    @classmethod
    def from_study(cls, study: Any, space: dict[str, Dimension], metric: str = "value",
                   numbers: set[int] | None = None) -> SearchResult:
        trials = [trial_record(t, space) for t in study.get_trials(deepcopy=False)
                  if numbers is None or t.number in numbers]
        return cls(study, space, study.direction.name.lower(), trials, metric)

    def _complete(self) -> list[dict[str, Any]]:
        return [t for t in self.trials if t["state"] == "complete" and t["value"] is not None
                and math.isfinite(t["value"])]

    @property
    def best_trial(self) -> dict[str, Any]:
        """The best complete trial (the lowest value when minimising)."""
        done = self._complete()
        if not done:
            raise ValueError("search: no trial completed, so there is no best point (every "
                             "trial failed or was pruned); see .trials")
        sign = 1.0 if self.direction == "minimize" else -1.0
        # the best value; on a tie, the earliest trial
        return min(done, key=lambda t: (sign * t["value"], t["number"]))

    @property
    def best_params(self) -> dict[str, Any]:
        """The hyperparameters of the best complete trial."""
        return dict(self.best_trial["params"])

    @property
    def best_value(self) -> float:
        """The value (dev metric) of the best complete trial."""
        return float(self.best_trial["value"])

    def counts(self) -> dict[str, int]:
        """How many trials ended in each state."""
        result: dict[str, int] = {}
        for trial in self.trials:
            result[trial["state"]] = result.get(trial["state"], 0) + 1
        return result

    # ------------------------------------------------------------ records
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: space, best point and every trial."""
        summary: dict[str, Any] = {
            "direction": self.direction, "metric": self.metric,
            "space": {name: repr(d) for name, d in self.space.items()},
            "counts": self.counts(), "trials": self.trials}
        if self._complete():
            summary["best_params"] = self.best_params
            summary["best_value"] = self.best_value
        return summary

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON (atomically)."""
        write_json(path, _finite(self.to_dict()))

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """One row per trial: number, state, value, each hyperparameter, host, pid, ..."""
        names = list(self.space)
        for trial in self.trials:
            names += [n for n in trial["params"] if n not in names]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["number", "state", self.metric, *names, "epochs", "host", "pid",
                         "round", "retry_of", "duration_s"])
        for t in self.trials:
            writer.writerow([t["number"], t["state"], "" if t["value"] is None else t["value"],
                             *[t["params"].get(n, "") for n in names], len(t["curve"]),
                             t["host"] or "", t["pid"] or "",
                             "" if t["round"] is None else t["round"],
                             "" if t["retry_of"] is None else t["retry_of"],
                             "" if t["duration_s"] is None else f"{t['duration_s']:.3f}"])
        atomic_write(path, buffer.getvalue().encode())

    # ------------------------------------------------------------ plots
    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """The value against each hyperparameter, on the scale it was sampled on.

        Log-scale dimensions get a log axis; a beta sampled as 1 - beta is drawn
        against 1 - beta on a log axis; pruned trials are hollow at their last reported
        value; the best trial is a star.
        """
        from ..plotting import finish, pyplot

        plt = pyplot()
        names = list(self.space)
        figure, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.2),
                                    squeeze=False)
        best = self.best_trial if self._complete() else None
        for axis, name in zip(axes[0], names):
            dimension = self.space[name]
            for state, style in (("complete", {"color": "C0"}),
                                 ("pruned", {"facecolors": "none", "edgecolors": "0.5"})):
                points = [(dimension.plot_value(t["params"][name]), _shown_value(t))
                          for t in self.trials if t["state"] == state and name in t["params"]
                          and _shown_value(t) is not None]
                if points:
                    xs, ys = zip(*points)
                    axis.scatter(xs, ys, s=18, label=state, **style)
            if best is not None:
                axis.scatter([dimension.plot_value(best["params"][name])], [best["value"]],
                             marker="*", s=140, color="C3", label="best", zorder=3)
            _scale_axis(axis, name, dimension)
            axis.set_ylabel(self.metric)
        axes[0][0].legend(fontsize=7)
        return finish(figure, path)

    def plot_curves(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Every trial's learning curve (the value reported after each epoch)."""
        from ..plotting import finish, pyplot

        plt = pyplot()
        figure, axis = plt.subplots(figsize=(6, 4))
        best = self.best_trial["number"] if self._complete() else None
        for trial in self.trials:
            if not trial["curve"]:
                continue
            steps, values = zip(*trial["curve"])
            if trial["number"] == best:
                axis.plot(steps, values, color="C3", lw=2, zorder=3,
                          label=f"best (trial {best})")
            elif trial["state"] == "pruned":
                axis.plot(steps, values, color="0.6", lw=0.8, ls="--")
            else:
                axis.plot(steps, values, color="C0", lw=0.8, alpha=0.7)
        axis.plot([], [], color="0.6", ls="--", label="pruned")
        axis.set_xlabel("epoch")
        axis.set_ylabel(self.metric)
        axis.set_title("learning curves of every trial")
        axis.legend(fontsize=8)
        return finish(figure, path)


def _shown_value(trial: dict[str, Any]) -> float | None:
    if trial["value"] is not None:
        return float(trial["value"])
    return float(trial["curve"][-1][1]) if trial["curve"] else None


def _scale_axis(axis: Any, name: str, dimension: Dimension) -> None:
    from .space import Choice, OneMinusLogUniform, PowerOfTwo

    if isinstance(dimension, OneMinusLogUniform):
        axis.set_xscale("log")
        axis.set_xlabel(f"1 - {name} (log scale)")
    elif isinstance(dimension, PowerOfTwo):
        axis.set_xscale("log", base=2)
        axis.set_xlabel(f"{name} (log2 scale)")
    elif isinstance(dimension, Choice):
        axis.set_xticks(range(len(dimension.options)))
        axis.set_xticklabels([str(o) for o in dimension.options])
        axis.set_xlabel(name)
    elif dimension.scale == "log":
        axis.set_xscale("log")
        axis.set_xlabel(f"{name} (log scale)")
    else:
        axis.set_xlabel(name)
    if not isinstance(dimension, Choice):
        # The whole range searched, so the reader sees where the samples fell in it.
        ends = sorted(dimension.plot_value(v) for v in dimension.bounds)
        if axis.get_xscale() == "linear":
            pad = 0.03 * (ends[1] - ends[0])
            axis.set_xlim(ends[0] - pad, ends[1] + pad)
        else:
            axis.set_xlim(ends[0] / 1.15, ends[1] * 1.15)
        from matplotlib.ticker import NullFormatter
        axis.xaxis.set_minor_formatter(NullFormatter())


def _finite(value: Any) -> Any:
    """JSON cannot hold NaN or Inf: write them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@dataclass
class Round:
    """One round of :func:`~steepest.tune.coarse_to_fine`.

    Attributes:
        number: 1 for the coarse round, 2, 3, ... for the finer ones.
        box: ``name -> (low, high)`` in values (for a Choice, the options kept).
        space: the round's search space.
        trials: the round's trials (as in :attr:`SearchResult.trials`).
    """

    number: int
    box: dict[str, tuple[Any, Any]]
    space: dict[str, Dimension]
    trials: list[dict[str, Any]]

    def __repr__(self) -> str:
        box = ", ".join(f"{name}=({_num(low) if isinstance(low, (int, float)) else low}, "
                        f"{_num(high) if isinstance(high, (int, float)) else high})"
                        for name, (low, high) in self.box.items())
        return f"Round({self.number}, {len(self.trials)} trials, {box})"


@dataclass
class CoarseToFineResult(SearchResult):
    """A :class:`SearchResult` (over every round) plus ``rounds``, a list of :class:`Round`."""

    rounds: list[Round] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        summary = super().to_dict()
        summary["rounds"] = [{"round": r.number, "box": {k: list(v) for k, v in r.box.items()},
                              "space": {k: repr(d) for k, d in r.space.items()},
                              "trials": [t["number"] for t in r.trials]} for r in self.rounds]
        return summary
