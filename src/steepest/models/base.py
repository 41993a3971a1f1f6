"""What every model of the zoo shares: logits out, and predict/predict_proba."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.module import Module
from ..train.trainer import predict, predict_proba


class Model(Module):
    """A network whose call returns logits (the last layer's Z).

    ``output`` ("softmax", "sigmoid" or "linear") names the activation that turns
    the logits into predictions; it picks the default loss of ``fit`` (softmax ->
    cross-entropy, sigmoid -> binary cross-entropy, linear -> squared error) and
    what :meth:`predict` and :meth:`predict_proba` return. Keeping the last
    activation out of the network lets the losses work from logits, stably.
    """

    output: str = "linear"

    def predict(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """Class labels (or values, for regression) for every row of X."""
        return predict(self, X, output=self.output, batch_size=batch_size)

    def predict_proba(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """Probabilities: softmax rows (m, C) or sigmoid outputs (m, 1)."""
        return predict_proba(self, X, output=self.output, batch_size=batch_size)
