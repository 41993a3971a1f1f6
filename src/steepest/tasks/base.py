"""The task contract: what a model predicts, and how its outputs and targets are read.

A model returns raw outputs (logits, scores, box offsets): one tensor, or a tuple or
a dict of tensors when it has several heads. A :class:`Task` is everything the rest
of the library needs to know about what those outputs mean:

* the default **loss** (``task.loss(outputs, targets)``);
* **checking and encoding the targets** once per data set
  (``task.encode_targets(y)``), with errors that name the task and the fix;
* a **check of the outputs against the targets** on the first batch
  (``task.validate(outputs, targets)``), so a 10-class label on a 3-output model is
  one clear message, not an index error deep in a loss;
* turning outputs into **predictions** and **probabilities**;
* the **metrics** the training loop, ``evaluate``, the CLI and the strategy tools
  report, and the **error rate** the bias/variance diagnosis reads.

The training loop knows nothing else: it asks the task. A new kind of problem
(localisation, detection, a model with auxiliary heads) is a new Task, not a new
branch in the loop. Outputs and targets travel as *trees*: an array, or a tuple or
dict of arrays, which the helpers below index, concatenate and move to the host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..autograd import Tensor
from ..backend import array_module, to_numpy

# ---------------------------------------------------------------- trees of arrays
Tree = Any  # an array (or Tensor), or a tuple/list/dict of them


def tree_map(function: Callable[[Any], Any], tree: Tree) -> Tree:
    """Apply ``function`` to every leaf of a tuple/list/dict tree of arrays.

    Example:
        >>> tree_map(lambda a: a * 2, {"box": np.ones(2), "cls": (np.zeros(1),)})
        {'box': array([2., 2.]), 'cls': (array([0.]),)}
    """
    if isinstance(tree, Mapping):
        return {key: tree_map(function, value) for key, value in tree.items()}
    if isinstance(tree, (tuple, list)):
        return tuple(tree_map(function, value) for value in tree)
    return function(tree)


def tree_leaves(tree: Tree) -> list[Any]:
    """The leaves of a tree, depth first.

    Example:
        >>> [a.shape for a in tree_leaves((np.zeros(3), {"b": np.zeros((2, 2))}))]
        [(3,), (2, 2)]
    """
    if isinstance(tree, Mapping):
        return [leaf for value in tree.values() for leaf in tree_leaves(value)]
    if isinstance(tree, (tuple, list)):
        return [leaf for value in tree for leaf in tree_leaves(value)]
    return [tree]


def tree_concatenate(trees: Sequence[Tree]) -> Tree:
    """Concatenate trees of the same structure along the first axis.

    Example:
        >>> tree_concatenate([(np.zeros(2), np.ones(1)), (np.zeros(1), np.ones(2))])
        (array([0., 0., 0.]), array([1., 1., 1.]))
    """
    first = trees[0]
    if isinstance(first, Mapping):
        return {key: tree_concatenate([t[key] for t in trees]) for key in first}
    if isinstance(first, (tuple, list)):
        return tuple(tree_concatenate([t[i] for t in trees]) for i in range(len(first)))
    return array_module(first).concatenate(trees)


def to_host(tree: Tree) -> Tree:
    """Every leaf as a NumPy array (Tensors unwrapped, GPU arrays copied)."""
    return tree_map(lambda leaf: to_numpy(leaf.data if isinstance(leaf, Tensor) else leaf),
                    tree)


def detach(tree: Tree) -> Tree:
    """Every leaf as its raw backend array (no graph, no host copy)."""
    return tree_map(lambda leaf: leaf.data if isinstance(leaf, Tensor) else leaf, tree)


def tree_index(tree: Tree, index: Any) -> Tree:
    """Rows ``index`` of every leaf."""
    return tree_map(lambda leaf: leaf[index], tree)


# ---------------------------------------------------------------- the contract
Metric = str | Callable[[np.ndarray, np.ndarray], float]


def metric_name(metric: Metric) -> str:
    """The history key of a metric: its name, or a function's ``__name__``."""
    return metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")


