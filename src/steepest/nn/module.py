"""``Module`` and ``Parameter``: the containers every layer and model is built from (S1).

A Module registers what it is given automatically: a :class:`Parameter` assigned to
an attribute becomes a learnable parameter, a Module becomes a sub-module, and
:meth:`Module.register_buffer` adds non-learnable state (batch norm's running mean).
Parameters get dotted names (``layers.0.weight``) in :meth:`Module.state_dict`,
which line up with PyTorch's for the same architecture.

Every Module also remembers the arguments it was constructed with
(:meth:`Module.get_config`), so ``steepest.save`` can write the architecture as
JSON and ``steepest.load`` can rebuild it without executing anything from the file.

Example:
    >>> import steepest as st
    >>> class TwoLayer(st.nn.Module):
    ...     def __init__(self, n_x, n_h):
    ...         super().__init__()
    ...         self.hidden = st.nn.Linear(n_x, n_h)
    ...         self.out = st.nn.Linear(n_h, 1)
    ...     def forward(self, x):
    ...         return self.out(st.functional.tanh(self.hidden(x)))
    >>> net = TwoLayer(2, 4)
    >>> [name for name, _ in net.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    >>> net.get_config()
    {'n_x': 2, 'n_h': 4}
"""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .._validation import ShapeError, fmt_shape
from ..autograd import Tensor, _check_floating
from ..backend import Device, array_module, check_device, get_default_dtype, to_device

_REGISTRY: dict[str, type[Module]] = {}


def registered_class(name: str) -> type[Module] | None:
    """The Module class saved under ``name`` (``module.QualName``), if imported."""
    return _REGISTRY.get(name)


def class_name(cls: type) -> str:
    """The name a Module class is saved under."""
    return f"{cls.__module__}.{cls.__qualname__}"


