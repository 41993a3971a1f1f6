"""The optimiser base class: the parameter loop, state, validation, schedules.

A subclass writes only its update rule, :meth:`Optimizer.update`, which changes one
parameter array in place given its gradient, its state and the learning rate. State
is kept per parameter *position* (not ``id()``), so a saved optimiser reloads onto
a rebuilt model. Updates write into buffers kept in the state, so a step allocates
no new arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .._validation import fmt_shape, real
from ..autograd import Tensor
from ..backend import array_module, to_device
from .schedules import Schedule, schedule_from_config


class Optimizer:
    """Base class of the update rules.

    Args:
        params: the tensors to optimise, usually ``model.parameters()``.
        lr: the learning rate alpha: a positive number or a :class:`Schedule`.
        weight_decay: adds ``weight_decay * w`` to every gradient (L2 applied by the
            optimiser instead of the cost; ``weight_decay = lambd / m`` matches the
            seed's L2 term). Default 0.

    Attributes:
        iterations: updates taken so far (the t of bias correction).
        epoch: epochs completed (the training loop sets it; schedules with
            ``unit="epoch"`` read ``epoch + 1``).
        buffers: the per-parameter arrays the rule keeps (a class attribute).
    """

    buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule,
                 weight_decay: float = 0.0) -> None:
        owner = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{owner}: got an empty parameter list (did you pass "
                             "model.parameters() of a model without parameters?)")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if id(p) in seen:
                raise ValueError(f"{owner}: parameter {i} appears twice in the list")
            seen.add(id(p))
        self.schedule: Schedule | None = None
        self.base_lr = 0.0
        self.lr = lr
        self.weight_decay = real(owner, "weight_decay", weight_decay, low=0.0)
        self.iterations = 0
        self.epoch = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    # ---------------------------------------------------------------- learning rate
    @property
    def lr(self) -> float:
        """The learning rate of the next step (from the schedule, if there is one)."""
        if self.schedule is None:
            return self.base_lr
        t = self.epoch + 1 if self.schedule.unit == "epoch" else self.iterations + 1
        return self.schedule(t)

    @lr.setter
    def lr(self, value: float | Schedule) -> None:
        if isinstance(value, Schedule):
            self.schedule = value
            self.base_lr = value.lr0
        else:
            self.schedule = None
            self.base_lr = real(type(self).__name__, "lr", value, low=0.0, low_inclusive=False)

    # ---------------------------------------------------------------- stepping
    def zero_grad(self) -> None:
        """Forget the gradients (set every ``.grad`` to None)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient and requires one."""
        lr = self.lr
        self.iterations += 1
        for p, state in zip(self.params, self.state):
            grad = p.grad
            if grad is None or not p.requires_grad:
                continue
            if self.weight_decay:
                grad = grad + self.weight_decay * p.data
            for name in self.buffers:
                if name not in state:
                    state[name] = array_module(p.data).zeros_like(p.data)
            self.update(p.data, grad, state, lr)

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        """Change ``param`` in place (the subclass's rule).

        ``state`` holds this parameter's buffers named in :attr:`buffers`, allocated
        with zeros before the first update; names starting with ``_`` are scratch
        space that is not saved.
        """
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, Any]:
        """The rule's settings, for saving and repr (override to add yours)."""
        return {"weight_decay": self.weight_decay}

    # ---------------------------------------------------------------- saving
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: counters, learning rate, per-parameter state.

        Scratch buffers are not saved; moment estimates are. Arrays are returned as
        they are (not copied).
        """
        return {
            "class": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "iterations": self.iterations,
            "epoch": self.epoch,
            "base_lr": self.base_lr,
            "schedule": None if self.schedule is None else {
                "class": type(self.schedule).__name__, "config": self.schedule.get_config()},
            "state": {str(i): {k: v for k, v in s.items() if not k.startswith("_")}
                      for i, s in enumerate(self.state) if s},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict`, checking it belongs to this optimiser.

        Raises:
            ValueError: another optimiser class, or per-parameter state that does not
                fit these parameters (count or shape).
        """
        owner = type(self).__name__
        if state.get("class") != owner:
            raise ValueError(f"{owner}.load_state_dict: the state is from "
                             f"{state.get('class')!r}, not {owner}")
        per_param = state.get("state", {})
        problems = []
        for key, entries in per_param.items():
            index = int(key)
            if index >= len(self.params):
                problems.append(f"state for parameter {index}, but there are only "
                                f"{len(self.params)}")
                continue
            for name, value in entries.items():
                if tuple(np.shape(value)) != self.params[index].shape:
                    problems.append(f"parameter {index} {name}: shape "
                                    f"{fmt_shape(np.shape(value))} vs parameter "
                                    f"{fmt_shape(self.params[index].shape)}")
        if problems:
            raise ValueError(f"{owner}.load_state_dict: " + "; ".join(problems))
        for name, value in state.get("hyperparameters", {}).items():
            setattr(self, name, value)
        schedule = state.get("schedule")
        if schedule is not None:
            self.lr = schedule_from_config(schedule["class"], schedule["config"])
        else:
            self.lr = float(state["base_lr"])
        self.iterations = int(state["iterations"])
        self.epoch = int(state["epoch"])
        self.state = [{} for _ in self.params]
        for key, entries in per_param.items():
            p = self.params[int(key)]
            device = "gpu" if array_module(p.data) is not np else "cpu"
            self.state[int(key)] = {
                name: to_device(np.array(value, dtype=p.data.dtype), device)
                if not isinstance(value, (int, float)) else value
                for name, value in entries.items()}

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        lr = repr(self.schedule) if self.schedule is not None else self.base_lr
        return f"{type(self).__name__}(lr={lr}, {settings})"
