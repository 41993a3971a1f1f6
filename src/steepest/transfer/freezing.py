"""Freezing layers and replacing the softmax layer (concepts K8, M14)."""

from __future__ import annotations

from typing import Any

from ..backend import resolve_rng
from ..nn.linear import Linear
from ..nn.module import Module


def _layers(model: Module) -> list[tuple[str, Module]]:
    """The modules that hold parameters of their own, in the order they were registered."""
    return [(name, module) for name, module in model.named_modules()
            if any(p is not None for p in module._parameters.values())]


def _check_model(owner: str, model: Any) -> Module:
    if not isinstance(model, Module):
        raise TypeError(f"{owner}: `model` must be a steepest Module; got "
                        f"{type(model).__name__}")
    return model


def freeze(model: Module, until: str | int | None = None) -> Module:
    """Stop training the first layers of a pre-trained network (their weights stay fixed).

    A frozen parameter has ``requires_grad = False``: backpropagation does not
    compute its gradient and optimisers skip it (the seed's
    ``trainableParameter = 0`` / ``freeze = 1``). Layers are the modules holding
    parameters (Conv2d, Linear, BatchNorm...), in the order the model registers
    them, which is the order of the forward pass for the zoo's networks. Batch
    norm in a frozen layer still updates its running averages in training mode;
    call ``.eval()`` on that part to keep them too.

    Args:
        model: the network.
        until: which layers to freeze: None, all of them; a layer or block name
            (``"features"``, ``"stages.3"``), every layer up to and including it;
            an int k >= 0, the first k layers; a negative int -k, all but the last k
            (``-1``: train only the softmax layer).

    Returns:
        The model (frozen in place).

    Raises:
        TypeError: ``model`` is not a Module or ``until`` not a str, int or None.
        ValueError: ``until`` names no module of the model.

    Example:
        >>> import steepest as st
        >>> net = st.models.LeNet5()
        >>> freeze(net, until="features").num_parameters(trainable_only=True)
        59134
        >>> unfreeze(net).num_parameters(trainable_only=True)
        61706
    """
    _check_model("freeze", model)
    layers = _layers(model)
    if until is None:
        chosen = layers
    elif isinstance(until, bool) or not isinstance(until, (str, int)):
        raise TypeError(f"freeze: `until` must be a layer name, an int or None; got "
                        f"{type(until).__name__}")
    elif isinstance(until, int):
        chosen = layers[:until] if until >= 0 else layers[:max(len(layers) + until, 0)]
    else:
        names = [name for name, _ in model.named_modules()]
        if until not in names:
            raise ValueError(f"freeze: `until` is {until!r}, which is not a module of "
                             f"{type(model).__name__}; its top-level modules are "
                             f"{[n for n, _ in model.named_children()]}")
        inside = [i for i, (name, _) in enumerate(layers)
                  if name == until or name.startswith(until + ".")]
        if inside:
            chosen = layers[:inside[-1] + 1]
        else:  # a module without parameters: freeze what comes before it
            order = names.index(until)
            chosen = [(n, m) for n, m in layers if names.index(n) < order]
    for _, module in chosen:
        for param in module._parameters.values():
            if param is not None:
                param.requires_grad_(False)
    return model


def unfreeze(model: Module) -> Module:
    """Train every parameter again (the seed's "a lot of data" regime: fine-tune all).

    Returns:
        The model.
    """
    _check_model("unfreeze", model)
    return model.requires_grad_(True)


def _is_auxiliary_head(module: Module) -> bool:
    return type(module).__name__ == "AuxiliaryHead"


def _last_linear(model: Module, skip_auxiliary: bool) -> tuple[Module, str, Linear] | None:
    found = None
    skipped: list[str] = []
    for name, module in model.named_modules():
        if any(name == s or name.startswith(s + ".") for s in skipped):
            continue
        if skip_auxiliary and name and _is_auxiliary_head(module):
            skipped.append(name)
            continue
        for child_name, child in module.named_children():
            if isinstance(child, Linear):
                found = (module, child_name, child)
    return found


def replace_head(model: Module, num_classes: int, rng: Any = None) -> Module:
    """Replace the network's last fully connected layer with a fresh one of ``num_classes``.

    The seed's first step of transfer learning: the pre-trained softmax layer
    (1000 ImageNet classes, 10 digits...) becomes a new, randomly initialised one
    for your classes (He initialisation, trainable even if the model was frozen).
    A GoogLeNet's side classifiers get new last layers too. The model's
    ``num_classes`` (and so its default task) and its saved configuration follow.

    Args:
        model: the network (its last Linear layer is the head).
        num_classes: outputs of the new layer.
        rng: generator or seed for the new weights.

    Returns:
        The model (changed in place).

    Raises:
        TypeError: ``model`` is not a Module.
        ValueError: the model has no Linear layer, or ``num_classes`` < 1.

    Example:
        >>> import steepest as st
        >>> net = replace_head(st.models.resnet18(stem="cifar", init="zeros"), 5, rng=0)
        >>> net.fc, net.num_classes
        (Linear(in_features=512, out_features=5, bias=True), 5)
    """
    from .._validation import positive_int

    _check_model("replace_head", model)
    num_classes = positive_int("replace_head", "num_classes", num_classes)
    main = _last_linear(model, skip_auxiliary=True)
    if main is None:
        raise ValueError(f"replace_head: {type(model).__name__} has no Linear layer to "
                         "replace")
    generator = resolve_rng(rng)
    heads = [main] + [found for name, module in model.named_modules()
                      if name and _is_auxiliary_head(module)
                      for found in [_last_linear(module, skip_auxiliary=False)] if found]
    for parent, name, old in heads:
        new = Linear(old.in_features, num_classes, rng=generator, dtype=old.weight.dtype)
        new.to(old.device)  # type: ignore[arg-type]
        parent.add_module(name, new)
    if hasattr(model, "num_classes"):
        model.num_classes = num_classes
    sizes = getattr(model, "layer_sizes", None)
    if isinstance(sizes, list):  # MLP
        sizes[-1] = num_classes
    _record_argument(model, "num_classes", num_classes)
    return model


def _record_argument(model: Module, name: str, value: Any) -> None:
    """Make ``get_config`` (what ``save`` writes) report the new head's size."""
    import inspect

    args, kwargs = model.__dict__.get("_init_arguments", ((), {}))
    signature = inspect.signature(type(model).__init__)
    try:
        bound = signature.bind(model, *args, **kwargs)
    except TypeError:
        return
    if name in signature.parameters:
        bound.arguments[name] = value
    elif "layer_sizes" in signature.parameters and "layer_sizes" in bound.arguments:
        bound.arguments["layer_sizes"] = list(getattr(model, "layer_sizes"))  # noqa: B009
    else:
        return
    object.__setattr__(model, "_init_arguments", (bound.args[1:], bound.kwargs))
