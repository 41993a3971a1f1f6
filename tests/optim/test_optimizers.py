"""Optimisers: the seed's formulas written out, PyTorch where the rules coincide."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from steepest import optim
from steepest.autograd import Tensor
from steepest.ops import _blas


@pytest.fixture(autouse=True, params=["blas", "numpy"])
def _update_path(request, monkeypatch):
    """Every test twice: the rules' one-pass BLAS axpby updates, and the NumPy passes
    used where NumPy links another BLAS (or for CuPy and non-contiguous arrays)."""
    if request.param == "numpy":
        monkeypatch.setattr(_blas, "_AXPBY", {})
    elif not _blas._AXPBY:
        pytest.skip("NumPy is not linked to its bundled OpenBLAS")

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
    lambda p: optim.RMSprop(p, lr=0.05), lambda p: optim.Adam(p, lr=0.1),
    lambda p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True)],
    ids=["gd", "momentum", "rmsprop", "adam", "sgd-nesterov"])
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


@pytest.mark.parametrize("name", ["gd", "sgd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_trains_a_tiny_net(name: str) -> None:
    X, y = st.data.datasets.make_planar(200, rng=0)
    net = st.models.MLP([2, 6, 2], activation="tanh", rng=0)
    lr = {"gd": 0.5, "sgd": 0.5, "momentum": 0.5, "rmsprop": 0.01, "adam": 0.01}[name]
    optimizer = optim.OPTIMIZERS[name](net.parameters(), lr=lr)
    history = st.train.fit(net, X, y, optimizer=optimizer, epochs=30, batch_size=None,
                           verbose=0)
    assert history["loss"][-1] < history["loss"][0]


@pytest.mark.parametrize("make", [
    lambda p: optim.Adam(p, lr=0.1), lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)],
    ids=["adam", "adam-weight-decay", "sgd-nesterov-weight-decay"])
def test_no_allocation_in_step_reuses_buffers(make) -> None:
    w = st.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    optimizer = make([w])
    w.grad = np.ones(4, dtype=np.float32)
    optimizer.step()
    buffers = {k: id(v) for k, v in optimizer.state[0].items() if k != "step"}
    data_id = id(w.data)
    optimizer.step()
    assert {k: id(v) for k, v in optimizer.state[0].items() if k != "step"} == buffers
    assert optimizer.state[0]["step"] == 2
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
    a2.load_state_dict(a1.state_dict())
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
    (lambda p: optim.SGD(p, momentum=-0.5), r"SGD: `momentum` must be in \[0, inf\]; got -0.5"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=1.5), r"`dampening` must be in \[0, 1\]"),
    (lambda p: optim.SGD(p, nesterov=True),
     r"SGD: `nesterov=True` needs `momentum` > 0 and `dampening` = 0; got momentum=0.0, "),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True),
     r"got momentum=0.9, dampening=0.1"),
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


# ------------------------------------------------------------------ per-parameter steps
SHAPES = [(3,), (2, 2), (4,)]
FROZEN_FOR = 4  # parameter 1 is frozen for the first 4 steps, then unfrozen
NUM_STEPS = 10
_rng = np.random.default_rng(7)
STARTS = [_rng.normal(size=shape) for shape in SHAPES]
STEP_GRADS = [[_rng.normal(size=shape) for shape in SHAPES] for _ in range(NUM_STEPS)]


def _has_grad(index: int, step: int) -> bool:
    """Which parameter gets a gradient in (0-based) step ``step``."""
    if index == 1:
        return step >= FROZEN_FOR
    if index == 2:
        return step % 3 != 1  # outside the loss every third step
    return True


def _run_frozen(make, mode: str) -> tuple[list[list[np.ndarray]], optim.Optimizer]:
    """Our optimiser on float64 parameters; ``mode`` says how a parameter sits out a step."""
    params = [st.tensor(w.copy(), requires_grad=True) for w in STARTS]
    optimizer = make(params)
    trajectory = []
    for step, grads in enumerate(STEP_GRADS):
        for i, (p, g) in enumerate(zip(params, grads)):
            if _has_grad(i, step):
                p.requires_grad = True
                p.grad = g.copy()
            elif mode == "requires_grad":
                p.requires_grad = False
                p.grad = g.copy()  # a stale gradient on a frozen parameter is ignored
            else:
                p.grad = None
        optimizer.step()
        trajectory.append([p.data.copy() for p in params])
    return trajectory, optimizer


def _run_frozen_torch(make) -> list[list[np.ndarray]]:
    params = [torch.tensor(w.copy(), requires_grad=True) for w in STARTS]
    optimizer = make(params)
    trajectory = []
    for step, grads in enumerate(STEP_GRADS):
        for i, (p, g) in enumerate(zip(params, grads)):
            p.grad = torch.tensor(g) if _has_grad(i, step) else None
        optimizer.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


@pytest.mark.parametrize("mode", ["requires_grad", "grad_none"])
@pytest.mark.parametrize("ours,theirs", [
    (lambda p: optim.Adam(p, lr=0.01, weight_decay=0.01),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)),
    (lambda p: optim.Adam(p, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6),
     lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    (lambda p: optim.RMSprop(p, lr=0.01, beta=0.9),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    # The seed's Momentum(lr, beta) is PyTorch's SGD(lr * (1 - beta), momentum=beta).
    (lambda p: optim.Momentum(p, lr=0.1, beta=0.9),
     lambda p: torch.optim.SGD(p, lr=0.1 * (1 - 0.9), momentum=0.9)),
    (lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
], ids=["adam", "adam-betas", "rmsprop", "momentum", "sgd-nesterov"])
def test_frozen_then_unfrozen_parameters_match_torch(ours, theirs, mode: str) -> None:
    got, optimizer = _run_frozen(ours, mode)
    expected = _run_frozen_torch(theirs)
    for step, (row, reference) in enumerate(zip(got, expected)):
        for i, (a, b) in enumerate(zip(row, reference)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12,
                                       err_msg=f"step {step + 1}, parameter {i}")
    assert optimizer.iterations == NUM_STEPS
    assert [s["step"] for s in optimizer.state] == [
        sum(_has_grad(i, step) for step in range(NUM_STEPS)) for i in range(len(SHAPES))]


def test_adam_bias_correction_restarts_for_an_unfrozen_layer() -> None:
    # The seed's Adam written out with t counted per parameter.
    got, _ = _run_frozen(lambda p: optim.Adam(p, lr=0.01), "requires_grad")
    ws = [w.copy() for w in STARTS]
    vs = [np.zeros(s) for s in SHAPES]
    ss = [np.zeros(s) for s in SHAPES]
    ts = [0] * len(SHAPES)
    for step, grads in enumerate(STEP_GRADS):
        for i, g in enumerate(grads):
            if not _has_grad(i, step):
                continue
            ts[i] += 1
            vs[i] = 0.9 * vs[i] + 0.1 * g
            ss[i] = 0.999 * ss[i] + 0.001 * g**2
            v_hat, s_hat = vs[i] / (1 - 0.9 ** ts[i]), ss[i] / (1 - 0.999 ** ts[i])
            ws[i] = ws[i] - 0.01 * v_hat / (np.sqrt(s_hat) + 1e-8)
        for i in range(len(SHAPES)):
            np.testing.assert_allclose(got[step][i], ws[i], rtol=1e-10)
    # The unfrozen layer's first update is the t = 1 one: alpha * dW / (|dW| + eps),
    # not the one a global t = 5 would give.
    first = got[FROZEN_FOR][1] - got[FROZEN_FOR - 1][1]
    g = STEP_GRADS[FROZEN_FOR][1]
    np.testing.assert_allclose(first, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-10)


def test_momentum_bias_correction_counts_steps_per_parameter() -> None:
    got, _ = _run_frozen(lambda p: optim.Momentum(p, lr=0.1, beta=0.9, bias_correction=True),
                         "grad_none")
    ws = [w.copy() for w in STARTS]
    vs = [np.zeros(s) for s in SHAPES]
    ts = [0] * len(SHAPES)
    for step, grads in enumerate(STEP_GRADS):
        for i, g in enumerate(grads):
            if _has_grad(i, step):
                ts[i] += 1
                vs[i] = 0.9 * vs[i] + 0.1 * g
                ws[i] = ws[i] - 0.1 * vs[i] / (1 - 0.9 ** ts[i])
            np.testing.assert_allclose(got[step][i], ws[i], rtol=1e-12)


# ------------------------------------------------------------------ PyTorch's SGD
@pytest.mark.parametrize("kwargs", [
    {}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1},
    {"momentum": 0.5, "nesterov": True, "weight_decay": 0.01}, {"weight_decay": 0.2},
], ids=["plain", "momentum", "nesterov", "dampening-decay", "nesterov-decay", "decay"])
def test_sgd_matches_torch_and_its_rule(kwargs) -> None:
    got = _run(lambda p: optim.SGD(p, lr=0.1, **kwargs))
    mu, dampening = kwargs.get("momentum", 0.0), kwargs.get("dampening", 0.0)
    decay, nesterov = kwargs.get("weight_decay", 0.0), kwargs.get("nesterov", False)
    w, v, expected = W0.copy(), None, []
    for g in GRADS:
        d = g + decay * w
        if mu:
            v = d.copy() if v is None else mu * v + (1 - dampening) * d
            d = d + mu * v if nesterov else v
        w = w - 0.1 * d
        expected.append(w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    tw = torch.tensor(W0.copy(), requires_grad=True)
    reference = torch.optim.SGD([tw], lr=0.1, **kwargs)
    for g, row in zip(GRADS, got):
        tw.grad = torch.tensor(g)
        reference.step()
        np.testing.assert_allclose(row, tw.detach().numpy(), rtol=1e-10)


def test_momentum_is_sgd_with_the_learning_rate_scaled_by_one_minus_beta() -> None:
    seed_form = _run(lambda p: optim.Momentum(p, lr=0.1, beta=0.9))
    pytorch_form = _run(lambda p: optim.SGD(p, lr=0.1 * (1 - 0.9), momentum=0.9))
    np.testing.assert_allclose(seed_form, pytorch_form, rtol=1e-12)
    assert not np.allclose(seed_form, _run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9)))


def test_sgd_is_the_name_sgd_and_without_momentum_is_gradient_descent() -> None:
    assert optim.OPTIMIZERS["sgd"] is optim.SGD
    np.testing.assert_array_equal(_run(lambda p: optim.SGD(p, lr=0.1)),
                                  _run(lambda p: optim.GradientDescent(p, lr=0.1)))
    assert "momentum_buffer" not in optim.SGD([st.tensor([1.0])]).buffers


# ------------------------------------------------------------------ versions
def test_step_bumps_the_version_of_each_updated_parameter(monkeypatch) -> None:
    bumped: list[int] = []
    monkeypatch.setattr(Tensor, "bump_version", lambda self: bumped.append(id(self)),
                        raising=False)
    a, b, c = (st.tensor([1.0], requires_grad=True) for _ in range(3))
    adam = optim.Adam([a, b, c])
    a.grad = np.ones(1, dtype=np.float32)
    c.requires_grad = False
    c.grad = np.ones(1, dtype=np.float32)
    adam.step()
    adam.step()
    assert bumped == [id(a), id(a)]  # once per updated parameter per step; b, c skipped


@pytest.mark.skipif(not hasattr(Tensor, "bump_version"), reason="Tensor has no versions yet")
def test_step_advances_the_tensor_version() -> None:
    w = st.tensor([1.0], requires_grad=True)
    sgd = optim.SGD([w], lr=0.1)
    before = w._version
    w.grad = np.ones(1, dtype=np.float32)
    sgd.step()
    assert w._version == before + 1


# ------------------------------------------------------------------ saving per-parameter steps
@pytest.mark.parametrize("make", [
    lambda p: optim.Adam(p, lr=optim.FixedIntervalDecay(0.05, 1.0, interval=3, unit="step")),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda p: optim.Momentum(p, lr=0.1, beta=0.8, bias_correction=True),
], ids=["adam-schedule", "sgd-nesterov", "momentum-bias-correction"])
def test_checkpoint_resume_with_frozen_parameters_continues_exactly(make, tmp_path) -> None:
    from steepest.io.checkpoint import load_checkpoint, save_checkpoint

    grads = [[g for g in step_grads[:2]] for step_grads in STEP_GRADS]

    def model():
        net = st.nn.Linear(2, 2, dtype="float64")
        net.weight.data[...] = STARTS[1]
        net.bias.data[...] = STARTS[0][:2]
        return net

    def train(net, optimizer, steps):
        weight, bias = net.weight, net.bias
        for step in steps:
            weight.requires_grad = _has_grad(1, step)  # frozen, then unfrozen
            weight.grad = grads[step][1].copy()
            bias.grad = grads[step][0][:2].copy()
            optimizer.step()

    net1 = model()
    opt1 = make([net1.weight, net1.bias])
    train(net1, opt1, range(3))  # stop while the weight is still frozen
    save_checkpoint(tmp_path / "run", net1, opt1, {"epoch": 0})
    net2 = model()
    net2.load_state_dict({k: v.copy() for k, v in net1.state_dict().items()})
    # Rebuilt with the defaults: the checkpoint restores the settings too.
    opt2 = type(opt1)([net2.weight, net2.bias])
    opt2.load_state_dict(load_checkpoint(tmp_path / "run").optimizer_state)
    assert repr(opt2) == repr(opt1)
    assert [s.get("step") for s in opt2.state] == [None, 3]
    train(net1, opt1, range(3, NUM_STEPS))
    train(net2, opt2, range(3, NUM_STEPS))
    np.testing.assert_array_equal(net1.weight.data, net2.weight.data)
    np.testing.assert_array_equal(net1.bias.data, net2.bias.data)
    assert [s["step"] for s in opt2.state] == [NUM_STEPS - FROZEN_FOR, NUM_STEPS]


def test_an_old_state_dict_without_steps_uses_the_global_count() -> None:
    # Before per-parameter steps, every bias correction used `iterations`.
    def fresh():
        a, b = st.tensor(W0.copy(), requires_grad=True), st.tensor(W0.copy(), requires_grad=True)
        return a, b, optim.Adam([a, b], lr=0.01)

    a1, b1, adam1 = fresh()
    for step, g in enumerate(GRADS[:3]):
        a1.grad = g.copy()
        b1.grad = g.copy() if step > 0 else None
        adam1.step()
    old = adam1.state_dict()
    del old["steps"]
    a2, b2, adam2 = fresh()
    adam2.load_state_dict(old)
    assert [s["step"] for s in adam2.state] == [3, 3]
    a2.data[:], b2.data[:] = a1.data, b1.data
    a2.grad = b2.grad = GRADS[3].copy()
    adam2.step()
    # The global-count rule written out for b, which really had two steps.
    v, s = adam1.state[1]["v"], adam1.state[1]["s"]
    v, s = 0.9 * v + 0.1 * GRADS[3], 0.999 * s + 0.001 * GRADS[3] ** 2
    expected = b1.data - 0.01 * (v / (1 - 0.9**4)) / (np.sqrt(s / (1 - 0.999**4)) + 1e-8)
    np.testing.assert_allclose(b2.data, expected, rtol=1e-12)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["steps"].update({"0": 9}),
     r"Adam.load_state_dict: parameter 0: step count must be an int in \[1, 2\]"
     r" \(the iterations\); got 9"),
    (lambda d: d["steps"].pop("0"), r"parameter 0: step count .*; got None"),
    (lambda d: d["steps"].update({"3": 1}), r"state for parameter 3, but there are only 1"),
    (lambda d: d["state"]["0"].update({"v": np.zeros(2)}), r"parameter 0 v: shape \(2,\) vs"),
])
def test_load_state_dict_rejects_state_that_does_not_fit(change, message) -> None:
    w = st.tensor(W0.copy(), requires_grad=True)
    adam = optim.Adam([w])
    for g in GRADS[:2]:
        w.grad = g.copy()
        adam.step()
    state = adam.state_dict()
    state = {**state, "steps": dict(state["steps"]),
             "state": {k: dict(v) for k, v in state["state"].items()}}
    change(state)
    with pytest.raises(ValueError, match=message):
        optim.Adam([st.tensor(W0.copy(), requires_grad=True)]).load_state_dict(state)


def test_load_state_dict_validates_settings_like_the_constructor() -> None:
    w = st.nn.Parameter(np.ones(3, np.float32))
    adam = optim.Adam([w], lr=0.01)
    state = adam.state_dict()
    for change, message in (({"hyperparameters": {**state["hyperparameters"], "beta1": 2.0}},
                             r"not valid Adam arguments .*beta1"),
                            ({"hyperparameters": {"momentum": 0.9}},
                             r"unknown settings \['momentum'\]"),
                            ({"base_lr": -1.0}, r"not valid Adam arguments .*lr"),
                            ({"epoch": -1}, r"`epoch` and `iterations` must be non-negative")):
        with pytest.raises(ValueError, match=message):
            adam.load_state_dict({**state, **change})
        assert (adam.beta1, adam.lr, adam.epoch) == (0.9, 0.01, 0)  # nothing applied


@pytest.mark.parametrize("make", [lambda p: optim.Adam(p, lr=1e-2),
                                  lambda p: optim.RMSprop(p, lr=1e-2)])
def test_float16_parameters_train_with_float32_state(make) -> None:
    # eps = 1e-8 is 0 in float16 and squared gradients underflow: without float32
    # state the first update divides by zero (NaN at batch 2, the reported bug).
    rng = np.random.default_rng(0)
    target = rng.normal(size=(4, 3)).astype(np.float32)
    runs = {}
    for dtype in (np.float16, np.float32):
        w = st.nn.Parameter(np.zeros((4, 3), dtype=dtype))
        optimizer = make([w])
        for _ in range(50):
            optimizer.zero_grad()
            ((w - target.astype(dtype)) ** 2).sum().backward()
            optimizer.step()
        assert w.data.dtype == dtype and np.isfinite(w.data).all()
        runs[dtype] = w.data.astype(np.float32)
        state = optimizer.state_dict()["state"]
        assert all(a.dtype == np.float32 for entry in state.values() for a in entry.values())
    # the float16 run follows the float32 one to float16's precision
    np.testing.assert_allclose(runs[np.float16], runs[np.float32], atol=2e-3)


@pytest.mark.parametrize("ours,theirs,nan_at", [
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=1.0),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=1.0), 1),
    (lambda p: optim.Adam(p, lr=0.1, beta1=0.0),
     lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.0, 0.999)), 0),
], ids=["sgd-dampening-1", "adam-beta1-0"])
def test_a_nan_spreads_as_in_torch_even_with_a_zero_coefficient(ours, theirs, nan_at) -> None:
    # BLAS's axpby skips an operand whose coefficient is 0, so 0 * NaN would become 0
    # there: SGD's (1 - dampening) * g with a NaN gradient, Adam's beta1 * v once v holds
    # a NaN. The rules must give NaN where PyTorch does.
    grads = [np.ones(3) for _ in range(3)]
    grads[nan_at] = np.array([np.nan, 1.0, 1.0])
    got = _run(ours, grads)
    assert np.isnan(got[-1, 0])
    tw = torch.tensor(W0.copy(), requires_grad=True)
    reference = theirs([tw])
    for g, row in zip(grads, got):
        tw.grad = torch.tensor(g)
        reference.step()
        np.testing.assert_allclose(row, tw.detach().numpy(), rtol=1e-10)  # NaN == NaN here
