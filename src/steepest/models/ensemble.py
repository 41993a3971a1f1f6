"""Ensembles (concept K10): train several networks, average what they predict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autograd import Tensor
from ..nn.module import Module
from ..ops import log, mean, sigmoid, softmax, stack
from ..tasks import Auxiliary, Binary, Classification, MultiLabel, Task
from .base import Model


def _kind(task: Task) -> type[Task] | None:
    inner = task.task if isinstance(task, Auxiliary) else task
    for kind in (Classification, Binary, MultiLabel):
        if isinstance(inner, kind):
            return kind
    return None


class Ensemble(Model):
    """The average of several models' *probabilities* (K10), as one model.

    The seed's competition trick: train 3 to 15 networks independently and average
    their outputs; it typically gains 1-2% but costs that many times the compute at
    test time, so it suits benchmarks and competitions more than production.
    Probabilities are averaged, not logits: one very confident member cannot
    outvote the others by the size of its logits.

    The call returns logits of the averaged probabilities, so the usual task reads
    them: ``log(mean softmax)`` for a classifier (a softmax of it gives back the
    average exactly), ``logit(mean sigmoid)`` for sigmoid outputs. ``predict``,
    ``predict_proba`` and ``evaluate`` work as for any model. The members are
    trained on their own, before (``fit`` on the ensemble would train them together
    through the average, which is a different thing).

    Args:
        models: two or more models with the same classification task (softmax or
            sigmoid outputs); a model in training mode that returns side outputs
            (GoogLeNet) contributes its main output.

    Raises:
        ValueError: fewer than one model, or members with different tasks.
        TypeError: a member that is not a Model with a classification task.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> members = [st.models.MLP([4, 3], rng=seed) for seed in range(3)]
        >>> ensemble = Ensemble(members)
        >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
        >>> average = np.mean([m.predict_proba(X) for m in members], axis=0)
        >>> bool(np.allclose(ensemble.predict_proba(X), average, atol=1e-6))
        True
    """

    def __init__(self, models: Sequence[Model]) -> None:
        super().__init__()
        members = list(models)
        if not members:
            raise ValueError("Ensemble: `models` is empty; give at least one model")
        tasks = []
        for i, model in enumerate(members):
            if not isinstance(model, Model):
                raise TypeError(f"Ensemble: model {i} must be a steepest Model (with a "
                                f"default task); got {type(model).__name__}")
            task = model.default_task()
            if _kind(task) is None:
                raise TypeError(f"Ensemble: model {i} has task {task!r}; averaging "
                                "probabilities needs a Classification, Binary or MultiLabel "
                                "task")
            tasks.append(task)
        if len({repr(t.task if isinstance(t, Auxiliary) else t) for t in tasks}) > 1:
            raise ValueError(f"Ensemble: the models have different tasks: {tasks}")
        self._task = tasks[0].task if isinstance(tasks[0], Auxiliary) else tasks[0]
        self._softmax = _kind(tasks[0]) is Classification
        for i, model in enumerate(members):
            self.add_module(str(i), model)

    @property
    def members(self) -> list[Module]:
        """The models, in order."""
        return [m for m in self._modules.values() if m is not None]

    def default_task(self) -> Task:
        """The members' task (the main output's task for members with side heads)."""
        return self._task

    def forward(self, x: Any) -> Tensor:
        outputs = []
        for member in self.members:
            out = member(x)
            outputs.append(out[0] if isinstance(out, (tuple, list)) else out)
        if self._softmax:
            average = mean(stack([softmax(z, axis=-1) for z in outputs]), axis=0)
            return log(average)  # softmax(log p) = p, since p's rows sum to 1
        average = mean(stack([sigmoid(z) for z in outputs]), axis=0)
        return log(average) - log(1.0 - average)  # the logit of the average
