"""The optimiser base class: the parameter loop, state, validation, schedules.

A subclass writes only its update rule, :meth:`Optimizer.update`, which changes one
parameter array in place given its gradient, its state and the learning rate. State
is kept per parameter *position* (not ``id()``), so a saved optimiser reloads onto
a rebuilt model. Each parameter counts its own steps, as in ``torch.optim``: a
parameter without a gradient in a step (frozen, or outside the loss) is skipped and
its step count t, the t of bias correction, stays where it was. Updates write into
buffers kept in the state, so a step allocates no new arrays.

Parameters can come in groups with their own learning rate and weight decay
(``[{"params": backbone, "lr": 1e-4}, {"params": head}]``, as in ``torch.optim``),
for fine-tuning a pre-trained network more gently than its new head (M14). The
groups are a view on the one flat parameter list, so state, saving and step counts
work exactly as without them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .._validation import fmt_shape, real
from ..autograd import Tensor
from ..backend import array_module, to_device
from ..ops import _parallel
from .schedules import Schedule, schedule_from_config


class Optimizer:
    """Base class of the update rules.

    Args:
        params: the tensors to optimise, usually ``model.parameters()``; or parameter
            groups, a list of dicts ``{"params": tensors, "lr": ..., "weight_decay":
            ...}`` where ``lr`` and ``weight_decay`` are optional and default to the
            arguments below. A group's ``lr`` is its learning rate at the start; a
            schedule scales every group by the same factor (group lr * schedule(t) /
            schedule(0)).
        lr: the learning rate alpha: a positive number or a :class:`Schedule`.
        weight_decay: adds ``weight_decay * w`` to every gradient (L2 applied by the
            optimiser instead of the cost; ``weight_decay = lambd / m`` matches the
            seed's L2 term). Default 0.

    Attributes:
        iterations: calls of :meth:`step` so far (what schedules with
            ``unit="step"`` count).
        epoch: epochs completed (the training loop sets it; schedules with
            ``unit="epoch"`` are asked ``schedule.after(epoch)``).
        state: one dict per parameter: ``"step"``, the number of updates this
            parameter has had (the t of bias correction), and the rule's buffers.
        param_groups: one dict per group: ``"params"`` (the tensors), ``"lr"`` and
            ``"weight_decay"`` (None: the optimiser's own). Plain parameters make one
            group.
        buffers: the per-parameter arrays the rule keeps (a class attribute).
        elementwise: True when :meth:`update` treats every number on its own (no
            norms, no shapes), so it can run on the flat array of all parameters, or
            any slice of it (a class attribute; False by default).

    Example:
        >>> import steepest as st
        >>> a, b = st.tensor([1.0], requires_grad=True), st.tensor([1.0], requires_grad=True)
        >>> adam = st.optim.Adam([a, b])
        >>> a.grad = a.data.copy()  # b gets no gradient in this step
        >>> adam.step()
        >>> adam.iterations, adam.state[0]["step"], adam.state[1]
        (1, 1, {})

        Parameter groups, a smaller learning rate for the pre-trained part:

        >>> w, head = st.tensor([1.0], requires_grad=True), st.tensor([1.0], requires_grad=True)
        >>> gd = st.optim.GradientDescent([{"params": [w], "lr": 0.01}, {"params": [head]}],
        ...                               lr=0.1)
        >>> w.grad, head.grad = w.data.copy(), head.data.copy()
        >>> gd.step(); float(w.data[0]), float(head.data[0])
        (0.99, 0.9)
    """

    buffers: tuple[str, ...] = ()
    elementwise: bool = False

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule,
                 weight_decay: float = 0.0) -> None:
        owner = type(self).__name__
        groups = _parameter_groups(owner, params)
        self.params = [p for group in groups for p in group["params"]]
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
        self.param_groups = groups
        self._group_index = [i for i, group in enumerate(groups) for _ in group["params"]]
        self.iterations = 0
        self.epoch = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self._flat: _FlatStore | None = None

    # ---------------------------------------------------------------- learning rate
    @property
    def lr(self) -> float:
        """The learning rate of the next step (from the schedule, if there is one)."""
        if self.schedule is None:
            return self.base_lr
        completed = self.epoch if self.schedule.unit == "epoch" else self.iterations
        return self.schedule.after(completed)

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
        """Update every parameter that has a gradient and requires one.

        A skipped parameter keeps its state, step count included. An updated one
        has its version bumped (``p.bump_version()``), so autograd can tell that a
        graph recorded before the step saw other values.

        Element-wise rules (all of steepest's) keep the trainable parameters, and
        their moment buffers, in one flat array each from the first step on: each
        parameter's ``data`` becomes a view into it, and a step that updates all of
        them runs the rule a few times over the whole array, in cache-sized pieces,
        instead of once per parameter. The numbers are the same as parameter by
        parameter. An array taken from ``p.data`` before the first step is not that
        view: read ``p.data`` again after it.
        """
        lr = self.lr
        self.iterations += 1
        scale = lr / self.base_lr
        settings = [(lr if g["lr"] is None else g["lr"] * scale,
                     self.weight_decay if g["weight_decay"] is None else g["weight_decay"])
                    for g in self.param_groups]
        flat = self._flat_store()
        done = flat.members if flat is not None and flat.step(self, settings) else set()
        for i, (p, state, group) in enumerate(zip(self.params, self.state, self._group_index)):
            if i in done:
                continue
            grad = p.grad
            if grad is None or not p.requires_grad:
                continue
            group_lr, weight_decay = settings[group]
            data = p.data
            xp = array_module(data)
            low_precision = data.dtype.kind == "f" and data.dtype.itemsize < 4
            if low_precision:
                # float16 cannot hold Adam's eps (1e-8 rounds to 0) nor small moments:
                # the rule runs on a float32 copy of the weights (a "master" copy,
                # refreshed if the weights were changed from outside) and is rounded back.
                master = state.get("_master")
                if master is None or state.get("_master_version") != p._version:
                    master = state["_master"] = data.astype(np.float32)
                grad = grad.astype(np.float32)
                data = master
            if "step" not in state:  # first update: float32 buffers for half weights
                state["step"] = 0
            for name in self.buffers:  # zeros on the first update; scratch when flat
                if name not in state:
                    state[name] = xp.zeros_like(data)
            state["step"] += 1
            if weight_decay:
                decayed = state.get("_decayed")
                if decayed is None:
                    decayed = state["_decayed"] = xp.empty_like(data)
                xp.multiply(data, weight_decay, out=decayed)
                decayed += grad
                grad = decayed
            self.update(data, grad, state, group_lr)
            if low_precision:
                p.data[...] = data
            bump_version = getattr(p, "bump_version", None)
            if bump_version is not None:
                bump_version()
            if low_precision:
                state["_master_version"] = p._version

    def _flat_store(self) -> _FlatStore | None:
        """The flat arrays of the trainable parameters, (re)built when stale; None if
        this rule is not element-wise or no parameter can join."""
        if not self.elementwise:
            return None
        store = self._flat
        if store is not None and store.is_current(self):
            return store
        self._flat = _FlatStore.build(self)
        if store is not None:
            store.release(self, keep=self._flat.members if self._flat is not None else set())
        return self._flat

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A rule written as a subclass that overrides update() may look at whole
        # tensors (norms, shapes): it is element-wise only if it says so itself.
        super().__init_subclass__(**kwargs)
        if "update" in cls.__dict__ and "elementwise" not in cls.__dict__:
            cls.elementwise = False

    def __getstate__(self) -> dict[str, Any]:
        # A copy (pickle, copy.deepcopy) copies the parameters and state as separate
        # arrays, no longer views of the store's: it builds its own at its next step.
        state = self.__dict__.copy()
        state["_flat"] = None
        return state

    def update(self, param: Any, grad: Any, state: dict[str, Any], lr: float) -> None:
        """Change ``param`` in place (the subclass's rule).

        ``state`` holds this parameter's ``"step"`` (already counting this update, so
        1 on the first) and its buffers named in :attr:`buffers`, allocated with zeros
        before the first update; names starting with ``_`` are scratch space that is
        not saved. ``grad`` already includes weight decay; do not change it in place.
        """
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, Any]:
        """The rule's settings, for saving and repr (override to add yours)."""
        return {"weight_decay": self.weight_decay}

    # ---------------------------------------------------------------- saving
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: counters, learning rate, per-parameter state.

        ``"state"`` maps a parameter's position to its saved arrays (moment
        estimates; scratch buffers are left out) and ``"steps"`` maps it to its step
        count; both hold only parameters updated at least once. Arrays are returned
        as they are (not copied).
        """
        return {
            "class": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "iterations": self.iterations,
            "epoch": self.epoch,
            "base_lr": self.base_lr,
            "schedule": None if self.schedule is None else {
                "class": type(self.schedule).__name__, "config": self.schedule.get_config()},
            "steps": {str(i): int(s["step"]) for i, s in enumerate(self.state) if s},
            "param_groups": [{"size": len(g["params"]), "lr": g["lr"],
                              "weight_decay": g["weight_decay"]} for g in self.param_groups],
            "state": {str(i): {k: v for k, v in s.items()
                               if k != "step" and not k.startswith("_")}
                      for i, s in enumerate(self.state) if s},
        }

    def _checked_settings(self, state: Mapping[str, Any], iterations: int
                          ) -> tuple[dict[str, Any], float | Schedule, int]:
        """The saved settings, validated exactly as the constructor validates arguments.

        A state dict read from a file may have been edited: every setting goes through
        this class's ``__init__`` (on these parameters) before any is applied.
        """
        owner = type(self).__name__
        hyperparameters = dict(state.get("hyperparameters", {}))
        unknown = sorted(set(hyperparameters) - set(self.hyperparameters()))
        if unknown:
            raise ValueError(f"{owner}.load_state_dict: unknown settings {unknown}; {owner} "
                             f"takes {sorted(self.hyperparameters())}")
        epoch = state.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0 \
                or iterations < 0:
            raise ValueError(f"{owner}.load_state_dict: `epoch` and `iterations` must be "
                             f"non-negative ints; got {epoch!r} and {iterations!r}")
        try:
            schedule = state.get("schedule")
            lr: float | Schedule = (schedule_from_config(schedule["class"], schedule["config"])
                                    if schedule is not None else float(state["base_lr"]))
            type(self)(self.params, lr=lr, **hyperparameters)
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"{owner}.load_state_dict: the saved settings are not valid "
                             f"{owner} arguments ({error})") from None
        return hyperparameters, lr, int(epoch)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict`, checking it belongs to this optimiser.

        A state dict saved before step counts were kept per parameter (no
        ``"steps"``) is read with every saved parameter at step ``iterations``: the
        single global count its bias corrections used, so it continues as it would
        have.

        Raises:
            ValueError: another optimiser class, or per-parameter state that does not
                fit these parameters (count, shape, step counts).
        """
        owner = type(self).__name__
        if state.get("class") != owner:
            raise ValueError(f"{owner}.load_state_dict: the state is from "
                             f"{state.get('class')!r}, not {owner}")
        per_param = state.get("state", {})
        iterations = int(state["iterations"])
        steps = state.get("steps")
        if steps is None:
            steps = {key: iterations for key in per_param}
        problems = []
        for key in {*per_param, *steps}:
            index = int(key)
            if not 0 <= index < len(self.params):
                problems.append(f"state for parameter {index}, but there are only "
                                f"{len(self.params)}")
                continue
            step = steps.get(key)
            if (isinstance(step, bool) or not isinstance(step, (int, np.integer))
                    or not 0 < step <= iterations):
                problems.append(f"parameter {index}: step count must be an int in "
                                f"[1, {iterations}] (the iterations); got {step!r}")
            for name, value in per_param.get(key, {}).items():
                if tuple(np.shape(value)) != self.params[index].shape:
                    problems.append(f"parameter {index} {name}: shape "
                                    f"{fmt_shape(np.shape(value))} vs parameter "
                                    f"{fmt_shape(self.params[index].shape)}")
        saved_groups = state.get("param_groups")
        if saved_groups is not None:
            sizes = [g.get("size") for g in saved_groups]
            if sizes != [len(g["params"]) for g in self.param_groups]:
                problems.append(f"parameter groups of sizes {sizes} vs this optimiser's "
                                f"{[len(g['params']) for g in self.param_groups]}")
            else:
                for i, group in enumerate(saved_groups):
                    for key in ("lr", "weight_decay"):
                        value = group.get(key)
                        if value is not None:
                            try:
                                real(owner, f"param_groups[{i}][{key!r}]", value, low=0.0,
                                     low_inclusive=key == "weight_decay")
                            except (TypeError, ValueError) as error:
                                problems.append(str(error))
        if problems:
            raise ValueError(f"{owner}.load_state_dict: " + "; ".join(sorted(problems)))
        hyperparameters, lr, epoch = self._checked_settings(state, iterations)
        if saved_groups is not None:
            for group, saved in zip(self.param_groups, saved_groups):
                group["lr"], group["weight_decay"] = saved.get("lr"), saved.get("weight_decay")
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.lr = lr
        self.iterations = iterations
        self.epoch = epoch
        self.state = [{} for _ in self.params]
        for key, step in steps.items():
            p = self.params[int(key)]
            device = "gpu" if array_module(p.data) is not np else "cpu"
            self.state[int(key)] = {
                "step": int(step),
                **{name: to_device(np.array(value, dtype=_state_dtype(p.data.dtype)), device)
                   for name, value in per_param.get(key, {}).items()}}
            for name in self.buffers:
                if name not in self.state[int(key)]:
                    self.state[int(key)][name] = array_module(p.data).zeros(
                        p.data.shape, dtype=_state_dtype(p.data.dtype))

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        if len(self.param_groups) > 1:
            settings += f", groups={len(self.param_groups)}"
        lr = repr(self.schedule) if self.schedule is not None else self.base_lr
        return f"{type(self).__name__}(lr={lr}, {settings})"


def _parameter_groups(owner: str, params: Any) -> list[dict[str, Any]]:
    """Tensors, or dicts {"params": tensors, "lr": ..., "weight_decay": ...}, as groups."""
    items = list(params)
    if not any(isinstance(item, Mapping) for item in items):
        return [{"params": items, "lr": None, "weight_decay": None}]
    groups = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TypeError(f"{owner}: mix of parameter groups (dicts) and tensors; item {i} is "
                            f"a {type(item).__name__}: give every item as a dict "
                            '{"params": ...}')
        unknown = sorted(set(item) - {"params", "lr", "weight_decay"})
        if unknown or "params" not in item:
            raise ValueError(f"{owner}: parameter group {i} must have \"params\" and may have "
                             f"\"lr\" and \"weight_decay\"; got keys {sorted(item)}")
        members = item["params"]
        members = [members] if isinstance(members, Tensor) else list(members)
        lr = item.get("lr")
        decay = item.get("weight_decay")
        groups.append({
            "params": members,
            "lr": None if lr is None else real(owner, f"param_groups[{i}]['lr']", lr, low=0.0,
                                               low_inclusive=False),
            "weight_decay": None if decay is None else real(
                owner, f"param_groups[{i}]['weight_decay']", decay, low=0.0)})
    return groups


def _state_dtype(dtype: Any) -> Any:
    """The dtype of an optimiser's buffers: float32 for half-precision parameters."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype.kind == "f" and dtype.itemsize < 4 else dtype


# Elements per piece of a flat update on the CPU: the rule's passes over a piece (five
# arrays of 128k numbers for Adam) stay in cache, where twelve passes over the whole
# array would go to memory twelve times (ResNet-18's Adam step: 29-30 ms instead of
# 38-41 ms parameter by parameter, benchmarks/bench_versions.py adam). A GPU takes the
# whole array at once.
_FLAT_PIECE = 1 << 17


class _FlatStore:
    """The trainable parameters' data and the rule's buffers, each one flat array.

    ``members`` are the positions of the parameters that joined (trainable at the
    first step, floating point of at least 32 bits, of the same dtype and device as
    the first such parameter); each one's ``data``, and each of its saved buffers in
    ``optimizer.state``, is a view into the flat arrays. Scratch buffers (names with a
    leading ``_``) are per-piece arrays instead. Gradients are gathered piece by piece
    from each ``p.grad`` while the piece is updated. The store is rebuilt, copying the
    current values in, whenever a view was replaced (``p.data = ...``,
    ``load_state_dict``).
    """

    def __init__(self, optimizer: Optimizer, members: list[int]) -> None:
        params = [optimizer.params[i] for i in members]
        first = params[0].data
        xp = array_module(first)
        self.members = set(members)
        self.order = members
        sizes = [p.data.size for p in params]
        self.offsets = [0, *np.cumsum(sizes).tolist()]
        total = self.offsets[-1]
        self.data = xp.empty(total, dtype=first.dtype)
        self.names = tuple(optimizer.buffers)
        self.saved = [name for name in optimizer.buffers if not name.startswith("_")]
        self.scratch = [name for name in optimizer.buffers if name.startswith("_")]
        self.buffers = {name: xp.zeros(total, dtype=first.dtype) for name in self.saved}
        self.pieces: list[dict[str, Any]] = []  # per part of a threaded update
        self.views: list[tuple[Any, dict[str, Any]]] = []
        for i, p, start, stop in zip(members, params, self.offsets, self.offsets[1:]):
            view = self.data[start:stop].reshape(p.data.shape)
            view[...] = p.data
            p._data = view  # the same values: no version bump
            state = optimizer.state[i]
            buffers = {}
            for name in self.saved:
                buffers[name] = self.buffers[name][start:stop].reshape(view.shape)
                if name in state:
                    buffers[name][...] = state[name]
                if name in state or "step" in state:  # (a buffer new to the rule: zeros)
                    state[name] = buffers[name]
            self.views.append((view, buffers))
            for name in (*self.scratch, "_decayed"):  # the per-parameter path's scratch
                state.pop(name, None)
        self.states = optimizer.state
        # Each group's members are consecutive: (group, first and last flat element).
        self.spans: list[tuple[int, int, int]] = []
        for k, i in enumerate(members):
            group = optimizer._group_index[i]
            if self.spans and self.spans[-1][0] == group:
                self.spans[-1] = (group, self.spans[-1][1], self.offsets[k + 1])
            else:
                self.spans.append((group, self.offsets[k], self.offsets[k + 1]))

    @classmethod
    def build(cls, optimizer: Optimizer) -> _FlatStore | None:
        members: list[int] = []
        kind = None
        for i, p in enumerate(optimizer.params):
            data = p.data
            if not p.requires_grad or data.dtype.kind != "f" or data.dtype.itemsize < 4:
                continue
            this = (data.dtype, array_module(data))
            if kind is None:
                kind = this
            if this == kind:
                members.append(i)
        return cls(optimizer, members) if members else None

    def is_current(self, optimizer: Optimizer) -> bool:
        """False when a member's data or saved buffer was replaced, a member was frozen,
        the state list was replaced, or the rule's buffers changed (SGD's momentum)."""
        if optimizer.state is not self.states or tuple(optimizer.buffers) != self.names:
            return False
        for i, (view, buffers) in zip(self.order, self.views):
            p = optimizer.params[i]
            if p._data is not view or not p.requires_grad:
                return False
            state = self.states[i]
            for name, buffer in buffers.items():
                if name in state and state[name] is not buffer:
                    return False
        return True

    def release(self, optimizer: Optimizer, keep: set[int]) -> None:
        """Give each former member that did not join the new store arrays of its own,
        so the old flat arrays can be freed."""
        for i, (view, buffers) in zip(self.order, self.views):
            if i in keep:
                continue
            p = optimizer.params[i]
            if p._data is view:
                p._data = view.copy()
            state = optimizer.state[i]
            for name, buffer in buffers.items():
                if name in state and state[name] is buffer:
                    state[name] = buffer.copy()

    def step(self, optimizer: Optimizer, settings: list[tuple[float, float]]) -> bool:
        """One update of every member, if every member has a gradient and all have the
        same step count; False (nothing done) otherwise."""
        params, states = optimizer.params, self.states
        steps = set()
        for i in self.order:
            p = params[i]
            # (A gradient of another shape takes the per-parameter path, which says so.)
            if p.grad is None or not p.requires_grad or p.grad.shape != p._data.shape:
                return False
            steps.add(states[i].get("step", 0))
        if len(steps) != 1:
            return False
        t = steps.pop() + 1
        for i, (_, buffers) in zip(self.order, self.views):
            if t == 1:  # a first update: zero moments, as parameter by parameter
                for buffer in buffers.values():
                    buffer[...] = 0
                states[i].update(buffers)
            states[i]["step"] = t
        # Each gradient flattened once (a view when contiguous, as autograd's are).
        sources = [params[i].grad.reshape(-1) for i in self.order]
        for group, start, stop in self.spans:
            lr, weight_decay = settings[group]
            if stop > start:
                self._update(optimizer, sources, start, stop, t, lr, weight_decay)
        for i in self.order:
            params[i].bump_version()
        return True

    def _update(self, optimizer: Optimizer, sources: list[Any], start: int, stop: int, t: int,
                lr: float, weight_decay: float) -> None:
        data = self.data
        xp = array_module(data)
        size = min(_FLAT_PIECE if xp is np else stop - start, stop - start)
        # Scratch for one piece (the gathered gradient, the rule's "_" buffers, weight
        # decay) per part, kept between steps: fresh arrays would page-fault on every step.
        names = ("_grad", *self.scratch, *(("_decayed",) if weight_decay else ()))
        count = _parallel.parts(stop - start, switch_on=False) if xp is np else 1
        stretches = [(start + a, start + b) for a, b in _parallel.spans(stop - start, count, size)]
        while len(self.pieces) < len(stretches):
            self.pieces.append({})
        for pieces in self.pieces[:len(stretches)]:
            for name in names:
                if name not in pieces or pieces[name].size < size:
                    pieces[name] = xp.empty(size, dtype=data.dtype)

        def stretch(part: int, first: int, last: int) -> None:
            scratch = {name: self.pieces[part][name][:size] for name in names}
            self._update_stretch(optimizer, sources, first, last, size, scratch, t, lr,
                                 weight_decay)
        _parallel.run(stretch, [(i, *span) for i, span in enumerate(stretches)])

    def _update_stretch(self, optimizer: Optimizer, sources: list[Any], start: int, stop: int,
                        size: int, scratch: dict[str, Any], t: int, lr: float,
                        weight_decay: float) -> None:
        """Update elements [start, stop), ``size`` at a time, through ``scratch``."""
        data = self.data
        xp = array_module(data)
        grad = scratch.pop("_grad")
        decayed = scratch.pop("_decayed", None)
        offsets = self.offsets
        k = bisect.bisect_right(offsets, start) - 1  # the member holding element `start`
        for a in range(start, stop, size):
            b = min(a + size, stop)
            n = b - a
            g = grad[:n]
            position = a
            while position < b:  # gather the gradients of the members in [a, b)
                while offsets[k + 1] <= position:
                    k += 1
                end = min(offsets[k + 1], b)
                g[position - a:end - a] = sources[k][position - offsets[k]:end - offsets[k]]
                position = end
            values = data[a:b]
            if decayed is not None:
                d = decayed[:n]
                xp.multiply(values, weight_decay, out=d)
                d += g
                g = d
            state = {"step": t, **{name: buffer[a:b] for name, buffer in self.buffers.items()},
                     **{name: buffer[:n] for name, buffer in scratch.items()}}
            optimizer.update(values, g, state, lr)
