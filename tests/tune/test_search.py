"""search and coarse_to_fine: results, reproducibility, pruning, caviar on one machine."""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
import types

import numpy as np
import pytest

from steepest.tune import (
    Choice,
    LogUniform,
    OneMinusLogUniform,
    Uniform,
    coarse_to_fine,
    search,
)
from steepest.tune.toys import learning_curve, one_that_matters, quadratic

SPACE = {"lr": LogUniform(1e-4, 1e-1), "beta1": OneMinusLogUniform(0.9, 0.999)}


def test_search_finds_the_bottom_and_records_every_trial():
    result = search(quadratic, SPACE, 30, rng=0)
    assert len(result.trials) == 30 and result.counts() == {"complete": 30}
    values = [t["value"] for t in result.trials]
    assert result.best_value == min(values)
    assert result.best_params == result.trials[int(np.argmin(values))]["params"]
    assert 10**-2.6 < result.best_params["lr"] < 10**-1.4
    trial = result.trials[0]
    assert set(trial) >= {"params", "value", "state", "host", "pid", "curve"}
    assert trial["state"] == "complete" and isinstance(trial["host"], str)
    assert result.study.trials[0].user_attrs["pid"] == trial["pid"]


def test_same_seed_same_samples_other_seed_other_samples():
    first = search(quadratic, SPACE, 5, rng=3).trials
    again = search(quadratic, SPACE, 5, rng=np.int64(3)).trials
    other = search(quadratic, SPACE, 5, rng=4).trials
    assert [t["params"] for t in first] == [t["params"] for t in again]
    assert [t["params"] for t in first] != [t["params"] for t in other]
    # tpe is one word away, and seeded too
    tpe = search(quadratic, SPACE, 4, sampler="tpe", rng=1)
    assert tpe.trials[0]["params"] == search(quadratic, SPACE, 4, sampler="tpe",
                                             rng=1).trials[0]["params"]


def test_trials_add_to_a_shared_study():
    import optuna

    shared = optuna.storages.InMemoryStorage()
    search(quadratic, SPACE, 3, storage=shared, study="shared", rng=0)
    result = search(quadratic, SPACE, 4, storage=shared, study="shared", rng=0)
    assert [t["number"] for t in result.trials] == list(range(7))
    # trial k's draw depends on (seed, k): the second call continues, it does not repeat
    assert len({t["params"]["lr"] for t in result.trials}) == 7


def test_coarse_to_fine_boxes_shrink_and_hold_the_best():
    space = {"lr": LogUniform(1e-6, 1), "x": Uniform(0, 1), "act": Choice(["relu", "tanh"])}

    def objective(params, trial):
        penalty = 0.0 if params["act"] == "tanh" else 0.5
        return (math.log10(params["lr"]) + 3) ** 2 + (params["x"] - 0.2) ** 2 + penalty

    result = coarse_to_fine(objective, space, rounds=3, trials_per_round=12, keep=0.25, rng=0)
    assert [r.number for r in result.rounds] == [1, 2, 3]
    assert [len(r.trials) for r in result.rounds] == [12, 12, 12] == \
        [sum(t["round"] == n for t in result.trials) for n in (1, 2, 3)]
    widths = [math.log10(r.box["lr"][1] / r.box["lr"][0]) for r in result.rounds]
    assert widths[0] == 6 and widths[1] <= widths[0] / 2 + 1e-9 and widths[2] <= widths[1] / 2
    for before, after in zip(result.rounds, result.rounds[1:]):
        seen = [t for r in result.rounds[:after.number - 1] for t in r.trials]
        best = min(seen, key=lambda t: t["value"])
        for name in ("lr", "x"):
            low, high = after.box[name]
            assert low <= best["params"][name] <= high
            assert before.box[name][0] <= low and high <= before.box[name][1]
        assert all(t["params"]["lr"] >= after.box["lr"][0] * (1 - 1e-9) for t in after.trials)
    assert result.rounds[-1].box["act"] == ("tanh",)
    assert result.best_value <= min(t["value"] for t in result.rounds[0].trials)


def test_a_pruner_stops_most_runs_of_a_bad_region_early():
    result = search(learning_curve, {"x": Uniform(0, 1)}, 30, pruner="median", rng=0)
    bad = [t for t in result.trials if t["params"]["x"] > 0.7]
    stopped = [t for t in bad if t["state"] == "pruned" and len(t["curve"]) < 8]
    assert len(bad) >= 4 and len(stopped) >= len(bad) / 2
    assert result.best_params["x"] < 0.1  # the best curve is never pruned
    # without a pruner every bad run goes to its last epoch
    unpruned = search(learning_curve, {"x": Uniform(0, 1)}, 10, rng=0)
    assert all(len(t["curve"]) == 8 for t in unpruned.trials)


