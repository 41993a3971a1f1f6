"""Data sets: the embedded digits, IDX files, downloads with checksums, synthetic data."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from steepest.data import datasets
from steepest.data.datasets import DatasetError


def test_embedded_sample_is_balanced_real_digits() -> None:
    images, labels = datasets.load_mnist_sample()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0
    assert 0.08 < (images > 128).mean() < 0.25  # pen strokes on a blank background


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist(folder: Path, compress: bool, rng: np.random.Generator) -> dict[str, np.ndarray]:
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 12),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 5),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        data = _idx(array)
        if compress:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_load_mnist_from_a_folder(tmp_path, compress) -> None:
    arrays = _write_mnist(tmp_path, compress, np.random.default_rng(0))
    (train_x, train_y), (_test_x, test_y) = datasets.load_mnist(tmp_path)
    np.testing.assert_array_equal(train_x, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(test_y, arrays["t10k-labels-idx1-ubyte"])
    assert train_x.dtype == np.uint8 and train_y.dtype == np.int64


def test_missing_truncated_and_corrupt_files(tmp_path) -> None:
    _write_mnist(tmp_path, False, np.random.default_rng(0))
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\(.gz\) is missing"):
        datasets.load_mnist(tmp_path)
    truncated = tmp_path / "t.idx"
    truncated.write_bytes(_idx(np.zeros((3, 4)))[:-2])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        datasets.read_idx(truncated)
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DatasetError, match="not an IDX file"):
        datasets.read_idx(bad)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DatasetError, match="cannot read"):
        datasets.read_idx(broken)


class _Server:
    """A local HTTP server on 127.0.0.1 serving a folder."""

    def __init__(self, folder: Path) -> None:
        handler = lambda *a, **k: _QuietHandler(*a, directory=str(folder), **k)  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_download_once_with_checksums(tmp_path) -> None:
    served = tmp_path / "server"
    arrays = _write_mnist(served, True, np.random.default_rng(1))
    checksums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in served.iterdir()}
    cache = tmp_path / "cache"
    with _Server(served) as url:
        (train_x, _), (_, test_y) = datasets.load_mnist(cache_dir=cache, mirrors=[url],
                                                        checksums=checksums)
    np.testing.assert_array_equal(train_x, arrays["train-images-idx3-ubyte"])
    assert sorted(p.name for p in cache.iterdir()) == sorted(checksums)
    # Second call: from the cache, no server needed.
    (_, _), (_, again) = datasets.load_mnist(cache_dir=cache, mirrors=["http://127.0.0.1:9/"],
                                             checksums=checksums)
    np.testing.assert_array_equal(again, test_y)


def test_download_with_a_wrong_checksum_keeps_nothing(tmp_path) -> None:
    served = tmp_path / "server"
    _write_mnist(served, True, np.random.default_rng(1))
    wrong = {p.name: "0" * 64 for p in served.iterdir()}
    with _Server(served) as url, pytest.raises(DatasetError, match="does not match the expected"):
        datasets.load_mnist(cache_dir=tmp_path / "cache", mirrors=[url], checksums=wrong)
    assert not list((tmp_path / "cache").glob("*.gz"))


def test_offline_error_says_where_to_put_the_files(tmp_path) -> None:
    with pytest.raises(DatasetError, match=r"Offline\? Put the four MNIST files .* in "):
        datasets.load_mnist(cache_dir=tmp_path / "cache", mirrors=["http://127.0.0.1:9/"],
                            timeout=2)
    with pytest.raises(DatasetError, match="is missing"):
        datasets.load_mnist(cache_dir=tmp_path / "empty", download=False)


def test_sklearn_data_sets() -> None:
    X, y = datasets.load_breast_cancer()
    assert X.shape == (569, 30) and X.dtype == np.float32 and set(y.tolist()) == {0, 1}
    images, _labels = datasets.load_digits()
    assert images.shape == (1797, 8, 8) and images.max() == 16


def test_planar_is_reproducible_and_balanced() -> None:
    X1, y1 = datasets.make_planar(200, rng=3)
    X2, _y2 = datasets.make_planar(200, rng=3)
    np.testing.assert_array_equal(X1, X2)
    assert np.bincount(y1).tolist() == [100, 100]
    with pytest.raises(ValueError, match="must be even"):
        datasets.make_planar(201)


def test_shapes_boxes_contain_the_shapes() -> None:
    images, labels, boxes = datasets.make_shapes(20, image_size=32, objects=2, noise=0.0, rng=0)
    assert images.shape == (20, 3, 32, 32) and labels.shape == (20, 2)
    for image, image_boxes in zip(images, boxes):
        bright = image.max(axis=0) > 0.3
        inside = np.zeros_like(bright)
        for x0, y0, x1, y1 in image_boxes:
            assert 0 <= x0 < x1 <= 32 and 0 <= y0 < y1 <= 32
            inside[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = True
        assert bright.any() and not (bright & ~inside).any()  # every shape pixel in a box
    centre = datasets.make_shapes(3, box_format="cxcywh", rng=1)[2]
    corners = datasets.make_shapes(3, box_format="xyxy", rng=1)[2]
    np.testing.assert_allclose(datasets.convert_boxes(centre, "cxcywh", "xyxy"), corners,
                               atol=1e-5)
    with pytest.raises(ValueError, match="`shapes` must be one of"):
        datasets.make_shapes(2, shapes=("hexagon",))


def test_shapes_empty_images_and_object_ranges() -> None:
    images, labels, boxes = datasets.make_shapes(400, image_size=32, objects=(1, 3), empty=0.25,
                                                 noise=0.0, rng=2)
    counts = (labels >= 0).sum(axis=1)
    assert labels.shape == (400, 3) and set(counts.tolist()) == {0, 1, 2, 3}
    assert 0.15 < np.mean(counts == 0) < 0.35                     # about `empty` of them
    assert np.all(images[counts == 0].max(axis=(1, 2, 3)) < 0.2)   # background only
    padded = labels < 0
    assert np.isnan(boxes[padded]).all() and np.isfinite(boxes[~padded]).all()
    # Objects come first, padding after: no label after a -1.
    assert np.all(np.diff(padded.astype(int), axis=1) >= 0)
    with pytest.raises(ValueError, match=r"`empty` must be in \[0, 1\]; got 1.5"):
        datasets.make_shapes(2, empty=1.5)
    with pytest.raises(ValueError, match=r"`objects` range must have 0 <= low <= high"):
        datasets.make_shapes(2, objects=(3, 1))


def test_shapes_landmarks_are_vertices_and_centres() -> None:
    _, labels, boxes, points = datasets.make_shapes(60, image_size=32, objects=(0, 2),
                                                    landmarks=True, rng=4)
    assert points.shape == (60, 2, 4, 2)
    for label, box, point in zip(labels.ravel(), boxes.reshape(-1, 4), points.reshape(-1, 4, 2)):
        x0, y0, x1, y1 = box
        if label < 0:
            assert np.isnan(point).all()
        elif label == 0:   # circle: its centre
            np.testing.assert_allclose(point[0], [(x0 + x1) / 2, (y0 + y1) / 2], rtol=1e-5)
            assert np.isnan(point[1:]).all()
        elif label == 1:   # square: the corners, clockwise from top left
            np.testing.assert_allclose(point, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                                       rtol=1e-5)
        else:              # triangle: apex, bottom left, bottom right
            np.testing.assert_allclose(point[:3], [[(x0 + x1) / 2, y0], [x0, y1], [x1, y1]],
                                       rtol=1e-5)
            assert np.isnan(point[3]).all()
