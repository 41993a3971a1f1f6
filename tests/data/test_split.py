"""Splits (I1, M4, M5, M12) with scikit-learn's proportions as the oracle, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import steepest as st
from steepest import ShapeError
from steepest.data import recommend_split, train_dev_split, train_dev_test_split


def test_the_seeds_recommendations() -> None:
    assert recommend_split(100) == (0.6, 0.2, 0.2)
    assert recommend_split(10_000) == (0.6, 0.2, 0.2)
    assert recommend_split(1_000_000) == (0.98, 0.01, 0.01)
    assert recommend_split(5_000_000) == (0.995, 0.0025, 0.0025)
    assert recommend_split(1000, test=False) == (0.7, 0.3)
    train, dev, test = recommend_split(200_000)
    assert dev * 200_000 == 10_000 and train + dev + test == pytest.approx(1)
    with pytest.raises(ValueError, match="`m` must be an int >= 2"):
        recommend_split(1)


def test_fractions_and_counts() -> None:
    X, y = np.arange(1000).reshape(500, 2), np.arange(500) % 5
    splits = train_dev_test_split(X, y, sizes=(0.7, 0.2, 0.1), rng=0)
    assert splits.sizes() == {"train": 350, "dev": 100, "test": 50}
    seen = np.concatenate([splits.train[1], splits.dev[1], splits.test[1]])
    assert len(seen) == 500
    rows = np.concatenate([splits.train[0][:, 0], splits.dev[0][:, 0], splits.test[0][:, 0]])
    assert sorted(rows.tolist()) == list(range(0, 1000, 2))  # each example exactly once
    counts = train_dev_test_split(X, y, sizes=(300, 200), rng=0)
    assert counts.sizes() == {"train": 300, "dev": 200} and counts.test is None


def test_reproducible_under_a_seed() -> None:
    X = np.arange(100)
    a = train_dev_test_split(X, sizes=(0.6, 0.2, 0.2), rng=3)
    b = train_dev_test_split(X, sizes=(0.6, 0.2, 0.2), rng=3)
    np.testing.assert_array_equal(a.dev[0], b.dev[0])
    c = train_dev_test_split(X, sizes=(0.6, 0.2, 0.2), rng=4)
    assert not np.array_equal(a.dev[0], c.dev[0])
    generator = np.random.default_rng(3)
    d = train_dev_test_split(X, sizes=(0.6, 0.2, 0.2), rng=generator)
    np.testing.assert_array_equal(a.dev[0], d.dev[0])  # a Generator is used as given


def test_no_rng_draws_from_steepests_default_generator() -> None:
    X = np.arange(100)
    st.seed(11)
    a = train_dev_split(X, size=0.3)
    st.seed(11)
    b = train_dev_split(X, size=0.3)
    np.testing.assert_array_equal(a.train_dev[0], b.train_dev[0])
    c = train_dev_split(X, size=0.3)  # the default generator moved on
    assert not np.array_equal(a.train_dev[0], c.train_dev[0])


def test_the_rng_argument_is_the_only_randomness_argument() -> None:
    with pytest.raises(TypeError, match=r"`rng` must be a numpy\.random\.Generator"):
        train_dev_test_split(np.zeros((10, 2)), sizes=(0.6, 0.2, 0.2), rng="0")
    with pytest.raises(TypeError, match="unexpected keyword argument 'seed'"):
        train_dev_split(np.zeros((10, 2)), seed=0)  # type: ignore[call-arg]


def test_stratified_proportions_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=997, p=[0.5, 0.3, 0.15, 0.05])
    X = np.arange(997)
    ours = train_dev_test_split(X, y, sizes=(0.6, 0.2, 0.2), stratify=y, rng=0)
    rest_x, _test_x, rest_y, test_y = train_test_split(X, y, test_size=0.2, stratify=y,
                                                      random_state=0)
    _, _dev_x, _, dev_y = train_test_split(rest_x, rest_y, test_size=0.25, stratify=rest_y,
                                          random_state=0)
    for part, reference in ((ours.dev[1], dev_y), (ours.test[1], test_y)):
        ours_p = np.bincount(part, minlength=4) / len(part)
        theirs_p = np.bincount(reference, minlength=4) / len(reference)
        np.testing.assert_allclose(ours_p, theirs_p, atol=0.01)
        np.testing.assert_allclose(ours_p, np.bincount(y) / len(y), atol=0.01)
    assert abs(len(ours.dev[1]) - len(dev_y)) <= 1 and abs(len(ours.test[1]) - len(test_y)) <= 1


def test_train_dev_set_comes_from_the_training_data() -> None:
    X, y = np.arange(200).reshape(100, 2), np.arange(100) % 2
    splits = train_dev_split(X, y, size=0.2, stratify=y, rng=0)
    assert splits.sizes() == {"train": 80, "train_dev": 20}
    assert np.bincount(splits.train_dev[1]).tolist() == [10, 10]
    assert not set(splits.train[0][:, 0]) & set(splits.train_dev[0][:, 0])


@pytest.mark.parametrize("kwargs,error,message", [
    ({"y": np.zeros(9)}, ShapeError, r"`X` has 10 examples but `y` has 9"),
    ({"sizes": (0.6, 0.3, 0.2)}, ValueError, r"add up to 1 \(they add up to 1.1\)"),
    ({"sizes": (6, 3)}, ValueError, r"add up to the 10 examples \(they add up to 9\)"),
    ({"sizes": (1.0,)}, ValueError, r"needs 2 \(train, dev\) or 3"),
    ({"sizes": (0.98, 0.01, 0.01)}, ValueError, r"too few .* a part would be empty"),
    ({"stratify": np.array([0] * 9 + [1])}, ValueError,
     r"class 1 has only 1 example\(s\), fewer than the 3 parts"),
    ({"stratify": np.zeros(4)}, ShapeError, r"`stratify` has 4 labels for 10 examples"),
])
def test_bad_input(kwargs, error, message) -> None:
    arguments = {"y": np.arange(10) % 2, "sizes": (0.6, 0.2, 0.2), **kwargs}
    with pytest.raises(error, match=message):
        train_dev_test_split(np.zeros((10, 2)), **arguments)
