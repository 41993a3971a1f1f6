"""Machine-learning strategy: what to work on next (the seed's course 3).

Bias/variance/data-mismatch diagnosis, error analysis, model selection with
optimising and satisficing metrics, and learning curves.

Example:
    >>> import steepest as st
    >>> print(st.strategy.diagnose(0.01, 0.11).dominant)
    variance
"""

from __future__ import annotations

from .curves import LearningCurve, curve_from_history, learning_curve
from .diagnosis import Diagnosis, diagnose
from .error_analysis import ErrorAnalysis, ErrorCategory, error_analysis, misclassified
from .model_errors import diagnose_model, error_rates
from .selection import Selection, select_model

__all__ = ["Diagnosis", "ErrorAnalysis", "ErrorCategory", "LearningCurve", "Selection",
           "curve_from_history", "diagnose", "diagnose_model", "error_analysis", "error_rates",
           "learning_curve", "misclassified", "select_model"]
