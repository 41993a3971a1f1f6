"""Parameter groups: a learning rate and weight decay per group, state and saving intact."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st


def _pair():
    rng = np.random.default_rng(0)
    return [st.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
            for _ in range(2)]


def _steps(optimizer, params, n: int = 3) -> None:
    for _ in range(n):
        for p in params:
            p.grad = 2 * p.data  # the gradient of sum(p^2)
        optimizer.step()


def test_each_group_takes_steps_like_its_own_optimizer() -> None:
    grouped, alone_a, alone_b = _pair(), _pair(), _pair()
    adam = st.optim.Adam([{"params": [grouped[0]], "lr": 1e-3},
                          {"params": [grouped[1]], "weight_decay": 0.1}], lr=1e-2)
    _steps(adam, grouped)
    _steps(st.optim.Adam([alone_a[0]], lr=1e-3), [alone_a[0]])
    _steps(st.optim.Adam([alone_b[1]], lr=1e-2, weight_decay=0.1), [alone_b[1]])
    np.testing.assert_allclose(grouped[0].data, alone_a[0].data, rtol=1e-6)
    np.testing.assert_allclose(grouped[1].data, alone_b[1].data, rtol=1e-6)
    assert not np.allclose(grouped[0].data, grouped[1].data)


def test_a_schedule_scales_every_group() -> None:
    params = _pair()
    schedule = st.optim.ExponentialDecay(0.1, 0.5, unit="step")
    gd = st.optim.GradientDescent([{"params": [params[0]], "lr": 0.01}, {"params": [params[1]]}],
                                  lr=schedule)
    start = [p.data.copy() for p in params]
    _steps(gd, params, 2)  # W := W - lr * 2W; the group of lr 0.01 at a tenth of the schedule
    first, second = schedule.after(0), schedule.after(1)
    assert second < first
    np.testing.assert_allclose(params[1].data, start[1] * (1 - 2 * first) * (1 - 2 * second),
                               rtol=1e-6)
    np.testing.assert_allclose(params[0].data,
                               start[0] * (1 - 0.2 * first) * (1 - 0.2 * second), rtol=1e-6)


def test_groups_survive_saving_and_state_stays_per_parameter() -> None:
    params = _pair()
    groups = [{"params": [params[0]], "lr": 1e-3}, {"params": [params[1]]}]
    adam = st.optim.Adam(groups, lr=1e-2)
    _steps(adam, params, 2)
    state = adam.state_dict()
    assert state["param_groups"] == [{"size": 1, "lr": 1e-3, "weight_decay": None},
                                     {"size": 1, "lr": None, "weight_decay": None}]
    copies = [st.tensor(p.data.copy(), requires_grad=True) for p in params]
    restored = st.optim.Adam([{"params": [copies[0]], "lr": 0.5}, {"params": [copies[1]]}],
                             lr=1e-2)
    restored.load_state_dict(state)
    assert restored.param_groups[0]["lr"] == 1e-3
    _steps(adam, params)
    _steps(restored, copies)
    for a, b in zip(params, copies):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6)
    with pytest.raises(ValueError, match=r"parameter groups of sizes \[1, 1\]"):
        st.optim.Adam([params[0], params[1]], lr=1e-2).load_state_dict(state)


def test_bad_groups_are_named() -> None:
    a, b = _pair()
    with pytest.raises(ValueError, match=r"group 0 must have \"params\""):
        st.optim.Adam([{"parameters": [a]}])
    with pytest.raises(ValueError, match=r"group 0 must have .*got keys \['momentum', 'params'\]"):
        st.optim.Adam([{"params": [a], "momentum": 0.9}])
    with pytest.raises(TypeError, match="mix of parameter groups"):
        st.optim.Adam([{"params": [a]}, b])
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['lr'\]"):
        st.optim.Adam([{"params": [a], "lr": -1.0}])
    with pytest.raises(ValueError, match="appears twice"):
        st.optim.Adam([{"params": [a]}, {"params": [a]}])
