"""CSVLogger and TensorBoard callbacks: files a spreadsheet and TensorBoard itself can read."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import steepest as st
from steepest.train import CSVLogger, TensorBoard


def data(m: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, 3)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def test_csv_logger_writes_one_row_per_epoch(tmp_path: Path) -> None:
    X, y = data()
    path = tmp_path / "logs" / "history.csv"
    history = st.train.fit(st.models.MLP([3, 4, 2], rng=0), X, y, dev=(X, y), epochs=3,
                           batch_size=16, verbose=0, callbacks=[CSVLogger(path)])
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "dev_loss", "dev_accuracy", "lr"]
    for key in ("loss", "dev_accuracy", "lr"):  # full precision, the History's values
        assert [float(row[key]) for row in rows] == history[key]


def test_csv_logger_append_and_resume(tmp_path: Path) -> None:
    X, y = data()
    path = tmp_path / "log.csv"
    logger = CSVLogger(path, separator=";")
    st.train.fit(st.models.MLP([3, 2], rng=0), X, y, epochs=2, verbose=0, callbacks=[logger])
    st.train.fit(st.models.MLP([3, 2], rng=0), X, y, epochs=1, verbose=0,
                 callbacks=[CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;loss;accuracy;lr" and [line[0] for line in lines[1:]] == \
        ["1", "2", "1"]

    class Resumed:  # what the loop shows a callback when it resumes after epoch 1
        epoch = 1

    path.write_text("\n".join(lines[:3]) + "\n")  # a run interrupted after epoch 2
    resumed = CSVLogger(path, separator=";")
    resumed.on_train_begin(Resumed())  # type: ignore[arg-type]
    resumed.on_epoch_end(Resumed(), 2, {"loss": math.nan, "accuracy": 0.5, "lr": 0.1})  # type: ignore[arg-type]
    resumed.on_train_end(Resumed())  # type: ignore[arg-type]
    assert path.read_text().splitlines()[1:] == [lines[1], "2;nan;0.5;0.1"]


def test_csv_logger_rejects_a_bad_separator(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CSVLogger: `separator` must be one character; got ''"):
        CSVLogger(tmp_path / "x.csv", separator="")


def test_tensorboard_event_files_read_back_with_tensorboard(tmp_path: Path) -> None:
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    X, y = data(40)
    model = st.models.MLP([3, 4, 2], rng=0)
    optimizer = st.optim.Adam(model.parameters(), lr=st.optim.InverseTimeDecay(0.01, 1.0))
    history = st.train.fit(model, X, y, dev=(X, y), epochs=3, batch_size=16, verbose=0,
                           optimizer=optimizer,
                           callbacks=[TensorBoard(tmp_path, histogram_freq=2)])
    reader = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.SCALARS: 0,
                                      event_accumulator.HISTOGRAMS: 0})
    reader.Reload()
    tags = reader.Tags()
    assert {"epoch/loss", "epoch/accuracy", "epoch/dev_loss", "epoch/lr", "batch/loss"} <= \
        set(tags["scalars"])
    for key in ("loss", "dev_loss", "lr"):
        events = reader.Scalars(f"epoch/{key}")
        assert [e.step for e in events] == [1, 2, 3]
        np.testing.assert_allclose([e.value for e in events], history[key], rtol=1e-6)
    lrs = [e.value for e in reader.Scalars("epoch/lr")]
    assert lrs[0] > lrs[1] > lrs[2]  # the decaying learning rate
    batches = reader.Scalars("batch/loss")
    assert [e.step for e in batches] == list(range(1, 10))  # 3 batches x 3 epochs
    np.testing.assert_allclose([e.value for e in batches], history.iteration_loss, rtol=1e-6)
    assert sorted(tags["histograms"]) == [f"weights/layers.{i}.{name}" for i in (0, 2)
                                          for name in ("bias", "weight")]
    weights = reader.Histograms("weights/layers.0.weight")
    assert [h.step for h in weights] == [2]
    assert weights[0].histogram_value.num == model.layers[0].weight.size


def test_tensorboard_without_tensorboardx_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install steepest\[tensorboard\]"):
        TensorBoard(tmp_path)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="TensorBoard: `histogram_freq` must be a non-negative"):
        TensorBoard(tmp_path, histogram_freq=-1)
