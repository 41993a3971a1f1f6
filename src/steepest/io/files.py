"""Safe files: atomic writes, folder swaps and checked reads.

A write goes to a temporary file in the same folder, is flushed and fsynced, and
is then renamed over the target, so a reader sees either the old file or the new
one, never half of one. A folder of several files (a checkpoint) is written whole
under a temporary name and swapped in with two renames; the previous folder is
kept as ``NAME.old`` until the new one is in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any


class ModelFileError(ValueError):
    """A saved model or checkpoint is missing, corrupt, truncated or inconsistent."""


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename).

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
        >>> atomic_write(target, b"hello"); target.read_bytes()
        b'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    _fsync_folder(path.parent)


def write_json(path: str | os.PathLike[str], value: Any) -> None:
    """Write ``value`` as indented JSON, atomically."""
    atomic_write(path, (json.dumps(value, indent=2, sort_keys=False) + "\n").encode())


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Read a JSON file, turning any failure into a :class:`ModelFileError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{what}: {path} does not exist")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{what}: {path} is not valid JSON ({error}); the file is "
                             "corrupt or was not written by steepest") from None


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def swap_in_folder(staged: Path, target: Path) -> None:
    """Replace folder ``target`` by ``staged`` keeping ``target.old`` until the end."""
    backup = target.with_name(target.name + ".old")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        os.replace(target, backup)
    os.replace(staged, target)
    _fsync_folder(target.parent)
    if backup.exists():
        shutil.rmtree(backup)


def existing_folder(target: Path) -> Path | None:
    """``target``, or its ``.old`` backup when a swap was interrupted, or None."""
    if target.is_dir():
        return target
    backup = target.with_name(target.name + ".old")
    return backup if backup.is_dir() else None
