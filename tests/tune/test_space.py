"""Search spaces: the notes' scales (H3), their text form, and bad ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from steepest.tune import (
    Choice,
    IntLogUniform,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    PowerOfTwo,
    Uniform,
    parse_space,
    search,
)


def _record(params, trial):
    return 0.0


@pytest.fixture(scope="module")
def samples():
    """250 random-search draws of each kind, through Optuna, seeded."""
    space = {"lr": LogUniform(1e-4, 1), "beta": OneMinusLogUniform(0.9, 0.999),
             "linear": Uniform(1e-4, 1), "batch": PowerOfTwo(32, 512),
             "hidden": IntLogUniform(32, 512)}
    result = search(_record, space, 250, rng=7)
    return {name: np.array([t["params"][name] for t in result.trials]) for name in space}


def test_log_uniform_spreads_evenly_over_decades(samples):
    # The notes: r uniform in [-4, 0], alpha = 10**r.
    r = np.log10(samples["lr"])
    assert stats.kstest(r, stats.uniform(loc=-4, scale=4).cdf).pvalue > 0.01
    # The same test rejects a linear scale: 90% of its draws lie in [0.1, 1].
    linear = np.log10(samples["linear"])
    assert stats.kstest(linear, stats.uniform(loc=-4, scale=4).cdf).pvalue < 1e-6
    assert np.mean(samples["linear"] > 0.1) > 0.8


def test_one_minus_beta_is_log_uniform(samples):
    r = np.log10(1 - samples["beta"])
    assert stats.kstest(r, stats.uniform(loc=-3, scale=2).cdf).pvalue > 0.01
    assert samples["beta"].min() >= 0.9 and samples["beta"].max() <= 0.999
    # beta itself is far from uniform in [0.9, 0.999]: most draws sit near 1.
    assert stats.kstest(samples["beta"], stats.uniform(loc=0.9, scale=0.099).cdf).pvalue < 1e-6


def test_powers_of_two_and_log_integers(samples):
    assert set(samples["batch"]) == {32, 64, 128, 256, 512}
    counts = np.bincount(np.log2(samples["batch"]).astype(int))[5:]
    assert counts.min() > 30  # each of the 5 sizes about 50 times
    hidden = samples["hidden"]
    assert hidden.dtype.kind == "i" and hidden.min() >= 32 and hidden.max() <= 512
    assert 0.4 < np.mean(hidden < 128) < 0.6  # 128 is the geometric middle


def test_dimensions_print_as_the_notes_write_them():
    assert repr(LogUniform(1e-4, 1)) == "LogUniform(1e-4, 1)"
    assert LogUniform(1e-4, 1).describe() == "r uniform in [-4, 0], value 10**r"
    assert repr(OneMinusLogUniform(0.9, 0.999)) == "OneMinusLogUniform(0.9, 0.999)"
    assert OneMinusLogUniform(0.9, 0.999).describe() == "r uniform in [-3, -1], value 1 - 10**r"
    assert repr(PowerOfTwo(32, 512)) == "PowerOfTwo(32, 512)"
    assert repr(Choice(["relu", "tanh"])) == "Choice(['relu', 'tanh'])"


def test_unit_scale_round_trips():
    for dimension in (LogUniform(1e-4, 1), OneMinusLogUniform(0.9, 0.999), Uniform(-1, 3)):
        for u in (0.0, 0.3, 1.0):
            assert math.isclose(dimension.to_unit(dimension.from_unit(u)), u, abs_tol=1e-12)
    assert LogUniform(1e-4, 1).from_unit(0.25) == pytest.approx(1e-3)
    assert OneMinusLogUniform(0.9, 0.999).from_unit(1.0) == pytest.approx(0.999)
    assert [IntUniform(1, 3).from_unit(u) for u in (0, 0.34, 0.99)] == [1, 2, 3]


def test_parse_space_reads_every_kind():
    space = parse_space("lr=log(1e-4,1e-1) beta1=1-log(0.9, 0.999) hidden=intlog(32,512) "
                        "batch=pow2(32,512) keep=uniform(0.5,1) layers=int(1,3) "
                        "act=choice(relu,tanh)")
    assert space == {"lr": LogUniform(1e-4, 0.1), "beta1": OneMinusLogUniform(0.9, 0.999),
                     "hidden": IntLogUniform(32, 512), "batch": PowerOfTwo(32, 512),
                     "keep": Uniform(0.5, 1), "layers": IntUniform(1, 3),
                     "act": Choice(["relu", "tanh"])}


@pytest.mark.parametrize("make, message", [
    (lambda: LogUniform(1e-2, 1e-2), "range is empty"),
    (lambda: Uniform(1, 0), "`low` must be below `high`; got low=1, high=0"),
    (lambda: LogUniform(0, 1), "log scale needs 0 < low < high; got low=0"),
    (lambda: IntLogUniform(-4, 16), "log scale needs 0 < low < high; got low=-4"),
    (lambda: OneMinusLogUniform(0.9, 1.0), r"`high` must be in \(0, 1\); got 1.0"),
    (lambda: OneMinusLogUniform(0.0, 0.9), r"`low` must be in \(0, 1\); got 0.0"),
    (lambda: PowerOfTwo(32, 500), "power of two"),
    (lambda: Choice([]), "range is empty"),
    (lambda: LogUniform(1e-4, float("nan")), "must be finite"),
    (lambda: parse_space("lr=log(1e-4)"), "needs two bounds"),
    (lambda: parse_space("lr=cubic(1,2)"), "unknown kind 'cubic'"),
    (lambda: parse_space("lr=log(0,1)"), "lr: LogUniform: a log scale needs"),
    (lambda: parse_space("lr log(1,2)"), "cannot read"),
])
def test_bad_ranges_are_one_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="IntUniform: `low` must be an int"):
        IntUniform(1.5, 3)
    with pytest.raises(TypeError, match="Choice: `options` must be a list"):
        Choice("relu")
