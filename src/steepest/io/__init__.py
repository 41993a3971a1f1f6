"""Saving and loading: models, weights and checkpoints (safetensors + JSON, atomic)."""

from __future__ import annotations

from typing import Any

from .._files import ModelFileError, atomic_write, read_json, write_json
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .serialization import build_module, load, load_weights, module_spec, save, save_weights


def load_torch_weights(model: Any, source: Any, rename: Any = None) -> Any:
    """Load a PyTorch ``state_dict`` (a safetensors file or a dict of arrays) into ``model``.

    See :func:`steepest.transfer.load_torch_weights` (imported on first use: transfer
    builds on the model zoo, which sits above io).
    """
    from ..transfer.torch_weights import load_torch_weights as load_from_torch

    return load_from_torch(model, source, rename)


__all__ = [
    "Checkpoint", "ModelFileError", "atomic_write", "build_module", "load", "load_checkpoint",
    "load_torch_weights", "load_weights", "module_spec", "read_json", "save", "save_checkpoint",
    "save_weights", "write_json",
]
