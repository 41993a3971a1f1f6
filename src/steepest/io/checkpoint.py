"""Training checkpoints: model, optimiser and loop state, written as one unit.

A checkpoint is a folder with the saved model (``model.safetensors`` +
``config.json``), the optimiser state (``optimizer.safetensors`` +
``optimizer.json``), the training loop's state (``trainer.json``: epoch, history,
random generator states; ``trainer.safetensors``: arrays such as the best weights
an early-stopping callback holds) and a manifest with every file's SHA-256. It is
staged under a temporary name and swapped in whole, so the previous checkpoint
stays valid until the new one is complete.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..nn.module import Module
from ..optim.optimizer import Optimizer
from .files import (
    ModelFileError,
    atomic_write,
    existing_folder,
    read_json,
    sha256,
    swap_in_folder,
    write_json,
)
from .serialization import WEIGHTS, read_config, read_weights, save, weights_bytes

FORMAT = "steepest-checkpoint"
VERSION = 1
MANIFEST = "checkpoint.json"


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    path: Path
    model_spec: dict[str, Any]
    model_state: dict[str, Any]
    optimizer_state: dict[str, Any] | None
    trainer_state: dict[str, Any]
    arrays: dict[str, Any]


def _split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    arrays = {f"{index}.{name}": value for index, entries in state["state"].items()
              for name, value in entries.items()}
    meta = {k: v for k, v in state.items() if k != "state"}
    meta["state_keys"] = {index: list(entries) for index, entries in state["state"].items()}
    return meta, arrays


def _join_optimizer_state(meta: dict[str, Any], arrays: dict[str, Any]) -> dict[str, Any]:
    state = {k: v for k, v in meta.items() if k != "state_keys"}
    state["state"] = {index: {name: arrays[f"{index}.{name}"] for name in names}
                      for index, names in meta["state_keys"].items()}
    return state


def save_checkpoint(path: str | os.PathLike[str], model: Module, optimizer: Optimizer | None,
                    trainer_state: dict[str, Any], arrays: dict[str, Any] | None = None) -> None:
    """Write a checkpoint folder atomically (see the module docstring)."""
    target = Path(path)
    staged = target.with_name(f".{target.name}.staging-{os.getpid()}")
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    try:
        save(model, staged)
        if optimizer is not None:
            meta, optimizer_arrays = _split_optimizer_state(optimizer.state_dict())
            atomic_write(staged / "optimizer.safetensors", weights_bytes(optimizer_arrays))
            write_json(staged / "optimizer.json", meta)
        atomic_write(staged / "trainer.safetensors", weights_bytes(arrays or {}))
        write_json(staged / "trainer.json", trainer_state)
        files = sorted(p.name for p in staged.iterdir())
        write_json(staged / MANIFEST, {
            "format": FORMAT, "version": VERSION,
            "files": {name: sha256((staged / name).read_bytes()) for name in files},
        })
        swap_in_folder(staged, target)
    finally:
        if staged.exists():
            shutil.rmtree(staged)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and verify a checkpoint folder written by :func:`save_checkpoint`.

    Raises:
        ModelFileError: missing folder, or a file that is missing, changed or corrupt.
    """
    folder = existing_folder(Path(path))
    if folder is None:
        raise ModelFileError(f"load_checkpoint: no checkpoint at {path}")
    manifest = read_json(folder / MANIFEST, "load_checkpoint")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"load_checkpoint: {folder / MANIFEST} is not a steepest checkpoint")
    for name, digest in manifest.get("files", {}).items():
        file = folder / name
        if not file.is_file() or sha256(file.read_bytes()) != digest:
            raise ModelFileError(f"load_checkpoint: {file} is missing or does not match the "
                                 "manifest; the checkpoint is corrupt")
    config = read_config(folder)
    model_state = read_weights(folder / WEIGHTS, config["weights"]["sha256"], "load_checkpoint")
    optimizer_state = None
    if (folder / "optimizer.json").is_file():
        meta = read_json(folder / "optimizer.json", "load_checkpoint")
        optimizer_arrays = read_weights(folder / "optimizer.safetensors", None, "load_checkpoint")
        optimizer_state = _join_optimizer_state(meta, optimizer_arrays)
    trainer_state = read_json(folder / "trainer.json", "load_checkpoint")
    arrays = read_weights(folder / "trainer.safetensors", None, "load_checkpoint")
    return Checkpoint(folder, config["model"], model_state, optimizer_state, trainer_state, arrays)


__all__ = ["Checkpoint", "load_checkpoint", "save_checkpoint"]
