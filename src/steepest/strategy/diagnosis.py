"""Bias, variance and data-mismatch diagnosis (concepts I2, I3, M1, M6-M8, M12, M13).

Given the error rates on the parts of the data, the gaps between them say what to
work on next:

    Bayes (human) error --avoidable bias--> training error --variance--> train-dev error
        --data mismatch--> dev error --overfitting the dev set--> test error

Without a train-dev set, variance is the gap from training to dev error. Human-level
error is the usual proxy for the Bayes (optimal) error (M6); when it is not given
the Bayes error is taken as 0, as in the seed's first examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .._validation import NonFiniteError, real

COMPONENTS = ("avoidable_bias", "variance", "data_mismatch", "dev_overfitting")

RECOMMENDATIONS = {
    "avoidable_bias": (
        "Reduce avoidable bias: train a bigger network (more hidden layers or units), train "
        "longer or with a better optimiser (Momentum, RMSprop, Adam), try other activations or "
        "another architecture (such as a CNN for images). A bigger network usually lowers bias "
        "without hurting variance, as long as it is regularised."
    ),
    "variance": (
        "Reduce variance: get more training data, regularise (L2, dropout, data augmentation, "
        "early stopping), or try another architecture. More data usually lowers variance "
        "without hurting bias."
    ),
    "data_mismatch": (
        "Address data mismatch: do error analysis on the dev set to see how it differs from "
        "the training data, then make the training data more like it: collect more data like "
        "dev/test, or synthesise it artificially (beware of overfitting a small synthetic "
        "part, such as a few background noises)."
    ),
    "dev_overfitting": (
        "You have overfit the dev set by tuning on it: get a bigger dev set (and keep the "
        "test set for the final report only)."
    ),
}


@dataclass(frozen=True)
class Diagnosis:
    """The result of :func:`diagnose`.

    Attributes:
        bayes_error: the Bayes-error estimate used (human-level error, or 0).
        bayes_error_assumed: True when no human error was given and 0 was assumed.
        train_error, train_dev_error, dev_error, test_error: the inputs (None if absent).
        avoidable_bias: training error - Bayes error (M7).
        variance: train-dev (or, without one, dev) error - training error (I2, M7).
        data_mismatch: dev error - train-dev error (M12); None without a train-dev set.
        dev_overfitting: test error - dev error (M1); None without a test error.
        problems: the components at least ``min_gap`` large, largest first.
        dominant: the largest of those, or None when nothing stands out.
        recommendations: what to try, as sentences, for each problem in order (I3, M8).
        min_gap: how large a gap must be to count as a problem.
    """

    bayes_error: float
    bayes_error_assumed: bool
    train_error: float
    dev_error: float | None
    train_dev_error: float | None
    test_error: float | None
    avoidable_bias: float
    variance: float | None
    data_mismatch: float | None
    dev_overfitting: float | None
    problems: tuple[str, ...] = field(default=())
    dominant: str | None = None
    recommendations: tuple[str, ...] = field(default=())
    min_gap: float = 0.02

    def as_dict(self) -> dict[str, Any]:
        """Every field, for JSON."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def report(self) -> str:
        """A readable text report (also ``str(diagnosis)``)."""
        def pct(value: float | None) -> str:
            return "   -  " if value is None else f"{100 * value:5.1f}%"

        bayes = "Bayes error (assumed 0)" if self.bayes_error_assumed else \
            "Bayes error (human-level proxy)"
        lines = ["Error rates", f"  {bayes:34s} {pct(self.bayes_error)}",
                 f"  {'training error':34s} {pct(self.train_error)}"]
        if self.train_dev_error is not None:
            lines.append(f"  {'train-dev error':34s} {pct(self.train_dev_error)}")
        if self.dev_error is not None:
            lines.append(f"  {'dev error':34s} {pct(self.dev_error)}")
        if self.test_error is not None:
            lines.append(f"  {'test error':34s} {pct(self.test_error)}")
        lines.append("Gaps")
        for name in COMPONENTS:
            value = getattr(self, name)
            if value is None:
                continue
            mark = "  <- largest" if name == self.dominant else (
                "  <- also a problem" if name in self.problems else "")
            lines.append(f"  {name.replace('_', ' '):34s} {pct(value)}{mark}")
        if self.dominant is None:
            lines.append(f"No gap reaches {100 * self.min_gap:.1f}%: neither bias nor variance "
                         "stands out. To look further, give a human-level error (the Bayes-"
                         "error proxy) or a smaller min_gap.")
        else:
            lines.append("What to do")
            lines.extend(f"  - {text}" for text in self.recommendations)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _rate(name: str, value: Any, required: bool) -> float | None:
    if value is None:
        if required:
            raise ValueError(f"diagnose: `{name}` is required")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isnan(value):
        raise NonFiniteError(f"diagnose: `{name}` is NaN; pass an error rate in [0, 1]")
    return real("diagnose", name, value, low=0.0, high=1.0)


