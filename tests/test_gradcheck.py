"""Gradient checking: the seed's measure, its bands, and what it refuses."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
import steepest.functional as F
from steepest.gradcheck import (
    PASSING,
    GradcheckReport,
    allocate_checks,
    gradcheck,
    gradcheck_model,
    relative_error,
    verdict,
)


class WrongSquare(st.Function):
    """x^2 with a deliberate bug in backward (the factor 2 is missing)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        return grad * self.x


def test_finds_a_wrong_backward() -> None:
    report = gradcheck(lambda x: WrongSquare()(x).sum(), [np.array([1.0, -2.0, 0.5])])
    assert not report.passed
    assert report.verdict == "bug"
    np.testing.assert_allclose(report.relative_error, 1 / 3, rtol=1e-6)  # |2x - x| / (|2x| + |x|)


def test_report_rows_and_worst() -> None:
    def fn(a, b):
        return (a * 2).sum() + WrongSquare()(b).sum()

    report = gradcheck(fn, [np.ones(3), np.ones(2)], names=["a", "b"])
    assert [r.name for r in report.rows] == ["a", "b"]
    assert report.rows[0].verdict == "correct"
    assert report.worst == "b"
    text = str(report)
    assert "relative error" in text and "FAILED" in text and "worst: b" in text


def test_bands_follow_the_seed() -> None:
    assert verdict(1e-8) == "correct"
    assert verdict(1e-6) == "probably correct"
    assert verdict(1e-4) == "look closer"
    assert verdict(1e-2) == "bug"
    assert verdict(float("nan")) == "bug"
    assert relative_error([0.0], [0.0]) == 0.0


def test_two_sided_difference_beats_one_sided() -> None:
    # I12: the error of (f(x+e) - f(x-e)) / 2e is O(e^2), of (f(x+e) - f(x)) / e O(e).
    f, x, e = np.exp, 1.0, 1e-3
    two = (f(x + e) - f(x - e)) / (2 * e)
    one = (f(x + e) - f(x)) / e
    assert abs(two - np.exp(1)) < abs(one - np.exp(1)) / 100


def test_non_scalar_output_is_projected() -> None:
    report = gradcheck(F.softmax, [np.random.default_rng(0).normal(size=(3, 4))])
    assert report.passed


def test_integer_inputs_pass_through() -> None:
    z = np.random.default_rng(0).normal(size=(4, 3))
    report = gradcheck(F.cross_entropy, [z, np.array([0, 2, 1, 1])])
    assert report.passed and len(report.rows) == 1


def test_max_checks_samples_components() -> None:
    report = gradcheck(lambda x: (x ** 2).sum(), [np.ones(50)], max_checks=7)
    assert report.rows[0].checked == 7 and report.passed


