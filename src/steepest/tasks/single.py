"""The one-output tasks: classification, binary, multi-label, regression (H8, H9, M15, S4).

Each reads one output tensor of shape (m, k): the last layer's Z, before any
activation, because the losses work from logits for numerical stability.

==================  ==================  =======================  ====================
task                outputs             targets                  default loss
==================  ==================  =======================  ====================
Classification      (m, C) logits       labels (m,) or one-hot   softmax cross-entropy
Binary              (m, 1) logit        (m,) or (m, 1) in [0, 1] sigmoid cross-entropy
MultiLabel          (m, k) logits       (m, k), NaN = unknown    masked sigmoid CE
Regression          (m, k) values       (m,) or (m, k)           squared error
==================  ==================  =======================  ====================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from .._validation import ShapeError, fmt_shape, positive_int
from ..autograd import Tensor
from ..metrics import accuracy, error_rate, f1_score, precision, recall
from ..ops import loss as losses
from .base import Metric, Task, _as_array, metric_name

_SCORERS = {"precision": precision, "recall": recall, "f1": f1_score}


def _single(owner: str, task: Task, outputs: Any) -> Any:
    """The one output array of a one-output task (a clear error for several heads)."""
    if isinstance(outputs, (tuple, list, dict)):
        raise TypeError(f"{owner}: a {task.name} task reads one output, but the model returned "
                        f"a {type(outputs).__name__} of {len(outputs)}; use "
                        "steepest.tasks.MultiTask for several heads")
    return outputs.data if isinstance(outputs, Tensor) else outputs


def _numeric(owner: str, task: Task, y: Any) -> Any:
    y = _as_array(y)
    if isinstance(y, (dict, tuple)):
        raise TypeError(f"{owner}: a {task.name} task takes one target array; got a "
                        f"{type(y).__name__} (several heads need steepest.tasks.MultiTask)")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {task.name} targets must be numbers; got dtype {y.dtype}"
                        " (encode class names as integers, e.g. with "
                        "np.unique(y, return_inverse=True))")
    return y


class _Labelled(Task):
    """Shared by the classifiers: metrics computed from predicted labels."""

    metric_names: ClassVar[tuple[str, ...]] = ("accuracy", "error", "precision", "recall", "f1")
    default_metrics: ClassVar[tuple[str, ...]] = ("accuracy",)
    error_metric: ClassVar[str | None] = "error"
    average: ClassVar[Literal["binary", "macro"]] = "macro"

    def _true_and_predicted(self, targets: Any, outputs: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def compute_metrics(self, metrics: Sequence[Metric], targets: Any, outputs: Any
                        ) -> dict[str, float]:
        y_true, y_pred = self._true_and_predicted(targets, outputs)
        results = {}
        for metric in metrics:
            if callable(metric):
                value = float(metric(y_true, y_pred))
            elif metric == "accuracy":
                value = accuracy(y_true, y_pred)
            elif metric == "error":
                value = error_rate(y_true, y_pred)
            else:
                value = float(_SCORERS[metric](y_true, y_pred, average=self.average))
            results[metric_name(metric)] = value
        return results

    def metric_label(self, metric: str) -> str:
        if metric in _SCORERS:
            return f"{'F1' if metric == 'f1' else metric} ({self.average})"
        return metric

    def class_probabilities(self, outputs: Any) -> np.ndarray:
        """Probabilities of each class, (m, C): what a report shows as confidence."""
        raise NotImplementedError


class Classification(_Labelled):
    """One of C classes per example: softmax regression (H8, H9).

    Args:
        num_classes: C, when known (checked against the outputs and the labels);
            None reads it from the model's outputs.

    Targets are integer labels of shape (m,) in [0, C) (floats holding whole
    numbers are accepted) or one-hot / soft targets of shape (m, C). Predictions
    are the argmax of the logits; probabilities are the softmax rows.

    Example:
        >>> import numpy as np
        >>> task = Classification(3)
        >>> y = task.encode_targets([0, 2, 1])
        >>> z = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.0, 1.0, 0.0]])
        >>> task.predict(z), task.compute_metrics(["accuracy"], y, z)
        (array([0, 2, 1]), {'accuracy': 1.0})
    """

    def __init__(self, num_classes: int | None = None) -> None:
        if num_classes is not None:
            num_classes = positive_int("Classification", "num_classes", num_classes)
            if num_classes < 2:
                raise ValueError("Classification: `num_classes` must be at least 2; got "
                                 f"{num_classes} (one output unit is steepest.tasks.Binary)")
        self.num_classes = num_classes

    def get_config(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes}

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return losses.cross_entropy(outputs, targets)

    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        y = _numeric(owner, self, y)
        if y.ndim == 2 and y.shape[1] == 1:
            raise ShapeError(f"{owner}: Classification labels must have shape (m,); got "
                             f"{fmt_shape(y.shape)} (flatten them with y.reshape(-1))")
        if y.ndim == 1:
            if y.dtype.kind == "f":
                if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                    raise TypeError(f"{owner}: Classification labels of shape (m,) must be "
                                    "whole class numbers; got fractional or non-finite values")
            y = y.astype(np.int64)
            if y.size and y.min() < 0:
                raise ValueError(f"{owner}: Classification labels must be in [0, C); got "
                                 f"{int(y.min())}")
            if self.num_classes is not None and y.size and y.max() >= self.num_classes:
                raise ValueError(f"{owner}: Classification({self.num_classes}) labels must be "
                                 f"in [0, {self.num_classes}); got {int(y.max())}")
            return y
        if y.ndim == 2:
            if self.num_classes is not None and y.shape[1] != self.num_classes:
                raise ShapeError(f"{owner}: one-hot targets have {y.shape[1]} columns but the "
                                 f"task has {self.num_classes} classes")
            return y.astype(dtype)
        raise ShapeError(f"{owner}: Classification targets are labels (m,) or one-hot rows "
                         f"(m, C); got shape {fmt_shape(y.shape)}")

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        z = _single(owner, self, outputs)
        if z.ndim != 2 or z.shape[1] < 2:
            raise ShapeError(f"{owner}: a Classification task needs outputs of shape (m, C) "
                             f"with C >= 2 logits; the model returned {fmt_shape(z.shape)} "
                             "(a one-unit output is task=steepest.tasks.Binary())")
        classes = z.shape[1]
        if self.num_classes is not None and classes != self.num_classes:
            raise ShapeError(f"{owner}: the task has {self.num_classes} classes but the model "
                             f"returns {classes} logits")
        y = np.asarray(targets) if not hasattr(targets, "shape") else targets
        if y.ndim == 1 and y.size and int(y.max()) >= classes:
            raise ValueError(f"{owner}: a label is {int(y.max())} but the model has {classes} "
                             f"outputs (classes 0..{classes - 1}); give the last layer more "
                             "units or fix the labels")
        if y.ndim == 2 and y.shape[1] != classes:
            raise ShapeError(f"{owner}: one-hot targets have {y.shape[1]} columns but the "
                             f"model returns {classes} logits")

    def predict(self, outputs: Any) -> np.ndarray:
        return np.asarray(_single("predict", self, outputs).argmax(axis=1))

    def predict_proba(self, outputs: Any) -> np.ndarray:
        z = np.asarray(_single("predict_proba", self, outputs), dtype=np.float64)
        e = np.exp(z - z.max(axis=1, keepdims=True))  # subtract the row max before exp
        return e / e.sum(axis=1, keepdims=True)

    class_probabilities = predict_proba

    def _true_and_predicted(self, targets: Any, outputs: Any) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(targets)
        return (y.argmax(axis=1) if y.ndim == 2 else y), self.predict(outputs)


class _SigmoidUnits(_Labelled):
    """Shared by Binary and MultiLabel: one sigmoid unit per yes/no label."""

    average: ClassVar[Literal["binary", "macro"]] = "binary"

    def predict(self, outputs: Any) -> np.ndarray:
        return (np.asarray(_single("predict", self, outputs)) > 0).astype(np.int64)

    def predict_proba(self, outputs: Any) -> np.ndarray:
        z = np.asarray(_single("predict_proba", self, outputs), dtype=np.float64)
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid without overflow


class Binary(_SigmoidUnits):
    """Yes or no per example: one sigmoid unit, logistic regression's task (B3, S4).

    Targets are 0/1 (or probabilities in [0, 1]) of shape (m,) or (m, 1); the
    model returns one logit per example, (m, 1). Predictions are 1 where the logit
    is positive (a > 0.5); probabilities are sigmoid(z), (m, 1).

    Example:
        >>> import numpy as np
        >>> task = Binary()
        >>> task.encode_targets([1, 0, 1]).shape
        (3, 1)
        >>> task.predict(np.array([[2.0], [-1.0], [0.5]])).ravel()
        array([1, 0, 1])
    """

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return losses.binary_cross_entropy_with_logits(outputs, targets)

    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        y = _numeric(owner, self, y)
        if y.ndim == 1:
            y = y.reshape(-1, 1)  # the shape of a one-unit output (B11: explicit shapes)
        if y.ndim != 2 or y.shape[1] != 1:
            raise ShapeError(f"{owner}: Binary targets have shape (m,) or (m, 1); got "
                             f"{fmt_shape(y.shape)} (several yes/no labels per example are "
                             "task=steepest.tasks.MultiLabel())")
        y = y.astype(dtype)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{owner}: Binary targets contain NaN or Inf (unknown labels are "
                             "a MultiLabel task's)")
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"{owner}: Binary targets must lie in [0, 1]; got values from "
                             f"{y.min():g} to {y.max():g}")
        return y

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        z = _single(owner, self, outputs)
        if z.ndim != 2 or z.shape[1] != 1:
            raise ShapeError(f"{owner}: a Binary task needs one logit per example, shape "
                             f"(m, 1); the model returned {fmt_shape(z.shape)} (for C classes "
                             "use task=steepest.tasks.Classification())")

    def class_probabilities(self, outputs: Any) -> np.ndarray:
        p = self.predict_proba(outputs)
        return np.concatenate([1.0 - p, p], axis=1)

    def _true_and_predicted(self, targets: Any, outputs: Any) -> tuple[np.ndarray, np.ndarray]:
        # Soft targets count as their nearer class.
        return ((np.asarray(targets) >= 0.5).astype(np.int64).ravel(),
                self.predict(outputs).ravel())


class MultiLabel(_SigmoidUnits):
    """Several yes/no labels per example, some possibly unknown (multi-task learning, M15).

    The seed's multi-task example: one image, four labels (pedestrian, car, stop
    sign, traffic light), one sigmoid unit each; a label marked "?" does not count
    in the cost. Here an unknown label is NaN in the targets: the loss sums only the
    known ones, and the metrics count only the known ones (accuracy over all known
    labels; precision, recall and F1 pooled over them, i.e. micro-averaged).

    Args:
        num_labels: k, when known (checked against the targets and outputs).

    Example:
        >>> import numpy as np
        >>> task = MultiLabel(2)
        >>> y = task.encode_targets([[1, np.nan], [0, 1]])
        >>> z = np.array([[3.0, 3.0], [-1.0, -2.0]])          # the NaN label is ignored
        >>> task.compute_metrics(["accuracy"], y, z)
        {'accuracy': 0.6666666666666666}
    """

    def __init__(self, num_labels: int | None = None) -> None:
        self.num_labels = None if num_labels is None else positive_int(
            "MultiLabel", "num_labels", num_labels)

    def get_config(self) -> dict[str, Any]:
        return {"num_labels": self.num_labels}

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return losses.masked_binary_cross_entropy_with_logits(outputs, targets)

    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        y = _numeric(owner, self, y)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2:
            raise ShapeError(f"{owner}: MultiLabel targets have shape (m, k); got "
                             f"{fmt_shape(y.shape)}")
        if self.num_labels is not None and y.shape[1] != self.num_labels:
            raise ShapeError(f"{owner}: MultiLabel({self.num_labels}) targets need "
                             f"{self.num_labels} columns; got {y.shape[1]}")
        y = y.astype(dtype)
        if np.any(np.isinf(y)):
            raise ValueError(f"{owner}: MultiLabel targets contain Inf (mark an unknown label "
                             "with NaN)")
        known = y[~np.isnan(y)]
        if known.size and (known.min() < 0 or known.max() > 1):
            raise ValueError(f"{owner}: MultiLabel targets must be 0, 1 or NaN (unknown); got "
                             f"values from {known.min():g} to {known.max():g}")
        return y

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        z = _single(owner, self, outputs)
        k = np.shape(targets)[1]
        if z.ndim != 2 or z.shape[1] != k:
            raise ShapeError(f"{owner}: a MultiLabel task with {k} labels needs outputs of "
                             f"shape (m, {k}); the model returned {fmt_shape(z.shape)}")

    def _true_and_predicted(self, targets: Any, outputs: Any) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(targets, dtype=np.float64).ravel()
        known = ~np.isnan(y)  # only existing labels count
        return (y[known] >= 0.5).astype(np.int64), self.predict(outputs).ravel()[known]


class Regression(Task):
    """Real-valued outputs (S4: a linear output unit with squared error).

    Targets of shape (m,) are read as (m, 1), the shape of a one-unit output.
    Metrics: ``mse`` (mean squared error), ``rmse`` and ``mae``; none by default
    (the loss already is the MSE, halved or not, see the loss).

    Example:
        >>> import numpy as np
        >>> task = Regression()
        >>> y = task.encode_targets([1.0, 2.0])
        >>> task.compute_metrics(["mae"], y, np.array([[1.5], [2.0]]))
        {'mae': 0.25}
    """

    metric_names: ClassVar[tuple[str, ...]] = ("mse", "rmse", "mae")

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return losses.mse_loss(outputs, targets)

    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        y = _numeric(owner, self, y)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        y = y.astype(dtype)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{owner}: Regression targets contain NaN or Inf")
        return y

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        z = _single(owner, self, outputs)
        if tuple(z.shape[1:]) != tuple(np.shape(targets)[1:]):
            raise ShapeError(f"{owner}: Regression targets of shape {fmt_shape(np.shape(targets))}"
                             f" do not match the model's outputs {fmt_shape(z.shape)}")

    def compute_metrics(self, metrics: Sequence[Metric], targets: Any, outputs: Any
                        ) -> dict[str, float]:
        y = np.asarray(targets, dtype=np.float64)
        z = np.asarray(_single("evaluate", self, outputs), dtype=np.float64).reshape(y.shape)
        errors = z - y
        results = {}
        for metric in metrics:
            if callable(metric):
                value = float(metric(y, z))
            elif metric == "mae":
                value = float(np.abs(errors).mean())
            else:
                mse = float((errors ** 2).mean())
                value = mse if metric == "mse" else mse ** 0.5
            results[metric_name(metric)] = value
        return results