def diagnose(train_error: float, dev_error: float | None = None, *,
             human_error: float | None = None, train_dev_error: float | None = None,
             test_error: float | None = None, min_gap: float = 0.02) -> Diagnosis:
    """Say whether bias, variance, data mismatch or dev-set overfitting dominates (I2, M7, M12).

    Args:
        train_error: error rate on the training set, in [0, 1].
        dev_error: error rate on the dev set.
        human_error: human-level error, the proxy for the Bayes error (M6); 0 if None.
        train_dev_error: error on a train-dev set (training distribution, not trained
            on), which separates variance from data mismatch (M12).
        test_error: error on the test set, to detect overfitting of the dev set (M1).
        min_gap: a gap smaller than this (default 2 percentage points) is not a problem.

    Returns:
        A :class:`Diagnosis`; ``print(diagnose(...))`` gives the report.

    Raises:
        ValueError: an error rate outside [0, 1], or a required one missing.
        NonFiniteError: an error rate is NaN.

    Example:
        >>> diagnose(0.01, 0.11).dominant               # the seed: 1% / 11%
        'variance'
        >>> diagnose(0.15, 0.16).dominant               # 15% / 16%
        'avoidable_bias'
        >>> print(diagnose(0.15, 0.16, human_error=0.15).dominant)   # Bayes 15%: fine
        None
        >>> diagnose(0.01, 0.10, train_dev_error=0.015).dominant     # 1% / 1.5% / 10%
        'data_mismatch'
    """
    train = _rate("train_error", train_error, True)
    assert train is not None
    dev = _rate("dev_error", dev_error, False)
    human = _rate("human_error", human_error, False)
    train_dev = _rate("train_dev_error", train_dev_error, False)
    test = _rate("test_error", test_error, False)
    gap = real("diagnose", "min_gap", min_gap, low=0.0, high=1.0)
    if dev is None and train_dev is None:
        raise ValueError("diagnose: give `dev_error` (or `train_dev_error`): the training error "
                         "alone shows bias, not variance")
    if test is not None and dev is None:
        raise ValueError("diagnose: `test_error` needs `dev_error` to compare with")

    bayes = 0.0 if human is None else human
    avoidable_bias = train - bayes
    if train_dev is not None:
        variance: float | None = train_dev - train
        mismatch = None if dev is None else dev - train_dev
    else:
        variance = None if dev is None else dev - train
        mismatch = None
    overfitting = None if test is None or dev is None else test - dev
    values = {"avoidable_bias": avoidable_bias, "variance": variance,
              "data_mismatch": mismatch, "dev_overfitting": overfitting}
    # A tiny tolerance keeps 2.0% - 0.0% = 0.019999... from missing a 2% threshold.
    problems = tuple(sorted((k for k, v in values.items() if v is not None and v >= gap - 1e-12),
                            key=lambda k: -(values[k] or 0.0)))
    return Diagnosis(
        bayes_error=bayes, bayes_error_assumed=human is None, train_error=train,
        dev_error=dev, train_dev_error=train_dev, test_error=test,
        avoidable_bias=avoidable_bias, variance=variance, data_mismatch=mismatch,
        dev_overfitting=overfitting, problems=problems,
        dominant=problems[0] if problems else None,
        recommendations=tuple(RECOMMENDATIONS[p] for p in problems), min_gap=gap,
    )
