"""The model zoo: logistic regression and the L-layer network so far.

Every model returns logits and has ``predict`` / ``predict_proba``.
"""

from __future__ import annotations

from .base import Model
from .logistic import LogisticRegression
from .mlp import MLP

__all__ = ["MLP", "LogisticRegression", "Model"]
