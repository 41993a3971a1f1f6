"""The model zoo: logistic regression, the L-layer network, LeNet-5 and ResNets.

Every model returns logits and has ``predict`` / ``predict_proba``.
"""

from __future__ import annotations

from .base import Model
from .lenet import LeNet5
from .logistic import LogisticRegression
from .mlp import MLP
from .resnet import BasicBlock, ResNet, resnet18, resnet34

__all__ = ["MLP", "BasicBlock", "LeNet5", "LogisticRegression", "Model", "ResNet", "resnet18",
           "resnet34"]
