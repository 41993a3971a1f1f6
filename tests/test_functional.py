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


# ------------------------------------------------------------------ one coercion point
def _inputs(seed: int, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


_LABELS = np.array([0, 2, 1, 2])
_BINARY = np.array([[1.0], [0.0], [1.0], [0.0]], dtype=np.float32)

# name -> (call taking the inputs, the float inputs that may be arrays, lists or Tensors)
EVERY_FUNCTION = {
    "relu": (F.relu, _inputs(0, (3, 4))),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), _inputs(1, (3, 4))),
    "sigmoid": (F.sigmoid, _inputs(2, (3, 4))),
    "tanh": (F.tanh, _inputs(3, (3, 4))),
    "softmax": (F.softmax, _inputs(4, (3, 4))),
    "log_softmax": (F.log_softmax, _inputs(5, (3, 4))),
    "flatten": (F.flatten, _inputs(6, (2, 3, 2))),
    "dropout": (lambda x: F.dropout(x, 0.5, rng=3), _inputs(7, (3, 4))),
    "linear": (F.linear, _inputs(8, (5, 4), (3, 4), (3,))),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1), _inputs(9, (2, 2, 4, 4),
                                                                     (3, 2, 3, 3), (3,))),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), _inputs(10, (2, 2, 4, 4))),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), _inputs(11, (2, 2, 4, 4))),
    "global_avg_pool2d": (F.global_avg_pool2d, _inputs(12, (2, 2, 4, 4))),
    "batch_norm": (F.batch_norm, _inputs(13, (6, 3), (3,), (3,))),
    "cross_entropy": (lambda z: F.cross_entropy(z, _LABELS), _inputs(14, (4, 3))),
    "cross_entropy one-hot": (F.cross_entropy, [_inputs(15, (4, 3))[0],
                                                np.eye(3, dtype=np.float32)[_LABELS]]),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits,
                                         [_inputs(16, (4, 1))[0], _BINARY]),
    "masked_binary_cross_entropy_with_logits": (F.masked_binary_cross_entropy_with_logits,
                                                [_inputs(17, (4, 1))[0], _BINARY]),
    "binary_cross_entropy": (F.binary_cross_entropy,
                             [np.array([[0.9], [0.2], [0.6], [0.3]], np.float32), _BINARY]),
    "mse_loss": (F.mse_loss, _inputs(18, (4, 2), (4, 2))),
    "l1_penalty": (lambda w: F.l1_penalty(w, lambd=0.5, m=3), _inputs(19, (2, 3))),
    "l2_penalty": (lambda w: F.l2_penalty(w, lambd=0.5, m=3), _inputs(20, (2, 3))),
}


def test_the_coercion_table_covers_every_function() -> None:
    covered = {name.split(" ")[0] for name in EVERY_FUNCTION}
    assert covered == set(F.__all__) - {"conv_output_size"}  # a formula, not an op


@pytest.mark.parametrize("name", sorted(EVERY_FUNCTION))
@pytest.mark.parametrize("kind", ["ndarray", "list", "mixed"])
def test_every_function_takes_arrays_and_lists_like_tensors(name: str, kind: str) -> None:
    function, inputs = EVERY_FUNCTION[name]
    expected = function(*[st.tensor(a) for a in inputs])
    if kind == "ndarray":
        given = list(inputs)
    elif kind == "list":
        given = [a.tolist() for a in inputs]
    else:  # the first as a Tensor, the rest as lists
        given = [st.tensor(inputs[0])] + [a.tolist() for a in inputs[1:]]
    out = function(*given)
    assert isinstance(out, st.Tensor)
    assert out.dtype == expected.dtype == np.float32, name
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-6, atol=1e-7, err_msg=name)


def test_dropout_off_returns_a_tensor_for_an_array() -> None:
    x = np.ones((2, 2), dtype=np.float32)
    out = F.dropout(x, keep_prob=0.5, training=False)
    assert isinstance(out, st.Tensor) and out.data is x  # wrapped, not copied


# ------------------------------------------------------------------ dtype promotion
def test_integer_predictions_never_truncate_float_targets() -> None:
    # (1 - 0.5)^2 + (2 - 0.5)^2 = 2.5, mean 1.25: the old cast of targets to int gave 2.5.
    for predictions in ([1, 2], np.array([1, 2]), st.tensor(np.array([1, 2]))):
        loss = F.mse_loss(predictions, [0.5, 0.5])
        assert loss.item() == pytest.approx(1.25)
        assert loss.dtype.kind == "f"
    assert F.mse_loss(np.array([1, 2]), np.array([0.5, 0.5])).dtype == np.float64  # result_type
    assert F.mse_loss([1, 3], [0, 1]).item() == pytest.approx(2.5)  # both integers: floats
    assert F.mse_loss([1, 3], [0, 1]).dtype == np.float32  # the default float dtype
    assert F.mse_loss([1, 2], [0.5, 0.5], reduction="sum").item() == pytest.approx(2.5)


