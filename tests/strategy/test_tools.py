"""Error analysis (M9, M10), optimising + satisficing selection (M3), learning curves."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import steepest as st
from steepest.strategy import (
    curve_from_history,
    error_analysis,
    learning_curve,
    misclassified,
    select_model,
)


def test_the_seeds_error_analysis() -> None:
    # 100 misclassified dev examples; dev error 10%. 5 are dogs: fixing dogs can at
    # best bring the error from 10% to 9.5%.
    tags = [["dog"]] * 5 + [["great cat"]] * 43 + [["blurry"]] * 61 + [["mislabelled"]] * 6
    tags = tags[:100]
    table = error_analysis(tags, dev_error=0.10)
    dog = table.row("dog")
    assert dog.count == 5 and dog.share == pytest.approx(0.05)
    assert dog.ceiling == pytest.approx(0.005)
    assert [r.tag for r in table.rows][:2] == ["blurry", "great cat"]
    assert "mislabelled" not in [r.tag for r in table.rows]  # cut off by [:100]


def test_multiple_tags_untagged_and_csv(tmp_path) -> None:
    table = error_analysis({1: ["dog", "blurry"], 4: [], 7: "mislabelled", 9: ["blurry "]},
                           dev_error=0.2)
    assert table.examined == 4 and table.untagged == 1
    assert table.row("blurry").count == 2 and table.row("mislabelled").ceiling == \
        pytest.approx(0.05)
    text = table.to_csv(tmp_path / "errors.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "errors.csv").read_text())))
    assert rows[0] == ["category", "count", "share", "ceiling"] and text.count("\n") == 5
    assert "(untagged)" in str(table) and "ceiling" in str(table)
    with pytest.raises(KeyError, match="no category 'cat'"):
        table.row("cat")
    with pytest.raises(ValueError, match="tags is empty"):
        error_analysis([])


def test_misclassified_sample() -> None:
    y_true = np.zeros(1000, dtype=int)
    y_pred = np.r_[np.ones(300, dtype=int), np.zeros(700, dtype=int)]
    wrong = misclassified(y_true, y_pred, sample=100, rng=0)
    assert len(wrong) == 100 and (wrong < 300).all() and len(set(wrong)) == 100


def test_select_model_with_a_satisficing_metric() -> None:
    candidates = {"A": {"accuracy": 0.90, "ms": 80}, "B": {"accuracy": 0.92, "ms": 95},
                  "C": {"accuracy": 0.95, "ms": 1500}}
    choice = select_model(candidates, "accuracy", satisficing={"ms": ("<=", 100)})
    assert choice.best == "B" and choice.feasible == ("B", "A")
    assert "ms = 1500 is not <= 100" in choice.rejected["C"][0]
    none = select_model(candidates, "accuracy", satisficing={"ms": ("<", 50)})
    assert none.best is None and set(none.rejected) == {"A", "B", "C"}
    assert "No candidate meets" in str(none)
    lowest = select_model({"x": {"error": 0.1}, "y": {"error": 0.05}}, "error", maximize=False)
    assert lowest.best == "y"
    with pytest.raises(ValueError, match="comparison one of"):
        select_model(candidates, "accuracy", satisficing={"ms": 100})
    with pytest.raises(KeyError, match="has no 'f1' metric"):
        select_model(candidates, "f1")


def test_learning_curves(tmp_path) -> None:
    X, y = st.data.datasets.make_planar(300, rng=0)
    history = st.train.fit(st.models.MLP([2, 6, 2], rng=0), X[:200], y[:200],
                           dev=(X[200:], y[200:]), epochs=4, verbose=0)
    by_epoch = curve_from_history(history)
    np.testing.assert_allclose(by_epoch.dev_error, 1 - np.asarray(history["dev_accuracy"]))
    by_epoch.plot(tmp_path / "epochs.png", human_error=0.0)
    by_size = learning_curve(lambda: st.models.MLP([2, 8, 2], activation="tanh", rng=0),
                             X[:200], y[:200], (X[200:], y[200:]), sizes=(0.25, 1.0),
                             epochs=30, batch_size=None, optimizer="adam")
    assert by_size.x.tolist() == [50, 200] and by_size.dev_error.shape == (2,)
    by_size.plot(tmp_path / "sizes.png")
    assert (tmp_path / "sizes.png").stat().st_size > 1000
    with pytest.raises(KeyError, match="has no 'f1'"):
        curve_from_history(history, "f1")


def test_learning_curve_takes_rng_and_hands_one_seed_to_every_run(monkeypatch) -> None:
    from steepest.strategy import curves

    calls: list[tuple[list[int], dict]] = []

    def recording_fit(model, X, y, **kwargs):
        calls.append((X[:, 0].astype(int).tolist(), kwargs))

    monkeypatch.setattr(curves, "fit", recording_fit)
    monkeypatch.setattr(curves, "error_rates", lambda model, parts: {"train": 0.0, "dev": 0.0})
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2

    def run(rng):
        calls.clear()
        learning_curve(lambda: st.nn.Linear(2, 2), X, y, (X, y), sizes=(0.5, 1.0), rng=rng,
                       epochs=1)
        return [list(c) for c in calls]

    first = run(5)
    assert first[0][1] == first[1][1]  # the same run seed for every size
    assert set(first[0][1]) == {"rng", "epochs", "verbose"} and "seed" not in first[0][1]
    assert set(first[0][0]) <= set(first[1][0])  # nested subsets
    assert run(5) == first and run(np.random.default_rng(5)) == first
    st.seed(5)
    from_default = run(None)
    st.seed(5)
    assert run(None) == from_default
    assert run(6) != first
    with pytest.raises(TypeError, match=r"`rng` must be a numpy\.random\.Generator"):
        run("5")
