"""Sliding windows: one fully convolutional pass equals cropping window by window."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from steepest.detection import sliding_windows, to_fully_convolutional, window_stride


def window_classifier(rng: int = 0) -> st.nn.Sequential:
    """LeNet-like, for 28x28 windows: CONV5-POOL-CONV5-POOL-FC-FC-FC, total stride 4."""
    return st.nn.Sequential(
        st.nn.Sequential(st.nn.Conv2d(3, 6, 5, rng=rng), st.nn.ReLU(), st.nn.MaxPool2d(2),
                         st.nn.Conv2d(6, 8, 5, rng=rng), st.nn.Tanh(), st.nn.MaxPool2d(2)),
        st.nn.Flatten(), st.nn.Linear(8 * 4 * 4, 20, rng=rng), st.nn.ReLU(),
        st.nn.Dropout(0.5), st.nn.Linear(20, 4, rng=rng), st.nn.Softmax())


def test_one_pass_equals_crop_by_crop_windows(rng: np.random.Generator) -> None:
    net = window_classifier()
    images = rng.uniform(size=(2, 3, 40, 36)).astype(np.float32)
    fcn = to_fully_convolutional(net, (3, 28, 28))
    net.eval()
    assert window_stride(fcn) == (4, 4)
    fcn.eval()
    one_pass = fcn(images).numpy()
    windows = sliding_windows(net, images, 28, 4)
    assert one_pass.shape == windows.shape == (2, 4, 4, 3)
    np.testing.assert_allclose(one_pass, windows, rtol=1e-5, atol=1e-6)
    # The window at row 2, col 1 is the crop at (8, 4); the converted first layer is
    # PyTorch's conv2d with the same weights.
    crop = images[:, :, 8:36, 4:32]
    np.testing.assert_allclose(windows[:, :, 2, 1], net(crop).numpy(), rtol=1e-5)
    with torch.no_grad():
        conv = torch.nn.functional.conv2d(torch.from_numpy(images),
                                          torch.from_numpy(fcn[0].weight.numpy()),
                                          torch.from_numpy(fcn[0].bias.numpy()))
    np.testing.assert_allclose(fcn[0](images).numpy(), conv.numpy(), rtol=1e-5, atol=1e-6)


def test_fully_convolutional_refuses_what_it_cannot_convert() -> None:
    padded = st.nn.Sequential(st.nn.Conv2d(1, 2, 3, padding=1), st.nn.Flatten(),
                              st.nn.Linear(2 * 8 * 8, 2))
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2d\) has padding \(1, 1\); one pass"):
        to_fully_convolutional(padded, (1, 8, 8))
    with pytest.raises(TypeError, match=r"must be a steepest\.nn\.Sequential"):
        to_fully_convolutional(st.nn.Linear(2, 2), (1, 8, 8))
    wrong = st.nn.Sequential(st.nn.Conv2d(1, 2, 3), st.nn.Flatten(), st.nn.Linear(5, 2))
    with pytest.raises(ValueError, match=r"takes 5 features but receives 2x6x6 = 72"):
        to_fully_convolutional(wrong, (1, 8, 8))
    with pytest.raises(ValueError, match=r"window is larger than the 8x8 images"):
        sliding_windows(wrong, np.zeros((1, 1, 8, 8)), 9, 1)


def test_sliding_windows_visit_every_crop_at_the_stride(rng: np.random.Generator) -> None:
    net = st.nn.Sequential(st.nn.Flatten(), st.nn.Linear(3 * 4, 2, rng=0))
    images = rng.normal(size=(2, 1, 9, 11)).astype(np.float32)
    windows = sliding_windows(net, images, (3, 4), (2, 3), batch_size=5)
    assert windows.shape == (2, 2, 4, 3)
    for n in range(2):
        for r in range(4):
            for c in range(3):
                crop = images[n:n + 1, :, 2 * r:2 * r + 3, 3 * c:3 * c + 4]
                np.testing.assert_allclose(windows[n, :, r, c], net(crop).numpy()[0],
                                           rtol=1e-5, atol=1e-6)