def test_integer_logits_are_promoted_in_every_loss() -> None:
    z = np.array([[2, 0], [0, 1]])
    soft = np.array([[0.75, 0.25], [0.5, 0.5]])
    expected = TF.cross_entropy(torch.tensor(z, dtype=torch.float64), torch.tensor(soft))
    assert F.cross_entropy(z, soft).item() == pytest.approx(expected.item(), rel=1e-12)
    expected = TF.cross_entropy(torch.tensor(z, dtype=torch.float32), torch.tensor([0, 1]))
    assert F.cross_entropy(z, np.array([0, 1])).item() == pytest.approx(expected.item(),
                                                                       rel=1e-6)
    y = np.array([[0.25], [0.75]])
    logits = np.array([[1], [-2]])
    expected = TF.binary_cross_entropy_with_logits(torch.tensor(logits, dtype=torch.float64),
                                                   torch.tensor(y))
    assert F.binary_cross_entropy_with_logits(logits, y).item() == pytest.approx(
        expected.item(), rel=1e-12)
    assert F.masked_binary_cross_entropy_with_logits(logits, y).item() == pytest.approx(
        expected.item(), rel=1e-12)
    probs = np.array([[1], [0]])
    expected = TF.binary_cross_entropy(torch.tensor(probs, dtype=torch.float64), torch.tensor(y))
    assert F.binary_cross_entropy(probs, y).item() == pytest.approx(expected.item(), rel=1e-12)


def test_float_predictions_keep_their_dtype() -> None:
    z = st.tensor(np.zeros((2, 1), dtype=np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z, np.array([[1.0], [0.0]]))  # float64 targets
    assert loss.dtype == np.float32
    loss.backward()
    assert z.grad.dtype == np.float32


def test_elementwise_ops_promote_integers_like_numpy() -> None:
    ints = st.tensor(np.array([1, 2]))
    for out in (ints - [0.5, 0.5], F.relu(ints) * 0.5, st.ops.maximum(ints, [1.5, 0.5]),
                st.ops.where(np.array([True, False]), ints, 0.5)):
        assert out.dtype.kind == "f", out
    np.testing.assert_allclose((ints - [0.5, 0.5]).data, [0.5, 1.5])
    np.testing.assert_allclose(st.ops.maximum(ints, [1.5, 0.5]).data, [1.5, 2.0])
    np.testing.assert_allclose(st.ops.where(np.array([True, False]), ints, 0.5).data, [1.0, 0.5])
    np.testing.assert_allclose(F.sigmoid(np.array([0])).data, [0.5])


def test_integer_images_through_convolution_and_pooling() -> None:
    images = np.arange(32, dtype=np.uint8).reshape(2, 1, 4, 4)
    weight = np.ones((1, 1, 2, 2), dtype=np.float32)
    out = F.conv2d(images, weight)
    assert out.dtype == np.float32
    expected = TF.conv2d(torch.tensor(images, dtype=torch.float32), torch.tensor(weight))
    np.testing.assert_allclose(out.data, expected.numpy())
    pooled = F.avg_pool2d(images, 2)
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled.data, TF.avg_pool2d(torch.tensor(images, dtype=torch.float32),
                                                          2).numpy())
    padded = F.max_pool2d(images.astype(np.int64) - 40, 2, padding=1)  # pads with the int min
    assert padded.dtype == np.int64
    np.testing.assert_array_equal(padded.data, TF.max_pool2d(
        torch.tensor(images, dtype=torch.float32) - 40, 2, padding=1).numpy())


# ------------------------------------------------------------------ no host round trips
def test_label_checks_copy_nothing_to_the_host_unless_they_fail(monkeypatch) -> None:
    import steepest.ops.loss as loss_module

    def refuse(*args, **kwargs):
        raise AssertionError("a value was checked on the host")

    monkeypatch.setattr(loss_module, "to_device", refuse)
    monkeypatch.setattr(loss_module, "finite_array", refuse)
    z = st.tensor(np.zeros((3, 4)), requires_grad=True)
    F.cross_entropy(z, np.array([0, 3, 1])).backward()  # fine labels: no host copy
    F.binary_cross_entropy(st.tensor([0.5, 1.0]), [1.0, 0.0])
    F.masked_binary_cross_entropy_with_logits(z, np.ones((3, 4)), mask=np.ones((3, 4)))
    with pytest.raises(AssertionError, match="on the host"):  # a bad label: now explain it
        F.cross_entropy(z, np.array([0, 4, 1]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_label_range_is_still_reported_for_every_reduction(reduction: str) -> None:
    z = st.tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"^cross_entropy: `labels` must be class indices in "
                                         r"\[0, 4\) for logits with 4 classes; got 7$"):
        F.cross_entropy(z, np.array([0, 7, 1]), reduction=reduction)
    with pytest.raises(ValueError, match=r"got -2$"):
        F.cross_entropy(z, [0, 1, -2], reduction=reduction)


def test_value_checks_on_the_device_are_reported() -> None:
    z = st.tensor(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"`mask` must contain only 0/1 or booleans"):
        F.masked_binary_cross_entropy_with_logits(z, np.ones((2, 2)), mask=[[1, 2], [0, 1]])
    with pytest.raises(NonFiniteError, match=r"`targets \(where mask is 1\)` contains NaN"):
        F.masked_binary_cross_entropy_with_logits(z, [[1.0, np.inf], [0.0, 1.0]],
                                                  mask=np.ones((2, 2), dtype=bool))
    with pytest.raises(NonFiniteError, match=r"binary_cross_entropy: `probs` contains NaN"):
        F.binary_cross_entropy([0.5, np.nan], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"`probs` must lie in \[0, 1\]; got values from -0.5"):
        F.binary_cross_entropy([0.5, -0.5], [1.0, 0.0], reduction="none")
