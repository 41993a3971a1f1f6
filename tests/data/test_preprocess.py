"""Input normalisation (I9), unrolling (B1) and pixel scaling."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from steepest import ShapeError
from steepest.data import Standardizer, roll, scale_images, unroll


def test_matches_sklearn_and_uses_training_statistics() -> None:
    rng = np.random.default_rng(0)
    train, dev = rng.normal(3, 5, (200, 4)), rng.normal(-1, 2, (50, 4))
    ours = Standardizer().fit(train)
    theirs = StandardScaler().fit(train)
    np.testing.assert_allclose(ours.transform(dev), theirs.transform(dev), rtol=1e-5, atol=1e-5)
    transformed = ours.transform(train, dtype="float64")
    np.testing.assert_allclose(transformed.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(transformed.std(axis=0), 1, atol=1e-12)
    assert abs(ours.transform(dev).mean()) > 0.3  # dev keeps its own shift: not re-centred
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(dev, "float64")), dev)


def test_zero_variance_features_are_only_centred() -> None:
    train = np.array([[1.0, 7.0], [3.0, 7.0]])
    out = Standardizer().fit_transform(train)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 1], [0.0, 0.0])


def test_per_channel_statistics_for_images() -> None:
    images = np.random.default_rng(0).normal([[[1.0]], [[5.0]], [[-2.0]]], 1.0, (10, 3, 4, 4))
    scaler = Standardizer(per="channel").fit(images)
    assert scaler.mean_.shape == (3, 1, 1)
    out = scaler.transform(images)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)


def test_state_round_trip() -> None:
    scaler = Standardizer().fit(np.arange(12.0).reshape(4, 3))
    clone = Standardizer.from_state_dict(scaler.state_dict())
    ones = np.ones((1, 3))
    np.testing.assert_array_equal(clone.transform(ones), scaler.transform(ones))


def test_unroll_roll_scale() -> None:
    images = np.arange(2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    np.testing.assert_array_equal(roll(unroll(images), (3, 4, 4)), images)
    assert unroll(images).shape == (2, 48)
    np.testing.assert_allclose(scale_images(np.array([0, 51, 255], dtype=np.uint8)), [0, 0.2, 1])


def test_bad_input() -> None:
    with pytest.raises(RuntimeError, match="call fit"):
        Standardizer().transform(np.zeros((2, 2)))
    with pytest.raises(ShapeError, match=r"fitted on examples of shape \(3,\); got \(2,\)"):
        Standardizer().fit(np.zeros((4, 3))).transform(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="`X` contains NaN"):
        Standardizer().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"`X` is empty"):
        Standardizer().fit(np.zeros((0, 3)))
    with pytest.raises(ShapeError, match=r"expected images \(m, C, H, W\)"):
        Standardizer(per="channel").fit(np.zeros((4, 3)))
    with pytest.raises(TypeError, match="expected uint8 pixels"):
        scale_images(np.array([0.5, 2.0]))
    with pytest.raises(ShapeError, match=r"expected \(m, 12\)"):
        roll(np.zeros((2, 10)), (3, 2, 2))