def test_two_processes_give_the_same_results_as_one(monkeypatch):
    # A spawned worker first re-runs the parent's __main__ (here pytest's script, which
    # imports all of pytest); a bare __main__ spares the test that time.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    one = search(quadratic, SPACE, 8, rng=5)
    two = search(quadratic, SPACE, 8, rng=5, jobs=2)
    key = sorted((t["number"], tuple(t["params"].items()), t["value"]) for t in one.trials)
    assert key == sorted((t["number"], tuple(t["params"].items()), t["value"])
                         for t in two.trials)
    assert len({t["pid"] for t in two.trials}) == 2


def test_records_are_written(tmp_path):
    result = search(learning_curve, {"x": Uniform(0, 1)}, 4, rng=0)
    result.to_csv(tmp_path / "trials.csv")
    result.to_json(tmp_path / "trials.json")
    lines = (tmp_path / "trials.csv").read_text().splitlines()
    assert lines[0].startswith("number,state,value,x,epochs,host,pid") and len(lines) == 5
    saved = json.loads((tmp_path / "trials.json").read_text())
    assert saved["best_value"] == result.best_value and len(saved["trials"]) == 4
    assert saved["trials"][0]["curve"][0][0] == 1 and saved["space"] == {"x": "Uniform(0, 1)"}


def _bad_input(**overrides):
    if overrides.get("storage") == "memory":
        import optuna

        overrides["storage"] = optuna.storages.InMemoryStorage()
    arguments = {"objective": one_that_matters, "space": {"lr": LogUniform(1e-4, 1)},
                 "trials": 2, **overrides}
    return search(arguments.pop("objective"), arguments.pop("space"), arguments.pop("trials"),
                  **arguments)


@pytest.mark.parametrize("overrides, error, message", [
    ({"trials": 0}, ValueError, "search: `trials` must be a positive int; got 0"),
    ({"space": {}}, ValueError, "`space` is empty"),
    ({"space": {"lr": (1e-4, 1)}}, TypeError, r"space\['lr'\] must be a Dimension"),
    ({"sampler": "grid"}, ValueError, "`sampler` must be one of 'random', 'tpe'"),
    ({"direction": "down"}, ValueError, "`direction` must be one of"),
    ({"pruner": "early"}, ValueError, "`pruner` must be one of 'none', 'median', 'halving'"),
    ({"objective": lambda p, t: 0.0, "jobs": 2}, TypeError, "must be picklable"),
    ({"storage": "postgresql://nobody@127.0.0.1:1/nothing"}, ValueError,
     "cannot reach storage 'postgresql://nobody@127.0.0.1:1/nothing'"),
    ({"objective": lambda p, t: "low"}, TypeError, "objective must return a number"),
    ({"objective": quadratic, "jobs": 2, "storage": "memory"}, ValueError,
     "needs a storage the processes can share"),
])
def test_bad_input_is_one_clear_error(overrides, error, message):
    with pytest.raises(error, match=message):
        _bad_input(**overrides)


def test_the_password_of_a_storage_url_is_not_shown():
    with pytest.raises(ValueError, match=r"nobody:\*\*\*@") as caught:
        _bad_input(storage="postgresql://nobody:secret@127.0.0.1:1/nothing")
    assert "secret" not in str(caught.value)


def test_optuna_is_optional(monkeypatch):
    import steepest

    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` now fails
    for name in [m for m in sys.modules if m.startswith("steepest.tune")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(steepest, "tune", None, raising=False)
    tune = importlib.import_module("steepest.tune")  # a fresh import needs no Optuna
    assert repr(tune.LogUniform(1e-4, 1)) == "LogUniform(1e-4, 1)"
    with pytest.raises(ImportError, match=r'pip install "steepest\[tune\]"'):
        tune.search(one_that_matters, {"lr": tune.LogUniform(1e-4, 1)}, 2)
    # and `import steepest` does not import the tune package at all (st.tune loads lazily)
    probe = subprocess.run([sys.executable, "-c", "import sys, steepest; "
                            "print(sorted(m for m in sys.modules if m.startswith("
                            "('steepest.tune', 'optuna'))))"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "[]"
