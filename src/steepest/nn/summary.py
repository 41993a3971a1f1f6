"""A Keras-style summary: each layer's output shape, parameters and multiplications.

:func:`summary` runs a model once on a batch of zeros and tabulates, layer by
layer, the shape of what comes out, how many learnable numbers the layer holds
(C5: a conv layer's count does not depend on the image size; C8: most of
LeNet-5's sit in its fully connected layers) and how many multiplications one
example costs there (K5, K6: a 1x1 "bottleneck" convolution cuts a 5x5
convolution's 120 million multiplications to 12.4 million).

Example:
    >>> import steepest as st
    >>> from steepest.nn.summary import summary
    >>> net = st.nn.Sequential(st.nn.Conv2d(3, 8, 3, padding=1), st.nn.ReLU(),
    ...                        st.nn.MaxPool2d(2), st.nn.Flatten(), st.nn.Linear(8 * 4 * 4, 10))
    >>> print(summary(net, (3, 8, 8)))
    Sequential: input (1, 3, 8, 8) -> output (1, 10)
    Layer (type)   Output shape  Params  Multiplies
    ===============================================
    0 (Conv2d)     (1, 8, 8, 8)     224      13,824
    1 (ReLU)       (1, 8, 8, 8)       0           0
    2 (MaxPool2d)  (1, 8, 4, 4)       0           0
    3 (Flatten)    (1, 128)           0           0
    4 (Linear)     (1, 10)        1,290       1,280
    ===============================================
    Total params: 1,514 (trainable: 1,514)
    Total multiplies: 15,104 per example
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from .._validation import positive_int
from ..autograd import Tensor, no_grad
from ..backend import to_device
from .conv import Conv2d
from .linear import Linear
from .module import Module, Parameter

OutputShape: TypeAlias = "tuple[int, ...] | tuple[OutputShape, ...] | dict[str, OutputShape] | None"


@dataclass(frozen=True)
class SummaryRow:
    """One call of one layer in a :class:`Summary`.

    Attributes:
        name: the layer's dotted name in the model (``"features.0"``); the model's
            class name when the model is itself a single layer.
        layer_type: the layer's class name (``"Conv2d"``).
        output_shape: the shape of what the call returned, batch dimension first;
            a tuple of shapes or a dict of shapes for a layer that returns several
            tensors; None for a layer the forward pass never called.
        params: learnable numbers the layer holds itself (a layer called twice, or a
            parameter shared by two layers, is counted once).
        multiplies: multiplications for one example (0 for layers other than
            Linear and Conv2d).
    """

    name: str
    layer_type: str
    output_shape: OutputShape
    params: int
    multiplies: int


@dataclass(frozen=True, repr=False)
class Summary:
    """What :func:`summary` returns; ``print`` it (or show it in a notebook) for the table.

    Attributes:
        model_type: the model's class name.
        input_shape: the shape of the zero batch the model was run on.
        output_shape: the shape(s) of the model's output.
        rows: one :class:`SummaryRow` per layer call, in the order of the calls,
            then one per parameter-holding layer that was never called.
        total_params: all learnable numbers, equal to ``model.num_parameters()``.
        trainable_params: those with ``requires_grad``.
        total_multiplies: the rows' multiplications, for one example.
    """

    model_type: str
    input_shape: tuple[int, ...]
    output_shape: OutputShape
    rows: tuple[SummaryRow, ...]
    total_params: int
    trainable_params: int
    total_multiplies: int

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Params", "Multiplies")
        lines = [(f"{row.name} ({row.layer_type})", _format_shape(row.output_shape),
                  f"{row.params:,}", f"{row.multiplies:,}") for row in self.rows]
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
                  for i, h in enumerate(header)]

        def render(cells: Sequence[str]) -> str:
            left = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
            right = [cells[2].rjust(widths[2]), cells[3].rjust(widths[3])]
            return "  ".join(left + right).rstrip()

        rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
        return "\n".join([
            f"{self.model_type}: input {_format_shape(self.input_shape)} -> output "
            f"{_format_shape(self.output_shape)}",
            render(header),
            rule,
            *(render(line) for line in lines),
            rule,
            f"Total params: {self.total_params:,} (trainable: {self.trainable_params:,})",
            f"Total multiplies: {self.total_multiplies:,} per example",
        ])

    def __repr__(self) -> str:
        return str(self)


def _format_shape(shape: Any) -> str:
    """``(1, 10)``; ``[(1, 4), (1, 3)]`` for a tuple of outputs; ``{boxes: (1, 4)}`` for a dict."""
    if shape is None:
        return "(not called)"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{key}: {_format_shape(value)}"
                               for key, value in shape.items()) + "}"
    if any(not isinstance(d, int) for d in shape):
        return "[" + ", ".join(_format_shape(d) for d in shape) + "]"
    return str(tuple(shape))


def _shape_of(value: Any) -> OutputShape:
    """The shape of an output: a tensor's, or the shapes inside a tuple, list or dict."""
    if isinstance(value, Mapping):
        return {str(key): _shape_of(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_shape_of(item) for item in value)
    if hasattr(value, "shape"):
        return tuple(int(d) for d in value.shape)
    return ()


def _multiplies(module: Module, output: Any) -> int:
    """Multiplications for one example: Linear out*in, Conv2d out_h*out_w*C_out*C_in*kh*kw.

    Bias additions are additions; activations, pooling and normalisation count 0.
    """
    if not isinstance(module, (Linear, Conv2d)) or not hasattr(output, "shape"):
        return 0
    per_example = math.prod(int(d) for d in output.shape[1:])  # out (Linear), C*OH*OW (conv)
    if isinstance(module, Linear):
        return per_example * module.in_features
    kh, kw = module.kernel_size
    groups = int(getattr(module, "groups", 1))
    return per_example * (module.in_channels // groups) * kh * kw


def _own_parameters(module: Module) -> list[Parameter]:
    return [p for p in module._parameters.values() if p is not None]


def summary(model: Module, input_shape: Sequence[int], *, batch_size: int | None = 1,
            dtype: Any = None) -> Summary:
    """Tabulate each layer's output shape, parameter count and multiplications.

    The model runs once, in evaluation mode and under ``no_grad``, on a batch of
    zeros of shape ``(batch_size, *input_shape)``; every leaf layer (and every
    layer that holds parameters of its own) is watched by temporarily wrapping its
    ``forward``, and the model is left exactly as it was: modes, weights and
    buffers. A layer called twice gets two rows. Models whose forward returns a
    tuple or a dict (several heads) work: the shapes of each output are recorded.

    Multiplications are counted per example, as the seed counts them: a Linear
    layer costs ``out_features * in_features``, a Conv2d layer
    ``out_h * out_w * out_channels * (in_channels / groups) * kh * kw``. Bias
    additions are not multiplications, and batch norm, pooling, activations,
    dropout and reshapes count 0.

    Args:
        model: the model (any :class:`~steepest.nn.Module`).
        input_shape: the shape of one example, without the batch dimension, e.g.
            ``(1, 28, 28)`` for an MNIST image or ``(784,)`` for a flat one.
        batch_size: the batch dimension put in front of ``input_shape`` (default
            1). Pass None when ``input_shape`` already starts with it.
        dtype: the dtype of the zero batch (default: the model's).

    Returns:
        A :class:`Summary`; ``print(summary(...))`` shows the table.

    Raises:
        TypeError: ``model`` is not a Module, or ``input_shape`` is not a sequence
            of ints.
        ValueError: a dimension or ``batch_size`` is not positive.

    Example:
        >>> import steepest as st
        >>> same = st.nn.Conv2d(192, 32, 5, padding="same")
        >>> summary(same, (192, 28, 28)).total_multiplies
        120422400
        >>> bottleneck = st.nn.Sequential(st.nn.Conv2d(192, 16, 1),
        ...                               st.nn.Conv2d(16, 32, 5, padding="same"))
        >>> summary(bottleneck, (192, 28, 28)).total_multiplies
        12443648
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: `model` must be a steepest.nn.Module; got "
                        f"{type(model).__name__}")
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise TypeError(f"summary: `input_shape` must be a sequence of positive ints, e.g. "
                        f"(1, 28, 28); got {input_shape!r}")
    dims = [positive_int("summary", "input_shape", d) for d in input_shape]
    if batch_size is not None:
        dims.insert(0, positive_int("summary", "batch_size", batch_size))
    if not dims:
        raise ValueError("summary: `input_shape` is empty and `batch_size` is None; there "
                         "is no batch to run")
    shape = tuple(dims)
    batch = Tensor(to_device(np.zeros(shape, dtype=model.dtype if dtype is None else dtype),
                             model.device))

    watched = [(name, module) for name, module in model.named_modules()
               if not any(True for _ in module.named_children()) or _own_parameters(module)]
    calls: list[tuple[str, Module, Any] | None] = []
    saved_forward: list[tuple[Module, dict[str, Any]]] = []
    modes = [(module, module.training) for module in model.modules()]

    def watching(name: str, module: Module, forward: Callable[..., Any]) -> Callable[..., Any]:
        def recording_forward(*args: Any, **kwargs: Any) -> Any:
            slot = len(calls)
            calls.append(None)  # keep the order in which the calls start
            out = forward(*args, **kwargs)
            calls[slot] = (name, module, out)
            return out
        return recording_forward

    try:
        for name, module in watched:
            saved_forward.append((module, {k: v for k, v in vars(module).items()
                                           if k == "forward"}))
            # An instance attribute shadows the class's forward; Module.__call__ looks it up.
            object.__setattr__(module, "forward", watching(name, module, module.forward))
        model.eval()
        with no_grad():
            output = model(batch)
    finally:
        for module, own in reversed(saved_forward):
            if own:
                object.__setattr__(module, "forward", own["forward"])
            else:
                object.__delattr__(module, "forward")
        for module, training in modes:
            object.__setattr__(module, "training", training)

    counted: set[int] = set()

    def new_parameters(module: Module) -> int:
        fresh = [p for p in _own_parameters(module) if id(p) not in counted]
        counted.update(id(p) for p in fresh)
        return sum(int(p.size) for p in fresh)

    rows = []
    called: set[int] = set()
    for call in calls:
        if call is None:  # the layer raised and the model caught it: nothing came out
            continue
        name, module, out = call
        called.add(id(module))
        rows.append(SummaryRow(name or type(module).__name__, type(module).__name__,
                               _shape_of(out), new_parameters(module), _multiplies(module, out)))
    for name, module in watched:
        if id(module) not in called and _own_parameters(module):
            rows.append(SummaryRow(name or type(module).__name__, type(module).__name__, None,
                                   new_parameters(module), 0))
    trainable = sum(int(p.size) for p in model.parameters() if p.requires_grad)
    return Summary(type(model).__name__, shape, _shape_of(output), tuple(rows),
                   sum(row.params for row in rows), trainable,
                   sum(row.multiplies for row in rows))
