"""Saving and loading models: weights in safetensors, architecture in JSON.

``steepest.save(model, folder)`` writes two files:

* ``model.safetensors``: every parameter and buffer by dotted name (safetensors
  holds raw arrays only, so loading a file never executes anything);
* ``config.json``: the model class and the arguments it was built with (nested
  for sub-modules), the SHA-256 of the weights file, and your metadata.

``steepest.load(folder)`` rebuilds the model from the JSON and loads the weights,
after checking the hash, so a corrupt, truncated or half-replaced file is a clear
:class:`ModelFileError`, never a crash or a half-loaded model.

Example:
    >>> import tempfile
    >>> import steepest as st
    >>> net = st.nn.Sequential(st.nn.Linear(3, 2), st.nn.ReLU())
    >>> folder = tempfile.mkdtemp()
    >>> st.save(net, folder)
    >>> clone = st.load(folder)
    >>> clone
    Sequential(
      (0): Linear(in_features=3, out_features=2, bias=True)
      (1): ReLU()
    )
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import to_numpy
from ..nn.module import Module, class_name, registered_class
from .files import ModelFileError, atomic_write, read_json, sha256, write_json

FORMAT = "steepest-model"
VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
# Arguments that only shape the initial weights: the saved weights replace them.
_INITIAL_ONLY = ("init", "rng")


def _encode(value: Any, where: str) -> Any:
    if isinstance(value, Module):
        return {"__module__": module_spec(value)}
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _encode(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": str(np.dtype(value))}
    raise TypeError(f"steepest.save: cannot write argument `{where}` ({type(value).__name__}) as "
                    "JSON; build the model from numbers, strings, lists and modules, or save "
                    "only its weights with steepest.io.save_weights")


def module_spec(module: Module) -> dict[str, Any]:
    """The JSON description of ``module``: its class and constructor arguments."""
    name = class_name(type(module))
    config = {}
    for key, value in module.get_config().items():
        if key in _INITIAL_ONLY and not isinstance(value, (str, type(None))):
            continue
        config[key] = _encode(value, f"{type(module).__name__}.{key}")
    return {"class": name, "config": config}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "__module__" in value:
            return build_module(value["__module__"])
        if "__dtype__" in value:
            return np.dtype(value["__dtype__"])
        return {k: _decode(v) for k, v in value.items()}
    return value


def _find_class(name: str) -> type[Module]:
    cls = registered_class(name)
    if cls is None and name.startswith("steepest."):
        # The class lives in a steepest module not imported yet: import it by name.
        module_name = name.rsplit(".", 1)[0]
        while module_name and cls is None:
            try:
                importlib.import_module(module_name)
            except ImportError:
                pass
            cls = registered_class(name)
            module_name = module_name.rsplit(".", 1)[0] if "." in module_name else ""
    if cls is None:
        raise ModelFileError(f"steepest.load: the model class {name!r} is unknown; import the "
                             "module that defines it before loading")
    return cls


def build_module(spec: dict[str, Any]) -> Module:
    """Rebuild a module (with fresh weights) from :func:`module_spec`'s description."""
    try:
        cls = _find_class(spec["class"])
        config = _decode(spec.get("config", {}))
    except (KeyError, TypeError) as error:
        raise ModelFileError(f"steepest.load: the model description is malformed ({error})"
                             ) from None
    from_config = getattr(cls, "from_config", None)
    try:
        return from_config(config) if from_config is not None else cls(**config)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"steepest.load: cannot rebuild {spec['class']} from its saved "
                             f"arguments: {error}") from None


def state_to_numpy(state: dict[str, Any]) -> dict[str, np.ndarray]:
    """Host, contiguous copies of a state dict, as safetensors wants them."""
    return {name: np.ascontiguousarray(to_numpy(array)) for name, array in state.items()}


def weights_bytes(state: dict[str, Any]) -> bytes:
    """A state dict as safetensors bytes."""
    from safetensors.numpy import save

    return save(state_to_numpy(state), metadata={"format": "steepest"})


