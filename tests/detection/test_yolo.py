"""The grid detector: anchors, target assignment, the loss against PyTorch, decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from steepest.detection import (
    Detection,
    GridDetector,
    assign_targets,
    kmeans_anchors,
    shape_iou,
)

ANCHORS = [[6.0, 6.0], [10.0, 20.0], [20.0, 10.0]]


def test_each_object_goes_to_its_centre_cell_and_best_anchor(rng: np.random.Generator) -> None:
    for _ in range(20):
        corner = rng.uniform(0, 30, (3, 2))
        boxes = np.concatenate([corner, corner + rng.uniform(3, 18, (3, 2))], axis=1)
        boxes = np.minimum(boxes, 47.9)
        labels = rng.integers(0, 3, 3)
        grid = assign_targets(boxes, labels, ANCHORS, grid_size=4, image_size=48)
        for box, label in zip(boxes, labels):
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            # The cell whose square holds the centre, found by looping over all cells.
            cell = next((r, c) for r in range(4) for c in range(4)
                        if 12 * c <= cx < 12 * (c + 1) and 12 * r <= cy < 12 * (r + 1))
            w, h = box[2] - box[0], box[3] - box[1]
            ious = [min(w, aw) * min(h, ah) / (w * h + aw * ah - min(w, aw) * min(h, ah))
                    for aw, ah in ANCHORS]
            slots = grid[cell[0], cell[1]]
            taken = np.flatnonzero((slots[:, 0] == 1) & (slots[:, 5] == label)
                                   & np.isclose(slots[:, 1], cx / 12 - cell[1], atol=1e-5))
            assert taken.size >= 1
            assert ious[int(taken[0])] == pytest.approx(max(ious)) or \
                (slots[:, 0] == 1).sum() > 1  # a shared cell may push it to the next best
        assert int(grid[..., 0].sum()) == 3


def test_two_objects_in_one_cell_take_two_anchors() -> None:
    # Both centres in cell (0, 0) of a 2x2 grid on 32 pixels; both prefer anchor 0.
    boxes = [[2, 2, 8, 8], [6, 6, 12, 12]]
    grid = assign_targets(boxes, [1, 2], [[6, 6], [12, 12]], grid_size=2, image_size=32)
    assert grid[0, 0, :, 0].tolist() == [1.0, 1.0]
    assert grid[0, 0, :, 5].tolist() == [1.0, 2.0]      # the first keeps its best anchor
    assert grid[0, 0, 1, 3] == pytest.approx(np.log(6 / 12))  # t_w against anchor 1
    assert grid[1:, :, :, 0].sum() == 0 and grid[:, 1:, :, 0].sum() == 0
    empty = assign_targets(np.zeros((2, 4)), [-1, -1], ANCHORS, 4, 48)
    assert empty[..., 0].sum() == 0


def test_kmeans_anchors_is_a_fixed_point_of_one_minus_iou(rng: np.random.Generator) -> None:
    sizes = np.concatenate([rng.normal(8, 1, (50, 2)), rng.normal([30, 12], 1, (50, 2)),
                            rng.normal([12, 30], 1, (50, 2))])
    anchors = kmeans_anchors(sizes, 3, rng=0)
    nearest = np.argmax(shape_iou(sizes, anchors), axis=1)
    for j in range(3):  # each anchor is the mean of the boxes nearest to it
        np.testing.assert_allclose(anchors[j], sizes[nearest == j].mean(axis=0))
    assert np.all(np.diff(anchors.prod(axis=1)) >= 0)
    with pytest.raises(ValueError, match="kmeans_anchors: 2 boxes cannot give 3 anchors"):
        kmeans_anchors(sizes[:2], 3)


def torch_detection_loss(z: torch.Tensor, grid: np.ndarray, classes: int) -> torch.Tensor:
    """The documented loss written out in PyTorch."""
    m, _, s, _ = z.shape
    p = z.reshape(m, -1, 5 + classes, s, s).permute(0, 3, 4, 1, 2)
    g = torch.from_numpy(grid).double()
    obj = g[..., 0]
    bce = torch.nn.functional.binary_cross_entropy_with_logits(p[..., 4], obj, reduction="none")
    objectness = (bce * torch.where(obj > 0, 1.0, 0.5)).sum() / m
    box = (((torch.sigmoid(p[..., :2]) - g[..., 1:3]) ** 2).sum(-1) * obj).sum() + \
        (((p[..., 2:4] - g[..., 3:5]) ** 2).sum(-1) * obj).sum()
    log_p = torch.log_softmax(p[..., 5:], dim=-1)
    picked = log_p.gather(-1, g[..., 5:6].clamp(min=0).long())[..., 0]
    return objectness + 5.0 * box / m - (picked * obj).sum() / m


def test_detection_loss_matches_pytorch(rng: np.random.Generator) -> None:
    task = Detection(3, ANCHORS, grid_size=4, image_size=48)
    boxes = np.array([[[2, 2, 14, 20], [20, 30, 40, 40], [np.nan] * 4],
                      [[np.nan] * 4] * 3])
    targets = task.encode_targets({"boxes": boxes, "labels": [[0, 2, -1], [-1, -1, -1]]},
                                  dtype=np.float64)
    z = rng.normal(size=(2, 3 * 8, 4, 4))
    ours = st.tensor(z, requires_grad=True)
    loss = task.loss(ours, targets)
    loss.backward()
    theirs = torch.tensor(z, requires_grad=True)
    expected = torch_detection_loss(theirs, targets["grid"], 3)
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-10)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_perfect_outputs_decode_to_the_ground_truth() -> None:
    task = Detection(3, ANCHORS, grid_size=4, image_size=48)
    boxes = np.array([[[2, 2, 14, 20], [20, 30, 40, 40]], [[5, 5, 25, 15], [np.nan] * 4]])
    labels = np.array([[1, 2], [0, -1]])
    targets = task.encode_targets((labels, boxes))
    grid = targets["grid"].astype(np.float64)             # (m, S, S, B, 6)
    z = np.zeros((2, 4, 4, 3, 8))
    obj = grid[..., 0] == 1
    z[..., 4] = np.where(obj, 12.0, -12.0)
    t = np.clip(grid[..., 1:3], 1e-9, 1 - 1e-9)
    z[..., :2] = np.log(t / (1 - t))
    z[..., 2:4] = grid[..., 3:5]
    z[..., 5:] = np.where(obj[..., None], 12.0 * np.eye(3)[np.maximum(grid[..., 5], 0)
                                                           .astype(int)], 0.0)
    outputs = z.transpose(0, 3, 4, 1, 2).reshape(2, 24, 4, 4)
    found = task.predict(outputs)
    np.testing.assert_allclose(found[0]["boxes"][np.argsort(found[0]["labels"])],
                               boxes[0], atol=1e-6)
    assert found[1]["labels"].tolist() == [0]
    assert task.compute_metrics(["map50", "map"], targets, outputs) == \
        pytest.approx({"map50": 1.0, "map": 1.0})


def test_detection_bad_input() -> None:
    task = Detection(3, ANCHORS, grid_size=4, image_size=48)
    with pytest.raises(ValueError, match="a label is 3 but the task has 3 classes"):
        task.encode_targets({"boxes": [[[0, 0, 5, 5]]], "labels": [[3]]})
    with pytest.raises(ValueError, match="x2 >= x1"):
        task.encode_targets({"boxes": [[[9, 0, 5, 5]]], "labels": [[0]]})
    with pytest.raises(ValueError, match=r"`anchors` must be positive \(width, height\) pairs"):
        Detection(3, [[1, 2, 3]], grid_size=4, image_size=48)
    net = GridDetector(3, ANCHORS, image_size=32, grid_size=4, rng=0)
    with pytest.raises(ValueError, match=r"needs outputs \(m, 24, 2, 2\); the model returned "
                                         r"\(1, 24, 4, 4\)"):
        Detection(3, ANCHORS, grid_size=2, image_size=32).validate(
            net(np.zeros((1, 3, 32, 32), np.float32)).numpy(), None)
    with pytest.raises(ValueError, match="image_size / grid_size must be a power of two"):
        GridDetector(3, ANCHORS, image_size=48, grid_size=5)
