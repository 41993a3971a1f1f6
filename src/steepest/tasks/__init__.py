"""Tasks: one explicit contract for what a model predicts (H8, H9, M15, S4, K7).

A task owns the default loss, checking and encoding the targets, reading outputs as
predictions and probabilities, and the metrics that ``fit``, ``evaluate``, the CLI and
the strategy tools report. Models carry a default task (``LeNet5`` ->
:class:`Classification`, ``LogisticRegression`` -> :class:`Binary`,
``MLP(output=...)`` -> the task of that output); ``fit``, ``evaluate`` and
``predict`` take ``task=`` to override it, and any callable ``loss=`` works with
any task: the task still encodes the targets and reads the predictions.

Example:
    >>> import numpy as np
    >>> import steepest as st
    >>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> net = st.nn.Sequential(st.nn.Linear(4, 2))            # a plain module: no task
    >>> history = st.train.fit(net, X, y, task="classification", epochs=2, verbose=0,
    ...                        loss=lambda z, t: st.functional.cross_entropy(z, t))
    >>> sorted(history.history)
    ['accuracy', 'loss', 'lr']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ..ops import loss as losses
from .base import (
    Task,
    detach,
    metric_name,
    to_host,
    tree_concatenate,
    tree_index,
    tree_leaves,
    tree_map,
)
from .heads import Auxiliary, MultiTask
from .single import Binary, Classification, MultiLabel, Regression

TaskName = Literal["classification", "binary", "multilabel", "regression"]

TASKS: dict[str, type[Task]] = {"classification": Classification, "binary": Binary,
                                "multilabel": MultiLabel, "regression": Regression}

# The library's losses, by name, with the task each one implies for a model that
# has no task of its own.
LOSSES: dict[str, tuple[Callable[..., Any], type[Task]]] = {
    "cross_entropy": (losses.cross_entropy, Classification),
    "binary_cross_entropy_with_logits": (losses.binary_cross_entropy_with_logits, Binary),
    "bce": (losses.binary_cross_entropy_with_logits, Binary),
    "masked_binary_cross_entropy_with_logits": (
        losses.masked_binary_cross_entropy_with_logits, MultiLabel),
    "mse": (losses.mse_loss, Regression),
    "mse_loss": (losses.mse_loss, Regression),
}


def for_output(output: str, units: int) -> Task:
    """The task of an MLP's ``output`` choice with ``units`` output units.

    Example:
        >>> for_output("sigmoid", 1), for_output("sigmoid", 4), for_output("softmax", 10)
        (Binary(), MultiLabel(num_labels=4), Classification(num_classes=10))
    """
    table: dict[str, Callable[[], Task]] = {
        "softmax": lambda: Classification(units),
        "sigmoid": lambda: Binary() if units == 1 else MultiLabel(units),
        "linear": Regression,
    }
    if output not in table:
        raise ValueError(f"output must be one of {', '.join(map(repr, table))}; got {output!r}")
    return table[output]()


def resolve_loss(loss: str | Callable[..., Any] | None, task: Task | None, *,
                 owner: str = "fit") -> tuple[Callable[..., Any], Task]:
    """The loss function and the task that reads the outputs.

    ``task`` is the explicit or model's task (None if neither); ``loss`` a name, a
    function, or None for the task's default. A model without a task takes the
    task implied by a library loss, or, for any other function, a bare
    :class:`Task` that passes the targets through and reports no metrics.
    """
    function: Callable[..., Any] | None
    implied: type[Task] | None = None
    if loss is None:
        function = None
    elif isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"{owner}: unknown loss {loss!r}; use one of "
                             f"{', '.join(repr(k) for k in LOSSES)} or a function")
        function, implied = LOSSES[loss]
    elif callable(loss):
        function = loss
        implied = next((kind for f, kind in LOSSES.values() if f is loss), None)
    else:
        raise TypeError(f"{owner}: `loss` must be a name or a function loss(outputs, targets);"
                        f" got {type(loss).__name__}")
    if task is None:
        if implied is not None:
            task = implied()
        elif function is not None:
            task = Task()
        else:
            raise ValueError(f"{owner}: the model has no default task; pass task= (e.g. "
                             "'classification', st.tasks.Binary()) or loss= (e.g. "
                             "'cross_entropy')")
    return (function if function is not None else task.loss), task


def resolve_task(task: Task | str | None, model: Any = None, *, owner: str = "fit"
                 ) -> Task | None:
    """An explicit task (object or name), else the model's ``default_task()``, else None.

    Example:
        >>> resolve_task("classification")
        Classification(num_classes=None)
    """
    if isinstance(task, Task):
        return task
    if isinstance(task, str):
        if task not in TASKS:
            raise ValueError(f"{owner}: unknown task {task!r}; use one of "
                             f"{', '.join(map(repr, TASKS))} or a steepest.tasks.Task")
        return TASKS[task]()
    if task is not None:
        raise TypeError(f"{owner}: `task` must be a steepest.tasks.Task or a name; got "
                        f"{type(task).__name__}")
    default = getattr(model, "default_task", None)
    return default() if callable(default) else None


__all__ = [
    "LOSSES", "TASKS", "Auxiliary", "Binary", "Classification", "MultiLabel", "MultiTask",
    "Regression", "Task", "TaskName", "detach", "for_output", "metric_name",
    "resolve_loss", "resolve_task", "to_host", "tree_concatenate", "tree_index", "tree_leaves",
    "tree_map",
]
