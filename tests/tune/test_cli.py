"""``steepest tune`` and ``steepest train --params``' helper, on a small data set."""

from __future__ import annotations

import argparse
import json

import pytest

from steepest import cli as base
from steepest.tune.cli import add_tune_parser, apply_params


def _tune(*arguments: str) -> int:
    parser = argparse.ArgumentParser(prog="steepest")
    add_tune_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["tune", *arguments])
    return args.handler(args)


def test_tune_writes_trials_plots_and_best_json(tmp_path, capsys):
    out = tmp_path / "run"
    code = _tune("--data", "planar", "--model", "mlp", "--trials", "3", "--epochs", "2",
                 "--space", "lr=log(1e-3,1e-1) hidden=intlog(4,16)", "--out", str(out),
                 "--pruner", "none")
    assert code == 0
    printed = capsys.readouterr().out
    assert "trial 3/3" in printed and "best: trial #" in printed
    assert "steepest train --params" in printed
    for name in ("trials.csv", "trials.json", "best.json", "search.png", "curves.png"):
        assert (out / name).is_file(), name
    best = json.loads((out / "best.json").read_text())
    assert best["model"] == "mlp" and best["data"] == "planar"
    assert set(best["params"]) == {"lr", "hidden"} and 4 <= best["params"]["hidden"] <= 16
    trials = json.loads((out / "trials.json").read_text())["trials"]
    assert min(t["value"] for t in trials) == best["dev_error"]
    assert json.loads((out / "run.json").read_text())["status"] == "complete"

    # steepest train --params best.json: the winner's values replace the flags
    args = base.build_parser().parse_args(["train"])
    applied = apply_params(args, out / "best.json")
    assert args.model == "mlp" and args.data == "planar" and args.epochs == 2
    assert args.lr == best["params"]["lr"] and args.hidden == str(best["params"]["hidden"])
    assert sorted(a.split("=")[0] for a in applied) == ["hidden", "lr"]
    assert args.optimizer_options == {}
    # a flag given on the command line wins over the search's fixed settings
    args = base.build_parser().parse_args(["train", "--epochs", "5", "--activation", "tanh"])
    apply_params(args, out / "best.json")
    assert args.epochs == 5 and args.activation == "tanh"


def test_optimizer_hyperparameters_go_to_the_optimizer(tmp_path):
    path = tmp_path / "best.json"
    path.write_text(json.dumps({"model": "mlp", "data": "digits",
                                "params": {"beta1": 0.95, "batch": 64, "lr": 0.01}}))
    args = base.build_parser().parse_args(["train"])
    apply_params(args, path)
    assert args.optimizer_options == {"beta1": 0.95} and args.batch_size == 64


@pytest.mark.parametrize("arguments, message", [
    (["--space", "lr=log(0,1)"], "LogUniform: a log scale needs"),
    (["--space", "width=int(1,4)"], "unknown hyperparameter 'width'"),
    (["--space", "hidden=intlog(8,64)", "--model", "logistic", "--data", "planar"],
     "hidden is an mlp hyperparameter"),
    (["--space", "beta1=1-log(0.9,1.5)"], r"`high` must be in \(0, 1\)"),
    (["--study", "s"], "give --storage too"),
    (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot reach storage"),
])
def test_bad_input_fails_before_any_training(tmp_path, arguments, message):
    out = tmp_path / "never"
    with pytest.raises((ValueError, base.CommandError), match=message):
        _tune("--out", str(out), *arguments)
    assert not out.exists()


def test_a_file_that_is_not_best_json_is_refused(tmp_path):
    args = base.build_parser().parse_args(["train"])
    with pytest.raises(base.CommandError, match="does not exist"):
        apply_params(args, tmp_path / "missing.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(base.CommandError, match=r"not a best\.json"):
        apply_params(args, tmp_path / "other.json")
