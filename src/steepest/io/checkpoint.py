"""Training checkpoints: model, optimiser and loop state, written as one unit.

A checkpoint is a folder with the saved model (``model.safetensors`` +
``config.json``), the optimiser state (``optimizer.safetensors`` +
``optimizer.json``), the training loop's state (``trainer.json``: epoch, history,
random generator states; ``trainer.safetensors``: arrays such as the best weights
an early-stopping callback holds) and a manifest with every file's SHA-256. It is
staged under a temporary name and swapped in whole
(:func:`steepest._files.swap_in_folder`): a kill at any instant leaves the
previous checkpoint or the new one complete at ``NAME`` or ``NAME.old``, and
:func:`load_checkpoint` reads whichever verifies. Debris of killed writes
(``.NAME.staging-*`` folders) is deleted by the next write.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._files import (
    ModelFileError,
    atomic_write,
    read_json,
    remove_leftovers,
    sha256,
    swap_in_folder,
    write_json,
)
from ..nn.module import Module, Parameter
from ..optim.optimizer import Optimizer
from ..optim.rules import OPTIMIZERS
from ..optim.schedules import schedule_from_config
from .serialization import (
    CONFIG,
    WEIGHTS,
    read_config,
    read_model,
    read_weights,
    save,
    weights_bytes,
)

FORMAT = "steepest-checkpoint"
VERSION = 1
MANIFEST = "checkpoint.json"
_REQUIRED = (CONFIG, WEIGHTS, "trainer.json", "trainer.safetensors")


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


def _join_optimizer_state(meta: dict[str, Any], arrays: dict[str, Any], file: Path
                          ) -> dict[str, Any]:
    keys = meta.get("state_keys")
    if not (isinstance(keys, dict) and all(isinstance(names, list) and all(
            isinstance(name, str) and f"{index}.{name}" in arrays for name in names)
            for index, names in keys.items())):
        raise ModelFileError(f"load_checkpoint: {file}: \"state_keys\" must map each parameter "
                             "to the names of its arrays in optimizer.safetensors")
    state = {k: v for k, v in meta.items() if k != "state_keys"}
    state["state"] = {index: {name: arrays[f"{index}.{name}"] for name in names}
                      for index, names in keys.items()}
    return state


def _check_optimizer_settings(meta: Any, file: Path) -> None:
    """Validate saved optimiser settings as the constructor validates its arguments.

    The saved class (one of steepest's optimisers) is built once, on a dummy
    parameter, from the saved learning rate (or schedule) and hyperparameters: any
    value its constructor would refuse (a negative rate, ``beta1 = 2``, an unknown
    setting) is refused here, with the constructor's own message.
    """
    def bad(problem: str) -> ModelFileError:
        return ModelFileError(f"load_checkpoint: {file}: {problem}; the checkpoint is corrupt "
                              "or was edited")

    if not isinstance(meta, dict):
        raise bad("the optimiser state must be a JSON object")
    for key in ("iterations", "epoch"):
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(f"\"{key}\" must be a non-negative int; got {value!r}")
    steps = meta.get("steps", {})
    if not (isinstance(steps, dict) and all(type(v) is int for v in steps.values())):
        raise bad(f"\"steps\" must map parameters to int step counts; got {steps!r:.80}")
    hyperparameters = meta.get("hyperparameters", {})
    if not (isinstance(hyperparameters, dict) and all(isinstance(k, str)
                                                      for k in hyperparameters)):
        raise bad("\"hyperparameters\" must be a JSON object")
    classes = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    name = meta.get("class")
    cls = classes.get(name) if isinstance(name, str) else None
    if cls is None:
        return  # another optimiser class: its load_state_dict refuses the state
    schedule = meta.get("schedule")
    try:
        if schedule is not None:
            lr: Any = schedule_from_config(schedule["class"], schedule["config"])
        else:
            lr = meta.get("base_lr")
        dummy = Parameter(np.zeros(1, dtype=np.float32))
        cls([dummy], lr=lr, **hyperparameters)
    except (TypeError, ValueError, KeyError) as error:
        raise bad(f"its settings are not valid {cls.__name__} arguments "
                  f"({error.args[0] if error.args else error})") from None


def save_checkpoint(path: str | os.PathLike[str], model: Module, optimizer: Optimizer | None,
                    trainer_state: dict[str, Any], arrays: dict[str, Any] | None = None) -> None:
    """Write a checkpoint folder atomically (see the module docstring).

    One writer per checkpoint at a time: staged folders of earlier, killed
    writes (``.NAME.staging-*``) are deleted first.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target.parent, (f".{target.name}.staging-*",))
    staged = target.with_name(f".{target.name}.staging-{os.getpid()}")
    staged.mkdir()
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


def _verify(folder: Path) -> None:
    manifest = read_json(folder / MANIFEST, "load_checkpoint")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"load_checkpoint: {folder / MANIFEST} is not a steepest checkpoint")
    files = manifest.get("files")
    if not (isinstance(files, dict) and all(isinstance(d, str) for d in files.values())
            and set(_REQUIRED) <= set(files)):
        raise ModelFileError(f"load_checkpoint: {folder / MANIFEST} must list the SHA-256 of "
                             f"{', '.join(_REQUIRED)}; the checkpoint is corrupt")
    for name, digest in files.items():
        file = folder / name
        if ("/" in name or "\\" in name or name in (".", "..") or not file.is_file()
                or sha256(file.read_bytes()) != digest):
            raise ModelFileError(f"load_checkpoint: {file} is missing or does not match the "
                                 "manifest; the checkpoint is corrupt")


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and verify a checkpoint folder written by :func:`save_checkpoint`.

    ``NAME`` is read, or ``NAME.old`` when ``NAME`` is missing or does not verify
    (a write was killed mid-swap). Every file must match the manifest's SHA-256;
    the model is then checked and rebuilt as :func:`steepest.load` does, and the
    optimiser settings are validated as its constructor validates them.

    Raises:
        ModelFileError: missing folder, or a file that is missing, changed or corrupt.
    """
    target = Path(path)
    backup = target.with_name(target.name + ".old")
    candidates = [folder for folder in (target, backup) if folder.is_dir()]
    if not candidates:
        raise ModelFileError(f"load_checkpoint: no checkpoint at {path}")
    errors = []
    for folder in candidates:
        try:
            return _read(folder)
        except ModelFileError as error:
            errors.append(error)
        except RecursionError:
            errors.append(ModelFileError(f"load_checkpoint: {folder / CONFIG}: the model "
                                         "description is nested too deeply"))
    raise errors[0]


def _read(folder: Path) -> Checkpoint:
    what = "load_checkpoint"
    _verify(folder)
    config = read_config(folder, what)
    _, model_state = read_model(folder, config, what)
    optimizer_state = None
    if (folder / "optimizer.json").is_file():
        meta = read_json(folder / "optimizer.json", what)
        _check_optimizer_settings(meta, folder / "optimizer.json")
        optimizer_arrays = read_weights(folder / "optimizer.safetensors", None, what)
        optimizer_state = _join_optimizer_state(meta, optimizer_arrays,
                                                folder / "optimizer.json")
    trainer_state = read_json(folder / "trainer.json", what)
    if not isinstance(trainer_state, dict):
        raise ModelFileError(f"{what}: {folder / 'trainer.json'} must hold a JSON object")
    arrays = read_weights(folder / "trainer.safetensors", None, what)
    return Checkpoint(folder, config["model"], model_state, optimizer_state, trainer_state, arrays)


__all__ = ["Checkpoint", "load_checkpoint", "save_checkpoint"]