class SlightlyWrongSquare(st.Function):
    """x^2 whose backward is off by a factor 1 + 4e-6: a relative error of about 2e-6."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        return grad * 2 * self.x * (1 + 4e-6)


def test_verdict_and_pass_fail_are_one_decision() -> None:
    # 2e-6 is in the seed's "probably correct" band, but above the default tol=1e-7:
    # the report must not say "probably correct" and FAILED at once.
    inputs = [np.array([1.0, -2.0, 0.5])]
    strict = gradcheck(lambda x: SlightlyWrongSquare()(x).sum(), inputs)
    assert 1e-7 < strict.relative_error < 1e-5
    assert not strict.passed and strict.verdict == "look closer"
    assert strict.rows[0].verdict == "look closer"
    assert "probably correct" not in str(strict) and "FAILED" in str(strict)
    loose = gradcheck(lambda x: SlightlyWrongSquare()(x).sum(), inputs, tol=1e-5)
    assert loose.passed and loose.verdict == "probably correct" and "PASSED" in str(loose)


@pytest.mark.parametrize("tol", [1e-9, 1e-7, 3e-6, 1e-5, 1e-4, 1e-2])
def test_verdict_at_a_tolerance_agrees_with_pass_fail(tol) -> None:
    for error in [*np.logspace(-12, 1, 131), 0.0, tol, float("nan"), float("inf")]:
        word = verdict(float(error), tol)
        assert (word in PASSING) == bool(error <= tol), (error, tol, word)
        if word in PASSING:  # a pass is never read worse than the seed reads it
            assert word == "correct" or verdict(float(error)) != "correct"


def test_allocation_reaches_every_parameter() -> None:
    assert allocate_checks([1000, 10, 100, 1], 20) == [16, 1, 2, 1]
    assert allocate_checks([1000, 10, 100, 1], 4) == [1, 1, 1, 1]
    assert allocate_checks([6, 6, 6, 6, 6], 2) == [1, 0, 0, 0, 1]  # spread, not the first
    assert allocate_checks([3, 0, 2], 3) == [2, 0, 1]  # empty tensors get none
    assert allocate_checks([3, 2], None) == allocate_checks([3, 2], 99) == [3, 2]
    for sizes, budget in [([7, 1, 30, 2, 2], 9), ([400, 6, 2400, 16, 48000], 300)]:
        counts = allocate_checks(sizes, budget)
        assert sum(counts) == budget and all(1 <= c <= s for c, s in zip(counts, sizes))


def test_max_checks_is_spread_over_all_parameters() -> None:
    net = st.nn.Sequential(st.nn.Linear(6, 8), st.nn.Tanh(), st.nn.Linear(8, 3))
    X = np.random.default_rng(2).normal(size=(4, 6))
    y = np.array([0, 1, 2, 0])
    report = gradcheck_model(net, F.cross_entropy, X, y, max_checks=4)
    assert [r.checked for r in report.rows] == [1, 1, 1, 1], str(report)
    report = gradcheck_model(net, F.cross_entropy, X, y, max_checks=20)
    assert sum(r.checked for r in report.rows) == 20
    assert all(r.checked >= 1 for r in report.rows) and report.passed


def test_rng_chooses_the_components() -> None:
    def checked_mask(rng):
        seen = []

        def fn(x):
            seen.append(x.data.copy())
            return (x ** 2).sum()

        gradcheck(fn, [np.zeros(40)], max_checks=5, eps=1e-3, rng=rng)
        return sorted({int(np.flatnonzero(a)[0]) for a in seen if a.any()})

    assert checked_mask(0) == checked_mask(np.random.default_rng(0)) == checked_mask(0)
    assert len(checked_mask(0)) == 5 and checked_mask(1) != checked_mask(0)
    with pytest.raises(TypeError, match="`rng` must be"):
        gradcheck(lambda x: x.sum(), [np.ones(2)], rng="0")


def test_model_check_runs_in_float64_and_restores_everything() -> None:
    net = st.nn.Sequential(st.nn.Linear(4, 5), st.nn.Tanh(), st.nn.Linear(5, 3))
    before = {k: v.copy() for k, v in net.state_dict().items()}
    arrays = [p.data for p in net.parameters()]
    X = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    report = gradcheck_model(net, F.cross_entropy, X, y, regularization=st.nn.L2(0.3))
    assert isinstance(report, GradcheckReport)
    assert report.passed, str(report)
    assert report.relative_error < 1e-7
    for (name, value), array in zip(net.state_dict().items(), arrays):
        assert value is array  # the very same arrays are back
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, before[name])
    assert all(p.grad is None for p in net.parameters())


def test_model_check_of_a_hand_written_network() -> None:
    rng = np.random.default_rng(0)
    params = {"W1": st.tensor(rng.normal(size=(3, 2)), requires_grad=True),
              "b1": st.tensor(np.zeros(3), requires_grad=True),
              "W2": st.tensor(rng.normal(size=(1, 3)), requires_grad=True),
              "b2": st.tensor(np.zeros(1), requires_grad=True)}

    def forward(X):
        A1 = F.tanh(F.linear(X, params["W1"], params["b1"]))
        return F.linear(A1, params["W2"], params["b2"])

    X = rng.normal(size=(5, 2))
    y = rng.integers(0, 2, (5, 1)).astype(float)
    report = gradcheck_model(forward, F.binary_cross_entropy_with_logits, X, y, params=params,
                             regularization=st.nn.L2(0.5))
    assert report.passed
    assert [r.name for r in report.rows] == ["W1", "b1", "W2", "b2"]


def test_refuses_active_dropout() -> None:
    net = st.nn.Sequential(st.nn.Linear(3, 4), st.nn.Dropout(keep_prob=0.8), st.nn.Linear(4, 1))
    X, y = np.ones((2, 3)), np.ones((2, 1))
    with pytest.raises(ValueError, match=r"dropout is active in '1' \(keep_prob=0.8\).*I14"):
        gradcheck_model(net, F.mse_loss, X, y)
    net.eval()
    assert gradcheck_model(net, F.mse_loss, X, y).passed


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"`eps` must be in \(0, inf\]"):
        gradcheck(lambda x: x.sum(), [np.ones(2)], eps=0)
    with pytest.raises(TypeError, match="none of the inputs is floating-point"):
        gradcheck(lambda x: x.sum(), [np.ones(2, dtype=int)])
    with pytest.raises(ValueError, match="pass its tensors as params="):
        gradcheck_model(lambda X: X, F.mse_loss, np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda x: 3.0, [np.ones(2)])
