"""Initialisation: the seed's variances, gains, rngs, and why zeros fail (S5, I11)."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import nn
from steepest.nn import init


@pytest.mark.parametrize("name,variance", [("xavier", 1.0), ("he", 2.0)])
def test_variance_is_constant_over_fan_in(name: str, variance: float) -> None:
    w = init.get_initializer(name)((400, 500), rng=0)
    assert abs(w.var() * 500 - variance) < 0.03 * variance
    assert abs(w.mean()) < 0.005


def test_gain_multiplies_the_standard_deviation() -> None:
    plain = init.he((300, 400), rng=1)
    doubled = init.he((300, 400), rng=1, gain=2.0)
    np.testing.assert_allclose(doubled, 2 * plain, rtol=1e-6)


def test_conv_fan_in_and_small_random() -> None:
    assert init.fan_in((8, 3, 5, 5)) == 75
    w = init.small_random((200, 300), rng=0)
    assert abs(w.std() - 0.01) < 0.0005


def test_rng_reproducibility() -> None:
    np.testing.assert_array_equal(init.xavier((3, 4), rng=5), init.xavier((3, 4), rng=5))
    np.testing.assert_array_equal(nn.Linear(3, 2, rng=7).weight.data,
                                  nn.Linear(3, 2, rng=7).weight.data)


def test_callable_init() -> None:
    layer = nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: np.full(shape, 0.5))
    np.testing.assert_array_equal(layer.weight.data, np.full((2, 3), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match=r"returned shape \(3,\); expected \(2, 3\)"):
        nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: np.zeros(3))


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown `init` 'kaiming'; use one of 'zeros', "
                                         "'small_random', 'xavier', 'he'"):
        init.get_initializer("kaiming")
    with pytest.raises(ValueError, match="gain"):
        init.he((2, 2), gain=0)


def _train_hidden_units(weight_init: str) -> np.ndarray:
    X, y = st.data.datasets.make_planar(200, rng=0)
    net = st.models.MLP([2, 4, 2], activation="tanh", init=weight_init, rng=0)
    st.train.fit(net, X, y, optimizer=st.optim.GradientDescent(net.parameters(), lr=0.5),
                 epochs=20, batch_size=None, verbose=0)
    return net.layers[0].weight.data


def test_zero_weights_keep_hidden_units_identical_random_ones_do_not() -> None:
    # S5: with W = 0 every hidden unit computes the same function and receives the
    # same gradient, so they stay identical forever (symmetry).
    zero = _train_hidden_units("zeros")
    assert np.allclose(zero, zero[0])
    small = _train_hidden_units("small_random")
    assert not np.allclose(small, small[0])


@pytest.mark.parametrize("init,expected", [("he", "stable"), ("small_random", "vanish")])
def test_activations_through_a_deep_relu_network(init: str, expected: str) -> None:
    # I10/I11: with variance 2/n the activations keep their scale through 30 ReLU
    # layers; with randn * 0.01 they vanish (and with randn * 1 they would explode).
    x = np.random.default_rng(0).standard_normal((256, 200)).astype(np.float32)
    layers = [nn.Linear(200, 200, init=init, rng=i) for i in range(30)]
    a = st.tensor(x)
    with st.no_grad():
        for layer in layers:
            a = st.functional.relu(layer(a))
    scale = float(np.sqrt((a.data**2).mean()))
    if expected == "stable":
        assert 0.3 < scale < 3.0
    else:
        assert scale < 1e-20


def test_without_nonlinearity_depth_collapses_to_one_linear_map() -> None:
    # S4: Linear(Linear(x)) is W2 W1 x + (W2 b1 + b2): one linear layer.
    deep = nn.Sequential(nn.Linear(3, 5, rng=0), nn.Identity(), nn.Linear(5, 2, rng=1))
    w1, b1 = deep[0].weight.data, deep[0].bias.data + 0.3
    deep[0].bias.data[...] = b1
    w2, b2 = deep[2].weight.data, deep[2].bias.data
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(deep(x).data, x @ (w2 @ w1).T + (w2 @ b1 + b2), rtol=1e-5,
                               atol=1e-6)