def read_weights(path: Path, expected_sha256: str | None, what: str) -> dict[str, np.ndarray]:
    """Read a safetensors file, checking its hash when one is recorded."""
    from safetensors.numpy import load

    if not path.is_file():
        raise ModelFileError(f"{what}: {path} does not exist")
    data = path.read_bytes()
    if expected_sha256 is not None and sha256(data) != expected_sha256:
        raise ModelFileError(f"{what}: {path} does not match the SHA-256 recorded in its JSON; "
                             "the file is corrupt, truncated or from another save")
    try:
        return dict(load(data))
    except Exception as error:  # safetensors raises its own error types for bad headers
        raise ModelFileError(f"{what}: {path} is not a valid safetensors file ({error})"
                             ) from None


def save(model: Module, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None
         ) -> None:
    """Save ``model`` to the folder ``path`` (created if needed): weights + architecture.

    Args:
        model: any steepest Module built from JSON-friendly arguments.
        path: a folder; its ``model.safetensors`` and ``config.json`` are replaced.
        metadata: extra JSON-friendly information kept in ``config.json``.

    Raises:
        TypeError: an argument of the model cannot be written as JSON (nothing is
            written then).
    """
    if not isinstance(model, Module):
        raise TypeError(f"steepest.save: expected a Module; got {type(model).__name__}")
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"steepest.save: {folder} exists and is not a folder")
    spec = module_spec(model)
    state = model.state_dict()
    data = weights_bytes(state)
    config = {
        "format": FORMAT,
        "version": VERSION,
        "model": spec,
        "weights": {
            "file": WEIGHTS,
            "sha256": sha256(data),
            "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype)}
                        for k, v in state.items()},
        },
        "metadata": _encode(metadata or {}, "metadata"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / WEIGHTS, data)
    write_json(folder / CONFIG, config)


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``config.json`` of a saved model, checked for format and version."""
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFileError(f"steepest.load: no saved model at {folder} (expected a folder "
                             f"with {CONFIG} and {WEIGHTS}, as written by steepest.save)")
    config = read_json(folder / CONFIG, "steepest.load")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"steepest.load: {folder / CONFIG} is not a steepest model file")
    if config.get("version") != VERSION:
        raise ModelFileError(f"steepest.load: {folder / CONFIG} has format version "
                             f"{config.get('version')!r}; this steepest reads version {VERSION}")
    return config


def load(path: str | os.PathLike[str]) -> Module:
    """Load a model saved by :func:`save`.

    Raises:
        ModelFileError: the folder or a file is missing, corrupt, truncated, or the
            weights do not fit the architecture.
    """
    folder = Path(path)
    config = read_config(folder)
    try:
        weights = config["weights"]
        state = read_weights(folder / weights["file"], weights["sha256"], "steepest.load")
        spec = config["model"]
    except (KeyError, TypeError) as error:
        raise ModelFileError(f"steepest.load: {folder / CONFIG} is missing {error}") from None
    model = build_module(spec)
    try:
        model.load_state_dict(state)
    except KeyError as error:
        raise ModelFileError(f"steepest.load: the weights do not fit the architecture: "
                             f"{error.args[0]}") from None
    return model


def save_weights(model: Module, path: str | os.PathLike[str]) -> None:
    """Write only the state dict to one safetensors file (load it into a model you build).

    Example:
        >>> import tempfile, os
        >>> import steepest as st
        >>> file = os.path.join(tempfile.mkdtemp(), "w.safetensors")
        >>> save_weights(st.nn.Linear(2, 2), file)
        >>> load_weights(st.nn.Linear(2, 2), file)
    """
    atomic_write(path, weights_bytes(model.state_dict()))


def load_weights(model: Module, path: str | os.PathLike[str], strict: bool = True) -> None:
    """Load a safetensors state dict into ``model`` (see :meth:`Module.load_state_dict`)."""
    state = read_weights(Path(path), None, "load_weights")
    try:
        model.load_state_dict(state, strict=strict)
    except KeyError as error:
        raise ModelFileError(f"load_weights: {error.args[0]}") from None
