"""What every model of the zoo shares: raw outputs, a default task, predict/predict_proba."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.module import Module
from ..tasks import Task
from ..train.trainer import predict, predict_proba


class Model(Module):
    """A network whose call returns raw outputs (logits: the last layer's Z).

    Its :meth:`default_task` says what those outputs mean (a
    :class:`~steepest.tasks.Task`): it picks the default loss of ``fit`` and what
    :meth:`predict` and :meth:`predict_proba` return. Keeping the last activation
    out of the network lets the losses work from logits, stably.
    """

    def default_task(self) -> Task:
        """The task ``fit``, ``evaluate`` and ``predict`` use unless given ``task=``."""
        raise NotImplementedError(f"{type(self).__name__} has no default task; pass task=")

    def predict(self, X: Any, batch_size: int = 256, tta: Any = None) -> np.ndarray:
        """Class labels (or values, for regression) for every row of X.

        ``tta``: test-time augmentation, e.g. ``steepest.data.augment.MultiCrop``
        (see :func:`steepest.train.predict`)."""
        return predict(self, X, batch_size=batch_size, tta=tta)

    def predict_proba(self, X: Any, batch_size: int = 256, tta: Any = None) -> np.ndarray:
        """Probabilities: softmax rows (m, C) or sigmoid outputs (m, k), averaged over the
        views of ``tta`` when given."""
        return predict_proba(self, X, batch_size=batch_size, tta=tta)
