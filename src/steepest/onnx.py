"""Export a model to ONNX, for inference with onnxruntime, TensorRT, OpenVINO and others.

How it works: steepest already records every operation a forward pass runs (the
autograd graph), so the exporter runs the model once in evaluation mode on a small
random batch and translates that graph, node by node, through a registry keyed by
the operation's ``Function`` class (``Conv2dFunction`` -> ``Conv``,
``AddFunction`` -> ``Add``, ...). This is a tracer that needs no tracing hooks, and
it is why residual additions (ResNet's blocks), channel concatenations (Inception)
and models with several outputs export with no per-model code: whatever a
``forward`` computes with steepest's operations becomes the same ONNX graph. Layers
that do nothing in evaluation (``Dropout``, ``Identity``) record nothing and vanish;
batch norm records its running statistics, which become ONNX
``BatchNormalization`` inputs.

Per-layer exporters (a registry keyed by layer class) were the alternative; they
need a second exporter for every model whose forward is not a plain chain, and
silently miss arithmetic written inline in a ``forward``. The graph already holds
the truth, so the registry here is keyed by operation.

Two consequences, both checked: a reshape that keeps the leading (batch) axis is
written with ONNX's "copy this dimension" (0), so every exported model accepts any
batch size; and a value computed from the input outside the recorded graph (under
``no_grad``, or through ``.data``) would be frozen into the file as a constant, so
the exporter refuses it instead. An operation with no ONNX translation is one error
naming the layer that ran it.

Needs the ``onnx`` package: ``pip install steepest[onnx]``. Checking the result with
onnxruntime needs ``pip install onnxruntime``.

Example:
    >>> import numpy as np
    >>> import steepest as st
    >>> import steepest.onnx
    >>> net = st.models.MLP([4, 8, 3], rng=0)
    >>> proto = st.onnx.to_onnx(net, input_shape=(4,))
    >>> [node.op_type for node in proto.graph.node]
    ['Gemm', 'Relu', 'Gemm']
    >>> proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    'batch'
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import ShapeError, positive_int
from .autograd import Cast, Tensor, ToDevice, enable_grad
from .nn.module import Module
from .ops import conv as _conv
from .ops import elementwise as _ew
from .ops import linalg as _linalg
from .ops import norm as _norm
from .ops import reduce as _reduce
from .ops import shape as _shape

__all__ = ["DEFAULT_OPSET", "SUPPORTED_OPERATIONS", "UnsupportedOperationError", "export",
           "input_shape_of", "to_onnx"]

DEFAULT_OPSET = 17
"""The opset written unless ``opset=`` says otherwise (onnxruntime >= 1.12 runs it)."""

MIN_OPSET = 13
_TRACE_BATCH = 2
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


class UnsupportedOperationError(TypeError):
    """The model runs an operation that has no ONNX translation."""


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError as error:  # the one line a missing extra gets
        raise ImportError("ONNX export needs the onnx package: pip install steepest[onnx] "
                          "(or pip install onnx)") from error
    return onnx


# ------------------------------------------------------------------ the graph builder
class _Graph:
    """ONNX nodes, initializers and value names collected while translating."""

    def __init__(self, onnx: Any, opset: int) -> None:
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.names: dict[int, str] = {}  # id(tensor or array) -> value name
        self.used: set[str] = set()
        self.counter = 0
        self.scope = ""  # the layer now being translated, for node names
        self.known: dict[int, str] = {}  # parameters and buffers by id: state_dict names

    def fresh(self, stem: str) -> str:
        """A value or node name not used yet."""
        name = stem
        while name in self.used:
            self.counter += 1
            name = f"{stem}_{self.counter}"
        self.used.add(name)
        return name

    def constant(self, value: Any, stem: str = "const") -> str:
        """An initializer holding ``value`` (a NumPy array or a number)."""
        array = np.ascontiguousarray(_host(value))
        name = self.fresh(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def stored(self, value: Any, stem: str) -> str:
        """A parameter or buffer as an initializer named by the state_dict, made once."""
        if id(value) not in self.names:
            self.names[id(value)] = self.constant(value, self.known.get(id(value), stem))
        return self.names[id(value)]

    def ints(self, values: Sequence[int], stem: str = "const") -> str:
        return self.constant(np.asarray(list(values), dtype=np.int64), stem)

    def node(self, op_type: str, inputs: Sequence[str], output: str | None = None,
             **attributes: Any) -> str:
        """Append a node; returns its (single) output name."""
        output = output or self.fresh(f"{self.scope or 'graph'}/{op_type}".lstrip("/"))
        node_name = self.fresh(f"{self.scope}/{op_type}" if self.scope else op_type)
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [output], name=node_name,
                                                **attributes))
        return output

    def reduce(self, op_type: str, x: str, axes: Sequence[int], keepdims: bool,
               output: str | None = None) -> str:
        """ReduceSum takes ``axes`` as an input from opset 13, the others from opset 18."""
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.node(op_type, [x, self.ints(axes, "axes")], output,
                             keepdims=int(keepdims))
        return self.node(op_type, [x], output, axes=list(axes), keepdims=int(keepdims))


def _host(value: Any) -> np.ndarray:
    """A value as a NumPy array (CuPy arrays come to the host)."""
    if isinstance(value, Tensor):
        value = value.data
    get = getattr(value, "get", None)
    return np.asarray(get() if callable(get) and not isinstance(value, np.ndarray) else value)


# ------------------------------------------------------------------ translations
# Each translation gets the graph, the Function, its input names, the input values
# (tensors or raw values, for shapes and dtypes), the output tensor and the output
# name, and appends the nodes that compute it.
Translation = Callable[[_Graph, Any, list[str], Sequence[Any], Tensor, str], None]
_TRANSLATIONS: dict[type, Translation] = {}


def _translates(*classes: type) -> Callable[[Translation], Translation]:
    def register(function: Translation) -> Translation:
        for cls in classes:
            _TRANSLATIONS[cls] = function
        return function
    return register


def _simple(op_type: str, **attributes: Any) -> Translation:
    def translate(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
                  output: str) -> None:
        g.node(op_type, names, output, **attributes)
    return translate


for _cls, _op in [(_ew.AddFunction, "Add"), (_ew.SubFunction, "Sub"),
                  (_ew.MulFunction, "Mul"), (_ew.DivFunction, "Div"),
                  (_ew.PowFunction, "Pow"), (_ew.NegFunction, "Neg"),
                  (_ew.ExpFunction, "Exp"), (_ew.LogFunction, "Log"),
                  (_ew.SqrtFunction, "Sqrt"), (_ew.AbsFunction, "Abs"),
                  (_ew.MaximumFunction, "Max"), (_ew.MinimumFunction, "Min"),
                  (_ew.WhereFunction, "Where"), (_ew.SigmoidFunction, "Sigmoid"),
                  (_ew.TanhFunction, "Tanh"), (_ew.ReLUFunction, "Relu"),
                  (_linalg.MatMulFunction, "MatMul"), (ToDevice, "Identity")]:
    _TRANSLATIONS[_cls] = _simple(_op)


@_translates(_ew.LeakyReLUFunction)
def _leaky_relu(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
                output: str) -> None:
    g.node("LeakyRelu", names, output, alpha=float(fn.negative_slope))


@_translates(_ew.ClipFunction)
def _clip(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
          output: str) -> None:
    bounds = [g.constant(np.asarray(bound, dtype=out.dtype), "clip_bound")
              if bound is not None else "" for bound in (fn.low, fn.high)]
    g.node("Clip", [names[0], *bounds], output)


@_translates(Cast)
def _cast(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
          output: str) -> None:
    g.node("Cast", names, output, to=g.helper.np_dtype_to_tensor_dtype(np.dtype(out.dtype)))


@_translates(_linalg.LinearFunction)
def _linear(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
            output: str) -> None:
    if np.ndim(values[0]) == 2:  # (N, in) @ W^T + b: one Gemm
        g.node("Gemm", names, output, transB=1)
        return
    weight_t = g.node("Transpose", [names[1]], perm=[1, 0])
    if len(names) == 2:
        g.node("MatMul", [names[0], weight_t], output)
    else:
        g.node("Add", [g.node("MatMul", [names[0], weight_t]), names[2]], output)


@_translates(_conv.Conv2dFunction)
def _conv2d(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
            output: str) -> None:
    kernel = tuple(np.shape(values[1])[2:])
    (top, bottom), (left, right) = _conv.resolve_padding(fn.owner, fn.padding, kernel,
                                                         tuple(fn.stride))
    g.node("Conv", names, output, kernel_shape=list(kernel), strides=list(fn.stride),
           pads=[top, left, bottom, right])


@_translates(_conv.MaxPool2dFunction, _conv.AvgPool2dFunction)
def _pool(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
          output: str) -> None:
    ph, pw = fn.padding
    common = {"kernel_shape": list(fn.kernel), "strides": list(fn.stride),
              "pads": [ph, pw, ph, pw]}
    if isinstance(fn, _conv.MaxPool2dFunction):
        g.node("MaxPool", names, output, **common)
    else:  # steepest's zero padding counts in the average, as PyTorch's default does
        g.node("AveragePool", names, output, count_include_pad=1, **common)


@_translates(_conv.GlobalAvgPool2dFunction)
def _global_pool(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
                 output: str) -> None:
    g.node("Flatten", [g.node("GlobalAveragePool", names)], output, axis=1)


@_translates(_norm.SoftmaxFunction, _norm.LogSoftmaxFunction)
def _softmax(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
             output: str) -> None:
    op_type = "Softmax" if isinstance(fn, _norm.SoftmaxFunction) else "LogSoftmax"
    g.node(op_type, names, output, axis=int(fn.axis))


@_translates(_norm.BatchNormFunction)
def _batch_norm(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
                output: str) -> None:
    if fn.running_mean is None or fn.running_var is None:
        raise UnsupportedOperationError(
            f"{fn.owner}: batch norm without running statistics normalises with each batch's "
            "own statistics, which ONNX's BatchNormalization cannot express; use a layer with "
            "running estimates (BatchNorm1d/BatchNorm2d)")
    mean = g.stored(fn.running_mean, "running_mean")
    var = g.stored(fn.running_var, "running_var")
    g.node("BatchNormalization", [*names, mean, var], output, epsilon=float(fn.eps))


@_translates(_shape.ReshapeFunction)
def _reshape(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
             output: str) -> None:
    source, target = np.shape(values[0]), out.shape
    shape = list(target)
    if source and target and source[0] == target[0]:
        shape[0] = 0  # "copy the input's dimension": keeps the batch size dynamic
    g.node("Reshape", [names[0], g.ints(shape, "shape")], output)


@_translates(_shape.TransposeFunction)
def _transpose(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
               output: str) -> None:
    ndim = np.ndim(values[0])
    perm = list(fn.axes) if fn.axes is not None else list(range(ndim))[::-1]
    g.node("Transpose", names, output, perm=[p % ndim for p in perm])


@_translates(_shape.ConcatenateFunction)
def _concatenate(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
                 output: str) -> None:
    g.node("Concat", names, output, axis=int(fn.axis))


@_translates(_shape.StackFunction)
def _stack(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
           output: str) -> None:
    axis = int(fn.axis) % out.ndim
    axes = g.ints([axis], "axes")
    g.node("Concat", [g.node("Unsqueeze", [name, axes]) for name in names], output, axis=axis)


@_translates(_shape.BroadcastToFunction)
def _broadcast_to(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
                  output: str) -> None:
    # An axis the input already has at full size is written as 1 (Expand keeps the
    # input's size there), so the batch axis stays dynamic.
    source = (1,) * (out.ndim - np.ndim(values[0])) + tuple(np.shape(values[0]))
    shape = [1 if have == want else want for have, want in zip(source, out.shape)]
    g.node("Expand", [names[0], g.ints(shape, "shape")], output)


@_translates(_shape.GetItemFunction)
def _getitem(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
             output: str) -> None:
    key = fn.key if isinstance(fn.key, tuple) else (fn.key,)
    ndim = np.ndim(values[0])
    if any(k is Ellipsis for k in key):
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (ndim - len(key) + 1) + key[at + 1:]
    if not all(isinstance(k, (slice, int, np.integer)) for k in key):
        raise UnsupportedOperationError(
            "indexing with arrays, masks or None has no ONNX translation here; index with "
            "ints and slices")
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, k in enumerate(key):
        if isinstance(k, slice):
            if k == slice(None):
                continue
            step = 1 if k.step is None else int(k.step)
            starts.append(int(k.start) if k.start is not None else (0 if step > 0 else -1))
            ends.append(int(k.stop) if k.stop is not None else
                        (_INT64_MAX if step > 0 else _INT64_MIN))
            steps.append(step)
        else:
            starts.append(int(k))
            ends.append(int(k) + 1 if int(k) != -1 else _INT64_MAX)
            steps.append(1)
            squeeze.append(axis)
        axes.append(axis)
    current = names[0]
    if axes:
        current = g.node("Slice", [current, g.ints(starts, "starts"), g.ints(ends, "ends"),
                                   g.ints(axes, "axes"), g.ints(steps, "steps")],
                         None if squeeze else output)
    if squeeze:
        g.node("Squeeze", [current, g.ints(squeeze, "axes")], output)
    elif not axes:
        g.node("Identity", [current], output)


@_translates(_reduce.SumFunction, _reduce.MeanFunction, _reduce.MaxFunction,
             _reduce.MinFunction)
def _reduction(g: _Graph, fn: Any, names: list[str], values: Sequence[Any], out: Tensor,
               output: str) -> None:
    op_type = {_reduce.SumFunction: "ReduceSum", _reduce.MeanFunction: "ReduceMean",
               _reduce.MaxFunction: "ReduceMax", _reduce.MinFunction: "ReduceMin"}[type(fn)]
    ndim = np.ndim(values[0])
    axes = _reduce.normalize_axis(fn.axis, ndim, op_type) if fn.axis is not None \
        else tuple(range(ndim))
    g.reduce(op_type, names[0], axes, bool(fn.keepdims), output)


SUPPORTED_OPERATIONS: tuple[str, ...] = tuple(sorted(
    cls.__name__.removesuffix("Function") for cls in _TRANSLATIONS))
"""The steepest operations the exporter translates (by their Function's name)."""


# ------------------------------------------------------------------ tracing
def _tensors(tree: Any) -> list[Any]:
    """The leaves of an output tree (a tensor, a tuple/list or a dict of them)."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _tensors(value)]
    if isinstance(tree, (tuple, list)):
        return [leaf for value in tree for leaf in _tensors(value)]
    return [tree]


def _output_names(tree: Any) -> list[str]:
    """One name per output: ``output``, ``output_0``, ... or the dict's keys."""
    if isinstance(tree, dict):
        names = []
        for key, value in tree.items():
            count = len(_tensors(value))
            names += [str(key)] if count == 1 else [f"{key}_{i}" for i in range(count)]
        return names
    count = len(_tensors(tree))
    return ["output"] if count == 1 and not isinstance(tree, (tuple, list)) else \
        [f"output_{i}" for i in range(count)]


def _tag_layers(model: Module) -> tuple[dict[int, str], Callable[[], None]]:
    """Wrap each layer's forward so every operation it records is tagged with the layer.

    Returns the tags (id(Function) -> "name (Class)") and a function that removes the
    wrappers. The innermost layer tags first, so an operation carries the name of the
    layer that ran it, not of the model around it.
    """
    tags: dict[int, str] = {}
    wrapped: list[Module] = []

    def wrap(name: str, module: Module) -> None:
        original = module.forward
        label = f"layer '{name}' ({type(module).__name__})" if name else \
            f"the model ({type(module).__name__})"

        def forward(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            stop = {id(a) for a in _tensors(list(args) + list(kwargs.values()))}
            stack = [t for t in _tensors(result) if isinstance(t, Tensor)]
            seen: set[int] = set()
            while stack:
                tensor = stack.pop()
                fn = tensor._ctx
                if id(tensor) in stop or fn is None or id(fn) in seen:
                    continue
                seen.add(id(fn))
                tags.setdefault(id(fn), label)
                stack.extend(t for t in (fn.inputs or ()) if isinstance(t, Tensor))
            return result

        module.__dict__["forward"] = forward
        wrapped.append(module)

    for name, module in model.named_modules():
        wrap(name, module)

    def restore() -> None:
        for module in wrapped:
            module.__dict__.pop("forward", None)

    return tags, restore


def _trace(model: Module, example: np.ndarray) -> tuple[Tensor, Any, dict[int, str]]:
    """Run the model in evaluation mode on ``example`` with recording on."""
    modes = [(module, module.training) for module in model.modules()]
    tags, restore = _tag_layers(model)
    x = Tensor(example, requires_grad=True)
    try:
        model.eval()
        with enable_grad():
            # A model on the GPU gets the example there; the copy records as Identity.
            out = model(x if model.device == "cpu" else x.to(model.device))
    finally:
        restore()
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    return x, out, tags


def _model_dtype(model: Module) -> np.dtype:
    for param in model.parameters():
        if param.dtype.kind == "f":
            return np.dtype(param.dtype)
    return np.dtype(np.float32)


def input_shape_of(model: Module) -> tuple[int, ...] | None:
    """One example's input shape, read from a zoo model's configuration (or None).

    Example:
        >>> import steepest as st
        >>> input_shape_of(st.models.LeNet5()), input_shape_of(st.models.MLP([5, 2]))
        ((1, 28, 28), (5,))
    """
    sizes = getattr(model, "layer_sizes", None)
    if isinstance(sizes, (list, tuple)) and sizes:
        return (int(sizes[0]),)
    n_features, size = getattr(model, "n_features", None), getattr(model, "input_size", None)
    if isinstance(n_features, int):
        return (n_features,)
    if isinstance(size, int):
        return (int(getattr(model, "in_channels", 1)), size, size)
    return None


# ------------------------------------------------------------------ the exporter
def to_onnx(model: Module, input_shape: Sequence[int], opset: int | None = None, *,
            input_name: str = "input", metadata: dict[str, Any] | None = None,
            check: bool = True) -> Any:
    """The ONNX graph of ``model`` in evaluation mode, as an ``onnx.ModelProto``.

    Args:
        model: any steepest Module (a zoo model, a ``Sequential``, your own).
        input_shape: the shape of one example, without the batch axis: ``(784,)``
            for an MLP on MNIST, ``(1, 28, 28)`` for LeNet-5. The batch axis is
            always dynamic (named ``batch``).
        opset: the ONNX opset (default :data:`DEFAULT_OPSET`; at least 13).
        input_name: the graph input's name.
        metadata: strings (or JSON-able values) stored as the model's metadata
            properties, e.g. the preprocessing the model expects.
        check: run ``onnx.checker`` (with shape inference) on the result.

    Returns:
        An ``onnx.ModelProto`` with one input and one output per model output
        (``output``; ``output_0``, ``output_1``, ... for a tuple; the keys of a
        dict). Initializers carry the ``state_dict`` names.

    Raises:
        UnsupportedOperationError: an operation has no ONNX translation; the
            message names the layer that ran it.
        ValueError: a bad ``input_shape`` or ``opset``, or an input-dependent value
            computed outside the recorded graph.
        ImportError: the onnx package is missing.

    Example:
        >>> import steepest as st
        >>> proto = to_onnx(st.models.LeNet5(), (1, 28, 28))
        >>> [o.name for o in proto.graph.output], proto.opset_import[0].version
        (['output'], 17)
    """
    onnx = _require_onnx()
    owner = "steepest.onnx.export"
    if not isinstance(model, Module):
        raise TypeError(f"{owner}: `model` must be a steepest Module; got "
                        f"{type(model).__name__}")
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (int(input_shape),)
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise TypeError(f"{owner}: `input_shape` must be a non-empty tuple of positive ints "
                        f"(one example's shape, without the batch axis); got {input_shape!r}")
    shape = tuple(positive_int(owner, "input_shape", d) for d in input_shape)
    newest = int(onnx.defs.onnx_opset_version())
    opset = DEFAULT_OPSET if opset is None else opset
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or \
            not MIN_OPSET <= opset <= newest:
        raise ValueError(f"{owner}: `opset` must be an int in [{MIN_OPSET}, {newest}] (the "
                         f"installed onnx supports up to {newest}); got {opset!r}")
    dtype = _model_dtype(model)
    example = np.random.default_rng(0).standard_normal((_TRACE_BATCH, *shape)).astype(dtype)
    try:
        x, out, tags = _trace(model, example)
    except (ShapeError, ValueError) as error:
        raise ShapeError(f"{owner}: the model does not accept input_shape {shape} (traced "
                         f"with a batch of shape {example.shape}): {error}") from error

    g = _Graph(onnx, int(opset))
    g.used.add(input_name)
    g.names[id(x)] = input_name
    known = g.known
    for name, param in model.named_parameters():
        known[id(param)] = name
    for name, array in model.named_buffers():
        known[id(array)] = name

    outputs = _tensors(out)
    output_names = _output_names(out)
    if input_name in output_names:
        raise ValueError(f"{owner}: an output is named {input_name!r}, like the input; rename "
                         "the output (a dict key) or pass another input_name")
    for tensor in outputs:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{owner}: the model must return tensors (or a tuple or dict of "
                            f"them); got {type(tensor).__name__}")
    # Name each output's producing value after the output, unless it is the input, a
    # constant, or already another output (those get an Identity node below).
    claimed: dict[int, str] = {}
    for tensor, name in zip(outputs, output_names):
        if tensor._ctx is not None and id(tensor) not in claimed:
            claimed[id(tensor)] = name
            g.used.add(name)

    def leaf_name(value: Any) -> str:
        if id(value) in g.names:
            return g.names[id(value)]
        if isinstance(value, Tensor):
            if id(value) not in known and value.ndim >= 2 and value.shape[0] == _TRACE_BATCH:
                _check_constant(value, owner)
            return g.stored(value, "const")
        name = g.constant(value, "const")
        g.names[id(value)] = name
        return name

    for tensor in _topological(outputs):
        fn = tensor._ctx
        if fn is None:  # _topological lists recorded tensors only
            continue
        translate = _TRANSLATIONS.get(type(fn))
        layer = tags.get(id(fn), f"the model ({type(model).__name__})")
        op = type(fn).__name__.removesuffix("Function")
        if translate is None:
            raise UnsupportedOperationError(
                f"{owner}: {layer} runs the operation {op}, which has no ONNX "
                f"translation; supported: {', '.join(SUPPORTED_OPERATIONS)}")
        names = []
        for value in fn.inputs or ():
            if isinstance(value, Tensor) and value._ctx is not None:
                names.append(g.names[id(value)])
            elif isinstance(value, Tensor):
                names.append(leaf_name(value))
            else:  # a Python number or a raw array: a constant in the output's dtype
                array = np.asarray(_host(value))
                if array.ndim >= 2 and array.shape[0] == _TRACE_BATCH:
                    _check_constant(array, owner)
                if array.dtype.kind in "iuf" and tensor.dtype.kind == "f":
                    array = array.astype(tensor.dtype)
                names.append(g.constant(array, "const"))
        g.scope = layer.split("'")[1] if layer.startswith("layer '") else ""
        output = claimed.get(id(tensor)) or g.fresh(f"{g.scope}/{op}".lstrip("/"))
        g.names[id(tensor)] = output
        try:
            translate(g, fn, names, list(fn.inputs or ()), tensor, output)
        except UnsupportedOperationError as error:
            raise UnsupportedOperationError(f"{owner}: {layer}: {error}") from None
        g.scope = ""

    graph_outputs = []
    for tensor, name in zip(outputs, output_names):
        if claimed.get(id(tensor)) != name:  # the input, a constant or a repeated output
            source = g.names.get(id(tensor)) or leaf_name(tensor)
            g.used.add(name)
            g.nodes.append(g.helper.make_node("Identity", [source], [name],
                                              name=g.fresh(f"{name}/Identity")))
        graph_outputs.append(_value_info(g, name, tensor))
    graph = g.helper.make_graph(g.nodes, type(model).__name__, [_value_info(g, input_name, x)],
                                graph_outputs, g.initializers)
    opset_ids = [g.helper.make_opsetid("", int(opset))]
    proto = g.helper.make_model(graph, opset_imports=opset_ids, producer_name="steepest",
                                ir_version=g.helper.find_min_ir_version_for(opset_ids))
    from . import __version__
    proto.producer_version = __version__
    proto.doc_string = f"{type(model).__name__} exported by steepest {__version__}"
    for key, value in (metadata or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = str(key), value if isinstance(value, str) else json.dumps(value)
    if check:
        onnx.checker.check_model(proto, full_check=True)
    return proto


def _check_constant(value: Any, owner: str) -> None:
    """Refuse a batch-shaped constant: it was computed from the input off the graph."""
    raise ValueError(
        f"{owner}: a value of shape {tuple(value.shape)} enters the graph as a constant but "
        f"has the batch's size ({_TRACE_BATCH}) on its first axis: it was computed from the "
        "input outside the recorded graph (under no_grad, through .data, or by a comparison), "
        "so it would be frozen into the file; compute it with steepest operations instead")


def _value_info(g: _Graph, name: str, tensor: Tensor) -> Any:
    dims: list[Any] = list(tensor.shape)
    if dims and dims[0] == _TRACE_BATCH:
        dims[0] = "batch"
    elem = g.helper.np_dtype_to_tensor_dtype(np.dtype(tensor.dtype))
    return g.helper.make_tensor_value_info(name, elem, dims)


def _topological(outputs: list[Tensor]) -> list[Tensor]:
    """The recorded (non-leaf) tensors the outputs depend on, inputs first (iterative)."""
    order: list[Tensor] = []
    done: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(t, False) for t in reversed(outputs)
                                        if isinstance(t, Tensor)]
    while stack:
        tensor, expanded = stack.pop()
        if tensor._ctx is None or id(tensor) in done:
            continue
        if expanded:
            done.add(id(tensor))
            order.append(tensor)
            continue
        stack.append((tensor, True))
        for value in reversed(list(tensor._ctx.inputs or ())):
            if isinstance(value, Tensor) and value._ctx is not None and id(value) not in done:
                stack.append((value, False))
    return order


def export(model: Module, path: str | os.PathLike[str], input_shape: Sequence[int],
           opset: int | None = None, *, overwrite: bool = False,
           metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (in evaluation mode) to an ONNX file with a dynamic batch size.

    The file is checked by ``onnx.checker`` and written atomically; an existing
    file is never replaced unless ``overwrite=True``.

    Args:
        model: any steepest Module.
        path: the ``.onnx`` file to write.
        input_shape: one example's shape, without the batch axis (``(1, 28, 28)``).
        opset: the ONNX opset (default :data:`DEFAULT_OPSET`).
        overwrite: allow replacing an existing file.
        metadata: values stored in the file's metadata properties.

    Returns:
        The path written.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        UnsupportedOperationError: a layer cannot be exported (named in the message).
        ImportError: the onnx package is missing (``pip install steepest[onnx]``).

    Example:
        >>> import tempfile, pathlib
        >>> import steepest as st
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> export(st.models.LogisticRegression(3), folder / "model.onnx", (3,)).name
        'model.onnx'
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"steepest.onnx.export: {target} exists; choose another path or "
                              "pass overwrite=True")
    proto = to_onnx(model, input_shape, opset, metadata=metadata)
    data = proto.SerializeToString()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:  # link, not rename: fails if another process created the file meanwhile
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise FileExistsError(f"steepest.onnx.export: {target} appeared while "
                                      "writing; not replaced") from None
            except OSError:  # a file system without hard links
                if target.exists():
                    raise FileExistsError(f"steepest.onnx.export: {target} exists") from None
                os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target

