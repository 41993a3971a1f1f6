"""Saving and loading: models, weights and checkpoints (safetensors + JSON, atomic)."""

from __future__ import annotations

from .._files import ModelFileError, atomic_write, read_json, write_json
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .serialization import build_module, load, load_weights, module_spec, save, save_weights

__all__ = [
    "Checkpoint", "ModelFileError", "atomic_write", "build_module", "load", "load_checkpoint",
    "load_weights", "module_spec", "read_json", "save", "save_checkpoint", "save_weights",
    "write_json",
]
