"""LeNet-5 and ResNet: shapes and parameter counts against PyTorch, and learning real digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from helpers import torch_models
from steepest import gradcheck_model


def test_lenet5_matches_the_same_network_in_torch() -> None:
    ours = st.models.LeNet5(rng=0)
    theirs = torch_models.lenet5()
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters()) == 61706
    state = list(ours.state_dict().values())
    theirs.load_state_dict({k: torch.from_numpy(v.copy())
                            for k, v in zip(theirs.state_dict(), state)})
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_lenet5_shapes_shrink_and_fc_layers_hold_most_parameters() -> None:
    # C8: height and width go down, channels up; most parameters are in the FC layers.
    net = st.models.LeNet5(input_size=32, pooling="avg", activation="tanh")
    x = np.zeros((1, 1, 32, 32), dtype=np.float32)
    shapes = []
    for layer in net.features:
        x = layer(x)
        shapes.append(x.shape[1:])
    assert shapes[2] == (6, 14, 14) and shapes[5] == (16, 5, 5)
    fc = sum(p.size for p in net.classifier.parameters())
    assert fc / net.num_parameters() > 0.9


def test_lenet5_gradcheck_on_a_tiny_batch() -> None:
    net = st.models.LeNet5(num_classes=3, rng=0)
    X = np.random.default_rng(0).random((2, 1, 28, 28))
    report = gradcheck_model(net, F.cross_entropy, X, np.array([0, 2]), max_checks=400)
    assert report.passed, str(report)


@pytest.mark.slow  # 10 epochs of 4,000 digits: about 4.5 s on 2 cores
def test_lenet5_learns_real_digits_to_97_percent() -> None:
    images, labels = st.data.datasets.load_mnist_sample()
    X = images[:, None].astype(np.float32) / 255
    order = np.random.default_rng(0).permutation(len(X))
    train, dev = order[:4000], order[4000:]
    st.seed(0)
    model = st.models.LeNet5(rng=0)
    optimizer = st.optim.Adam(model.parameters(), lr=st.optim.ExponentialDecay(3e-3, 0.8))
    history = st.train.fit(model, X[train], labels[train], dev=(X[dev], labels[dev]),
                           optimizer=optimizer, epochs=10, batch_size=64, rng=0, verbose=0,
                           augment=st.data.augment.RandomCrop(28, padding=2),
                           callbacks=[st.train.EarlyStopping("dev_accuracy", patience=10)])
    assert max(history["dev_accuracy"]) >= 0.97
    assert st.train.evaluate(model, X[dev], labels[dev])["accuracy"] >= 0.97


@pytest.mark.parametrize("stem,size,classes,expected", [
    ("imagenet", 64, 1000, 11_689_512), ("cifar", 32, 10, 11_173_962)])
def test_resnet18_parameter_count(stem, size, classes, expected) -> None:
    # 11,689,512 is torchvision's resnet18 (ImageNet) count.
    net = st.models.resnet18(num_classes=classes, stem=stem)
    assert net.num_parameters() == expected
    net.eval()
    assert net(np.zeros((1, 3, size, size), dtype=np.float32)).shape == (1, classes)


def test_residual_block_matches_torch() -> None:
    block = st.models.BasicBlock(4, 8, stride=2, rng=0)
    reference = torch_models.BasicBlock(4, 8, 2)
    ours = block.state_dict()
    names = {"shortcut.0.weight": "shortcut.0.weight", "shortcut.1.gamma": "shortcut.1.weight",
             "shortcut.1.beta": "shortcut.1.bias"}
    mapped = {}
    for key, value in ours.items():
        key = names.get(key, key.replace("gamma", "weight").replace("beta", "bias"))
        mapped[key] = torch.from_numpy(value.copy())
    reference.load_state_dict(mapped, strict=False)
    x = np.random.default_rng(0).standard_normal((2, 4, 6, 6)).astype(np.float32)
    tx = torch.from_numpy(x)
    out_ref = reference(tx)
    np.testing.assert_allclose(block(x).data, out_ref.detach().numpy(), rtol=1e-4, atol=1e-4)


def test_residual_block_can_be_the_identity() -> None:
    # With conv2's weights at zero, z[l+2] = beta = 0 and a[l+2] = relu(a[l]) = a[l].
    block = st.models.BasicBlock(3, 3)
    block.conv2.weight.data[...] = 0
    x = np.abs(np.random.default_rng(0).standard_normal((2, 3, 4, 4))).astype(np.float32)
    np.testing.assert_allclose(block(x).data, x, rtol=1e-6)


def test_resnet_gradcheck_tiny() -> None:
    net = st.models.ResNet(blocks=[1, 1], num_classes=3, stem="cifar", width=2, rng=0)
    X = np.random.default_rng(0).standard_normal((3, 3, 6, 6))
    report = gradcheck_model(net, F.cross_entropy, X, np.array([0, 1, 2]), max_checks=300)
    assert report.passed, str(report)