class Task:
    """Base class of tasks: subclasses say what a model's outputs mean.

    A subclass implements :meth:`loss`, :meth:`encode_targets` and, to report
    metrics, :meth:`predict` and :meth:`compute_metrics`; the rest has defaults.

    Attributes:
        metric_names: the metric names this task computes.
        default_metrics: what ``fit`` reports when ``metrics=None``.
        error_metric: the metric whose value is an error rate (read by the
            bias/variance diagnosis); None where the task has no error rate.
    """

    metric_names: ClassVar[tuple[str, ...]] = ()
    default_metrics: ClassVar[tuple[str, ...]] = ()
    error_metric: ClassVar[str | None] = None

    @property
    def name(self) -> str:
        """The task's class name, used in messages."""
        return type(self).__name__

    # ------------------------------------------------------------ training
    def loss(self, outputs: Any, targets: Any) -> Tensor:
        """The default loss J (a scalar Tensor, the mean over the batch)."""
        raise NotImplementedError(f"{self.name} has no default loss; pass fit(loss=...)")

    def loss_terms(self, outputs: Any, targets: Any) -> dict[str, Tensor]:
        """The parts of the loss that ``evaluate`` reports (``{"loss": J}`` by default)."""
        return {"loss": self.loss(outputs, targets)}

    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        """Check the targets and return them in the form the loss takes.

        Runs once per data set, on the host. The default takes them as given.
        """
        return _as_array(y)

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        """Check a batch's outputs against its targets (the first batch of a fit)."""

    # ------------------------------------------------------------ reading outputs
    def predict(self, outputs: Any) -> Any:
        """Predictions from host outputs (labels, values, boxes ...)."""
        return outputs

    def predict_proba(self, outputs: Any) -> np.ndarray:
        """Probabilities from host outputs."""
        raise ValueError(f"predict_proba: a {self.name} task has no probabilities; use predict")

    def class_probabilities(self, outputs: Any) -> np.ndarray:
        """Probabilities of each class, (m, C), for a report's label and confidence."""
        raise ValueError(f"a {self.name} task has no classes to report probabilities for")

    # ------------------------------------------------------------ metrics
    def check_metrics(self, metrics: Sequence[Metric] | None, *, owner: str = "fit"
                      ) -> list[Metric]:
        """The metrics to report: the defaults for None, else validated names/functions."""
        if metrics is None:
            return list(self.default_metrics)
        if isinstance(metrics, str):
            metrics = [metrics]
        chosen = list(metrics)
        for metric in chosen:
            if isinstance(metric, str):
                if metric not in self.metric_names:
                    known = ", ".join(repr(m) for m in self.metric_names) or "none"
                    raise ValueError(f"{owner}: a {self.name} task has no metric {metric!r}; "
                                     f"its metrics are {known} (or pass a function "
                                     "metric(y_true, y_pred))")
            elif not callable(metric):
                raise TypeError(f"{owner}: a metric must be a name or a function "
                                f"metric(y_true, y_pred); got {metric!r}")
        return chosen

    def compute_metrics(self, metrics: Sequence[Metric], targets: Any, outputs: Any
                        ) -> dict[str, float]:
        """Each metric on a whole data set, from host targets and host outputs."""
        if metrics:
            raise ValueError(f"{self.name}: this task computes no metrics")
        return {}

    def metric_label(self, metric: str) -> str:
        """How a report prints a metric's name."""
        return metric

    def error_rate(self, targets: Any, outputs: Any) -> float:
        """The error rate the diagnosis reads (``error_metric`` on the data)."""
        if self.error_metric is None:
            raise ValueError(f"a {self.name} task has no error rate, so bias and variance "
                             "cannot be read off it; diagnose a classifier, or pass your own "
                             "error rates to steepest.strategy.diagnose")
        return self.compute_metrics([self.error_metric], targets, outputs)[self.error_metric]

    # ------------------------------------------------------------ description
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (for repr and saving)."""
        return {}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.name}({arguments})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    __hash__ = None  # type: ignore[assignment]


def _as_array(y: Any) -> Any:
    """Targets as an array tree (Tensors unwrapped, lists converted)."""
    if isinstance(y, Tensor):
        return y.data
    if isinstance(y, Mapping):
        return {key: _as_array(value) for key, value in y.items()}
    if isinstance(y, tuple):
        return tuple(_as_array(value) for value in y)
    return y if hasattr(y, "shape") else np.asarray(y)
