"""Augmentation (I7, K9): flips, crops, colour shifts, PCA colour fitted on your images."""

from __future__ import annotations

import numpy as np
import pytest

from steepest import ShapeError
from steepest.data import augment


def test_flip_mirrors_with_probability_p() -> None:
    x = np.arange(2 * 1 * 2 * 3, dtype=np.float32).reshape(2, 1, 2, 3)
    always = augment.RandomFlip(p=1.0)(x, 0)
    np.testing.assert_array_equal(always, x[..., ::-1])
    np.testing.assert_array_equal(augment.RandomFlip(horizontal=False, vertical=True, p=1.0)(x),
                                  x[:, :, ::-1])
    assert np.array_equal(augment.RandomFlip(p=0.0)(x, 0), x)
    many = augment.RandomFlip(p=0.5)(np.tile(x[:1], (2000, 1, 1, 1)), 1)
    flipped = (many[:, 0, 0, 0] == x[0, 0, 0, -1]).mean()
    assert 0.45 < flipped < 0.55
    np.testing.assert_array_equal(x, np.arange(12, dtype=np.float32).reshape(2, 1, 2, 3))


def test_random_crop_shifts_within_the_padding() -> None:
    x = np.zeros((200, 1, 9, 9), dtype=np.float32)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the centre
    out = augment.RandomCrop(9, padding=2)(x, np.random.default_rng(0))
    positions = np.argwhere(out[:, 0] == 1.0)[:, 1:]
    assert out.shape == x.shape and len(positions) == 200
    assert positions.min() >= 2 and positions.max() <= 6  # moved by at most 2
    assert len({tuple(p) for p in positions}) == 25  # every shift occurs
    with pytest.raises(ShapeError, match="larger than the padded image"):
        augment.RandomCrop(12)(x, 0)


def test_colour_shift_adds_one_offset_per_channel() -> None:
    x = np.random.default_rng(0).random((4, 3, 5, 5)).astype(np.float32)
    out = augment.ColorShift(0.1)(x, 1)
    delta = out - x
    assert np.allclose(delta, delta[:, :, :1, :1], atol=1e-6)  # constant over the image
    assert np.abs(delta).max() <= 0.1 + 1e-6


def test_pca_colour_perturbation_lies_along_the_fitted_components() -> None:
    rng = np.random.default_rng(0)
    # Colours vary mostly along (1, 1, 0.2): PCA must find that direction.
    direction = np.array([1.0, 1.0, 0.2]) / np.linalg.norm([1.0, 1.0, 0.2])
    strength = rng.normal(0, 0.3, (50, 1, 8, 8))
    images = 0.5 + strength * direction[None, :, None, None] + rng.normal(0, 0.02, (50, 3, 8, 8))
    pca = augment.PCAColor(std=0.1).fit(images)
    assert abs(abs(pca.eigenvectors[:, 0] @ direction) - 1) < 1e-3
    np.testing.assert_allclose(pca.eigenvalues[0], 0.3**2, rtol=0.1)

    x = np.repeat(images[:1], 4000, axis=0)
    out = pca(x, np.random.default_rng(1))
    delta = (out - x)[:, :, 0, 0]  # the same offset at every pixel
    np.testing.assert_allclose((out - x), delta[:, :, None, None] * np.ones((1, 1, 8, 8)),
                               atol=1e-12)
    # In the eigenbasis, component i has standard deviation std * sqrt(lambda_i).
    coordinates = delta @ pca.eigenvectors
    expected = 0.1 * np.sqrt(pca.eigenvalues)
    np.testing.assert_allclose(coordinates.std(axis=0), expected, rtol=0.06)
    np.testing.assert_allclose(np.abs(coordinates.mean(axis=0)) / expected, 0, atol=0.06)


def test_compose_and_reshape_are_reproducible() -> None:
    flat = np.random.default_rng(0).random((6, 48)).astype(np.float32)
    pipeline = augment.Reshape((3, 4, 4), augment.Compose([augment.RandomFlip(),
                                                           augment.RandomCrop(4, padding=1)]))
    a = pipeline(flat, np.random.default_rng(5))
    b = pipeline(flat, np.random.default_rng(5))
    assert a.shape == flat.shape
    np.testing.assert_array_equal(a, b)


def test_bad_input() -> None:
    with pytest.raises(ShapeError, match=r"expected a batch of images \(N, C, H, W\)"):
        augment.RandomFlip()(np.zeros((3, 4, 4)))
    with pytest.raises(RuntimeError, match="call fit"):
        augment.PCAColor()(np.zeros((1, 3, 2, 2)))
    with pytest.raises(ShapeError, match="fitted on 3 channels; got images with 1"):
        augment.PCAColor().fit(np.random.default_rng(0).random((2, 3, 2, 2)))(
            np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="choose at least one"):
        augment.RandomFlip(horizontal=False)
    with pytest.raises(TypeError, match="not callable"):
        augment.Compose([3])


def test_multi_crop_takes_the_corners_the_centre_and_their_mirrors() -> None:
    from steepest.data.augment import MultiCrop

    x = np.arange(2 * 25, dtype=np.float32).reshape(2, 1, 5, 5)
    views = MultiCrop(3, crops=10)(x)
    assert views.shape == (10, 2, 1, 3, 3)
    image = x[1, 0]
    expected = [image[1:4, 1:4], image[:3, :3], image[:3, 2:], image[2:, :3], image[2:, 2:]]
    for k, crop in enumerate(expected):
        np.testing.assert_array_equal(views[k, 1, 0], crop)
        np.testing.assert_array_equal(views[k + 5, 1, 0], crop[:, ::-1])
    assert MultiCrop(3, crops=1)(x).shape[0] == 1
    two = MultiCrop((3, 2), crops=2)(x)
    np.testing.assert_array_equal(two[1], two[0][..., ::-1])
    padded = MultiCrop(5, crops=5, padding=1)(x)  # shifts by one pixel
    np.testing.assert_array_equal(padded[0], x)
    np.testing.assert_array_equal(padded[1][:, :, 1:, 1:], x[:, :, :4, :4])


def test_multi_crop_rejects_bad_arguments() -> None:
    from steepest.data.augment import MultiCrop

    with pytest.raises(ValueError, match="`crops` must be 1, 2, 5 or 10; got 3"):
        MultiCrop(3, crops=3)
    with pytest.raises(ShapeError, match=r"crop \(6, 6\) is larger than the image \(5, 5\)"):
        MultiCrop(6)(np.zeros((1, 1, 5, 5)))
    with pytest.raises(ShapeError, match="expected a batch of images"):
        MultiCrop(2)(np.zeros((5, 5)))
