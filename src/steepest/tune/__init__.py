"""Hyperparameter search (concepts H1-H4): spaces on the right scale, random and
coarse-to-fine search, pruning, and many trials in parallel on one or many machines.

The spaces import nothing heavy; the search functions import Optuna when they run (a
missing Optuna is one error naming ``pip install "steepest[tune]"``).

Example:
    >>> from steepest.tune import LogUniform, OneMinusLogUniform
    >>> LogUniform(1e-4, 1), OneMinusLogUniform(0.9, 0.999)
    (LogUniform(1e-4, 1), OneMinusLogUniform(0.9, 0.999))
"""

from __future__ import annotations

from .objective import FitObjective, ReportToTrial, fit_objective, report
from .results import CoarseToFineResult, Round, SearchResult
from .search import coarse_to_fine, search, storage
from .space import (
    Choice,
    Dimension,
    IntLogUniform,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    PowerOfTwo,
    Uniform,
    parse_space,
)

__all__ = [
    "Choice", "CoarseToFineResult", "Dimension", "FitObjective", "IntLogUniform", "IntUniform",
    "LogUniform", "OneMinusLogUniform", "PowerOfTwo", "ReportToTrial", "Round", "SearchResult",
    "Uniform", "coarse_to_fine", "fit_objective", "parse_space", "report", "search", "storage",
]
