"""Models with several outputs: one task per head, and auxiliary heads (M15, K7).

:class:`MultiTask` reads a model that returns a dict (or tuple) of outputs, one per
head, with targets of the same structure: the loss is the weighted sum of each
head's loss, and each head reports its own metrics as ``<head>_<metric>``.

:class:`Auxiliary` reads a model whose extra side branches predict the same thing
as its main output during training (Inception's side classifiers, K7): their
losses are added with a weight, and only the main output is a prediction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import ShapeError, real
from ..autograd import Tensor
from .base import Metric, Task


class MultiTask(Task):
    """One task per output head, losses summed with weights.

    Args:
        tasks: ``{"head": task, ...}`` for a model returning a dict with those keys,
            or a sequence of tasks for a model returning a tuple in that order.
        weights: a weight per head (same structure), default 1 each.

    Targets have the structure of the outputs: a dict with the same keys (or a
    tuple), each part encoded by its head's task. Metrics are per head, named
    ``<head>_<metric>`` (``0_accuracy`` for tuples); ``metrics=`` may be a list
    applied to every head that has those metrics, or a dict head -> list.

    Example:
        >>> import numpy as np
        >>> from steepest.tasks import Classification, Regression
        >>> task = MultiTask({"digit": Classification(3), "size": Regression()},
        ...                  weights={"digit": 1.0, "size": 0.5})
        >>> y = task.encode_targets({"digit": [0, 2], "size": [1.0, 3.0]})
        >>> outputs = {"digit": np.array([[3.0, 0, 0], [0, 0, 1.0]]),
        ...            "size": np.array([[1.0], [2.0]])}
        >>> task.compute_metrics(None, y, outputs)
        {'digit_accuracy': 1.0}
    """

    def __init__(self, tasks: Mapping[str, Task] | Sequence[Task],
                 weights: Mapping[str, float] | Sequence[float] | None = None) -> None:
        if isinstance(tasks, Mapping):
            self.tasks: dict[Any, Task] = dict(tasks)
            self.structure = "dict"
        elif isinstance(tasks, Sequence) and not isinstance(tasks, str):
            self.tasks = dict(enumerate(tasks))
            self.structure = "tuple"
        else:
            raise TypeError(f"MultiTask: `tasks` must be a dict of head -> Task or a list of "
                            f"tasks; got {type(tasks).__name__}")
        if not self.tasks:
            raise ValueError("MultiTask: `tasks` is empty; give at least one head")
        for key, task in self.tasks.items():
            if not isinstance(task, Task):
                raise TypeError(f"MultiTask: head {key!r} must be a Task (e.g. Classification()"
                                f"); got {type(task).__name__}")
        if weights is None:
            self.weights = dict.fromkeys(self.tasks, 1.0)
        else:
            given = dict(weights) if isinstance(weights, Mapping) else dict(enumerate(weights))
            if set(given) != set(self.tasks):
                raise ValueError(f"MultiTask: `weights` name heads {sorted(map(str, given))} but "
                                 f"the heads are {sorted(map(str, self.tasks))}")
            self.weights = {key: real("MultiTask", f"weights[{key!r}]", value, low=0.0)
                            for key, value in given.items()}

    def get_config(self) -> dict[str, Any]:
        tasks: Any = (self.tasks if self.structure == "dict" else list(self.tasks.values()))
        return {"tasks": tasks, "weights": self.weights}

    # ------------------------------------------------------------ structure
    def _parts(self, owner: str, what: str, tree: Any) -> dict[Any, Any]:
        """The per-head parts of outputs or targets, checked against the heads."""
        if self.structure == "dict":
            if not isinstance(tree, Mapping):
                raise TypeError(f"{owner}: a MultiTask with heads {list(self.tasks)} needs "
                                f"{what} as a dict with those keys; got {type(tree).__name__}")
            missing = [k for k in self.tasks if k not in tree]
            if missing:
                raise ValueError(f"{owner}: the {what} lack the head(s) {missing}; they have "
                                 f"{list(tree)}")
            return {key: tree[key] for key in self.tasks}
        if not isinstance(tree, (tuple, list)) or len(tree) != len(self.tasks):
            count = len(tree) if isinstance(tree, (tuple, list)) else "not a tuple"
            raise ShapeError(f"{owner}: a MultiTask with {len(self.tasks)} heads needs the "
                             f"{what} as a tuple of {len(self.tasks)}; got {count}")
        return dict(enumerate(tree))

    def _rebuild(self, parts: dict[Any, Any]) -> Any:
        return parts if self.structure == "dict" else tuple(parts[k] for k in self.tasks)

    # ------------------------------------------------------------ the contract
    def loss_terms(self, outputs: Any, targets: Any) -> dict[str, Tensor]:
        out = self._parts("loss", "outputs", outputs)
        y = self._parts("loss", "targets", targets)
        terms = {f"{key}_loss": task.loss(out[key], y[key]) for key, task in self.tasks.items()}
        total = None
        for key, term in zip(self.tasks, terms.values()):
            weighted = term * self.weights[key] if self.weights[key] != 1.0 else term
            total = weighted if total is None else total + weighted
        assert total is not None  # at least one head, checked in __init__
        return {"loss": total, **terms}

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return self.loss_terms(outputs, targets)["loss"]

    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        parts = self._parts(owner, "targets", y)
        encoded = {key: self.tasks[key].encode_targets(parts[key], owner=f"{owner} [{key}]",
                                                       dtype=dtype) for key in self.tasks}
        counts = {key: np.shape(value)[0] for key, value in encoded.items()}
        if len(set(counts.values())) > 1:
            raise ShapeError(f"{owner}: the heads' targets have different numbers of examples: "
                             f"{counts}")
        return self._rebuild(encoded)

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        out = self._parts(owner, "outputs", outputs)
        y = self._parts(owner, "targets", targets)
        for key, task in self.tasks.items():
            task.validate(out[key], y[key], owner=f"{owner} [{key}]")

    def predict(self, outputs: Any) -> Any:
        out = self._parts("predict", "outputs", outputs)
        return self._rebuild({key: task.predict(out[key]) for key, task in self.tasks.items()})

    def predict_proba(self, outputs: Any) -> Any:
        out = self._parts("predict_proba", "outputs", outputs)
        return self._rebuild({key: task.predict_proba(out[key])
                              for key, task in self.tasks.items()})

    def _per_head(self, metrics: Any) -> dict[Any, Any]:
        if metrics is None or not isinstance(metrics, Mapping):
            return dict.fromkeys(self.tasks, metrics)
        unknown = [k for k in metrics if k not in self.tasks]
        if unknown:
            raise ValueError(f"MultiTask: `metrics` names unknown head(s) {unknown}")
        return {key: metrics.get(key, []) for key in self.tasks}

    def check_metrics(self, metrics: Any, *, owner: str = "fit") -> list[Any]:
        """Pairs (head, metric): a list applies to every head that has those metrics."""
        chosen: list[Any] = []
        for key, wanted in self._per_head(metrics).items():
            task = self.tasks[key]
            if wanted is not None and not isinstance(metrics, Mapping):
                wanted = [m for m in wanted if callable(m) or m in task.metric_names]
            chosen.extend((key, m) for m in task.check_metrics(wanted, owner=f"{owner} [{key}]"))
        return chosen

    def compute_metrics(self, metrics: Any, targets: Any, outputs: Any) -> dict[str, float]:
        if metrics is None:
            metrics = self.check_metrics(None)
        out = self._parts("evaluate", "outputs", outputs)
        y = self._parts("evaluate", "targets", targets)
        results = {}
        for key, task in self.tasks.items():
            mine = [m for head, m in metrics if head == key]
            if mine:
                for name, value in task.compute_metrics(mine, y[key], out[key]).items():
                    results[f"{key}_{name}"] = value
        return results


class Auxiliary(Task):
    """A task whose model adds side branches in training (Inception's auxiliary heads, K7).

    In training mode the model returns ``(main, aux_1, ..., aux_k)``, each an output
    for the same targets; the loss is ``J(main) + weight * sum J(aux_i)``. In eval
    mode the model returns ``main`` alone, and every prediction and metric reads it.

    Args:
        task: the task of the main output and of each side branch.
        weight: the weight of each auxiliary loss (0.3 in GoogLeNet).

    Example:
        >>> import numpy as np
        >>> from steepest.tasks import Classification
        >>> task = Auxiliary(Classification(2), weight=0.3)
        >>> y = task.encode_targets([1])
        >>> z = np.array([[0.0, 1.0]])
        >>> task.predict((z, -z)), task.predict(z)   # the main output decides
        (array([1]), array([1]))
    """

    def __init__(self, task: Task, weight: float = 0.3) -> None:
        if not isinstance(task, Task):
            raise TypeError(f"Auxiliary: `task` must be a Task; got {type(task).__name__}")
        self.task = task
        self.weight = real("Auxiliary", "weight", weight, low=0.0)
        self.metric_names = task.metric_names  # type: ignore[misc]
        self.default_metrics = task.default_metrics  # type: ignore[misc]
        self.error_metric = task.error_metric  # type: ignore[misc]

    def get_config(self) -> dict[str, Any]:
        return {"task": self.task, "weight": self.weight}

    @staticmethod
    def _main(outputs: Any) -> Any:
        return outputs[0] if isinstance(outputs, (tuple, list)) else outputs

    def loss_terms(self, outputs: Any, targets: Any) -> dict[str, Tensor]:
        if not isinstance(outputs, (tuple, list)):
            return {"loss": self.task.loss(outputs, targets)}
        main = self.task.loss(outputs[0], targets)
        side = [self.task.loss(aux, targets) for aux in outputs[1:]]
        total = main
        for term in side:
            total = total + term * self.weight
        return {"loss": total, "main_loss": main,
                **{f"aux{i}_loss": term for i, term in enumerate(side, start=1)}}

    def loss(self, outputs: Any, targets: Any) -> Tensor:
        return self.loss_terms(outputs, targets)["loss"]

    def encode_targets(self, y: Any, *, owner: str = "fit", dtype: Any = np.float32) -> Any:
        return self.task.encode_targets(y, owner=owner, dtype=dtype)

    def validate(self, outputs: Any, targets: Any, *, owner: str = "fit") -> None:
        for output in (outputs if isinstance(outputs, (tuple, list)) else (outputs,)):
            self.task.validate(output, targets, owner=owner)

    def predict(self, outputs: Any) -> Any:
        return self.task.predict(self._main(outputs))

    def predict_proba(self, outputs: Any) -> np.ndarray:
        return self.task.predict_proba(self._main(outputs))

    def check_metrics(self, metrics: Any, *, owner: str = "fit") -> list[Metric]:
        return self.task.check_metrics(metrics, owner=owner)

    def compute_metrics(self, metrics: Any, targets: Any, outputs: Any) -> dict[str, float]:
        return self.task.compute_metrics(metrics, targets, self._main(outputs))

    def metric_label(self, metric: str) -> str:
        return self.task.metric_label(metric)
