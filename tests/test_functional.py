"""Activations, losses and penalties: stability at the extremes and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import steepest as st
import steepest.functional as F
from steepest import NonFiniteError, ShapeError

EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], dtype=np.float32)


@pytest.mark.parametrize("loss_name", ["cross_entropy", "bce_logits", "masked_bce"])
def test_logits_of_plus_minus_1000_are_finite(loss_name: str) -> None:
    z = st.tensor(EXTREME, requires_grad=True)
    if loss_name == "cross_entropy":
        loss = F.cross_entropy(z, np.array([0, 2]))
        expected = TF.cross_entropy(torch.tensor(EXTREME), torch.tensor([0, 2]))
    elif loss_name == "bce_logits":
        y = np.array([[1, 1, 0], [0, 0, 1]], dtype=np.float32)
        loss = F.binary_cross_entropy_with_logits(z, y)
        expected = TF.binary_cross_entropy_with_logits(torch.tensor(EXTREME), torch.tensor(y))
    else:
        y = np.array([[1, 1, np.nan], [0, 0, 1]], dtype=np.float32)
        loss = F.masked_binary_cross_entropy_with_logits(z, y)
        expected = None
    loss.backward()
    assert np.isfinite(loss.item())
    assert np.isfinite(z.grad).all()
    if expected is not None:
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-5)


def test_activations_at_extremes() -> None:
    x = st.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    np.testing.assert_allclose(F.sigmoid(x).data, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(F.softmax(st.tensor([[1000.0, 0.0]])).data, [[1.0, 0.0]])
    np.testing.assert_allclose(F.log_softmax(st.tensor([[1000.0, 0.0]])).data, [[0.0, -1000.0]])
    F.sigmoid(x).sum().backward()
    assert np.isfinite(x.grad).all()


def test_relu_gradient_is_zero_at_zero() -> None:
    x = st.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_leaky_relu_default_slope() -> None:
    x = st.tensor([-2.0, 3.0], requires_grad=True)
    F.leaky_relu(x).sum().backward()
    np.testing.assert_allclose(x.grad, [0.01, 1.0])


def test_logistic_gradient_is_a_minus_y() -> None:
    # B7/B9: for J = mean BCE(sigmoid(z), y), dJ/dz = (a - y) / m.
    z = st.tensor([[0.3], [-1.2], [2.0]], requires_grad=True)
    y = np.array([[1.0], [0.0], [1.0]], dtype=np.float32)
    F.binary_cross_entropy_with_logits(z, y).backward()
    a = 1 / (1 + np.exp(-z.data))
    np.testing.assert_allclose(z.grad, (a - y) / 3, rtol=1e-5)


def test_cross_entropy_gradient_is_softmax_minus_one_hot() -> None:
    z = st.tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    labels = np.array([0, 2, 1, 1])
    F.cross_entropy(z, labels).backward()
    expected = (F.softmax(st.tensor(z.data)).data - np.eye(3)[labels]) / 4
    np.testing.assert_allclose(z.grad, expected, rtol=1e-10)


def test_masked_bce_counts_only_existing_labels() -> None:
    z = st.tensor([[0.0, 3.0], [1.0, -2.0]], requires_grad=True)
    y = np.array([[1.0, np.nan], [0.0, 1.0]])
    loss = F.masked_binary_cross_entropy_with_logits(z, y)
    per = TF.binary_cross_entropy_with_logits(torch.tensor(z.data), torch.tensor(
        np.nan_to_num(y, nan=0.0), dtype=torch.float32), reduction="none").numpy()
    expected = (per[0, 0] + per[1, 0] + per[1, 1]) / 3
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    loss.backward()
    assert z.grad[0, 1] == 0.0  # no label, no gradient
    explicit = F.masked_binary_cross_entropy_with_logits(
        st.tensor(z.data), np.nan_to_num(y), mask=~np.isnan(y))
    np.testing.assert_allclose(explicit.item(), loss.item())
    none = F.masked_binary_cross_entropy_with_logits(st.tensor(z.data, requires_grad=True),
                                                     np.full((2, 2), np.nan))
    none.backward()
    assert none.item() == 0.0


def test_l2_penalty_gradient_is_weight_decay() -> None:
    w = st.tensor([[1.0, -2.0]], requires_grad=True)
    F.l2_penalty(w, lambd=0.5, m=10).backward()
    np.testing.assert_allclose(w.grad, 0.5 / 10 * w.data)  # (lambd / m) W


# ------------------------------------------------------------------ bad input
def test_rank_one_mismatch_is_refused_with_hint() -> None:
    z = st.tensor(np.zeros((4, 1)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"`logits` has shape \(4, 1\) but `targets` has shape "
                                         r"\(4,\).*reshape\(-1, 1\).*B11"):
        F.binary_cross_entropy_with_logits(z, np.zeros(4))
    with pytest.raises(ShapeError, match=r"mse_loss: `predictions` has shape \(4, 1\)"):
        F.mse_loss(z, np.zeros(4))


def test_cross_entropy_label_errors() -> None:
    z = st.tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\).*got 4"):
        F.cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"got -1"):
        F.cross_entropy(z, np.array([0, -1, 2]))
    with pytest.raises(TypeError, match=r"must be integer class indices; got dtype float"):
        F.cross_entropy(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ShapeError, match=r"must have shape \(3,\).*got \(3, 1\).*reshape\(-1\)"):
        F.cross_entropy(z, np.array([[0], [1], [2]]))
    with pytest.raises(ShapeError, match="must be 2-D"):
        F.cross_entropy(st.tensor(np.zeros(4)), np.array([1]))
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        F.cross_entropy(z, np.array([0, 1, 2]), reduction="avg")


def test_nan_in_a_loss_names_the_input() -> None:
    z = np.zeros((3, 2), dtype=np.float32)
    z[1, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"cross_entropy: `logits` contains NaN or Inf "
                                             r"\(first at index \(1, 1\)\)"):
        F.cross_entropy(st.tensor(z, requires_grad=True), np.array([0, 1, 0]))
    with pytest.raises(NonFiniteError, match=r"`logits` contains NaN"):
        F.binary_cross_entropy_with_logits(st.tensor(z), np.zeros((3, 2)))
    with pytest.raises(NonFiniteError, match=r"`predictions` contains NaN"):
        F.mse_loss(st.tensor(z), np.zeros((3, 2)))


def test_bce_probabilities_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"`probs` must lie in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(st.tensor([0.5, 1.5]), [1.0, 0.0])
    loss = F.binary_cross_entropy(st.tensor([0.0, 1.0]), [1.0, 0.0])
    assert loss.item() == pytest.approx(100.0)  # clamped logs, as in PyTorch


def test_empty_losses() -> None:
    with pytest.raises(ValueError, match="empty"):
        F.cross_entropy(st.tensor(np.zeros((0, 3))), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="empty"):
        F.mse_loss(st.tensor(np.zeros((0,))), np.zeros(0))


def test_penalty_arguments() -> None:
    w = st.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"l2_penalty: `lambd` must be in \[0, inf\]; got -1"):
        F.l2_penalty(w, lambd=-1, m=3)
    with pytest.raises(ValueError, match=r"`m` .* must be a positive int; got 0"):
        F.l1_penalty(w, lambd=1, m=0)
    with pytest.raises(ValueError, match="`weights` is empty"):
        F.l2_penalty([], lambd=1, m=1)


def test_dropout_statistics_and_mask_reuse() -> None:
    x = st.tensor(np.ones((200, 500), dtype=np.float32), requires_grad=True)
    out = F.dropout(x, keep_prob=0.8, rng=np.random.default_rng(1))
    assert abs(out.data.mean() - 1.0) < 0.01  # expected value preserved
    assert abs((out.data == 0).mean() - 0.2) < 0.01
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # same mask, same scale, in backward
    assert F.dropout(x, keep_prob=1.0) is x
    assert F.dropout(x, keep_prob=0.5, training=False) is x
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match=r"dropout: `keep_prob` must be in \(0, 1\]"):
            F.dropout(x, keep_prob=bad)
