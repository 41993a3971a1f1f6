"""VGG-16 (concept K3): only 3x3 "same" convolutions and 2x2 max pooling, very deep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._validation import ShapeError, positive_int, real
from ..autograd import Tensor
from ..backend import resolve_rng
from ..nn.activation import Flatten, ReLU
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.init import InitName
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.pooling import MaxPool2d
from ..tasks import Task
from .alexnet import _classification, _dropout
from .base import Model

#: Convolutions per block of VGG-16 (2, 2, 3, 3, 3: 13 conv + 3 FC = 16 weight layers).
VGG16_BLOCKS = (2, 2, 3, 3, 3)


class VGG16(Model):
    """Simonyan and Zisserman's VGG-16 (K3): a simple, uniform, very deep network.

    Every convolution is 3x3, stride 1, "same"; every pooling 2x2, stride 2. Five
    blocks of [CONV 64] x2, [CONV 128] x2, [CONV 256] x3, [CONV 512] x3, [CONV 512] x3,
    each followed by a pooling, then FC 4096 -> FC 4096 -> softmax 1000. The seed
    stresses the regularity: height and width halve at every pooling
    (224 -> 112 -> 56 -> 28 -> 14 -> 7) while the channels double
    (64 -> 128 -> 256 -> 512). 138,357,544 parameters with 1000 classes.

    Args:
        num_classes: outputs (logits).
        in_channels: image channels.
        input_size: height = width of the images (224 by default; at least 32; a
            32x32 CIFAR image leaves a 1x1x512 map).
        channels: filter counts of the five blocks (default 64, 128, 256, 512, 512).
        hidden: units of the two hidden fully connected layers.
        keep_prob: dropout keep probability before the hidden FC layers (0.5).
        init: weight initialisation ("he"; "zeros" builds the full-size network
            instantly, e.g. to count its parameters).
        rng: generator or seed.
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> net = VGG16(num_classes=10, input_size=32, channels=(4, 8, 8, 16, 16),
        ...             hidden=32, rng=0)
        >>> net.feature_shapes()     # (C, H, W) after each pooling
        [(4, 16, 16), (8, 8, 8), (8, 4, 4), (16, 2, 2), (16, 1, 1)]
        >>> net(np.zeros((2, 3, 32, 32), dtype=np.float32)).shape
        (2, 10)
        >>> VGG16(init="zeros").num_parameters()
        138357544
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, input_size: int = 224,
                 channels: Sequence[int] = (64, 128, 256, 512, 512), hidden: int = 4096,
                 keep_prob: float = 0.5, init: InitName = "he", rng: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_classes = positive_int("VGG16", "num_classes", num_classes)
        self.in_channels = positive_int("VGG16", "in_channels", in_channels)
        self.input_size = positive_int("VGG16", "input_size", input_size)
        if self.input_size < 32:
            raise ShapeError(f"VGG16: `input_size` must be at least 32 (five 2x2 poolings); "
                             f"got {input_size}")
        widths = [positive_int("VGG16", "channels", c) for c in channels]
        if len(widths) != len(VGG16_BLOCKS):
            raise ValueError(f"VGG16: `channels` needs 5 filter counts (one per block); got "
                             f"{len(widths)}")
        self.channels = widths
        self.hidden = positive_int("VGG16", "hidden", hidden)
        self.keep_prob = real("VGG16", "keep_prob", keep_prob, low=0.0, low_inclusive=False,
                              high=1.0)
        g = resolve_rng(rng) if rng is not None else None
        layers: list[Module] = []
        previous = in_channels
        for count, width in zip(VGG16_BLOCKS, widths):
            for _ in range(count):
                layers += [Conv2d(previous, width, 3, padding=1, init=init, rng=g, dtype=dtype),
                           ReLU()]
                previous = width
            layers.append(MaxPool2d(2))
        self.features = Sequential(*layers)
        side = self.input_size // 32
        self.classifier = Sequential(
            Flatten(),
            Linear(previous * side * side, hidden, init=init, rng=g, dtype=dtype), ReLU(),
            *_dropout(self.keep_prob, g),
            Linear(hidden, hidden, init=init, rng=g, dtype=dtype), ReLU(),
            *_dropout(self.keep_prob, g),
            Linear(hidden, num_classes, init=init, rng=g, dtype=dtype),
        )

    def feature_shapes(self) -> list[tuple[int, int, int]]:
        """(channels, height, width) after each of the five poolings."""
        side, shapes = self.input_size, []
        for width in self.channels:
            side //= 2
            shapes.append((width, side, side))
        return shapes

    def default_task(self) -> Task:
        """Classification over ``num_classes`` (a binary task for one output unit)."""
        return _classification(self.num_classes)

    def forward(self, x: Any) -> Tensor:
        return self.classifier(self.features(x))
