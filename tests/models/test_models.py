"""The models of issue D3/B3: gradient checks, PyTorch parity, configuration errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from steepest import ShapeError, gradcheck_model


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("penalty", [None, 0.7], ids=["no-l2", "l2"])
def test_gradcheck_mlp_5_4_3_1(activation: str, penalty) -> None:
    model = st.models.MLP([5, 4, 3, 1], activation=activation, output="sigmoid", rng=1)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(7, 5))
    y = rng.integers(0, 2, (7, 1)).astype(float)
    report = gradcheck_model(model, F.binary_cross_entropy_with_logits, X, y,
                             regularization=None if penalty is None else st.nn.L2(penalty))
    assert report.relative_error < 1e-7, str(report)
    assert [r.name for r in report.rows] == ["layers.0.weight", "layers.0.bias",
                                             "layers.2.weight", "layers.2.bias",
                                             "layers.4.weight", "layers.4.bias"]


def test_gradcheck_softmax_mlp_with_dropout_refused_then_allowed() -> None:
    model = st.models.MLP([4, 6, 3], keep_prob=0.5, rng=0)
    X = np.random.default_rng(0).normal(size=(5, 4))
    y = np.array([0, 1, 2, 1, 0])
    with pytest.raises(ValueError, match="dropout is active"):
        gradcheck_model(model, F.cross_entropy, X, y)
    model.eval()
    assert gradcheck_model(model, F.cross_entropy, X, y).passed


def test_logistic_regression_gradcheck_and_shape() -> None:
    model = st.models.LogisticRegression(3, init="small_random", rng=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = np.array([[1.0], [0.0], [1.0], [1.0], [0.0], [0.0]])
    assert gradcheck_model(model, F.binary_cross_entropy_with_logits, X, y).passed
    assert model(X.astype(np.float32)).shape == (6, 1)
    assert model.num_parameters() == 4


def test_mlp_matches_the_same_network_in_torch() -> None:
    model = st.models.MLP([784, 256, 128, 10], rng=0)
    reference = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 10))
    assert model.num_parameters() == sum(p.numel() for p in reference.parameters())
    ours = {k.removeprefix("layers."): v.shape for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert ours == theirs
    reference.load_state_dict({k: torch.from_numpy(model.state_dict()["layers." + k].copy())
                               for k in theirs})
    x = np.random.default_rng(0).normal(size=(8, 784)).astype(np.float32)
    np.testing.assert_allclose(model(x).data, reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs,error,message", [
    ({"layer_sizes": [5]}, ValueError, "needs the input size and at least one layer"),
    ({"layer_sizes": [5, 0, 2]}, ValueError, "`layer_sizes` must be a positive int; got 0"),
    ({"layer_sizes": [5, 3, 2], "activation": "gelu"}, ValueError,
     "`activation` must be one of 'relu', 'tanh', 'sigmoid', 'leaky_relu'; got 'gelu'"),
    ({"layer_sizes": [5, 3, 2], "output": "relu"}, ValueError, "`output` must be one of"),
    ({"layer_sizes": [5, 3, 1], "output": "softmax"}, ValueError, "at least 2 units"),
    ({"layer_sizes": [5, 3, 2], "keep_prob": [0.5, 0.5]}, ShapeError,
     "2 values for 1 hidden layer"),
    ({"layer_sizes": [5, 3, 2], "keep_prob": 0}, ValueError, r"`keep_prob` must be in \(0, 1\]"),
    ({"layer_sizes": [5, 3, 2], "init": "uniform"}, ValueError, "unknown `init` 'uniform'"),
])
def test_mlp_argument_errors(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        st.models.MLP(**kwargs)
