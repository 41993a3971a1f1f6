"""Localisation (OD1): the seed's y vector, its two-case loss (vs PyTorch), learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from steepest._validation import ShapeError
from steepest.data.datasets import make_shapes
from steepest.detection import Localization, Localizer, localization_targets, seed_box_iou


def torch_two_case_loss(z: torch.Tensor, y: np.ndarray, n: int) -> torch.Tensor:
    """The seed's two cases, image by image: everything if p_c = 1, else only p_c."""
    total = torch.zeros((), dtype=torch.float64)
    for i in range(len(y)):
        t = torch.from_numpy(y[i]).double()
        total = total + torch.nn.functional.binary_cross_entropy_with_logits(z[i, 0], t[0])
        if t[0] == 1:
            points = t[5 + n:]
            known = ~torch.isnan(points)
            total = total + 5.0 * (((z[i, 1:5] - t[1:5]) ** 2).sum()
                                   + ((z[i, 5 + n:][known] - points[known]) ** 2).sum())
            total = total - torch.log_softmax(z[i, 5:5 + n], 0)[int(t[5:5 + n].argmax())]
    return total / len(y)


def test_two_case_loss_matches_pytorch(rng: np.random.Generator) -> None:
    _, labels, boxes, points = make_shapes(6, image_size=32, empty=0.4, landmarks=True, rng=5)
    y = localization_targets(labels, boxes, 32, 3, points).astype(np.float64)
    assert (y[:, 0] == 0).any() and (y[:, 0] == 1).any()
    task = Localization(3, num_landmarks=4)
    z = rng.normal(size=(6, task.width))
    ours = st.tensor(z, requires_grad=True)
    loss = task.loss(ours, task.encode_targets(y, dtype=np.float64))
    loss.backward()
    theirs = torch.tensor(z, requires_grad=True)
    expected = torch_two_case_loss(theirs, y, 3)
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-10)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    # Without an object only p_c has a gradient (the seed's second case).
    np.testing.assert_array_equal(ours.grad[y[:, 0] == 0, 1:], 0.0)


def test_seed_vector_layout() -> None:
    y = localization_targets([2], [[4, 8, 12, 24]], 32, 3, [[[4, 8], [12, 8], [12, 24],
                                                             [np.nan, np.nan]]])
    # p_c, bx, by, bh, bw, c1..c3, landmarks as fractions of the side
    np.testing.assert_allclose(y[0, :8], [1, 0.25, 0.5, 0.5, 0.25, 0, 0, 1])
    np.testing.assert_allclose(y[0, 8:14], [0.125, 0.25, 0.375, 0.25, 0.375, 0.75])
    assert np.isnan(y[0, 14:]).all()
    assert seed_box_iou(y[:, 1:5], y[:, 1:5]).tolist() == [1.0]


def test_localization_bad_targets_and_outputs() -> None:
    task = Localization(3)
    with pytest.raises(ShapeError, match=r"targets are the seed's y vectors .* of shape "
                                         r"\(m, 8\); got \(2, 5\)"):
        task.encode_targets(np.zeros((2, 5)))
    y = np.zeros((1, 8))
    y[0, 0] = 0.5
    with pytest.raises(ValueError, match="p_c \\(column 0\\) must be 0 or 1"):
        task.encode_targets(y)
    y[0, 0] = 1
    with pytest.raises(ValueError, match="one-hot where p_c = 1"):
        task.encode_targets(y)
    with pytest.raises(ShapeError, match=r"needs outputs of shape \(m, 8\).*\(1, 7\)"):
        task.validate(np.zeros((1, 7)), y)


def test_a_small_localiser_learns_boxes() -> None:
    # 200 16x16 images for 4 epochs (0.4 s on 2 quiet cores): test mean IoU 0.43
    # measured (seed 0), 0.05 after one epoch. The full run, 32x32 images to
    # IoU >= 0.7, is benchmarks/bench_detection.py.
    images, labels, boxes = make_shapes(300, image_size=16, min_size=0.3, max_size=0.7,
                                        empty=0.1, noise=0.02, rng=0)
    y = localization_targets(labels, boxes, 16, 3)
    net = Localizer(3, image_size=16, width=4, hidden=32, rng=0)
    st.train.fit(net, images[:200], y[:200], epochs=4, batch_size=32, verbose=0, rng=0,
                 optimizer=st.optim.Adam(net.parameters(), lr=1e-2))
    result = st.train.evaluate(net, images[200:], y[200:], metrics=["iou", "class_accuracy"])
    assert result["iou"] > 0.3
