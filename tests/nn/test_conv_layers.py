"""Convolutional, pooling and batch-norm layers: conformance, PyTorch parity, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest.functional as F
from helpers.layers import check_layer
from steepest import ShapeError, gradcheck_model, nn


@pytest.mark.parametrize("make,shape,expected", [
    (lambda: nn.Conv2d(3, 8, 3), (2, 3, 9, 9), (2, 8, 7, 7)),
    (lambda: nn.Conv2d(3, 8, 3, padding="same", bias=False), (2, 3, 9, 7), (2, 8, 9, 7)),
    (lambda: nn.Conv2d(4, 2, (3, 1), stride=(2, 1), padding=(1, 0)), (1, 4, 8, 6), (1, 2, 4, 6)),
    (lambda: nn.Conv2d(6, 3, 1), (2, 6, 5, 5), (2, 3, 5, 5)),
    (lambda: nn.MaxPool2d(2), (2, 3, 8, 8), (2, 3, 4, 4)),
    (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 3, 8, 8), (2, 3, 4, 4)),
    (lambda: nn.GlobalAvgPool2d(), (2, 3, 5, 5), (2, 3)),
    (lambda: nn.BatchNorm1d(5), (8, 5), (8, 5)),
    (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5), (4, 3, 5, 5)),
], ids=lambda v: v.__name__ if callable(v) else str(v))
def test_conformance(make, shape, expected) -> None:
    check_layer(make, shape, expected, train_eval_differ=isinstance(make(), nn.BatchNorm1d))


def test_batch_norm_modes_and_buffers() -> None:
    layer = nn.BatchNorm2d(3)
    x = np.random.default_rng(0).normal(2.0, 3.0, (16, 3, 4, 4)).astype(np.float32)
    for _ in range(30):
        layer(x)
    np.testing.assert_allclose(layer.running_mean, x.mean(axis=(0, 2, 3)), rtol=0.1)
    layer.eval()
    before = layer.running_mean.copy()
    out = layer(x).data
    np.testing.assert_array_equal(layer.running_mean, before)  # eval never updates them
    assert abs(out.mean()) < 0.1
    assert set(layer.state_dict()) == {"gamma", "beta", "running_mean", "running_var"}


def test_batch_norm_layer_matches_torch_after_steps() -> None:
    ours = nn.BatchNorm2d(4, momentum=0.8)
    theirs = torch.nn.BatchNorm2d(4, momentum=0.2)  # PyTorch's momentum = 1 - ours
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
        np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-5)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_parameter_count_does_not_depend_on_image_size() -> None:
    layer = nn.Conv2d(3, 10, 3)  # C5: 10 filters of 3x3x3 + 10 biases = 280
    assert layer.num_parameters() == 280
    for size in (8, 32, 100):
        layer(np.zeros((1, 3, size, size), dtype=np.float32))
    assert layer.num_parameters() == 280


def test_one_by_one_convolution_is_a_per_position_linear_layer() -> None:
    # K5: network in network.
    conv = nn.Conv2d(6, 4, 1, rng=0)
    x = np.random.default_rng(1).standard_normal((2, 6, 3, 5)).astype(np.float32)
    expected = np.einsum("oc,nchw->nohw", conv.weight.data[:, :, 0, 0], x) + \
        conv.bias.data[None, :, None, None]
    np.testing.assert_allclose(conv(x).data, expected, rtol=1e-5, atol=1e-6)


def test_conv_layer_matches_torch() -> None:
    ours = nn.Conv2d(3, 5, 3, stride=2, padding=1, rng=0)
    theirs = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 7)).astype(np.float32)
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_small_cnn_gradcheck() -> None:
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=0), nn.BatchNorm2d(3), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 3, 4, rng=0),
                        nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 3, rng=0))
    X = np.random.default_rng(0).standard_normal((5, 2, 6, 6))
    y = np.array([0, 1, 2, 1, 0])
    report = gradcheck_model(net, F.cross_entropy, X, y, regularization=nn.L2(0.1))
    assert report.passed, str(report)
    assert len(report.rows) == 10


@pytest.mark.parametrize("call,message", [
    (lambda: nn.Conv2d(3, 8, 3)(np.zeros((3, 28, 28), np.float32)),
     r"Conv2d\(in_channels=3, out_channels=8\): expected a 4-D input \(N, C, H, W\); got shape "
     r"\(3, 28, 28\) \(add the batch axis: x\[None\]\)"),
    (lambda: nn.Conv2d(3, 8, 3)(np.zeros((2, 1, 28, 28), np.float32)),
     r"Conv2d\(in_channels=3, out_channels=8\): input has 1 channels \(shape \(2, 1, 28, 28\)\); "
     r"expected 3"),
    (lambda: nn.Conv2d(3, 8, 3, stride=0), r"`stride` must be a positive int or a pair"),
    (lambda: nn.Conv2d(3, 8, 3, padding=-1), r"`padding` must be a non-negative int or a pair"),
    (lambda: nn.Conv2d(3, 8, 0), r"`kernel_size` must be a positive int or a pair"),
    (lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"), r"padding='same' needs stride 1"),
    (lambda: nn.MaxPool2d(5)(np.zeros((1, 1, 4, 4), np.float32)),
     r"kernel height 5 is larger than the padded input height 4"),
    (lambda: nn.BatchNorm2d(3)(np.zeros((2, 3), np.float32)),
     r"BatchNorm2d\(3\): expected a 4-D input"),
    (lambda: nn.BatchNorm1d(3)(np.zeros((2, 4), np.float32)),
     r"BatchNorm1d\(3\): input has 4 features/channels"),
    (lambda: nn.BatchNorm1d(3, momentum=1.0), r"`momentum` must be in \[0, 1\)"),
])
def test_bad_input(call, message) -> None:
    with pytest.raises((ShapeError, ValueError, TypeError), match=message):
        call()
