"""Learning-rate decay (O8): the seed's formulas and the optimiser consulting them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import steepest as st
from steepest import optim
from steepest.optim.schedules import SCHEDULES, schedule_from_config


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
    (lambda: optim.Constant(0.1)(0), r"Constant: the epoch number counts from 1; got 0"),
    (lambda: optim.FixedIntervalDecay(0.1, interval=0), r"`interval` must be a positive int"),
    (lambda: optim.FixedIntervalDecay(0.1, decay_rate=-0.5), r"`decay_rate` must be in \[0"),
    (lambda: optim.FixedIntervalDecay(0.1, unit="step")(-1),
     r"FixedIntervalDecay: the step number counts from 0; got -1"),
    (lambda: optim.InverseTimeDecay(0.1).after(-1),
     r"InverseTimeDecay: `completed` must be a non-negative int; got -1"),
    (lambda: schedule_from_config("Cosine", {"lr0": 0.1}),
     r"schedule_from_config: unknown learning-rate schedule 'Cosine'; known: Constant, "),
])
def test_bad_schedules(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_fixed_interval_decay_formula() -> None:
    # The course's scheduled decay: alpha0 / (1 + decay_rate * floor(epoch_num / interval)),
    # epoch_num from 0.
    schedule = optim.FixedIntervalDecay(0.5, decay_rate=0.3, interval=10)
    for epoch in range(35):
        assert schedule(epoch) == pytest.approx(0.5 / (1 + 0.3 * math.floor(epoch / 10)))
    # The course exercise's check: lr0 0.5, epoch 100, decay_rate 0.3, time_interval 100.
    assert optim.FixedIntervalDecay(0.5, 0.3, interval=100)(100) == pytest.approx(0.5 / 1.3)
    # interval=1 is the exercise's per-epoch alpha0 / (1 + decay_rate * epoch_num).
    per_epoch = optim.FixedIntervalDecay(0.2, decay_rate=1.0, interval=1)
    assert [per_epoch(t) for t in range(4)] == pytest.approx([0.2, 0.1, 0.2 / 3, 0.05])
    assert optim.FixedIntervalDecay(0.1).interval == 1000


@pytest.mark.parametrize("cls", list(SCHEDULES.values()), ids=list(SCHEDULES))
def test_every_schedule_says_where_it_counts_from(cls) -> None:
    assert f"from {cls.first}" in (cls.__doc__ or "")
    schedule = cls([2], [0.1, 0.01]) if cls is optim.PiecewiseConstant else cls(0.1)
    assert schedule.after(0) == schedule(cls.first)
    with pytest.raises(ValueError, match=f"counts from {cls.first}; got {cls.first - 1}"):
        schedule(cls.first - 1)
    assert {cls.__name__: cls.first for cls in SCHEDULES.values() if cls.first == 0} == {
        "FixedIntervalDecay": 0}


SCHEDULE_EXAMPLES = [
    optim.Constant(0.3, unit="step"), optim.InverseTimeDecay(0.2, 0.7),
    optim.FixedIntervalDecay(0.4, 0.25, interval=3, unit="step"),
    optim.ExponentialDecay(0.1, 0.9), optim.InverseSqrtDecay(0.1, 2.0),
    optim.StepDecay(1.0, step_size=3, factor=0.1), optim.PiecewiseConstant([2, 5], [1, 0.5, 0.1]),
]


@pytest.mark.parametrize("schedule", SCHEDULE_EXAMPLES, ids=lambda s: type(s).__name__)
def test_schedule_config_round_trip(schedule) -> None:
    saved = json.loads(json.dumps({"class": type(schedule).__name__,
                                   "config": schedule.get_config()}))
    rebuilt = schedule_from_config(saved["class"], saved["config"])
    assert repr(rebuilt) == repr(schedule)
    assert [rebuilt.after(t) for t in range(8)] == [schedule.after(t) for t in range(8)]
    # ... and through an optimiser's state dict.
    w = st.tensor([1.0], requires_grad=True)
    sgd = optim.SGD([w], lr=schedule)
    for _ in range(3):
        w.grad = np.ones(1, dtype=np.float32)
        sgd.step()
    restored = optim.SGD([w], lr=1.0)
    restored.load_state_dict(json.loads(json.dumps(
        {k: v for k, v in sgd.state_dict().items() if k != "state"})))
    assert repr(restored.schedule) == repr(schedule) and restored.lr == sgd.lr


def test_optimizer_asks_a_from_zero_schedule_for_number_zero_first() -> None:
    w = st.tensor([1.0], requires_grad=True)
    sgd = optim.SGD([w], lr=optim.FixedIntervalDecay(1.0, 1.0, interval=2, unit="step"))
    rates = []
    for _ in range(5):
        rates.append(sgd.lr)
        w.grad = np.ones(1, dtype=np.float32)
        sgd.step()
    assert rates == pytest.approx([1.0, 1.0, 0.5, 0.5, 1 / 3])
    by_epoch = optim.Adam([w], lr=optim.FixedIntervalDecay(1.0, 1.0, interval=2))
    rates = []
    for completed in range(4):
        by_epoch.epoch = completed
        rates.append(by_epoch.lr)
    assert rates == pytest.approx([1.0, 1.0, 0.5, 0.5])


def test_fit_runs_the_first_epoch_of_a_from_zero_schedule_at_lr0() -> None:
    X, y = st.data.datasets.make_planar(100, rng=0)
    net = st.models.MLP([2, 4, 2], activation="tanh", rng=0)
    adam = optim.Adam(net.parameters(),
                      lr=optim.FixedIntervalDecay(0.02, decay_rate=1.0, interval=2))
    history = st.train.fit(net, X, y, optimizer=adam, epochs=5, verbose=0)
    np.testing.assert_allclose(history["lr"], [0.02 / (1 + math.floor(e / 2)) for e in range(5)])
