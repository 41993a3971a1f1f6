"""AlexNet (concept K2): LeNet's recipe, much bigger, with ReLU and dropout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._validation import ShapeError, positive_int, real
from ..autograd import Tensor
from ..backend import resolve_rng
from ..nn.activation import Flatten, ReLU
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.dropout import Dropout
from ..nn.init import InitName
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.pooling import MaxPool2d
from ..tasks import Binary, Classification, Task
from .base import Model


def _classification(num_classes: int) -> Task:
    return Classification(num_classes) if num_classes > 1 else Binary()


class AlexNet(Model):
    """Krizhevsky, Sutskever and Hinton's ImageNet network (K2), laid out as the seed draws it.

    227x227x3 -> CONV 11x11/4, 96 -> 55x55x96 -> MAX 3x3/2 -> 27x27x96 -> CONV 5x5 same,
    256 -> 27x27x256 -> MAX 3x3/2 -> 13x13x256 -> CONV 3x3 same, 384 -> 384 -> 256 ->
    13x13x256 -> MAX 3x3/2 -> 6x6x256 = 9216 -> FC 4096 -> FC 4096 -> softmax 1000.
    Height and width shrink (227 -> 55 -> 27 -> 13 -> 6) while the channels grow
    (3 -> 96 -> 256 -> 384). About 60 million parameters (62,378,344 with 1000
    classes), almost all of them in the fully connected layers. The paper's local
    response normalisation is left out (later work found it does not help) and the
    two-GPU split is not reproduced: this is the single-tower network of the seed.

    Args:
        num_classes: outputs (logits).
        in_channels: image channels.
        input_size: height = width of the images (227 by default; at least 67, the
            smallest size that leaves a 1x1 map after the last pooling).
        channels: the five convolutions' filter counts (smaller for a trainable
            toy: the layout stays the same).
        hidden: units of each of the two hidden fully connected layers.
        keep_prob: dropout keep probability before each hidden FC layer (0.5 in the
            paper; 1.0 for none).
        init: weight initialisation ("he"; "zeros" builds the full-size network
            instantly, e.g. to count its parameters).
        rng: generator or seed for the initial weights and the dropout masks.
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> net = AlexNet(num_classes=10, input_size=67, channels=(8, 16, 16, 16, 16),
        ...               hidden=32, rng=0)
        >>> net.feature_shapes()     # (C, H, W) after each pooling
        [(8, 7, 7), (16, 3, 3), (16, 1, 1)]
        >>> net(np.zeros((2, 3, 67, 67), dtype=np.float32)).shape
        (2, 10)
        >>> AlexNet(init="zeros").num_parameters()
        62378344
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, input_size: int = 227,
                 channels: Sequence[int] = (96, 256, 384, 384, 256), hidden: int = 4096,
                 keep_prob: float = 0.5, init: InitName = "he", rng: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_classes = positive_int("AlexNet", "num_classes", num_classes)
        self.in_channels = positive_int("AlexNet", "in_channels", in_channels)
        self.input_size = positive_int("AlexNet", "input_size", input_size)
        widths = [positive_int("AlexNet", "channels", c) for c in channels]
        if len(widths) != 5:
            raise ValueError(f"AlexNet: `channels` needs 5 filter counts (one per "
                             f"convolution); got {len(widths)}")
        self.hidden = positive_int("AlexNet", "hidden", hidden)
        self.keep_prob = real("AlexNet", "keep_prob", keep_prob, low=0.0, low_inclusive=False,
                              high=1.0)
        side = self._final_side(self.input_size)
        if side < 1:
            raise ShapeError(f"AlexNet: `input_size` must be at least 67 (the 11x11/4 "
                             f"convolution and three 3x3/2 poolings leave nothing of a "
                             f"smaller image); got {input_size}")
        g = resolve_rng(rng) if rng is not None else None
        c1, c2, c3, c4, c5 = widths
        self.features = Sequential(
            Conv2d(in_channels, c1, 11, stride=4, init=init, rng=g, dtype=dtype), ReLU(),
            MaxPool2d(3, stride=2),
            Conv2d(c1, c2, 5, padding=2, init=init, rng=g, dtype=dtype), ReLU(),
            MaxPool2d(3, stride=2),
            Conv2d(c2, c3, 3, padding=1, init=init, rng=g, dtype=dtype), ReLU(),
            Conv2d(c3, c4, 3, padding=1, init=init, rng=g, dtype=dtype), ReLU(),
            Conv2d(c4, c5, 3, padding=1, init=init, rng=g, dtype=dtype), ReLU(),
            MaxPool2d(3, stride=2),
        )
        self.classifier = Sequential(
            Flatten(),
            *_dropout(self.keep_prob, g),
            Linear(c5 * side * side, hidden, init=init, rng=g, dtype=dtype), ReLU(),
            *_dropout(self.keep_prob, g),
            Linear(hidden, hidden, init=init, rng=g, dtype=dtype), ReLU(),
            Linear(hidden, num_classes, init=init, rng=g, dtype=dtype),
        )

    @staticmethod
    def _final_side(size: int) -> int:
        side = (size - 11) // 4 + 1  # conv 11x11/4
        for _ in range(3):           # three 3x3/2 poolings (the convolutions are "same")
            side = (side - 3) // 2 + 1
        return side

    def feature_shapes(self) -> list[tuple[int, int, int]]:
        """(channels, height, width) after each of the three max poolings."""
        side = (self.input_size - 11) // 4 + 1
        shapes = []
        convs = [m for m in self.features if isinstance(m, Conv2d)]
        for conv in (convs[0], convs[1], convs[4]):
            side = (side - 3) // 2 + 1
            shapes.append((conv.out_channels, side, side))
        return shapes

    def default_task(self) -> Task:
        """Classification over ``num_classes`` (a binary task for one output unit)."""
        return _classification(self.num_classes)

    def forward(self, x: Any) -> Tensor:
        return self.classifier(self.features(x))


def _dropout(keep_prob: float, rng: Any) -> list[Module]:
    return [Dropout(keep_prob, rng=rng)] if keep_prob < 1.0 else []
