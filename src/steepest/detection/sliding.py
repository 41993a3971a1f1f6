"""Sliding windows (OD2) and their convolutional implementation (OD3).

A classifier trained on w x w crops can detect by sliding: crop every window at
some stride and classify each. Large strides are cheap but coarse; small strides
are precise but cost one forward pass per window (the seed's trade-off, OD2).

The convolutional implementation (OD3) turns the classifier's fully connected
layers into convolutions: the first FC layer, which reads an f x f x c volume,
becomes n filters of f x f x c; each later FC layer a 1 x 1 convolution. The
network then accepts a larger image, and one forward pass computes every window
at once, sharing the convolutions of overlapping windows. Its output map holds at
(row, col) what the classifier says of the window whose corner is
(row * s, col * s), s being the product of the layers' strides (4 for two 2x2
pools): exactly the crop-by-crop outputs at stride s.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .._validation import ShapeError, fmt_shape, pair
from ..nn import (
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from ..nn.module import Module
from ..train.trainer import forward_in_batches

__all__ = ["sliding_windows", "to_fully_convolutional", "window_stride"]

_ELEMENTWISE = (ReLU, LeakyReLU, Tanh, Sigmoid, Identity, Dropout)


def sliding_windows(model: Module, images: Any, window: int | tuple[int, int],
                    stride: int | tuple[int, int], batch_size: int = 256) -> np.ndarray:
    """Run a window classifier on every crop of every image (OD2), crop by crop.

    Args:
        model: takes (m, C, wh, ww) windows and returns (m, K) outputs.
        images: (N, C, H, W).
        window: the window's side, or (height, width).
        stride: pixels between neighbouring windows, or (vertical, horizontal).
        batch_size: windows per forward pass.

    Returns:
        float (N, K, rows, cols): the outputs of the window at
        (row * stride, col * stride); rows = (H - wh) // sh + 1, likewise cols.

    Example:
        >>> import steepest as st
        >>> net = st.nn.Sequential(st.nn.Flatten(), st.nn.Linear(3 * 4 * 4, 2))
        >>> sliding_windows(net, np.zeros((1, 3, 10, 10), np.float32), 4, 2).shape
        (1, 2, 4, 4)
    """
    owner = "sliding_windows"
    x = np.asarray(images)
    if x.ndim != 4:
        raise ShapeError(f"{owner}: `images` must have shape (N, C, H, W); got "
                         f"{fmt_shape(x.shape)}")
    wh, ww = pair(owner, "window", window)
    sh, sw = pair(owner, "stride", stride)
    if wh > x.shape[2] or ww > x.shape[3]:
        raise ShapeError(f"{owner}: the {wh}x{ww} window is larger than the "
                         f"{x.shape[2]}x{x.shape[3]} images")
    views = np.lib.stride_tricks.sliding_window_view(x, (wh, ww), axis=(2, 3))
    views = views[:, :, ::sh, ::sw]                       # (N, C, rows, cols, wh, ww)
    n, c, rows, cols = views.shape[:4]
    crops = views.transpose(0, 2, 3, 1, 4, 5).reshape(n * rows * cols, c, wh, ww)
    outputs = forward_in_batches(model, crops, batch_size)
    if not hasattr(outputs, "ndim") or outputs.ndim != 2:
        raise ShapeError(f"{owner}: the model must return (m, K) outputs per window; it "
                         f"returned {fmt_shape(np.shape(outputs))}")
    return outputs.reshape(n, rows, cols, -1).transpose(0, 3, 1, 2)  # (N, K, rows, cols)


def _layers(model: Module) -> list[Module]:
    """The layers of a (possibly nested) Sequential, in order."""
    if not isinstance(model, Sequential):
        raise TypeError(f"to_fully_convolutional: `model` must be a steepest.nn.Sequential "
                        f"(its layers run in order); got {type(model).__name__}")
    layers: list[Module] = []
    for layer in model.children():
        layers.extend(_layers(layer) if isinstance(layer, Sequential) else [layer])
    return layers


def _padding_of(layer: Module) -> Any:
    padding = getattr(layer, "padding", 0)
    return padding if isinstance(padding, str) else tuple(pair("", "", padding, minimum=0))


def to_fully_convolutional(model: Module, input_shape: tuple[int, int, int]) -> Sequential:
    """The window classifier as a fully convolutional network (OD3).

    The first Linear after the Flatten, reading c x f1 x f2 values, becomes a
    Conv2d(c, n, (f1, f2)) with the same weights (PyTorch's flatten order C, H, W);
    every later Linear becomes a 1 x 1 Conv2d; Flatten disappears; a Softmax after
    it acts over the channel axis. Convolutions and pools before it are copied.
    The result on a window-sized input equals the model's; on a larger image it
    computes every window at stride :func:`window_stride` in one pass.

    Args:
        model: a :class:`~steepest.nn.Sequential` (nested ones are fine) of unpadded
            Conv2d / MaxPool2d / AvgPool2d layers and activations, a Flatten, then
            Linear layers, activations, Dropout and Softmax.
        input_shape: (C, H, W) of the window it was trained on.

    Returns:
        A new Sequential (weights copied); input (N, C, H', W') -> output
        (N, K, rows, cols).

    Raises:
        TypeError: not a Sequential, or a layer that has no convolutional form.
        ValueError: a padded convolution or pool (padding mixes image borders
            into windows, so one pass would not equal cropping).

    Example:
        >>> import steepest as st
        >>> net = st.nn.Sequential(st.nn.Conv2d(3, 4, 3), st.nn.ReLU(), st.nn.MaxPool2d(2),
        ...                        st.nn.Flatten(), st.nn.Linear(4 * 3 * 3, 5), st.nn.ReLU(),
        ...                        st.nn.Linear(5, 2))
        >>> fcn = to_fully_convolutional(net, (3, 8, 8))
        >>> fcn(np.zeros((1, 3, 16, 16), np.float32)).shape, window_stride(fcn)
        ((1, 2, 5, 5), (2, 2))
    """
    owner = "to_fully_convolutional"
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ShapeError(f"{owner}: `input_shape` must be the window's (C, H, W); got "
                         f"{input_shape!r}")
    probe = np.zeros((1, *input_shape), dtype=model.dtype)
    converted: list[Module] = []
    flattened: tuple[int, ...] | None = None
    was_training = model.training
    model.eval()
    try:
        for index, layer in enumerate(_layers(model)):
            where = f"{owner}: layer {index} ({type(layer).__name__})"
            if flattened is None:
                if isinstance(layer, Flatten):
                    flattened = tuple(probe.shape[1:])
                    if len(flattened) != 3:
                        raise ShapeError(f"{where}: flattens a {fmt_shape(probe.shape)} "
                                         "volume; expected (N, C, H, W)")
                    continue
                if isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)):
                    if _padding_of(layer) not in ((0, 0), "valid"):
                        raise ValueError(f"{where} has padding {layer.padding!r}; one pass "
                                         "equals crop-by-crop windows only without padding "
                                         "(use padding=0 in the window classifier)")
                elif not isinstance(layer, _ELEMENTWISE):
                    raise TypeError(f"{where} has no convolutional form here; use Conv2d, "
                                    "pooling and activations before the Flatten")
                converted.append(copy.deepcopy(layer))
                probe = np.asarray(layer(probe).data)
                continue
            if isinstance(layer, Linear):
                c, h, w = flattened if len(flattened) == 3 else (flattened[0], 1, 1)
                if layer.in_features != c * h * w:
                    raise ShapeError(f"{where} takes {layer.in_features} features but receives "
                                     f"{c}x{h}x{w} = {c * h * w}")
                conv = Conv2d(c, layer.out_features, (h, w), bias=layer.bias is not None,
                              dtype=layer.weight.dtype)
                conv.weight.data = layer.weight.data.reshape(layer.out_features, c, h, w).copy()
                if layer.bias is not None:
                    conv.bias.data = layer.bias.data.copy()
                converted.append(conv)
                flattened = (layer.out_features,)
            elif isinstance(layer, Softmax):
                converted.append(Softmax(axis=1))
            elif isinstance(layer, _ELEMENTWISE):
                converted.append(copy.deepcopy(layer))
            else:
                raise TypeError(f"{where} has no convolutional form; after the Flatten use "
                                "Linear, activations, Dropout and Softmax")
    finally:
        model.train(was_training)
    if flattened is None:
        raise TypeError(f"{owner}: the model has no Flatten followed by Linear layers; it is "
                        "already convolutional")
    network = Sequential(*converted)
    network.train(was_training)
    return network


def window_stride(model: Module) -> tuple[int, int]:
    """The product of the strides of a network's layers: the step between its windows.

    Example:
        >>> import steepest as st
        >>> window_stride(st.nn.Sequential(st.nn.Conv2d(1, 2, 3, stride=2), st.nn.MaxPool2d(2)))
        (4, 4)
    """
    vertical = horizontal = 1
    for layer in _layers(model):
        if isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)):
            sh, sw = pair("window_stride", "stride", layer.stride)
            vertical, horizontal = vertical * sh, horizontal * sw
    return vertical, horizontal
