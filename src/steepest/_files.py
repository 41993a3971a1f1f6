"""Safe files: atomic writes, folder swaps, JSON and checked reads (bottom layer).

A write goes to a temporary file in the same folder, is flushed and fsynced, and
is then renamed over the target, so a reader sees either the old file or the new
one, never half of one. A folder of several files (a checkpoint) is written whole
under a temporary name and swapped in with renames (:func:`swap_in_folder`); at
every instant ``NAME`` or ``NAME.old`` holds a complete folder, and
:func:`existing_folder` finds it.

This module sits at the backend layer and imports the standard library only, so
every layer (data sets, the training history, error-analysis reports, io) may use
it without pulling in the layers above.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "run" / "metrics.json"
    >>> write_json(target, {"accuracy": 0.98})
    >>> read_json(target, "example")
    {'accuracy': 0.98}
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
    """A saved file (model, checkpoint, history) is missing, corrupt, truncated or inconsistent.

    Re-exported as ``steepest.io.ModelFileError``.
    """


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
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
    fsync_folder(path.parent)


def write_json(path: str | os.PathLike[str], value: Any) -> None:
    """Write ``value`` as indented JSON, atomically (creating the folder if needed).

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "config.json"
        >>> write_json(target, {"lr": 0.1}); print(target.read_text(), end="")
        {
          "lr": 0.1
        }
    """
    atomic_write(path, (json.dumps(value, indent=2, sort_keys=False) + "\n").encode())


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Read a JSON file, turning any failure into a :class:`ModelFileError`.

    Args:
        path: the file.
        what: the owner named in the error message (``"steepest.load"``).

    Raises:
        ModelFileError: the file is missing, unreadable, not UTF-8, not valid JSON,
            or nested too deeply to parse.

    Example:
        >>> read_json("/no/such/file.json", "History.load")
        Traceback (most recent call last):
        ...
        steepest._files.ModelFileError: History.load: /no/such/file.json does not exist
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{what}: {path} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ModelFileError(f"{what}: cannot read {path} ({error.strerror or error})"
                             ) from None
    except UnicodeDecodeError as error:
        raise ModelFileError(f"{what}: {path} is not valid JSON (not UTF-8 text: {error}); "
                             "the file is corrupt or was not written by steepest") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ModelFileError(f"{what}: {path} is nested too deeply to read; the file is "
                             "corrupt or was not written by steepest") from None
    except ValueError as error:  # JSONDecodeError, and integers too long to convert
        raise ModelFileError(f"{what}: {path} is not valid JSON ({error}); the file is "
                             "corrupt or was not written by steepest") from None


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _backup(target: Path) -> Path:
    return target.with_name(target.name + ".old")


def swap_in_folder(staged: Path, target: Path) -> None:
    """Replace folder ``target`` by the complete folder ``staged``, safe against a kill.

    The protocol keeps one invariant: at every instant ``target`` or ``target.old``
    is a complete folder, and ``target.old`` is only ever incomplete (being
    deleted) while ``target`` exists. Each step is one rename or one deletion:

    1. if an earlier swap died between its two renames (no ``target``, a complete
       ``target.old``), rename ``target.old`` back to ``target``;
    2. delete ``target.old`` (``target`` exists now, so it is not needed);
    3. rename ``target`` to ``target.old``; 4. rename ``staged`` to ``target``;
    5. delete ``target.old``.

    A kill anywhere leaves ``target`` (old or new) or, between 3 and 4,
    ``target.old`` (old); :func:`existing_folder` returns whichever exists. The
    old code deleted ``target.old`` first, so a second kill after an interrupted
    swap could leave no folder at all.
    """
    backup = _backup(target)
    recover_folder(target)
    if backup.is_dir():  # target exists now (step 1), so the backup is not needed
        shutil.rmtree(backup)
    if target.exists():
        os.replace(target, backup)
    os.replace(staged, target)
    fsync_folder(target.parent)
    if backup.exists():
        shutil.rmtree(backup)


def recover_folder(target: Path) -> None:
    """Finish an interrupted :func:`swap_in_folder`: ``target.old`` back to ``target``.

    Only when ``target`` is gone (the swap died between its two renames).
    """
    backup = _backup(target)
    if not target.exists() and backup.is_dir():
        os.replace(backup, target)
        fsync_folder(target.parent)


def existing_folder(target: Path) -> Path | None:
    """``target``, or its ``.old`` backup when a swap was interrupted, or None."""
    if target.is_dir():
        return target
    backup = _backup(target)
    return backup if backup.is_dir() else None


def remove_leftovers(folder: Path, patterns: tuple[str, ...], keep: tuple[Path, ...] = ()
                     ) -> None:
    """Delete files and folders in ``folder`` matching glob ``patterns`` (killed writes' debris).

    Only call it for names no other live writer can be using (one writer per
    model folder or checkpoint at a time).
    """
    if not folder.is_dir():
        return
    for pattern in patterns:
        for leftover in folder.glob(pattern):
            if leftover in keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