class Parameter(Tensor):
    """A Tensor that a Module learns: ``requires_grad=True`` unless frozen.

    Whether the L1/L2 penalties (:mod:`steepest.nn.regularization`) apply to it is
    declared here, where the parameter is created, never guessed from its name:
    weights are penalised (the default), while layers create their biases and
    batch norm's ``gamma``/``beta`` with ``regularize=False`` (the seed penalises W,
    not b, I4). The flag belongs to the architecture: the constructor sets it, so a
    model rebuilt from its config has it again; ``state_dict`` holds only arrays,
    and ``load_state_dict``, ``Module.to`` and freezing keep it.

    Args:
        data: the initial values (an array, a list or a Tensor).
        requires_grad: train it (False freezes it; frozen parameters are never
            penalised).
        regularize: let L1/L2 penalise it (while it is trained).

    Attributes:
        regularize: the flag above; assign it to change your mind.

    Example:
        >>> import numpy as np
        >>> w = Parameter(np.zeros((2, 3), dtype=np.float32))
        >>> w.requires_grad, w.regularize
        (True, True)
        >>> Parameter(np.zeros(2, dtype=np.float32), regularize=False).regularize
        False
    """

    __slots__ = ("regularize",)

    def __init__(self, data: Any, requires_grad: bool = True, regularize: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)
        self.regularize = bool(regularize)

    def __repr__(self) -> str:
        flag = "" if self.regularize else " (regularize=False)"
        return f"Parameter containing{flag}:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` did not load (PyTorch's named tuple).

    Attributes:
        missing_keys: the module's keys that the state did not have.
        unexpected_keys: the state's keys that the module does not have.
    """

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models.

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and
    sub-modules as attributes, and implement ``forward``. Calling the module calls
    ``forward``. ``train()`` and ``eval()`` set the mode that dropout and batch norm
    read (the training loop sets it for you).
    """

    training: bool
    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Any]
    _non_persistent: set[str]
    _modules: OrderedDict[str, Module | None]
    _config_exclude: tuple[str, ...] = ("rng",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[class_name(cls)] = cls
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording_init(self: Module, *args: Any, **kw: Any) -> None:
            # Record the arguments of the outermost constructor only (the one the
            # user's call reached first: the class's own, or the inherited one when the
            # class has none, as MaxPool2d), not those its __init__ passes to super().
            if "_init_arguments" not in self.__dict__:
                object.__setattr__(self, "_init_arguments", (args, kw))
            init(self, *args, **kw)

        cls.__init__ = recording_init  # type: ignore[method-assign]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def _registries(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        try:
            return self._parameters, self._buffers, self._modules
        except AttributeError:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() at the start of __init__ "
                "before assigning parameters or layers"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        params, buffers, modules = self._registries()
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to parameter {name!r} (use a Parameter or None)")
            params[name] = None
        elif name in buffers:
            buffers[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to sub-module {name!r} (use a Module or None)")
            modules[name] = None
        # Also a plain attribute, so reading self.weight costs no __getattr__.
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in self._registries():
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or ``None``, for an optional one such as a missing bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter: expected a Parameter "
                            f"or None for {name!r}; got {type(param).__name__}")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, array: Any, persistent: bool = True) -> None:
        """Add non-learnable state saved with the model (unless ``persistent=False``).

        Example:
            >>> import numpy as np
            >>> m = Module(); m.register_buffer("running_mean", np.zeros(3))
            >>> list(m.state_dict())
            ['running_mean']
        """
        self._buffers[name] = array
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, array)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be a Module; got "
                            f"{type(module).__name__}")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, with dotted names ('' for this one)."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m)
                        for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and all below it."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their names."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; a shared parameter is listed once."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter (for an optimiser)."""
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        """Every buffer with its dotted name."""
        for module_name, module in self.named_modules():
            for name, array in module._buffers.items():
                if array is not None:
                    yield (f"{module_name}.{name}" if module_name else name), array

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of learnable numbers (C5, C8).

        Example:
            >>> import steepest as st
            >>> st.nn.Linear(784, 10).num_parameters()
            7850
        """
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off, batch norm uses running statistics)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze all parameters, e.g. for transfer learning (M14)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad``."""
        for param in self.parameters():
            param.grad = None

    # ------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name (the arrays themselves, not copies).

        Example:
            >>> import steepest as st
            >>> {k: v.shape for k, v in st.nn.Linear(3, 2).state_dict().items()}
            {'weight': (2, 3), 'bias': (2,)}
        """
        state: OrderedDict[str, Any] = OrderedDict()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[prefix + name] = param.data
            for name, array in module._buffers.items():
                if array is not None and name not in module._non_persistent:
                    state[prefix + name] = array
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state`` into this module's parameters and buffers.

        Values are copied and cast to each parameter's dtype and device. Every
        missing key, unexpected key and shape mismatch is reported in one error,
        and nothing is changed when there is one. Only arrays are loaded: which
        parameters are trained or penalised (``requires_grad``, ``regularize``) is
        the module's own, set by its constructor.

        Args:
            state: name -> array, as from :meth:`state_dict`.
            strict: require exactly the same keys. With ``strict=False`` the keys
                present in both are loaded and the others are returned. A shape
                mismatch is an error either way (as in PyTorch).

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)``, a named tuple (both
            lists are empty after a strict load).

        Raises:
            ShapeError: an array's shape differs from the parameter's or buffer's
                (the message also lists any missing and unexpected keys).
            ValueError: with ``strict``, keys are missing or unexpected.

        Example:
            >>> import numpy as np
            >>> import steepest as st
            >>> net = st.nn.Linear(2, 1)
            >>> net.load_state_dict({"weight": np.ones((1, 2))}, strict=False)
            IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
            >>> net.load_state_dict({"weight": np.ones((1, 3)), "scale": np.ones(1)})
            Traceback (most recent call last):
            ...
            steepest._validation.ShapeError: Linear.load_state_dict: missing keys: bias. \
unexpected keys: scale. shape mismatches: weight: expected (1, 2), got (1, 3)...
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        mismatched = [
            f"{k}: expected {fmt_shape(own[k].shape)}, got {fmt_shape(np.shape(state[k]))}"
            for k in own if k in state and tuple(np.shape(state[k])) != tuple(own[k].shape)
        ]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if problems:
            fix = ("the state is from a different architecture; build the model it was saved "
                   "from" if mismatched else
                   "pass strict=False to load only the keys both have")
            error = ShapeError if mismatched else ValueError
            raise error(f"{type(self).__name__}.load_state_dict: " + ". ".join(problems)
                        + f" ({fix})")
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                key = prefix + name
                if param is not None and key in state:
                    xp = array_module(param.data)
                    param.data = xp.array(_host_or_device(state[key], param.data),
                                          dtype=param.data.dtype)
            for name, array in module._buffers.items():
                key = prefix + name
                if array is not None and key in state:
                    xp = array_module(array)
                    setattr(module, name, xp.array(_host_or_device(state[key], array),
                                                   dtype=array.dtype))
        return IncompatibleKeys(missing, unexpected)

    def to(self, device: Device | None = None, dtype: Any = None) -> Module:
        """Move parameters and buffers to ``device`` and/or cast floating ones to ``dtype``.

        Example:
            >>> import steepest as st
            >>> st.nn.Linear(2, 2).to(dtype="float64").weight.dtype
            dtype('float64')
        """
        if device is not None:
            check_device(device)
        target = np.dtype(dtype) if dtype is not None else None
        if target is not None:
            _check_floating(np.zeros(0, dtype=target), f"{type(self).__name__}.to")

        def convert(array: Any) -> Any:
            if device is not None:
                array = to_device(array, device)
            if target is not None and array.dtype.kind == "f":
                array = array.astype(target)
            return array

        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    param.data = convert(param.data)
                    param.grad = None
            for name, array in list(module._buffers.items()):
                if array is not None:
                    setattr(module, name, convert(array))
        return self

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the first parameter (the default dtype if there is none)."""
        for param in self.parameters():
            return param.dtype
        return get_default_dtype()

    @property
    def device(self) -> str:
        """Where the parameters live ("cpu" or "gpu")."""
        for param in self.parameters():
            return param.device
        return "cpu"

    # ------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments this module was built with, by name.

        ``rng`` is left out (it only affects the initial weights, which are saved).
        """
        args, kwargs = self.__dict__.get("_init_arguments", ((), {}))
        signature = inspect.signature(type(self).__init__)
        bound = signature.bind(self, *args, **kwargs)
        config: dict[str, Any] = {}
        for name, value in list(bound.arguments.items())[1:]:
            kind = signature.parameters[name].kind
            if name in self._config_exclude:
                continue
            if kind is inspect.Parameter.VAR_KEYWORD:
                config.update(value)
            else:
                config[name] = list(value) if kind is inspect.Parameter.VAR_POSITIONAL else value
        return config

    # ------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The configuration shown inside ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        children = [f"({name}): " + repr(module).replace("\n", "\n  ")
                    for name, module in self.named_children()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + children)
        return f"{type(self).__name__}(\n  {body}\n)"


def _host_or_device(value: Any, like: Any) -> Any:
    """``value`` as an array on the device of ``like``."""
    if isinstance(value, Tensor):
        value = value.data
    return to_device(value, "gpu" if array_module(like) is not np else "cpu")
