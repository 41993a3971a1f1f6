"""Learning-rate decay (O8): the seed's formulas and the optimiser consulting them."""

from __future__ import annotations

import math

import numpy as np
import pytest

import steepest as st
from steepest import optim


def test_the_seed_table() -> None:
    # alpha0 = 0.2, decay_rate = 1: epochs 1, 2, 3, 4 -> 0.1, 0.067, 0.05, 0.04
    schedule = optim.InverseTimeDecay(0.2, decay_rate=1.0)
    np.testing.assert_allclose([schedule(t) for t in (1, 2, 3, 4)], [0.1, 0.2 / 3, 0.05, 0.04])


def test_other_forms() -> None:
    assert optim.ExponentialDecay(0.1, base=0.95)(3) == pytest.approx(0.95**3 * 0.1)
    assert optim.InverseSqrtDecay(0.1, k=2.0)(9) == pytest.approx(2.0 / 3 * 0.1)
    assert [optim.StepDecay(1.0, step_size=3, factor=0.1)(t) for t in (1, 3, 4, 7)] == \
        pytest.approx([1.0, 1.0, 0.1, 0.01])
    piecewise = optim.PiecewiseConstant([5, 10], [0.1, 0.05, 0.01])
    assert [piecewise(t) for t in (1, 5, 6, 10, 11)] == [0.1, 0.1, 0.05, 0.05, 0.01]
    assert optim.Constant(0.3)(100) == 0.3


def test_optimizer_consults_epoch_schedule_during_fit() -> None:
    X, y = st.data.datasets.make_planar(100, rng=0)
    net = st.models.MLP([2, 4, 2], activation="tanh", rng=0)
    adam = optim.Adam(net.parameters(), lr=optim.InverseTimeDecay(0.02, decay_rate=0.5))
    history = st.train.fit(net, X, y, optimizer=adam, epochs=4, verbose=0)
    np.testing.assert_allclose(history["lr"], [0.02 / (1 + 0.5 * t) for t in (1, 2, 3, 4)])


def test_step_schedule() -> None:
    w = st.tensor([1.0], requires_grad=True)
    sgd = optim.GradientDescent([w], lr=optim.ExponentialDecay(1.0, 0.5, unit="step"))
    rates = []
    for _ in range(3):
        rates.append(sgd.lr)
        w.grad = np.ones(1, dtype=np.float32)
        sgd.step()
    assert rates == [0.5, 0.25, 0.125]


def test_learning_rate_scheduler_callback() -> None:
    X, y = st.data.datasets.make_planar(100, rng=0)
    net = st.models.MLP([2, 4, 2], rng=0)
    scheduler = st.train.LearningRateScheduler(lambda epoch, lr: 0.1 * math.pow(0.5, epoch))
    history = st.train.fit(net, X, y, optimizer=optim.GradientDescent(net.parameters(), 1.0),
                           epochs=3, verbose=0, callbacks=[scheduler])
    np.testing.assert_allclose(history["lr"], [0.05, 0.025, 0.0125])


@pytest.mark.parametrize("make,message", [
    (lambda: optim.InverseTimeDecay(0.1, decay_rate=-1), r"`decay_rate` must be in \[0, inf\]"),
    (lambda: optim.ExponentialDecay(0.1, base=1.5), r"`base` must be in \(0, 1\]"),
    (lambda: optim.StepDecay(0.1, step_size=0), r"`step_size` must be a positive int"),
    (lambda: optim.PiecewiseConstant([3, 2], [1, 2, 3]), r"must increase strictly"),
    (lambda: optim.PiecewiseConstant([3], [1.0]), r"one more value than boundaries"),
    (lambda: optim.InverseTimeDecay(0.1, unit="batch"), r"`unit` must be one of 'epoch', 'step'"),
    (lambda: optim.Constant(0.1)(0), r"counts from 1; got 0"),
])
def test_bad_schedules(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()
