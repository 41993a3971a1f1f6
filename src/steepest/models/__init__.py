"""The model zoo: logistic regression, the L-layer network, LeNet-5, AlexNet, VGG-16,
ResNets, Inception/GoogLeNet and ensembles.

Every model returns logits and has ``predict`` / ``predict_proba``.
"""

from __future__ import annotations

from .alexnet import AlexNet
from .base import Model
from .ensemble import Ensemble
from .inception import AuxiliaryHead, GoogLeNet, InceptionModule
from .lenet import LeNet5
from .logistic import LogisticRegression
from .mlp import MLP
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from .vgg import VGG16

__all__ = ["MLP", "VGG16", "AlexNet", "AuxiliaryHead", "BasicBlock", "Bottleneck", "Ensemble",
           "GoogLeNet", "InceptionModule", "LeNet5", "LogisticRegression", "Model", "ResNet",
           "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
