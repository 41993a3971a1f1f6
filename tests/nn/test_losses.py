"""Loss modules against torch.nn's losses of the same names, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from steepest import ShapeError, nn

RNG = np.random.default_rng(0)
LOGITS = (RNG.standard_normal((6, 4)) * 3).astype(np.float32)
LABELS = RNG.integers(0, 4, 6)
SOFT = RNG.dirichlet(np.ones(4), 6).astype(np.float32)
BINARY_LOGITS = (RNG.standard_normal((6, 3)) * 3).astype(np.float32)
BINARY = RNG.integers(0, 2, (6, 3)).astype(np.float32)
PREDICTIONS = RNG.standard_normal((5, 2)).astype(np.float32)
TARGETS = RNG.standard_normal((5, 2)).astype(np.float32)

CASES = {
    "CrossEntropyLoss labels": (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, LOGITS, LABELS),
    "CrossEntropyLoss soft": (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, LOGITS, SOFT),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, BINARY_LOGITS,
                          BINARY),
    "MSELoss": (nn.MSELoss, torch.nn.MSELoss, PREDICTIONS, TARGETS),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch(case: str, reduction: str) -> None:
    ours_class, theirs_class, prediction, target = CASES[case]
    ours = ours_class(reduction=reduction)
    theirs = theirs_class(reduction=reduction)
    x = st.tensor(prediction, requires_grad=True)
    x_torch = torch.tensor(prediction, requires_grad=True)
    out = ours(x, target)
    expected = theirs(x_torch, torch.from_numpy(target))
    assert out.shape == tuple(expected.shape)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(x.grad, x_torch.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_default_reduction_is_the_mean_cost() -> None:
    for loss in (nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss(), nn.MSELoss()):
        assert loss.reduction == "mean"
    assert nn.MSELoss()([1.0, 3.0], [0.0, 1.0]).item() == pytest.approx(2.5)


def test_inputs_may_be_lists_and_arrays() -> None:
    criterion = nn.CrossEntropyLoss()
    expected = criterion(st.tensor(LOGITS), LABELS).item()
    assert criterion(LOGITS, LABELS.tolist()).item() == pytest.approx(expected, rel=1e-6)
    assert criterion(LOGITS.tolist(), LABELS).item() == pytest.approx(expected, rel=1e-6)


def test_modules_are_modules_with_config_and_repr() -> None:
    loss = nn.BCEWithLogitsLoss(reduction="sum")
    assert isinstance(loss, nn.Module)
    assert list(loss.parameters()) == [] and loss.state_dict() == {}
    assert loss.get_config() == {"reduction": "sum"}
    assert repr(loss) == "BCEWithLogitsLoss(reduction='sum')"
    assert repr(nn.MSELoss()) == "MSELoss(reduction='mean')"


@pytest.mark.parametrize("cls", [nn.CrossEntropyLoss, nn.BCEWithLogitsLoss, nn.MSELoss])
def test_bad_reduction_is_refused_at_construction(cls) -> None:
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: `reduction` must be one of 'mean', "
                                         r"'sum', 'none'; got 'avg'$"):
        cls(reduction="avg")


def test_errors_come_from_the_functional_loss() -> None:
    with pytest.raises(ShapeError, match=r"mse_loss: `predictions` has shape \(4, 1\) but "
                                         r"`targets` has shape \(4,\)"):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"cross_entropy: `labels` must be class indices in "
                                         r"\[0, 4\).*got 4"):
        nn.CrossEntropyLoss()(LOGITS, np.array([0, 1, 2, 3, 4, 0]))


def test_a_loss_module_trains_a_model() -> None:
    st.seed(0)
    X = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    model = nn.Linear(3, 2, rng=0)
    criterion = nn.CrossEntropyLoss()
    first = None
    for _ in range(50):
        loss = criterion(model(X), y)
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data = p.data - 0.5 * p.grad
    assert loss.item() < 0.5 * first
