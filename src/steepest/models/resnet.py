"""Residual networks (concept K4): skip connections that let very deep networks train."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._validation import one_of, positive_int
from ..autograd import Tensor
from ..backend import resolve_rng
from ..nn.activation import ReLU
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.normalization import BatchNorm2d
from ..nn.pooling import GlobalAvgPool2d, MaxPool2d
from ..ops.elementwise import add, relu
from ..tasks import Binary, Classification, Task
from .base import Model


class BasicBlock(Module):
    """The residual block: a[l+2] = g(z[l+2] + a[l]) (He et al., 2015).

    Two 3x3 "same" convolutions with batch norm; the input a[l] skips ahead and is
    added before the last ReLU. When the block changes the size (stride 2) or the
    channel count, a 1x1 convolution with batch norm projects the shortcut (the
    seed's W_s). Because the block can learn the identity easily (z[l+2] = 0), extra
    blocks do not hurt: a plain network's training error rises with depth, a
    ResNet's does not.

    Args:
        in_channels: channels of a[l].
        out_channels: channels of a[l+2].
        stride: 1, or 2 to halve height and width.
        rng: generator or seed.
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> block = BasicBlock(16, 32, stride=2)
        >>> block(np.zeros((2, 16, 8, 8), dtype=np.float32)).shape
        (2, 32, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, rng: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        generator = resolve_rng(rng) if rng is not None else None
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False,
                            rng=generator, dtype=dtype)
        self.bn1 = BatchNorm2d(out_channels, dtype=dtype)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False, rng=generator,
                            dtype=dtype)
        self.bn2 = BatchNorm2d(out_channels, dtype=dtype)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: Module | None = Sequential(
                Conv2d(in_channels, out_channels, 1, stride=stride, bias=False, rng=generator,
                       dtype=dtype),
                BatchNorm2d(out_channels, dtype=dtype))
        else:
            self.add_module("shortcut", None)

    def forward(self, x: Any) -> Tensor:
        out = relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return relu(add(out, skip))


class ResNet(Model):
    """A ResNet of basic blocks: stem, four stages of blocks, global average pool, FC.

    Args:
        blocks: blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18.
        num_classes: outputs (logits; softmax by default).
        in_channels: image channels.
        stem: "imagenet" (7x7 stride-2 conv and a 3x3 max pool, for 224x224 images)
            or "cifar" (one 3x3 conv, for 32x32 images).
        width: channels of the first stage (doubled at each later stage).
        rng: generator or seed.
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> net = resnet18(num_classes=10, stem="cifar")
        >>> net(np.zeros((2, 3, 32, 32), dtype=np.float32)).shape
        (2, 10)
    """

    def default_task(self) -> Task:
        """Classification over ``num_classes`` (a binary task for one output unit)."""
        return Classification(self.num_classes) if self.num_classes > 1 else Binary()


    def __init__(self, blocks: Sequence[int] = (2, 2, 2, 2), num_classes: int = 1000,
                 in_channels: int = 3, stem: str = "imagenet", width: int = 64,
                 rng: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.blocks = [positive_int("ResNet", "blocks", b) for b in blocks]
        self.num_classes = positive_int("ResNet", "num_classes", num_classes)
        self.stem_kind = one_of("ResNet", "stem", stem, ("imagenet", "cifar"))
        width = positive_int("ResNet", "width", width)
        generator = resolve_rng(rng) if rng is not None else None
        if stem == "imagenet":
            self.stem = Sequential(
                Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False, rng=generator,
                       dtype=dtype),
                BatchNorm2d(width, dtype=dtype), ReLU(), MaxPool2d(3, stride=2, padding=1))
        else:
            self.stem = Sequential(
                Conv2d(in_channels, width, 3, padding=1, bias=False, rng=generator, dtype=dtype),
                BatchNorm2d(width, dtype=dtype), ReLU())
        stages: list[Module] = []
        channels = width
        for index, count in enumerate(self.blocks):
            out_channels = width * 2**index
            for b in range(count):
                stride = 2 if index > 0 and b == 0 else 1
                stages.append(BasicBlock(channels, out_channels, stride, rng=generator,
                                         dtype=dtype))
                channels = out_channels
        self.stages = Sequential(*stages)
        self.pool = GlobalAvgPool2d()
        self.fc = Linear(channels, self.num_classes, rng=generator, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))))


def resnet18(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
             rng: Any = None, dtype: Any = None) -> ResNet:
    """ResNet-18: [2, 2, 2, 2] basic blocks (11.7 million parameters with 1000 classes)."""
    return ResNet((2, 2, 2, 2), num_classes, in_channels, stem, 64, rng, dtype)


def resnet34(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
             rng: Any = None, dtype: Any = None) -> ResNet:
    """ResNet-34: [3, 4, 6, 3] basic blocks."""
    return ResNet((3, 4, 6, 3), num_classes, in_channels, stem, 64, rng, dtype)
