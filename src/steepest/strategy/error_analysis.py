"""Error analysis: what kinds of mistakes, and how much fixing each could gain (M9, M10)."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._files import atomic_write
from .._validation import ShapeError, real
from ..backend import resolve_rng

MISLABELLED = "mislabelled"


def misclassified(y_true: Any, y_pred: Any, *, sample: int | None = None,
                  rng: Any = None) -> np.ndarray:
    """Indices of the examples the model got wrong, to look at and tag (M9).

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        sample: return at most this many, chosen at random (the seed: look at about
            100 of them).
        rng: a Generator or seed for the sample.

    Example:
        >>> misclassified([0, 1, 1, 0], [0, 0, 1, 1]).tolist()
        [1, 3]
    """
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise ShapeError(f"misclassified: {t.size} true labels but {p.size} predictions")
    wrong = np.flatnonzero(t != p)
    if sample is not None and sample < wrong.size:
        wrong = np.sort(resolve_rng(rng).choice(wrong, size=sample, replace=False))
    return wrong


@dataclass(frozen=True)
class ErrorCategory:
    """One row of an error analysis."""

    tag: str
    count: int
    share: float  # of the examined errors
    ceiling: float | None  # dev error that fixing all of them would remove


@dataclass(frozen=True)
class ErrorAnalysis:
    """The table of :func:`error_analysis`: categories by count, largest first."""

    rows: tuple[ErrorCategory, ...]
    examined: int
    untagged: int
    dev_error: float | None

    def __str__(self) -> str:
        header = f"{'category':24s} {'count':>6s} {'share':>7s} {'ceiling':>8s}"
        lines = [f"Error analysis of {self.examined} misclassified examples"
                 + (f" (dev error {100 * self.dev_error:.1f}%)" if self.dev_error is not None
                    else ""), header, "-" * len(header)]
        for row in self.rows:
            ceiling = "" if row.ceiling is None else f"{100 * row.ceiling:7.2f}%"
            lines.append(f"{row.tag:24s} {row.count:6d} {100 * row.share:6.1f}% {ceiling:>8s}")
        if self.untagged:
            lines.append(f"{'(untagged)':24s} {self.untagged:6d} "
                         f"{100 * self.untagged / self.examined:6.1f}%")
        lines.append("share: of the examined errors (an example may carry several tags); "
                     "ceiling: the most the dev error can fall by fixing that category")
        return "\n".join(lines)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The table as CSV text; also written (atomically) to ``path`` if given."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["category", "count", "share", "ceiling"])
        for row in self.rows:
            writer.writerow([row.tag, row.count, f"{row.share:.6f}",
                             "" if row.ceiling is None else f"{row.ceiling:.6f}"])
        if self.untagged:
            writer.writerow(["(untagged)", self.untagged,
                             f"{self.untagged / self.examined:.6f}", ""])
        text = buffer.getvalue()
        if path is not None:
            atomic_write(path, text.encode())
        return text

    def row(self, tag: str) -> ErrorCategory:
        """The row of one category."""
        for row in self.rows:
            if row.tag == tag:
                return row
        raise KeyError(f"ErrorAnalysis: no category {tag!r}; categories: "
                       f"{[r.tag for r in self.rows]}")


def error_analysis(tags: Mapping[Any, Iterable[str]] | Sequence[Iterable[str]], *,
                   dev_error: float | None = None) -> ErrorAnalysis:
    """Count the categories of mistakes, as in the seed's spreadsheet (M9).

    Look at (a sample of) the misclassified dev examples, note for each what went
    wrong ("dog", "blurry", "great cat", and "mislabelled" for a wrong label, M10),
    then count: a category that causes 5% of the errors can at best take 5% of the
    dev error away (its ceiling), so work on the big ones first.

    Args:
        tags: for each examined example, its tags: a mapping from example id to
            tags, or a list with one entry (a list of tags, or one string) per example.
        dev_error: the dev error rate, to turn shares into ceilings.

    Returns:
        An :class:`ErrorAnalysis`; ``print`` it, or ``.to_csv(path)``.

    Example:
        >>> table = error_analysis({3: ["dog"], 8: ["blurry", "dog"], 12: ["mislabelled"],
        ...                         20: ["blurry"]}, dev_error=0.10)
        >>> [(r.tag, r.count, r.share, round(r.ceiling, 3)) for r in table.rows]
        [('blurry', 2, 0.5, 0.05), ('dog', 2, 0.5, 0.05), ('mislabelled', 1, 0.25, 0.025)]
    """
    entries = list(tags.values()) if isinstance(tags, Mapping) else list(tags)
    if not entries:
        raise ValueError("error_analysis: no examples to analyse (tags is empty)")
    if dev_error is not None:
        dev_error = real("error_analysis", "dev_error", dev_error, low=0.0, high=1.0)
    counts: Counter[str] = Counter()
    untagged = 0
    for entry in entries:
        labels = [entry] if isinstance(entry, str) else list(entry)
        clean = {str(label).strip() for label in labels if str(label).strip()}
        if not clean:
            untagged += 1
        counts.update(clean)
    examined = len(entries)
    rows = tuple(
        ErrorCategory(tag, count, count / examined,
                      None if dev_error is None else dev_error * count / examined)
        for tag, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return ErrorAnalysis(rows=rows, examined=examined, untagged=untagged, dev_error=dev_error)
