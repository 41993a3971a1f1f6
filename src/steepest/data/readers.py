"""One input file for prediction, read safely: a NumPy array or a picture.

Both commands that predict from files (``steepest predict``, ``steepest detect``) read
through :func:`read_input_file`, so a corrupt ``.npz``, an object array or a text file
named ``.png`` is one clear :class:`InputFileError` everywhere, and nothing is ever
unpickled.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class InputFileError(ValueError):
    """An input file that is missing, unreadable or of an unsupported kind."""


def read_input_file(path: str | os.PathLike[str], *, what: str = "input",
                    suffixes: tuple[str, ...] = (".npy", ".npz", *IMAGE_SUFFIXES)) -> np.ndarray:
    """The numbers in one file: the array of a ``.npy``, the first of a ``.npz``, or the
    pixels of a picture as matplotlib reads them ((H, W) or (H, W, channels); PNGs in
    [0, 1], JPEGs as bytes).

    Args:
        path: the file.
        what: how messages name it (``"input x.npy"``).
        suffixes: the kinds of file the caller accepts.

    Raises:
        InputFileError: the file is missing, of another kind, corrupt, holds Python
            objects (never loaded), or matplotlib is missing for a picture.

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "x.npy"
        >>> np.save(file, np.arange(3))
        >>> read_input_file(file)
        array([0, 1, 2])
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{what} does not exist")
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise InputFileError(f"{what}: use {', '.join(suffixes)} files")
    if suffix in IMAGE_SUFFIXES:
        try:
            from matplotlib import image as mpimage
        except ImportError:
            raise InputFileError("reading images needs matplotlib: pip install "
                                 "steepest[plot]") from None
        try:
            return np.asarray(mpimage.imread(path))
        except Exception as error:  # Pillow raises many types for a file that is no image
            raise InputFileError(f"cannot read {what} as an image ({type(error).__name__}: "
                                 f"{error}); is it really a {suffix} file?") from None
    try:
        # Our own handle: NumPy leaves its file open when a .npz is corrupt.
        with open(path, "rb") as handle:
            if suffix == ".npy":
                return np.asarray(np.load(handle, allow_pickle=False))
            with np.load(handle, allow_pickle=False) as archive:
                if not archive.files:
                    raise InputFileError(f"{what} holds no arrays")
                return np.asarray(archive[archive.files[0]])
    except InputFileError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        reason = str(error)
        if "allow_pickle" in reason:  # NumPy suggests unsafe loading; steepest never does
            reason = "it holds Python objects, which steepest never loads"
        raise InputFileError(f"cannot read {what} as a NumPy {suffix} file ({reason}); is it "
                             "corrupt or another kind of file?") from None
