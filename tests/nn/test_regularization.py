"""L1/L2: which parameters they penalise is declared on the Parameter, never guessed."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import nn


class Custom(nn.Module):
    """A user's layer whose weight is not called ``weight``."""

    def __init__(self) -> None:
        super().__init__()
        self.kernel = nn.Parameter(np.full((2, 2), 3.0, dtype=np.float32))
        self.shift = nn.Parameter(np.ones(2, dtype=np.float32), regularize=False)

    def forward(self, x):
        return x @ self.kernel + self.shift


def _ids(tensors) -> list[int]:
    return [id(t) for t in tensors]


def test_a_parameter_is_penalised_whatever_its_name() -> None:
    model = Custom()
    assert _ids(nn.penalised_weights(model)) == [id(model.kernel)]
    # 0.5 / (2 * 4) * (4 * 3^2) and 0.5 / 8 * (4 * 3)
    assert nn.L2(0.5)(model, m=4).item() == pytest.approx(2.25)
    assert nn.L1(0.5)(model, m=4).item() == pytest.approx(0.75)


def test_layers_exempt_biases_and_batch_norm_parameters() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(),
                        nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1, bias=False))
    assert _ids(nn.penalised_weights(net)) == _ids([net[0].weight, net[3].weight, net[5].weight])


def test_frozen_and_exempt_parameters_are_not_penalised() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    net[0].requires_grad_(False)
    assert _ids(nn.penalised_weights(net)) == [id(net[1].weight)]
    net[1].weight.regularize = False  # changing one's mind after construction
    assert nn.penalised_weights(net) == []
    zero = nn.L2(1.0)(net, m=1)  # nothing to penalise: 0, not an error
    assert zero.item() == 0.0 and not zero.requires_grad


def test_the_penalty_gradient_reaches_exactly_the_penalised_parameters() -> None:
    model = Custom()
    nn.L2(2.0)(model, m=1).backward()
    np.testing.assert_allclose(model.kernel.grad, 2.0 * model.kernel.data)  # (lambd / m) W
    assert model.shift.grad is None


def test_a_dict_of_tensors_follows_the_documented_name_rule() -> None:
    def t(value: float) -> st.Tensor:
        return st.tensor(np.full((2,), value, dtype=np.float32), requires_grad=True)

    params = {"W1": t(1.0), "b1": t(2.0), "layer.weight": t(3.0), "layer.bias": t(4.0),
              "gamma": t(5.0), "kernel": nn.Parameter(np.ones(2, np.float32)),
              "Wexempt": nn.Parameter(np.ones(2, np.float32), regularize=False),
              "W_frozen": st.tensor(np.ones(2, np.float32))}
    chosen = _ids(nn.penalised_weights(params))
    assert chosen == _ids([params["W1"], params["layer.weight"], params["kernel"]])


def test_l2_penalty_matches_the_seed_formula_on_a_model() -> None:
    net = nn.Linear(2, 1, init="zeros")
    net.weight.data[:] = [[3.0, 4.0]]
    net.bias.data[:] = 100.0  # a bias is never penalised
    assert nn.L2(0.1)(net, m=5).item() == pytest.approx(0.1 / 10 * 25)


def test_penalty_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match=r"^L2: `lambd` must be in \[0, inf\]; got -1"):
        nn.L2(-1)
    with pytest.raises(ValueError, match=r"`m` \(the number of examples\) must be a positive"):
        nn.L1(0.1)(nn.Linear(2, 1), m=0)
