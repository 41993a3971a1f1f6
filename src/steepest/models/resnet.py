"""Residual networks (concept K4): skip connections that let very deep networks train.

Two blocks: :class:`BasicBlock` (two 3x3 convolutions; ResNet-18/34) and
:class:`Bottleneck` (1x1 reduce, 3x3, 1x1 expand; ResNet-50/101/152). The seed's
"identity block" is a block whose shortcut is the input itself, its "convolutional
block" one whose shortcut is a 1x1 convolution W_s (when the size or the channels
change): both classes are either, decided by their arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._validation import one_of, positive_int
from ..autograd import Tensor
from ..backend import resolve_rng
from ..nn.activation import ReLU
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.init import InitName
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

    expansion = 1
    shortcut: Module | None

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, rng: Any = None,
                 dtype: Any = None, init: InitName = "he") -> None:
        super().__init__()
        generator = resolve_rng(rng) if rng is not None else None
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False,
                            init=init, rng=generator, dtype=dtype)
        self.bn1 = BatchNorm2d(out_channels, dtype=dtype)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False, init=init,
                            rng=generator, dtype=dtype)
        self.bn2 = BatchNorm2d(out_channels, dtype=dtype)
        _add_shortcut(self, in_channels, out_channels, stride, init, generator, dtype)

    def forward(self, x: Any) -> Tensor:
        out = relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return relu(add(out, skip))


def _add_shortcut(block: Any, in_channels: int, out_channels: int, stride: int, init: Any,
                  rng: Any, dtype: Any) -> None:
    """The identity (None) or, when the size or the channels change, W_s: 1x1 conv + BN."""
    if stride != 1 or in_channels != out_channels:
        block.shortcut = Sequential(
            Conv2d(in_channels, out_channels, 1, stride=stride, bias=False, init=init, rng=rng,
                   dtype=dtype),
            BatchNorm2d(out_channels, dtype=dtype))
    else:
        block.add_module("shortcut", None)


class Bottleneck(Module):
    """The bottleneck residual block of ResNet-50/101/152 (He et al., 2015, K4, K5).

    1x1 convolution down to ``channels`` (cheap: the 1x1 "bottleneck" of K5), 3x3
    convolution at that width, 1x1 convolution up to ``4 * channels``, each with
    batch norm; the input skips ahead and is added before the last ReLU. With the
    same size and channels in and out it is the seed's *identity block*; with a
    stride of 2 or a change of channels the shortcut is a 1x1 convolution with
    batch norm (the *convolutional block*). The stride sits on the 3x3 convolution
    (torchvision's "ResNet v1.5"; the 2015 paper put it on the first 1x1): the same
    parameters, slightly better accuracy.

    Args:
        in_channels: channels of a[l].
        channels: the reduced width; the block outputs ``4 * channels``.
        stride: 1, or 2 to halve height and width.
        rng: generator or seed.
        dtype: parameter dtype.
        init: weight initialisation.

    Example:
        >>> import numpy as np
        >>> block = Bottleneck(256, 64)   # 256 -> 64 -> 64 -> 256: an identity block
        >>> block.shortcut is None, block.num_parameters()
        (True, 70400)
        >>> Bottleneck(8, 4, stride=2)(np.zeros((2, 8, 6, 6), dtype=np.float32)).shape
        (2, 16, 3, 3)
    """

    expansion = 4
    shortcut: Module | None

    def __init__(self, in_channels: int, channels: int, stride: int = 1, rng: Any = None,
                 dtype: Any = None, init: InitName = "he") -> None:
        super().__init__()
        generator = resolve_rng(rng) if rng is not None else None
        out_channels = channels * self.expansion
        self.conv1 = Conv2d(in_channels, channels, 1, bias=False, init=init, rng=generator,
                            dtype=dtype)
        self.bn1 = BatchNorm2d(channels, dtype=dtype)
        self.conv2 = Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False,
                            init=init, rng=generator, dtype=dtype)
        self.bn2 = BatchNorm2d(channels, dtype=dtype)
        self.conv3 = Conv2d(channels, out_channels, 1, bias=False, init=init, rng=generator,
                            dtype=dtype)
        self.bn3 = BatchNorm2d(out_channels, dtype=dtype)
        _add_shortcut(self, in_channels, out_channels, stride, init, generator, dtype)

    def forward(self, x: Any) -> Tensor:
        out = relu(self.bn1(self.conv1(x)))
        out = relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return relu(add(out, skip))


BLOCKS: dict[str, type[BasicBlock] | type[Bottleneck]] = {
    "basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(Model):
    """A ResNet: stem, stages of residual blocks, global average pool, FC.

    Each stage after the first halves height and width and doubles the channels
    (with the ImageNet stem: 224 -> 112 -> 56 -> 28 -> 14 -> 7, channels 64 -> 128
    -> 256 -> 512, times 4 for bottleneck blocks).

    Args:
        blocks: blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18, [3, 4, 6, 3] with
            bottleneck blocks for ResNet-50.
        num_classes: outputs (logits; softmax by default).
        in_channels: image channels.
        stem: "imagenet" (7x7 stride-2 conv and a 3x3 max pool, for 224x224 images)
            or "cifar" (one 3x3 conv, for 32x32 images).
        width: channels of the first stage (doubled at each later stage).
        block: "basic" (:class:`BasicBlock`) or "bottleneck" (:class:`Bottleneck`).
        rng: generator or seed.
        dtype: parameter dtype.
        init: weight initialisation ("zeros" builds a full-size network instantly,
            e.g. to count its parameters).

    Example:
        >>> import numpy as np
        >>> net = resnet18(num_classes=10, stem="cifar", init="zeros")
        >>> net(np.zeros((2, 3, 32, 32), dtype=np.float32)).shape
        (2, 10)
    """

    def default_task(self) -> Task:
        """Classification over ``num_classes`` (a binary task for one output unit)."""
        return Classification(self.num_classes) if self.num_classes > 1 else Binary()


    def __init__(self, blocks: Sequence[int] = (2, 2, 2, 2), num_classes: int = 1000,
                 in_channels: int = 3, stem: str = "imagenet", width: int = 64,
                 rng: Any = None, dtype: Any = None, block: str = "basic",
                 init: InitName = "he") -> None:
        super().__init__()
        self.blocks = [positive_int("ResNet", "blocks", b) for b in blocks]
        self.block = one_of("ResNet", "block", block, tuple(BLOCKS))
        unit = BLOCKS[block]
        self.num_classes = positive_int("ResNet", "num_classes", num_classes)
        self.stem_kind = one_of("ResNet", "stem", stem, ("imagenet", "cifar"))
        width = positive_int("ResNet", "width", width)
        generator = resolve_rng(rng) if rng is not None else None
        if stem == "imagenet":
            self.stem = Sequential(
                Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False, init=init,
                       rng=generator, dtype=dtype),
                BatchNorm2d(width, dtype=dtype), ReLU(), MaxPool2d(3, stride=2, padding=1))
        else:
            self.stem = Sequential(
                Conv2d(in_channels, width, 3, padding=1, bias=False, init=init, rng=generator,
                       dtype=dtype),
                BatchNorm2d(width, dtype=dtype), ReLU())
        stages: list[Module] = []
        channels = width
        for index, count in enumerate(self.blocks):
            out_channels = width * 2**index
            for b in range(count):
                stride = 2 if index > 0 and b == 0 else 1
                stages.append(unit(channels, out_channels, stride, rng=generator, dtype=dtype,
                                   init=init))
                channels = out_channels * unit.expansion
        self.stages = Sequential(*stages)
        self.pool = GlobalAvgPool2d()
        self.fc = Linear(channels, self.num_classes, init=init, rng=generator, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))))


def resnet18(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
             rng: Any = None, dtype: Any = None, init: InitName = "he") -> ResNet:
    """ResNet-18: [2, 2, 2, 2] basic blocks (11.7 million parameters with 1000 classes)."""
    return ResNet((2, 2, 2, 2), num_classes, in_channels, stem, 64, rng, dtype, "basic", init)


def resnet34(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
             rng: Any = None, dtype: Any = None, init: InitName = "he") -> ResNet:
    """ResNet-34: [3, 4, 6, 3] basic blocks."""
    return ResNet((3, 4, 6, 3), num_classes, in_channels, stem, 64, rng, dtype, "basic", init)


def resnet50(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
             rng: Any = None, dtype: Any = None, init: InitName = "he") -> ResNet:
    """ResNet-50: [3, 4, 6, 3] bottleneck blocks (25,557,032 parameters with 1000 classes).

    Example:
        >>> resnet50(init="zeros").num_parameters()
        25557032
    """
    return ResNet((3, 4, 6, 3), num_classes, in_channels, stem, 64, rng, dtype, "bottleneck",
                  init)


def resnet101(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
              rng: Any = None, dtype: Any = None, init: InitName = "he") -> ResNet:
    """ResNet-101: [3, 4, 23, 3] bottleneck blocks (44,549,160 parameters with 1000 classes)."""
    return ResNet((3, 4, 23, 3), num_classes, in_channels, stem, 64, rng, dtype, "bottleneck",
                  init)


def resnet152(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
              rng: Any = None, dtype: Any = None, init: InitName = "he") -> ResNet:
    """ResNet-152: [3, 8, 36, 3] bottleneck blocks (60,192,808 parameters with 1000 classes)."""
    return ResNet((3, 8, 36, 3), num_classes, in_channels, stem, 64, rng, dtype, "bottleneck",
                  init)
