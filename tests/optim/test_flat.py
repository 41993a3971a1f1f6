"""The flat parameter store of element-wise optimisers (issue 13, item 2).

From the first step, the trainable parameters and the rule's saved buffers live in
one flat array each, and a step runs the rule over cache-sized pieces of it. These
tests make the pieces tiny (so pieces cross parameter boundaries) and check the
numbers against PyTorch's optimisers, plus what must survive the repacking: loaded
state, replaced ``p.data``, frozen and gradient-less parameters, half precision.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from steepest import optim
from steepest.optim import optimizer as optimizer_module

SHAPES = [(4, 3), (4,), (2, 4), (2,), (5,)]


@pytest.fixture(autouse=True)
def tiny_pieces(monkeypatch):
    monkeypatch.setattr(optimizer_module, "_FLAT_PIECE", 7)  # 45 numbers: 7 pieces


def _problem(seed: int = 0, steps: int = 5):
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    return starts, grads


RULES = [
    (lambda p: optim.Adam(p, lr=0.01, weight_decay=0.05),
     lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.05), 1.0),
    (lambda p: optim.RMSprop(p, lr=0.01, beta=0.9),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8), 1.0),
    # The seed's Momentum(lr, beta) is PyTorch's SGD(lr * (1 - beta), momentum=beta).
    (lambda p: optim.Momentum(p, lr=0.1, beta=0.9),
     lambda p: torch.optim.SGD(p, lr=0.1 * (1 - 0.9), momentum=0.9), 1 - 0.9),
    (lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01), 1.0),
    (lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True), 1.0),
    (lambda p: optim.GradientDescent(p, lr=0.1, weight_decay=0.1),
     lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.1), 1.0),
]
RULE_IDS = ["adam", "rmsprop", "momentum", "sgd-dampening", "sgd-nesterov", "gd"]


def _groups(params, lr_first):
    """Two groups, the first with its own learning rate and no weight decay."""
    return [{"params": params[:2], "lr": lr_first, "weight_decay": 0.0},
            {"params": params[2:]}]


@pytest.mark.parametrize("grouped", [False, True], ids=["one-group", "two-groups"])
@pytest.mark.parametrize(("ours", "theirs", "torch_lr"), RULES, ids=RULE_IDS)
def test_flat_steps_match_torch(ours, theirs, torch_lr: float, grouped: bool) -> None:
    starts, grads = _problem()
    mine = [st.tensor(w.copy(), requires_grad=True) for w in starts]
    reference = [torch.tensor(w.copy(), requires_grad=True) for w in starts]
    if grouped:
        opt = ours(_groups(mine, 0.003))
        ref = theirs(_groups(reference, 0.003 * torch_lr))
    else:
        opt, ref = ours(mine), theirs(reference)
    for step, row in enumerate(grads):
        for p, q, g in zip(mine, reference, row):
            p.grad, q.grad = g.copy(), torch.from_numpy(g.copy())
        opt.step()
        ref.step()
        for i, (p, q) in enumerate(zip(mine, reference)):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"step {step + 1}, parameter {i}")
    # The parameters really are views of one array, and so are the saved moments.
    flat = opt._flat
    assert flat is not None and flat.members == set(range(len(SHAPES)))
    assert all(np.shares_memory(p.data, flat.data) for p in mine)
    for name, buffer in flat.buffers.items():
        assert all(np.shares_memory(s[name], buffer) for s in opt.state)
    assert all(s["step"] == len(grads) for s in opt.state)


def test_flat_state_round_trips_and_continues_exactly() -> None:
    starts, grads = _problem(steps=6)

    def run(interrupt: bool):
        params = [st.tensor(w.copy(), requires_grad=True) for w in starts]
        opt = optim.Adam(params, lr=0.01)
        for step, row in enumerate(grads):
            if interrupt and step == 3:  # save, rebuild everything, load
                saved = {k: v for k, v in opt.state_dict().items()}
                saved["state"] = {i: {n: np.array(a) for n, a in s.items()}
                                  for i, s in saved["state"].items()}
                values = [p.data.copy() for p in params]
                params = [st.tensor(v, requires_grad=True) for v in values]
                opt = optim.Adam(params, lr=0.01)
                opt.load_state_dict(saved)
            for p, g in zip(params, row):
                p.grad = g.copy()
            opt.step()
        return [p.data for p in params]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


def test_replacing_p_data_repacks_with_the_new_values() -> None:
    starts, grads = _problem()
    params = [st.tensor(w.copy(), requires_grad=True) for w in starts]
    opt = optim.GradientDescent(params, lr=0.5)
    for p, g in zip(params, grads[0]):
        p.grad = g.copy()
    opt.step()
    params[2].data = np.full(SHAPES[2], 3.0)  # what load_state_dict and users do
    opt.step()
    np.testing.assert_allclose(params[2].data, 3.0 - 0.5 * grads[0][2])
    np.testing.assert_allclose(params[0].data, starts[0] - 2 * 0.5 * grads[0][0])
    assert np.shares_memory(params[2].data, opt._flat.data)


def test_a_parameter_without_gradient_keeps_its_count_and_the_rest_still_step() -> None:
    starts, grads = _problem()
    params = [st.tensor(w.copy(), requires_grad=True) for w in starts]
    opt = optim.Adam(params, lr=0.1)
    reference = [torch.tensor(w.copy(), requires_grad=True) for w in starts]
    ref = torch.optim.Adam(reference, lr=0.1)
    for step, row in enumerate(grads):
        for i, (p, q, g) in enumerate(zip(params, reference, row)):
            skip = i == 1 and step in (1, 2)  # parameter 1 misses two steps
            p.grad = None if skip else g.copy()
            q.grad = None if skip else torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    for p, q in zip(params, reference):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert [s["step"] for s in opt.state] == [5, 3, 5, 5, 5]


def test_frozen_parameters_stay_out_and_half_precision_keeps_its_master_copy() -> None:
    rng = np.random.default_rng(1)
    frozen = st.tensor(rng.standard_normal(3))
    half = st.tensor(rng.standard_normal(4).astype(np.float16), requires_grad=True)
    wide = st.tensor(rng.standard_normal(5), requires_grad=True)
    narrow = st.tensor(rng.standard_normal(6).astype(np.float32), requires_grad=True)
    frozen_before, half_before = frozen.data.copy(), half.data.copy()
    wide_before, narrow_before = wide.data.copy(), narrow.data.copy()
    opt = optim.Adam([frozen, half, wide, narrow], lr=0.01)
    for _ in range(3):
        half.grad = np.ones(4, np.float16)
        wide.grad, narrow.grad = np.ones(5), np.ones(6, np.float32)
        opt.step()
    # Only the float64 parameter (the first trainable kind) joined the flat array;
    # the others took the parameter-by-parameter path, with the same rule.
    assert opt._flat.members == {2}
    np.testing.assert_array_equal(frozen.data, frozen_before)
    assert half.data.dtype == np.float16 and opt.state[1]["_master"].dtype == np.float32
    assert narrow.data.dtype == np.float32 and wide.data.dtype == np.float64
    # Adam's first steps are about lr * sign(grad) each: three steps of 0.01.
    for start, p in ((half_before, opt.state[1]["_master"]), (wide_before, wide.data),
                     (narrow_before, narrow.data)):
        np.testing.assert_allclose(p, start.astype(np.float32) - 0.03, atol=1e-4)
    assert [s.get("step", 0) for s in opt.state] == [0, 3, 3, 3]


def test_a_step_makes_recorded_graphs_stale_and_allocates_no_full_size_scratch() -> None:
    starts, grads = _problem()
    params = [st.tensor(w.copy(), requires_grad=True) for w in starts]
    opt = optim.Adam(params, lr=0.01)
    loss = (params[0] * params[0]).sum()
    for p, g in zip(params, grads[0]):
        p.grad = g.copy()
    opt.step()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    # The saved state is v and s per parameter; the rule's scratch is one piece.
    assert all(set(s) == {"step", "v", "s"} for s in opt.state)
    assert all(a.size <= 7 for part in opt._flat.pieces for a in part.values())


def test_a_model_trains_identically_with_and_without_the_flat_store(monkeypatch) -> None:
    X = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def train():
        model = st.models.MLP([6, 16, 2], rng=0)
        st.train.fit(model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.01),
                     epochs=3, batch_size=16, verbose=0, rng=0)
        return [p.data.copy() for p in model.parameters()]

    flat = train()
    monkeypatch.setattr(optim.Adam, "elementwise", False)  # parameter by parameter
    for a, b in zip(flat, train()):
        np.testing.assert_array_equal(a, b)


def _trained_adam(steps: int = 2):
    starts, grads = _problem(steps=steps)
    params = [st.tensor(w.copy(), requires_grad=True) for w in starts]
    opt = optim.Adam(params, lr=0.1)
    for row in grads:
        for p, g in zip(params, row):
            p.grad = g.copy()
        opt.step()
    return params, opt


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_optimiser_moves_its_own_parameters(how: str) -> None:
    import copy
    import pickle

    params, opt = _trained_adam()
    copied_params, copied = (copy.deepcopy((params, opt)) if how == "deepcopy"
                             else pickle.loads(pickle.dumps((params, opt))))
    for ps in (params, copied_params):
        for p in ps:
            p.grad = np.ones(p.shape)
    before = [p.data.copy() for p in copied_params]
    opt.step()
    copied.step()
    for p, q, b in zip(params, copied_params, before):
        assert not np.allclose(q.data, b)  # the copy trained ...
        np.testing.assert_array_equal(p.data, q.data)  # ... exactly as the original


def test_cleared_state_restarts_from_zero_moments() -> None:
    params, opt = _trained_adam()
    for state in opt.state:
        state.clear()
    fresh_params = [st.tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = optim.Adam(fresh_params, lr=0.1)
    for p, q in zip(params, fresh_params):
        p.grad = q.grad = -np.ones(p.shape)
    opt.step()
    fresh.step()
    for p, q in zip(params, fresh_params):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_subclass_that_overrides_update_is_not_taken_for_element_wise() -> None:
    class Normalised(optim.SGD):  # looks at the whole gradient: not element-wise
        def update(self, param, grad, state, lr):
            super().update(param, grad / np.linalg.norm(grad), state, lr)

    class Declared(optim.SGD):
        elementwise = True

        def update(self, param, grad, state, lr):
            super().update(param, 2 * grad, state, lr)

    assert not Normalised.elementwise and Declared.elementwise and optim.SGD.elementwise
    a, b = st.tensor(np.ones(3), requires_grad=True), st.tensor(np.ones(2), requires_grad=True)
    opt = Normalised([a, b], lr=0.1)
    a.grad, b.grad = np.array([0.0, 3.0, 4.0]), np.array([1.0, 0.0])
    opt.step()
    np.testing.assert_allclose(a.data, [1.0, 0.94, 0.92])  # each tensor normalised alone
    np.testing.assert_allclose(b.data, [0.9, 1.0])


def test_turning_momentum_on_later_and_freezing_a_member_rebuild_the_store() -> None:
    params = [st.tensor(np.ones(4), requires_grad=True), st.tensor(np.ones(3), requires_grad=True)]
    sgd = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = np.ones(p.shape)
    sgd.step()
    sgd.momentum = 0.9  # PyTorch starts v from the first gradient it sees
    sgd.step()
    np.testing.assert_allclose(params[0].data, 1 - 0.1 - 0.1)
    old = sgd._flat.data
    params[1].requires_grad = False  # frozen: it leaves the store, with arrays of its own
    params[1].grad = None
    sgd.step()
    assert sgd._flat.members == {0}
    assert not np.shares_memory(params[1].data, old)
    np.testing.assert_allclose(params[1].data, 1 - 0.1 - 0.1)
    np.testing.assert_allclose(params[0].data, 1 - 0.2 - 0.1 * (0.9 + 1))


def test_a_gradient_of_the_wrong_shape_is_refused_not_truncated() -> None:
    params, opt = _trained_adam()
    params[0].grad = np.ones((2, *SHAPES[0]))  # twice the numbers
    with pytest.raises(ValueError):
        opt.step()
