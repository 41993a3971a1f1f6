"""The Inception module and GoogLeNet (concepts K5, K6, K7).

Instead of choosing a filter size, an Inception module runs 1x1, 3x3 and 5x5
convolutions and a max pooling side by side and stacks their outputs along the
channels; 1x1 "bottleneck" convolutions in front of the 3x3 and 5x5 ones (K5) keep
the cost down. GoogLeNet stacks nine of them, with two side classifiers
(auxiliary heads) that add their losses during training (K7).
"""

from __future__ import annotations

from typing import Any

from .._validation import ShapeError, one_of, positive_int, real
from ..autograd import Tensor
from ..backend import resolve_rng
from ..nn.activation import Flatten, ReLU
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.dropout import Dropout
from ..nn.init import InitName
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from ..ops import concatenate
from ..tasks import Auxiliary, Task
from .alexnet import _classification
from .base import Model


def _conv_relu(in_channels: int, out_channels: int, kernel_size: int, init: Any, rng: Any,
               dtype: Any, stride: int = 1) -> Sequential:
    return Sequential(Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                             padding=kernel_size // 2, init=init, rng=rng, dtype=dtype), ReLU())


class InceptionModule(Module):
    """One Inception module (K6): four branches, outputs stacked along the channels.

    1x1 conv (``ch1x1``) | 1x1 conv (``ch3x3_reduce``) -> 3x3 conv (``ch3x3``) |
    1x1 conv (``ch5x5_reduce``) -> 5x5 conv (``ch5x5``) | 3x3 max pool (stride 1,
    "same") -> 1x1 conv (``pool_proj``); each convolution "same" and followed by
    ReLU. Height and width are kept; the output has
    ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` channels.

    The seed's example: on 28x28x192, 64 1x1 filters, 128 3x3, 32 5x5 and 32 after
    the pooling give 28x28x256; a 5x5 "same" convolution straight to 32 channels
    would cost 28*28*32 * 5*5*192 = 120.4 million multiplications, through a 1x1
    bottleneck of 16 channels 2.4 + 10.0 = 12.4 million (K5).

    Args:
        in_channels: channels of the input.
        ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj: filter counts of
            the branches, in GoogLeNet's table order.
        rng: generator or seed.
        dtype: parameter dtype.
        init: weight initialisation.

    Shape:
        (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).

    Example:
        >>> import numpy as np
        >>> module = InceptionModule(192, 64, 96, 128, 16, 32, 32)
        >>> module(np.zeros((1, 192, 28, 28), dtype=np.float32)).shape
        (1, 256, 28, 28)
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3_reduce: int, ch3x3: int,
                 ch5x5_reduce: int, ch5x5: int, pool_proj: int, rng: Any = None,
                 dtype: Any = None, init: InitName = "he") -> None:
        super().__init__()
        names = ("in_channels", "ch1x1", "ch3x3_reduce", "ch3x3", "ch5x5_reduce", "ch5x5",
                 "pool_proj")
        values = (in_channels, ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj)
        for name, value in zip(names, values):
            positive_int("InceptionModule", name, value)
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        g = resolve_rng(rng) if rng is not None else None
        self.branch1 = _conv_relu(in_channels, ch1x1, 1, init, g, dtype)
        self.branch2 = Sequential(_conv_relu(in_channels, ch3x3_reduce, 1, init, g, dtype),
                                  _conv_relu(ch3x3_reduce, ch3x3, 3, init, g, dtype))
        self.branch3 = Sequential(_conv_relu(in_channels, ch5x5_reduce, 1, init, g, dtype),
                                  _conv_relu(ch5x5_reduce, ch5x5, 5, init, g, dtype))
        self.branch4 = Sequential(MaxPool2d(3, stride=1, padding=1),
                                  _conv_relu(in_channels, pool_proj, 1, init, g, dtype))

    def forward(self, x: Any) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return concatenate(branches, axis=1)  # (N, out_channels, H, W)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, out_channels={self.out_channels}"


#: GoogLeNet's nine modules (Szegedy et al., 2014, table 1): in, 1x1, 3x3 reduce, 3x3,
#: 5x5 reduce, 5x5, pool proj.
GOOGLENET_MODULES: dict[str, tuple[int, ...]] = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


class AuxiliaryHead(Module):
    """GoogLeNet's side classifier (K7): average pool 5x5/3 -> 1x1 conv 128 -> FC 1024 -> FC.

    On a map smaller than 5x5 (small inputs) the pooling is global instead.

    Args:
        in_channels: channels of the map it reads.
        num_classes: outputs.
        side: height = width of that map.
        width: multiplies the 128 and 1024 channel counts.
        keep_prob: dropout keep probability before the last FC (0.3).
        rng: generator or seed.
        dtype: parameter dtype.
        init: weight initialisation.

    Example:
        >>> import numpy as np
        >>> head = AuxiliaryHead(512, 10, side=14)
        >>> head(np.zeros((2, 512, 14, 14), dtype=np.float32)).shape
        (2, 10)
    """

    def __init__(self, in_channels: int, num_classes: int, side: int, width: float = 1.0,
                 keep_prob: float = 0.3, rng: Any = None, dtype: Any = None,
                 init: InitName = "he") -> None:
        super().__init__()
        g = resolve_rng(rng) if rng is not None else None
        pooled = (side - 5) // 3 + 1 if side >= 5 else 1
        conv, hidden = _scaled(128, width), _scaled(1024, width)
        pool: Module = AvgPool2d(5, stride=3) if side >= 5 else GlobalAvgPool2d()
        self.layers = Sequential(
            pool, *([] if side >= 5 else [_Unflatten()]),
            _conv_relu(in_channels, conv, 1, init, g, dtype), Flatten(),
            Linear(conv * pooled * pooled, hidden, init=init, rng=g, dtype=dtype), ReLU(),
            *([Dropout(keep_prob, rng=g)] if keep_prob < 1.0 else []),
            Linear(hidden, num_classes, init=init, rng=g, dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        return self.layers(x)


class _Unflatten(Module):
    """(N, C) -> (N, C, 1, 1), after a global pooling."""

    def forward(self, x: Any) -> Tensor:
        return x.reshape(x.shape[0], x.shape[1], 1, 1)


class GoogLeNet(Model):
    """Szegedy et al.'s GoogLeNet (K7): nine Inception modules and two side classifiers.

    stem: CONV 7x7/2, 64 -> MAX 3x3/2 -> CONV 1x1, 64 -> CONV 3x3, 192 -> MAX 3x3/2;
    modules 3a, 3b -> MAX -> 4a ... 4e -> MAX -> 5a, 5b -> global average pool ->
    dropout -> FC. On 224x224 images height and width shrink
    224 -> 112 -> 56 -> 28 -> 14 -> 7 while the channels grow
    64 -> 192 -> 480 -> 832 -> 1024. Side classifiers after 4a and 4d (average pool
    5x5/3, 1x1 conv 128, FC 1024, dropout, FC) predict the same classes from the
    middle of the network; their losses, weighted 0.3, push the hidden features to
    be useful on their own and regularise (K7). They exist only in training: in
    training mode the call returns ``(main, aux1, aux2)``, in eval mode ``main``,
    and :meth:`default_task` is an :class:`~steepest.tasks.Auxiliary` task that
    adds the side losses in ``fit`` and reads only the main output elsewhere.

    Local response normalisation is left out. Batch norm is not used (the 2014
    network predates it). 13,378,280 parameters with 1000 classes and the side
    classifiers, 6,998,552 without them.

    Args:
        num_classes: outputs (logits).
        aux_logits: build the two side classifiers.
        aux_weight: the weight of each side classifier's loss (0.3 in the paper).
        in_channels: image channels.
        input_size: height = width of the images (224; any size from 16 works:
            28x28 digits or 32x32 CIFAR images end in a 1x1 map).
        width: multiplies every channel count (1.0 is the paper's network; 1/8 a
            toy that trains on a CPU).
        keep_prob: dropout keep probability before the last FC (0.6: 40% dropped).
        aux_keep_prob: the same in the side classifiers (0.3: 70% dropped).
        rng: generator or seed.
        dtype: parameter dtype.
        init: weight initialisation ("zeros" builds the network instantly).

    Example:
        >>> import numpy as np
        >>> net = GoogLeNet(num_classes=10, in_channels=1, input_size=28, width=1 / 16,
        ...                 rng=0)
        >>> main, aux1, aux2 = net(np.zeros((2, 1, 28, 28), dtype=np.float32))  # training
        >>> main.shape, aux1.shape
        ((2, 10), (2, 10))
        >>> net.eval()(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape
        (2, 10)
        >>> net.default_task()
        Auxiliary(task=Classification(num_classes=10), weight=0.3)
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, aux_weight: float = 0.3,
                 in_channels: int = 3, input_size: int = 224, width: float = 1.0,
                 keep_prob: float = 0.6, aux_keep_prob: float = 0.3, rng: Any = None,
                 dtype: Any = None, init: InitName = "he") -> None:
        super().__init__()
        self.num_classes = positive_int("GoogLeNet", "num_classes", num_classes)
        self.aux_logits = one_of("GoogLeNet", "aux_logits", aux_logits, (True, False))
        self.aux_weight = real("GoogLeNet", "aux_weight", aux_weight, low=0.0)
        self.input_size = positive_int("GoogLeNet", "input_size", input_size)
        if self.input_size < 16:
            raise ShapeError(f"GoogLeNet: `input_size` must be at least 16 (the network "
                             f"halves the image four times); got {input_size}")
        self.width = real("GoogLeNet", "width", width, low=0.0, low_inclusive=False)
        keep = real("GoogLeNet", "keep_prob", keep_prob, low=0.0, low_inclusive=False, high=1.0)
        aux_keep = real("GoogLeNet", "aux_keep_prob", aux_keep_prob, low=0.0,
                        low_inclusive=False, high=1.0)
        g = resolve_rng(rng) if rng is not None else None

        def c(channels: int) -> int:
            return _scaled(channels, self.width)

        def module(name: str) -> InceptionModule:
            i, a, b, d, e, f, h = (c(v) for v in GOOGLENET_MODULES[name])
            return InceptionModule(i, a, b, d, e, f, h, rng=g, dtype=dtype, init=init)

        def halve(side: int) -> int:  # a 3x3/2 max pooling (or 7x7/2 conv) with padding
            return (side - 1) // 2 + 1

        self.stem = Sequential(
            _conv_relu(in_channels, c(64), 7, init, g, dtype, stride=2),
            MaxPool2d(3, stride=2, padding=1),
            _conv_relu(c(64), c(64), 1, init, g, dtype),
            _conv_relu(c(64), c(192), 3, init, g, dtype),
            MaxPool2d(3, stride=2, padding=1))
        self.stage3 = Sequential(module("3a"), module("3b"), MaxPool2d(3, stride=2, padding=1))
        self.inception4a = module("4a")
        self.stage4 = Sequential(module("4b"), module("4c"), module("4d"))
        self.inception4e = Sequential(module("4e"), MaxPool2d(3, stride=2, padding=1))
        self.stage5 = Sequential(module("5a"), module("5b"))
        self.pool = GlobalAvgPool2d()
        self.dropout = Dropout(keep, rng=g) if keep < 1.0 else None
        self.fc = Linear(c(1024), self.num_classes, init=init, rng=g, dtype=dtype)
        side = halve(halve(halve(halve(self.input_size))))  # at 4a
        if self.aux_logits:
            self.aux1: Module | None = AuxiliaryHead(c(512), self.num_classes, side, self.width,
                                                     aux_keep, rng=g, dtype=dtype, init=init)
            self.aux2: Module | None = AuxiliaryHead(c(528), self.num_classes, side, self.width,
                                                     aux_keep, rng=g, dtype=dtype, init=init)
        else:
            self.add_module("aux1", None)
            self.add_module("aux2", None)

    def default_task(self) -> Task:
        """:class:`~steepest.tasks.Auxiliary` over the classification (side losses weighted
        ``aux_weight``), or the plain classification without side classifiers."""
        task = _classification(self.num_classes)
        return Auxiliary(task, weight=self.aux_weight) if self.aux_logits else task

    def forward(self, x: Any) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        x = self.inception4a(self.stage3(self.stem(x)))
        side1 = self.aux1(x) if self.training and self.aux1 is not None else None
        x = self.stage4(x)
        side2 = self.aux2(x) if self.training and self.aux2 is not None else None
        x = self.pool(self.stage5(self.inception4e(x)))
        if self.dropout is not None:
            x = self.dropout(x)
        main = self.fc(x)
        if side1 is not None and side2 is not None:
            return main, side1, side2
        return main
