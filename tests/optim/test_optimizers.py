"""Optimisers: the seed's formulas written out, PyTorch where the rules coincide."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from steepest import optim

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.5, 0.0, 0.4]),
         np.array([0.2, -0.2, 0.2])]
W0 = np.array([1.0, 2.0, -1.0])


def _run(make, grads=GRADS):
    w = st.tensor(W0.copy(), requires_grad=True)
    optimizer = make([w])
    trajectory = []
    for g in grads:
        w.grad = g.copy()
        optimizer.step()
        trajectory.append(w.data.copy())
    return np.array(trajectory)


def test_gradient_descent_formula() -> None:
    got = _run(lambda p: optim.GradientDescent(p, lr=0.1))
    w, expected = W0.copy(), []
    for g in GRADS:
        w = w - 0.1 * g
        expected.append(w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("bias_correction", [False, True])
def test_momentum_formula(bias_correction: bool) -> None:
    got = _run(lambda p: optim.Momentum(p, lr=0.1, beta=0.9, bias_correction=bias_correction))
    w, v, expected = W0.copy(), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        v = 0.9 * v + 0.1 * g
        step = v / (1 - 0.9**t) if bias_correction else v
        w = w - 0.1 * step
        expected.append(w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_rmsprop_formula_and_torch() -> None:
    got = _run(lambda p: optim.RMSprop(p, lr=0.01, beta=0.9, eps=1e-8))
    w, s, expected = W0.copy(), np.zeros(3), []
    for g in GRADS:
        s = 0.9 * s + 0.1 * g**2
        w = w - 0.01 * g / (np.sqrt(s) + 1e-8)
        expected.append(w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # PyTorch's RMSprop with alpha = beta is the same rule.
    tw = torch.tensor(W0.copy(), requires_grad=True)
    reference = torch.optim.RMSprop([tw], lr=0.01, alpha=0.9, eps=1e-8)
    for g, row in zip(GRADS, got):
        tw.grad = torch.tensor(g)
        reference.step()
        np.testing.assert_allclose(row, tw.detach().numpy(), rtol=1e-10)


def test_adam_formula_and_torch() -> None:
    got = _run(lambda p: optim.Adam(p, lr=0.01))
    w, v, s, expected = W0.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        v = 0.9 * v + 0.1 * g
        s = 0.999 * s + 0.001 * g**2
        v_hat, s_hat = v / (1 - 0.9**t), s / (1 - 0.999**t)
        w = w - 0.01 * v_hat / (np.sqrt(s_hat) + 1e-8)
        expected.append(w)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    tw = torch.tensor(W0.copy(), requires_grad=True)
    reference = torch.optim.Adam([tw], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    for g, row in zip(GRADS, got):
        tw.grad = torch.tensor(g)
        reference.step()
        np.testing.assert_allclose(row, tw.detach().numpy(), rtol=1e-10)


def test_adam_matches_torch_on_a_network_in_float32() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 5)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    net = st.models.MLP([5, 8, 3], rng=0)
    ref = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for (_, p), q in zip(net.named_parameters(), ref.parameters()):
            q.copy_(torch.from_numpy(p.data))
    ours = optim.Adam(net.parameters(), lr=0.01)
    theirs = torch.optim.Adam(ref.parameters(), lr=0.01)
    for _ in range(5):
        ours.zero_grad()
        st.functional.cross_entropy(net(X), y).backward()
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        theirs.step()
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-4, atol=1e-6)
        assert p.dtype == np.float32


@pytest.mark.parametrize("make", [
    lambda p: optim.GradientDescent(p, lr=0.1), lambda p: optim.Momentum(p, lr=0.1),
    lambda p: optim.RMSprop(p, lr=0.05), lambda p: optim.Adam(p, lr=0.1)],
    ids=["gd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_decreases_a_convex_quadratic(make) -> None:
    A = np.diag([1.0, 10.0])  # an elongated bowl
    w = st.tensor(np.array([3.0, -2.0]), requires_grad=True)
    optimizer = make([w])

    def cost():
        return (w @ st.tensor(A) @ w) * 0.5

    start = cost().item()
    for _ in range(100):
        optimizer.zero_grad()
        cost().backward()
        optimizer.step()
    assert cost().item() < 0.01 * start


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_trains_a_tiny_net(name: str) -> None:
    X, y = st.data.datasets.make_planar(200, rng=0)
    net = st.models.MLP([2, 6, 2], activation="tanh", rng=0)
    lr = {"gd": 0.5, "momentum": 0.5, "rmsprop": 0.01, "adam": 0.01}[name]
    optimizer = optim.OPTIMIZERS[name](net.parameters(), lr=lr)
    history = st.train.fit(net, X, y, optimizer=optimizer, epochs=30, batch_size=None,
                           verbose=0)
    assert history["loss"][-1] < history["loss"][0]


def test_no_allocation_in_step_reuses_buffers() -> None:
    w = st.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    adam = optim.Adam([w], lr=0.1)
    w.grad = np.ones(4, dtype=np.float32)
    adam.step()
    buffers = {k: id(v) for k, v in adam.state[0].items()}
    data_id = id(w.data)
    adam.step()
    assert {k: id(v) for k, v in adam.state[0].items()} == buffers
    assert id(w.data) == data_id and w.dtype == np.float32


def test_state_dict_round_trip_continues_identically() -> None:
    def fresh():
        w = st.tensor(W0.copy(), requires_grad=True)
        return w, optim.Adam([w], lr=optim.InverseTimeDecay(0.1, 0.5, unit="step"))

    w1, a1 = fresh()
    for g in GRADS[:2]:
        w1.grad = g.copy()
        a1.step()
    w2, a2 = fresh()
    w2.data[:] = w1.data
    a2.load_state_dict({k: v for k, v in a1.state_dict().items()})
    for g in GRADS[2:]:
        for w, a in ((w1, a1), (w2, a2)):
            w.grad = g.copy()
            a.step()
    np.testing.assert_array_equal(w1.data, w2.data)
    with pytest.raises(ValueError, match="the state is from 'Adam', not RMSprop"):
        optim.RMSprop([w2]).load_state_dict(a1.state_dict())


def test_frozen_and_gradless_parameters_are_skipped() -> None:
    a = st.tensor([1.0], requires_grad=True)
    b = st.tensor([1.0], requires_grad=True)
    sgd = optim.GradientDescent([a, b], lr=1.0)
    a.grad = np.array([1.0], dtype=np.float32)
    sgd.step()
    assert a.data[0] == 0.0 and b.data[0] == 1.0


def test_weight_decay_is_l2() -> None:
    w = st.tensor(np.array([2.0]), requires_grad=True)
    sgd = optim.GradientDescent([w], lr=0.1, weight_decay=0.5)
    w.grad = np.zeros(1)
    sgd.step()
    np.testing.assert_allclose(w.data, [2.0 - 0.1 * 0.5 * 2.0])


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.Adam(p, lr=-0.1), r"Adam: `lr` must be in \(0, inf\]; got -0.1"),
    (lambda p: optim.GradientDescent(p, lr=0), r"`lr` must be in \(0, inf\]; got 0"),
    (lambda p: optim.Momentum(p, beta=1.0), r"`beta` must be in \[0, 1\); got 1.0"),
    (lambda p: optim.Adam(p, eps=0), r"`eps` must be in \(0, inf\]"),
    (lambda p: optim.Adam([]), r"empty parameter list"),
    (lambda p: optim.Adam([p[0], p[0]]), r"parameter 1 appears twice"),
    (lambda p: optim.Adam([np.zeros(2)]), r"parameter 0 is a ndarray, not a Tensor"),
])
def test_bad_arguments(make, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make([st.tensor([1.0], requires_grad=True)])


def test_ewma_and_bias_correction() -> None:
    # O3/O4: temperatures averaged with beta = 0.9; the corrected first value is exact.
    average = optim.EWMA(0.9)
    assert average.update(40.0) == pytest.approx(40.0)
    raw = optim.EWMA(0.9, bias_correction=False)
    assert raw.update(40.0) == pytest.approx(4.0)
    assert optim.EWMA(0.98).window == pytest.approx(50.0)
    with pytest.raises(ValueError, match=r"`beta` must be in \[0, 1\)"):
        optim.EWMA(1.0)


def test_adam_leaves_a_plateau_faster_than_gradient_descent() -> None:
    # O9: on a plateau the gradient is tiny; gradient descent crawls, Adam's step is
    # normalised by the gradient's running RMS and keeps a useful size.
    def cost(w):
        return 1 - st.functional.sigmoid((w - 2.0) * 3.0).sum()  # flat for w << 2

    steps = {}
    for name, make in [("gd", lambda p: optim.GradientDescent(p, lr=0.1)),
                       ("adam", lambda p: optim.Adam(p, lr=0.1))]:
        w = st.tensor(np.array([-3.0]), requires_grad=True)
        optimizer = make([w])
        steps[name] = 300
        for step in range(1, 301):
            optimizer.zero_grad()
            cost(w).backward()
            optimizer.step()
            if w.data[0] > 2.0:
                steps[name] = step
                break
    assert steps["adam"] < 100 <= steps["gd"]
