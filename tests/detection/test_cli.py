"""steepest train --model yolo (train_detector) and steepest detect, on tiny data."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from steepest.detection import cli
from steepest.detection.data import shapes_detection_splits
from steepest.train import Callback, History, Trainer


class FakeSignals(Callback):
    """As the command's _Signals: a received signal interrupts the trainer."""

    name = "signals"

    def __init__(self, received: int | None = None) -> None:
        self.received = received

    def on_train_begin(self, trainer: Trainer) -> None:
        if self.received is not None:
            trainer.interrupt("interrupted by SIGTERM")


def train_args(**changes: Any) -> argparse.Namespace:
    arguments = {"data": "shapes", "model": "yolo", "seed": 0, "optimizer": "adam", "l2": 0.0,
                 "early_stopping": False, "quiet": True, "human_error": None,
                 **cli.DETECTOR_DEFAULTS["yolo"], "epochs": 1, "batch_size": 8}
    arguments.update(changes)
    return argparse.Namespace(**arguments)


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "SPLIT_SIZES", {"train": 8, "dev": 2, "test": 2})
    monkeypatch.setattr(cli, "WIDTH", 2)

    def no_plot(*args: Any, **kwargs: Any) -> None:  # matplotlib's savefig: a second a plot
        raise ImportError("matplotlib")

    monkeypatch.setattr(History, "plot", no_plot)


@pytest.mark.slow  # over a second of learning: runs with `pytest -m slow` (CI runs both)
def test_train_then_detect(tiny: None, tmp_path: Path) -> None:
    statuses: list[tuple[str, dict]] = []
    run = tmp_path / "run"
    run.mkdir()
    code = cli.train_detector(run, train_args(), False, FakeSignals(),
                              lambda folder, status, args, **extra: statuses.append(
                                  (status, extra)))
    assert code == 0 and statuses == [("complete", {})]
    metrics = json.loads((run / "metrics.json").read_text())["results"]
    assert set(metrics["test"]) == {"map50", "map", "ap50"}
    assert (run / "model" / "config.json").is_file() and (run / "history.json").is_file()

    images, _ = shapes_detection_splits(train=1, dev=1, test=1)["test"]
    image = tmp_path / "image.npy"
    np.save(image, images[0])
    out = tmp_path / "found.png"
    args = argparse.Namespace(run=str(run), image=str(image), out=str(out),
                              score_threshold=0.0, iou_threshold=0.5)
    assert cli.command_detect(args) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["box_format"] == "xyxy pixels" and report["detections"]
    assert {"class", "label", "score", "box_xyxy"} <= set(report["detections"][0])
    with pytest.raises(ValueError, match=r"found\.png exists; steepest detect never overwrites"):
        cli.command_detect(args)


def test_an_interrupted_detector_run_keeps_a_resume_point(tiny: None, tmp_path: Path) -> None:
    statuses: list[str] = []
    code = cli.train_detector(tmp_path, train_args(), False, FakeSignals(signal.SIGTERM),
                              lambda folder, status, args, **extra: statuses.append(status))
    assert code == 128 + signal.SIGTERM and statuses == ["interrupted"]
    assert not (tmp_path / "model").exists()


def test_detector_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--model yolo detects objects in --data shapes"):
        cli.train_detector(tmp_path, train_args(data="digits"), False, FakeSignals(),
                           lambda *a, **k: None)
    args = argparse.Namespace(run=str(tmp_path), image="x.png", out=None, score_threshold=0.3,
                              iou_threshold=1.5)
    with pytest.raises(ValueError, match=r"--iou-threshold must be in \[0, 1\]; got 1.5"):
        cli.command_detect(args)
    args.iou_threshold = 0.5
    with pytest.raises(ValueError, match="holds no model"):
        cli.command_detect(args)


def test_detect_parser_reads_the_command_line() -> None:
    parser = argparse.ArgumentParser(prog="steepest")
    cli.add_detect_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["detect", "runs/yolo", "image.png", "--out", "found.png",
                              "--score-threshold", "0.5"])
    assert (args.run, args.image, args.out, args.score_threshold, args.iou_threshold) == \
        ("runs/yolo", "image.png", "found.png", 0.5, 0.5)
    assert args.handler is cli.command_detect
