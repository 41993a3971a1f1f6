"""LeNet-5 (concepts K1, C6, C8)."""

from __future__ import annotations

from typing import Any

from .._validation import one_of, positive_int
from ..autograd import Tensor
from ..backend import resolve_rng
from ..nn.activation import Flatten, ReLU, Tanh
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.init import InitName
from ..nn.linear import Linear
from ..nn.pooling import AvgPool2d, MaxPool2d
from ..tasks import Binary, Classification, Task
from .base import Model


class LeNet5(Model):
    """LeCun et al.'s LeNet-5: CONV-POOL-CONV-POOL-FC-FC-output (K1).

    conv 5x5, 6 filters -> pool 2x2 -> conv 5x5, 16 filters -> pool 2x2 -> FC 120 ->
    FC 84 -> FC num_classes. The seed counts layers by those with weights (conv +
    pool is one layer), notes that height and width shrink while channels grow,
    and that most parameters sit in the fully connected layers (C8): here 48,120 of
    the 61,706 for MNIST.

    The 1998 network took 32x32 images and used tanh-like units and average
    pooling; the defaults here are the modern ReLU and max pooling, and 28x28
    inputs (MNIST) get 2 pixels of padding in the first convolution, so the shapes
    are the paper's from there on: 28 -> 14 -> 10 -> 5.

    Args:
        num_classes: outputs of the last layer (logits; softmax by default).
        in_channels: 1 for grayscale, 3 for colour.
        input_size: 28 or 32.
        activation: "relu" or "tanh".
        pooling: "max" or "avg".
        rng: generator or seed for the initial weights.
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> net = LeNet5()
        >>> net(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape
        (2, 10)
        >>> net.num_parameters()
        61706
    """

    def default_task(self) -> Task:
        """Classification over ``num_classes`` (a binary task for one output unit)."""
        return Classification(self.num_classes) if self.num_classes > 1 else Binary()


    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
                 activation: str = "relu", pooling: str = "max", rng: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_classes = positive_int("LeNet5", "num_classes", num_classes)
        self.in_channels = positive_int("LeNet5", "in_channels", in_channels)
        self.input_size = one_of("LeNet5", "input_size", input_size, (28, 32))
        self.activation = one_of("LeNet5", "activation", activation, ("relu", "tanh"))
        self.pooling = one_of("LeNet5", "pooling", pooling, ("max", "avg"))
        act = ReLU if activation == "relu" else Tanh
        pool = MaxPool2d if pooling == "max" else AvgPool2d
        init: InitName = "he" if activation == "relu" else "xavier"
        generator = resolve_rng(rng) if rng is not None else None
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=(32 - input_size) // 2, init=init, rng=generator,
                   dtype=dtype),
            act(), pool(2),
            Conv2d(6, 16, 5, init=init, rng=generator, dtype=dtype), act(), pool(2),
        )
        self.classifier = Sequential(
            Flatten(),
            Linear(16 * 5 * 5, 120, init=init, rng=generator, dtype=dtype), act(),
            Linear(120, 84, init=init, rng=generator, dtype=dtype), act(),
            Linear(84, num_classes, init=init, rng=generator, dtype=dtype),
        )

    @classmethod
    def pretrained(cls) -> LeNet5:
        """The LeNet-5 shipped with steepest, trained on the embedded MNIST digits (K8).

        ``scripts/train_pretrained_lenet.py`` trains it reproducibly: seed 0, the
        first 4,500 of a seeded shuffle of the 5,000 embedded digits (the last 500
        are its dev set), inputs scaled to [0, 1], ReLU and max pooling, 28x28 inputs.
        It is a starting point for transfer learning (``steepest.transfer``): freeze
        it, replace its head, and train on a small set of your own digits.

        Returns:
            A LeNet5 in eval mode (10 classes; 97.8% accuracy on its 500 dev digits).

        Example:
            >>> import numpy as np
            >>> import steepest as st
            >>> net = LeNet5.pretrained()
            >>> images, labels = st.data.datasets.load_mnist_sample()
            >>> float((net.predict(images[::50, None] / 255.0) == labels[::50]).mean()) > 0.95
            True
        """
        from importlib import resources

        from safetensors.numpy import load_file

        net = cls(rng=0)
        path = resources.files(__package__).joinpath("weights/lenet5_mnist.safetensors")
        with resources.as_file(path) as file:
            net.load_state_dict(load_file(str(file)))
        return net.eval()  # type: ignore[return-value]

    def forward(self, x: Any) -> Tensor:
        return self.classifier(self.features(x))
