"""The same architectures in PyTorch, as oracles for tests and references for benchmarks."""

from __future__ import annotations

import torch
from torch import nn


def lenet5() -> nn.Sequential:
    """LeNet-5 for 28x28 inputs, laid out like ``steepest.models.LeNet5``."""
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


class BasicBlock(nn.Module):
    """The residual block of ``steepest.models.BasicBlock``."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.shortcut is None else self.shortcut(x)))


def resnet18_cifar(num_classes: int = 10) -> nn.Sequential:
    """ResNet-18 with the CIFAR stem, like ``steepest.models.resnet18(stem="cifar")``."""
    blocks, cin = [], 64
    for index in range(4):
        cout = 64 * 2**index
        for b in range(2):
            blocks.append(BasicBlock(cin, cout, 2 if index and not b else 1))
            cin = cout
    return nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                         *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(512, num_classes))


# ---------------------------------------------------------------- the model zoo (issue 10)
# Module names match steepest's, so steepest.transfer.load_torch_weights maps them directly.
def alexnet(num_classes: int = 1000, in_channels: int = 3, input_size: int = 227,
            channels: tuple[int, ...] = (96, 256, 384, 384, 256), hidden: int = 4096) -> nn.Module:
    """AlexNet as the seed lays it out, like ``steepest.models.AlexNet``."""
    c1, c2, c3, c4, c5 = channels
    side = (input_size - 11) // 4 + 1
    for _ in range(3):
        side = (side - 3) // 2 + 1
    net = nn.Module()
    net.features = nn.Sequential(
        nn.Conv2d(in_channels, c1, 11, 4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
    net.classifier = nn.Sequential(
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(c5 * side * side, hidden), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
    net.forward = lambda x: net.classifier(net.features(x))  # type: ignore[method-assign]
    return net


def vgg16(num_classes: int = 1000, in_channels: int = 3, input_size: int = 224,
          channels: tuple[int, ...] = (64, 128, 256, 512, 512), hidden: int = 4096) -> nn.Module:
    """VGG-16 (torchvision's, without the adaptive pooling), like ``steepest.models.VGG16``."""
    layers: list[nn.Module] = []
    previous = in_channels
    for count, width in zip((2, 2, 3, 3, 3), channels):
        for _ in range(count):
            layers += [nn.Conv2d(previous, width, 3, padding=1), nn.ReLU()]
            previous = width
        layers.append(nn.MaxPool2d(2))
    side = input_size // 32
    net = nn.Module()
    net.features = nn.Sequential(*layers)
    net.classifier = nn.Sequential(
        nn.Flatten(), nn.Linear(previous * side * side, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, num_classes))
    net.forward = lambda x: net.classifier(net.features(x))  # type: ignore[method-assign]
    return net


class Bottleneck(nn.Module):
    """torchvision's bottleneck block (stride on the 3x3), like ``steepest.models.Bottleneck``."""

    expansion = 4

    def __init__(self, cin: int, channels: int, stride: int) -> None:
        super().__init__()
        cout = channels * 4
        self.conv1 = nn.Conv2d(cin, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(nn.Module):
    """A ResNet named like ``steepest.models.ResNet`` (stem, stages, fc)."""

    def __init__(self, blocks: tuple[int, ...], block: str = "basic", num_classes: int = 1000,
                 in_channels: int = 3, stem: str = "imagenet", width: int = 64) -> None:
        super().__init__()
        unit = Bottleneck if block == "bottleneck" else BasicBlock
        if stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU())
        stages, cin = [], width
        for index, count in enumerate(blocks):
            cout = width * 2**index
            for b in range(count):
                stages.append(unit(cin, cout, 2 if index and not b else 1))
                cin = cout * (4 if block == "bottleneck" else 1)
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.stages(self.stem(x)).mean(dim=(2, 3)))


def _conv_relu(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2), nn.ReLU())


class InceptionModule(nn.Module):
    """The Inception module of ``steepest.models.InceptionModule`` (same names)."""

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int,
                 pool_proj: int) -> None:
        super().__init__()
        self.branch1 = _conv_relu(cin, c1, 1)
        self.branch2 = nn.Sequential(_conv_relu(cin, c3r, 1), _conv_relu(c3r, c3, 3))
        self.branch3 = nn.Sequential(_conv_relu(cin, c5r, 1), _conv_relu(c5r, c5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), _conv_relu(cin, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class AuxiliaryHead(nn.Module):
    """GoogLeNet's side classifier, like ``steepest.models.AuxiliaryHead`` (map >= 5x5)."""

    def __init__(self, cin: int, num_classes: int, side: int, width: float = 1.0) -> None:
        super().__init__()
        conv, hidden = max(1, round(128 * width)), max(1, round(1024 * width))
        pooled = (side - 5) // 3 + 1 if side >= 5 else 1
        pool: nn.Module = nn.AvgPool2d(5, 3) if side >= 5 else nn.AdaptiveAvgPool2d(1)
        self.layers = nn.Sequential(pool, *([] if side >= 5 else [nn.Identity()]),
                                    _conv_relu(cin, conv, 1), nn.Flatten(),
                                    nn.Linear(conv * pooled * pooled, hidden), nn.ReLU(),
                                    nn.Dropout(0.7), nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


GOOGLENET_MODULES = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet (2014 paper, no LRN, no batch norm), like ``steepest.models.GoogLeNet``."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, input_size: int = 224,
                 width: float = 1.0, aux_logits: bool = True) -> None:
        super().__init__()

        def c(n: int) -> int:
            return max(1, round(n * width))

        def module(name: str) -> InceptionModule:
            return InceptionModule(*(c(v) for v in GOOGLENET_MODULES[name]))

        self.stem = nn.Sequential(_conv_relu(in_channels, c(64), 7, 2), nn.MaxPool2d(3, 2, 1),
                                  _conv_relu(c(64), c(64), 1), _conv_relu(c(64), c(192), 3),
                                  nn.MaxPool2d(3, 2, 1))
        self.stage3 = nn.Sequential(module("3a"), module("3b"), nn.MaxPool2d(3, 2, 1))
        self.inception4a = module("4a")
        self.stage4 = nn.Sequential(module("4b"), module("4c"), module("4d"))
        self.inception4e = nn.Sequential(module("4e"), nn.MaxPool2d(3, 2, 1))
        self.stage5 = nn.Sequential(module("5a"), module("5b"))
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(c(1024), num_classes)
        side = input_size
        for _ in range(4):
            side = (side - 1) // 2 + 1
        if aux_logits:
            self.aux1 = AuxiliaryHead(c(512), num_classes, side, width)
            self.aux2 = AuxiliaryHead(c(528), num_classes, side, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage4(self.inception4a(self.stage3(self.stem(x))))
        x = self.stage5(self.inception4e(x)).mean(dim=(2, 3))
        return self.fc(self.dropout(x))


def state_to_numpy(module: nn.Module) -> dict:
    """A torch module's state dict as NumPy arrays (for steepest's load_torch_weights)."""
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def randomize_batch_norm(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial gamma, beta and running statistics, so the import is tested on all four."""
    generator = torch.Generator().manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm2d):
            n = layer.num_features
            with torch.no_grad():
                layer.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                layer.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                layer.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                layer.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
