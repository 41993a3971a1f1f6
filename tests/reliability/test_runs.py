"""Nothing lost, nothing silent: interrupts, resume, concurrent runs, no overwrites.

Each test drives the real ``steepest`` command in subprocesses, as a user at a shell
would, with runs small enough for the suite's time budget.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from steepest.cli import main

TRAIN = ["train", "--data", "planar", "--model", "mlp", "--hidden", "8", "--batch-size", "32",
         "--epochs", "60", "--seed", "3"]


def steepest(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.Popen([sys.executable, "-m", "steepest", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def interrupt_after(process: subprocess.Popen[str], marker: str, number: int) -> str:
    """Read stderr until ``marker`` shows (an epoch's progress bar), then send a signal."""
    assert process.stderr is not None
    seen = ""
    while marker not in seen:
        char = process.stderr.read(1)
        if not char:
            break
        seen += char
    process.send_signal(number)
    return seen


def same_weights(a: Path, b: Path) -> bool:
    left, right = load_file(a / "model" / "model.safetensors"), load_file(
        b / "model" / "model.safetensors")
    return left.keys() == right.keys() and all(np.array_equal(left[k], right[k]) for k in left)


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_sigterm_stops_like_ctrl_c_with_exit_code_143(tmp_path) -> None:
    stopped = steepest(*TRAIN, "--out", "stopped", cwd=tmp_path)
    interrupt_after(stopped, "epoch 20/60", signal.SIGTERM)
    status, _, err = finish(stopped)
    assert status == 143 and "interrupted by SIGTERM" in err, err
    run = json.loads((tmp_path / "stopped" / "run.json").read_text())
    assert run["status"] == "interrupted" and run["epochs_done"] >= 19
    assert (tmp_path / "stopped" / "checkpoint" / "checkpoint.json").is_file()


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_an_interrupted_run_resumes_bit_for_bit(tmp_path) -> None:
    straight = steepest(*TRAIN, "--out", "straight", "--quiet", cwd=tmp_path)
    stopped = steepest(*TRAIN, "--out", "stopped", cwd=tmp_path)
    interrupt_after(stopped, "epoch 20/60", signal.SIGINT)
    status, _, err = finish(stopped)
    assert status == 130, err
    assert "interrupted by" in err and "steepest train --resume stopped" in err
    run = json.loads((tmp_path / "stopped" / "run.json").read_text())
    assert run["status"] == "interrupted" and run["epochs_done"] >= 19
    # never a complete-looking run: no model, no metrics
    assert sorted(p.name for p in (tmp_path / "stopped").iterdir()) == ["checkpoint", "run.json"]
    evaluate = finish(steepest("evaluate", "stopped", cwd=tmp_path))
    assert evaluate[0] == 1 and "interrupted run" in evaluate[2]

    resumed = finish(steepest("train", "--resume", "stopped", "--quiet", cwd=tmp_path))
    assert resumed[0] == 0, resumed[2]
    assert finish(straight)[0] == 0
    assert same_weights(tmp_path / "straight", tmp_path / "stopped")
    history = [json.loads((tmp_path / name / "history.json").read_text())
               for name in ("straight", "stopped")]
    assert history[0] == history[1]
    assert json.loads((tmp_path / "stopped" / "run.json").read_text())["status"] == "complete"
    again = finish(steepest("train", "--resume", "stopped", cwd=tmp_path))
    assert again[0] == 1 and "the run is complete" in again[2]


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_four_runs_started_together_get_four_folders(tmp_path) -> None:
    arguments = ["train", "--data", "planar", "--model", "logistic", "--epochs", "3",
                 "--batch-size", "full", "--quiet"]
    processes = [steepest(*arguments, cwd=tmp_path) for _ in range(4)]
    results = [finish(p) for p in processes]
    assert [r[0] for r in results] == [0, 0, 0, 0], [r[2] for r in results]
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 4
    for folder in folders:
        assert json.loads((folder / "run.json").read_text())["status"] == "complete"
        assert (folder / "model" / "model.safetensors").is_file()
        assert json.loads((folder / "model" / "config.json").read_text())["metadata"]["seed"] == 0


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_two_runs_racing_for_one_out_folder_never_share_it(tmp_path) -> None:
    arguments = ["train", "--data", "planar", "--model", "logistic", "--epochs", "3",
                 "--batch-size", "full", "--quiet", "--out", "shared"]
    results = [finish(p) for p in [steepest(*arguments, cwd=tmp_path) for _ in range(2)]]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], [r[2] for r in results]
    loser = next(r for r in results if r[0] == 1)
    assert "shared" in loser[2] and loser[2].count("\n") == 1  # one line, no traceback


def test_unwritable_out_fails_before_training(tmp_path, capsys) -> None:
    (tmp_path / "file").write_text("keep me")
    assert main([*TRAIN, "--out", str(tmp_path / "file"), "--overwrite"]) == 1
    captured = capsys.readouterr()
    assert "is a file, not a folder" in captured.err and "parameters" not in captured.out
    assert (tmp_path / "file").read_text() == "keep me"
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main([*TRAIN, "--out", str(locked)]) == 1
        captured = capsys.readouterr()
        assert "cannot write" in captured.err and "parameters" not in captured.out


def test_predict_never_overwrites_a_file(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--data", "planar", "--model", "logistic", "--epochs", "2",
                 "--batch-size", "full", "--quiet", "--out", str(run)]) == 0
    np.save(tmp_path / "points.npy", np.zeros((2, 2), np.float32))
    config = run / "model" / "config.json"
    before = config.read_bytes()
    capsys.readouterr()
    assert main(["predict", str(run), str(tmp_path / "points.npy"), "--output",
                 str(config)]) == 1
    assert "exists" in capsys.readouterr().err
    assert config.read_bytes() == before
    assert main(["predict", str(run), str(tmp_path / "points.npy"), "--output",
                 str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().startswith("input,prediction")


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_a_signal_before_training_still_leaves_a_resumable_folder(tmp_path) -> None:
    process = steepest(*TRAIN, "--out", "early", "--quiet", cwd=tmp_path)
    marker = tmp_path / "early" / "run.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the folder is claimed, the data not yet loaded
        if marker.is_file() and marker.read_text().strip():
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    status, _, err = finish(process)
    assert status == 130, err
    assert json.loads(marker.read_text())["status"] == "interrupted"
    resumed = finish(steepest("train", "--resume", "early", "--quiet", cwd=tmp_path))
    assert resumed[0] == 0, resumed[2]
    assert json.loads(marker.read_text())["status"] == "complete"
