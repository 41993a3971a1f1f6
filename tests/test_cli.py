"""The `steepest` command end to end, in subprocesses (short runs)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import steepest as st
from steepest.cli import main


def run_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m steepest ARGS`` in a real process."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([sys.executable, "-m", "steepest", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command's entry point in this process (the same code as the script, without
    the interpreter start-up); argparse's exits become return codes."""
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_info:
                code = int(exit_info.code or 0)
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    result = run("train", "--epochs", "2", "--out", "run", "--quiet", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "run"


def test_train_writes_everything_and_reports(trained) -> None:
    files = sorted(p.name for p in trained.iterdir())
    assert files == ["history.json", "learning_curves.png", "metrics.json", "model",
                     "report.txt", "run.json"]
    assert json.loads((trained / "run.json").read_text())["status"] == "complete"
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["results"]["test"]["accuracy"] > 0.85
    assert metrics["diagnosis"]["train_error"] >= 0
    model = st.load(trained / "model")
    assert type(model).__name__ == "LeNet5"
    history = st.train.History.load(trained / "history.json")
    assert history.epochs == [1, 2]


def test_train_output_as_a_person_sees_it(tmp_path) -> None:
    result = run("train", "--data", "planar", "--model", "mlp", "--hidden", "8",
                 "--activation", "tanh", "--epochs", "30", "--batch-size", "full",
                 "--lr", "0.05", "--out", "planar", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for phrase in ("mlp on planar", "train accuracy", "dev   accuracy", "test  accuracy",
                   "Error rates", "Gaps", "wrote planar/"):
        assert phrase in out


def test_evaluate_and_predict(trained, tmp_path) -> None:
    result = run("evaluate", str(trained), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "(test, 1,000 examples)" in result.stdout
    images, labels = st.data.datasets.load_mnist_sample()
    np.save(tmp_path / "digits.npy", images[[0, 1000, 2000]])
    result = run("predict", str(trained), "digits.npy", "--output", "pred.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "pred.csv").read_text().splitlines()
    assert lines[0] == "input,prediction,probability" and len(lines) == 4
    predicted = [line.split(",")[1] for line in lines[1:]]
    assert sum(p == str(labels[i]) for p, i in zip(predicted, [0, 1000, 2000])) >= 2


def test_python_dash_m_and_help(tmp_path) -> None:
    result = run_process("train", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "mini-batch size" in result.stdout and "keep probability" in result.stdout
    assert run_process("--version", cwd=tmp_path).stdout.startswith("steepest ")
    result = run_process("evaluate", "nowhere", cwd=tmp_path)  # a real process's one line
    assert result.returncode == 1 and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args,message", [
    (("train", "--epochs", "0"), "--epochs: must be a positive integer; got 0"),
    (("train", "--epochs", "x"), "--epochs: invalid positive integer value: 'x'"),
    (("train", "--optimizer", "sgdm"), "argument --optimizer: invalid choice"),
    (("train", "--keep-prob", "1.5"), "--keep-prob: must be in (0, 1]; got 1.5"),
    (("train", "--model", "logistic"), "--model logistic is binary"),
    (("train", "--model", "lenet5", "--data", "breast-cancer"), "lenet5 needs 28x28"),
    (("evaluate", "nowhere"), "no saved model at nowhere"),
    (("predict", "nowhere", "x.npy"), "no saved model at nowhere"),
])
def test_bad_flags_and_paths_give_one_line(tmp_path, args, message) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_corrupt_model_is_reported_and_nothing_is_overwritten(trained, tmp_path) -> None:
    broken = tmp_path / "broken"
    (broken / "model").mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (broken / "model" / name).write_bytes((trained / "model" / name).read_bytes())
    weights = broken / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    before = {p: p.read_bytes() for p in broken.rglob("*") if p.is_file()}
    for args in (("evaluate", str(broken)), ("predict", str(broken), "x.npy")):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "corrupt, truncated" in result.stderr or "does not exist" in result.stderr
    result = run("train", "--out", str(trained), "--epochs", "1", "--quiet", cwd=tmp_path)
    assert result.returncode == 1 and "exists and is not empty" in result.stderr
    assert {p: p.read_bytes() for p in broken.rglob("*") if p.is_file()} == before


@pytest.mark.slow  # 1,000 full-batch epochs: about 2 s
def test_the_readme_planar_command_reaches_the_seeds_90_percent(tmp_path, capsys) -> None:
    # The seed's planar flower: a 4-unit tanh hidden layer separates it to about 90%.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = next(l for l in readme.splitlines() if l.startswith("steepest train --data planar"))
    assert main([*line.split()[1:], "--quiet", "--out", str(tmp_path / "planar")]) == 0
    metrics = json.loads((tmp_path / "planar" / "metrics.json").read_text())["results"]
    assert metrics["dev"]["accuracy"] >= 0.88 and metrics["test"]["accuracy"] >= 0.85
    assert "restored the weights of epoch" in capsys.readouterr().out


def test_help_states_every_default(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("lenet5 0.003, mlp 0.002, logistic 0.5",      # learning rates
                   "lenet5 0.3, mlp 0.1, logistic 0",            # decay
                   "lenet5 on, mlp off, logistic off",           # augmentation
                   "restore the weights of the best epoch (default: on)",
                   "--no-early-stopping", "logistic full"):
        assert phrase in text, phrase
