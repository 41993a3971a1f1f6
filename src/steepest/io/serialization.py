"""Saving and loading models: weights in safetensors, architecture in JSON.

``steepest.save(model, folder)`` writes two files:

* ``model.safetensors``: every parameter and buffer by dotted name (safetensors
  holds raw arrays only, so loading a file never executes anything);
* ``config.json``: the model class and the arguments it was built with (nested
  for sub-modules), the name, SHA-256 and tensor shapes of the weights file, and
  your metadata.

Saving over an existing model is atomic: a kill at any instant leaves the old
model or the new one loadable (see :func:`save`). ``steepest.load(folder)``
checks everything the files claim before it allocates anything (see
:func:`load`): a corrupt, truncated, edited or half-replaced folder is one
:class:`ModelFileError` line naming the file, never a traceback, a huge
allocation or a half-loaded model. Nothing read from a file is executed: no
pickle, and classes come only from steepest's registry of imported Modules.

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

import contextlib
import importlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from .._files import (
    ModelFileError,
    atomic_write,
    fsync_folder,
    read_json,
    remove_leftovers,
    sha256,
)
from ..backend import to_numpy
from ..nn.module import Module, class_name, registered_class

FORMAT = "steepest-model"
VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
# Arguments that only shape the initial weights: the saved weights replace them.
_INITIAL_ONLY = ("init", "rng")
# safetensors dtype codes numpy can hold, and their numpy names (as config.json records them).
_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64",
           "I32": "int32", "I16": "int16", "I8": "int8", "U64": "uint64", "U32": "uint32",
           "U16": "uint16", "U8": "uint8", "BOOL": "bool"}
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Integers up to this size are always allowed in a model description (strides,
# paddings, axes, block counts of a model without weights): alone they cannot
# make a large allocation.
SMALL_INTEGER = 1024
# Random draws a rebuild may make beyond the elements the weights file declares.
_DRAW_SLACK = 1 << 16
_MAX_DEPTH = 100
# Class names whose steepest module load may import: public modules only (never
# ``steepest.__main__``, which would run the command line).
_IMPORTABLE = re.compile(r"steepest(\.[a-z][a-z0-9_]*)+\.[A-Za-z][A-Za-z0-9_.]*")


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


def _decode(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_decode(v, where) for v in value]
    if isinstance(value, dict):
        if "__module__" in value:
            return _build(value["__module__"], where)
        if "__dtype__" in value:
            try:
                return np.dtype(value["__dtype__"])
            except TypeError:
                raise ModelFileError(f"{where}: {value['__dtype__']!r} is not a dtype") from None
        return {k: _decode(v, where) for k, v in value.items()}
    return value


def _find_class(name: str, where: str) -> type[Module]:
    cls = registered_class(name)
    if cls is None and _IMPORTABLE.fullmatch(name):
        # The class lives in a steepest module not imported yet: import it by name
        # (steepest's own code only; nothing outside the package is imported).
        module_name = name.rsplit(".", 1)[0]
        while module_name and cls is None:
            with contextlib.suppress(ImportError, ValueError):
                importlib.import_module(module_name)
            cls = registered_class(name)
            module_name = module_name.rsplit(".", 1)[0] if "." in module_name else ""
    if cls is None:
        raise ModelFileError(f"{where}: the model class {name!r} is unknown; import the "
                             "module that defines it before loading")
    return cls


def _build(spec: Any, where: str) -> Module:
    if not isinstance(spec, dict):
        raise ModelFileError(f"{where}: a model description must be a JSON object with "
                             f"\"class\" and \"config\"; got {type(spec).__name__}")
    name, config = spec.get("class"), spec.get("config", {})
    if not isinstance(name, str):
        raise ModelFileError(f"{where}: the model \"class\" must be a class name (a string); "
                             f"got {name!r}")
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the \"config\" of {name} must be a JSON object; got "
                             f"{type(config).__name__}")
    if config.get("rng") is not None:
        raise ModelFileError(f"{where}: {name} has a saved `rng` ({config['rng']!r:.40}); "
                             "steepest.save never writes one (the saved weights replace the "
                             "initial ones): the file was edited")
    cls = _find_class(name, where)
    arguments = _decode(config, where)
    from_config = getattr(cls, "from_config", None)
    try:
        return from_config(arguments) if from_config is not None else cls(**arguments)
    except ModelFileError:
        raise
    except MemoryError:
        raise ModelFileError(f"{where}: rebuilding {name} from its saved arguments needs more "
                             "memory than there is; the arguments were edited") from None
    except Exception as error:  # untrusted arguments may fail in any way
        raise ModelFileError(f"{where}: cannot rebuild {name} from its saved arguments: "
                             f"{error}") from None


def build_module(spec: dict[str, Any]) -> Module:
    """Rebuild a module (with fresh weights) from :func:`module_spec`'s description.

    Raises:
        ModelFileError: the description is malformed, names an unknown class, or
            its arguments are refused by the class.
    """
    try:
        return _build(spec, "build_module")
    except RecursionError:
        raise ModelFileError("build_module: the model description is nested too deeply"
                             ) from None


def state_to_numpy(state: dict[str, Any]) -> dict[str, np.ndarray]:
    """Host, contiguous copies of a state dict, as safetensors wants them."""
    return {name: np.ascontiguousarray(to_numpy(array)) for name, array in state.items()}


def weights_bytes(state: dict[str, Any]) -> bytes:
    """A state dict as safetensors bytes."""
    from safetensors.numpy import save

    return save(state_to_numpy(state), metadata={"format": "steepest"})


def read_header(data: bytes, path: Path, what: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The tensors a safetensors file declares, ``name -> (numpy dtype name, shape)``.

    Reads only the header (8 bytes of little-endian length, then JSON) and checks
    that it is well formed: known dtypes, shapes of non-negative ints, and byte
    ranges that tile the data that follows exactly, so every declared element is
    backed by bytes of the file.

    Raises:
        ModelFileError: the header is missing, truncated or inconsistent.
    """
    def bad(problem: str) -> ModelFileError:
        return ModelFileError(f"{what}: {path} is not a valid safetensors file ({problem}); "
                              "the file is corrupt or was not written by steepest")

    if len(data) < 8:
        raise bad(f"{len(data)} bytes, shorter than the 8-byte header length")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise bad(f"the header announces {size} bytes; the file has {len(data) - 8} after "
                  "the length")
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise bad("the header is not JSON") from None
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPES:
            raise bad(f"tensor {name!r} has no dtype numpy can read")
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
            raise bad(f"tensor {name!r} has shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
            raise bad(f"tensor {name!r} has data_offsets {offsets!r}")
        dtype = _DTYPES[entry["dtype"]]
        if offsets[1] - offsets[0] != math.prod(shape) * np.dtype(dtype).itemsize:
            raise bad(f"tensor {name!r} of shape {tuple(shape)} has "
                      f"{offsets[1] - offsets[0]} bytes")
        tensors[name] = (dtype, tuple(shape))
        ranges.append((offsets[0], offsets[1]))
    end = 0
    for begin, stop in sorted(ranges):
        if begin != end:
            raise bad("the tensors' byte ranges overlap or leave gaps")
        end = stop
    if end != len(data) - 8 - size:
        raise bad(f"the tensors hold {end} bytes; the file has {len(data) - 8 - size}")
    return tensors


def read_weights(path: Path, expected_sha256: str | None, what: str) -> dict[str, np.ndarray]:
    """Read a safetensors file, checking its hash when one is recorded."""
    if not path.is_file():
        raise ModelFileError(f"{what}: {path} does not exist")
    data = path.read_bytes()
    if expected_sha256 is not None and sha256(data) != expected_sha256:
        raise ModelFileError(f"{what}: {path} does not match the SHA-256 recorded in its JSON; "
                             "the file is corrupt, truncated or from another save")
    return _parse_weights(data, path, what)


def _parse_weights(data: bytes, path: Path, what: str) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    read_header(data, path, what)
    try:
        return dict(load(data))
    except Exception as error:  # safetensors raises its own error types
        raise ModelFileError(f"{what}: {path} is not a valid safetensors file ({error})"
                             ) from None


def _pending(file: str, digest: str) -> str:
    """Where :func:`save` puts new weights before the config that names them is written."""
    return f"{file}.{digest}"


def save(model: Module, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None
         ) -> None:
    """Save ``model`` to the folder ``path`` (created if needed): weights + architecture.

    Saving over an earlier model is atomic: ``config.json`` is the commit point.

    1. the new weights are written (temp file, fsync, rename) as
       ``model.safetensors.<sha256>``, a name no committed config points at yet;
    2. ``config.json``, which records the file name ``model.safetensors`` and the
       new SHA-256, replaces the old one by an atomic rename: the new model is
       saved;
    3. ``model.safetensors.<sha256>`` is renamed to ``model.safetensors``;
    4. debris of earlier killed saves (temp files, pending weights) is deleted.

    A kill before 2 leaves the old pair; after 2, :func:`load` finds the weights
    whose hash the config records at ``model.safetensors`` or, before 3, at
    ``model.safetensors.<sha256>``. Other files in the folder are left alone.
    One writer per folder at a time.

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
    digest = sha256(data)
    config = {
        "format": FORMAT,
        "version": VERSION,
        "model": spec,
        "weights": {
            "file": WEIGHTS,
            "sha256": digest,
            "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype)}
                        for k, v in state.items()},
        },
        "metadata": _encode(metadata or {}, "metadata"),
    }
    text = json.dumps(config, indent=2) + "\n"  # fails before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    pending = folder / _pending(WEIGHTS, digest)
    atomic_write(pending, data)
    atomic_write(folder / CONFIG, text.encode())
    os.replace(pending, folder / WEIGHTS)
    fsync_folder(folder)
    remove_leftovers(folder, (_pending(WEIGHTS, "[0-9a-f]" * 64), f".{WEIGHTS}*.tmp-*",
                              f".{CONFIG}.tmp-*"))


def read_config(path: str | os.PathLike[str], what: str = "steepest.load") -> dict[str, Any]:
    """The ``config.json`` of a saved model, checked for format, version and entries.

    Raises:
        ModelFileError: no folder, or a config that is not a steepest model file,
            has another format version, or whose ``model`` or ``weights`` entries are
            malformed (a weights file outside the folder, a missing or null hash).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFileError(f"{what}: no saved model at {folder} (expected a folder "
                             f"with {CONFIG} and {WEIGHTS}, as written by steepest.save)")
    file = folder / CONFIG
    config = read_json(file, what)
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{what}: {file} is not a steepest model file")
    if config.get("version") != VERSION:
        raise ModelFileError(f"{what}: {file} has format version "
                             f"{config.get('version')!r}; this steepest reads version {VERSION}")
    if not isinstance(config.get("model"), dict):
        raise ModelFileError(f"{what}: {file}: \"model\" must be a JSON object describing the "
                             f"model; got {config.get('model')!r:.80}")
    weights = config.get("weights")
    if not isinstance(weights, dict):
        raise ModelFileError(f"{what}: {file}: \"weights\" must be a JSON object; got "
                             f"{weights!r:.80}")
    name = weights.get("file")
    if (not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name
            or "\0" in name or os.path.isabs(name)):
        raise ModelFileError(f"{what}: {file}: \"weights.file\" must be a plain file name "
                             f"inside the folder; got {name!r}")
    digest = weights.get("sha256")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ModelFileError(f"{what}: {file}: \"weights.sha256\" must be the 64-digit hex "
                             f"SHA-256 of the weights file; got {digest!r}. The hash cannot "
                             "be switched off: save the model again with steepest.save")
    return config


def _read_checked_weights(folder: Path, config: dict[str, Any], what: str
                          ) -> tuple[bytes, Path]:
    """The weights bytes whose SHA-256 ``config.json`` records (see :func:`save`)."""
    weights = config["weights"]
    file, digest = folder / weights["file"], weights["sha256"]
    candidates = [file, folder / _pending(weights["file"], digest)]
    for candidate in candidates:
        if candidate.is_file():
            data = candidate.read_bytes()
            if sha256(data) == digest:
                return data, candidate
    if not file.is_file():
        raise ModelFileError(f"{what}: {file} does not exist")
    raise ModelFileError(f"{what}: {file} does not match the SHA-256 recorded in "
                         f"{folder / CONFIG}; the file is corrupt, truncated or from another "
                         "save")


def _check_recorded_tensors(config: dict[str, Any], header: dict[str, tuple[str, tuple[int, ...]]],
                            path: Path, what: str) -> None:
    recorded = config["weights"].get("tensors")
    if recorded is None:
        return
    try:
        table = {name: (str(entry["dtype"]), tuple(entry["shape"]))
                 for name, entry in recorded.items()}
    except (AttributeError, KeyError, TypeError):
        raise ModelFileError(f"{what}: {path / CONFIG}: \"weights.tensors\" is malformed"
                             ) from None
    if table != header:
        differ = sorted(set(table).symmetric_difference(header)
                        | {k for k in set(table) & set(header) if table[k] != header[k]})
        raise ModelFileError(f"{what}: {path / CONFIG} records other tensors than "
                             f"{path / config['weights']['file']} holds (differences: "
                             f"{', '.join(differ[:5])}); the files are from different saves")


def _check_integers(value: Any, largest: int, where: str, file: Path, what: str,
                    depth: int = 0) -> None:
    """Refuse integers in the model description that the weights cannot justify."""
    if depth > _MAX_DEPTH:
        raise ModelFileError(f"{what}: {file}: the model description is nested more than "
                             f"{_MAX_DEPTH} levels deep")
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > max(largest, SMALL_INTEGER):
            raise ModelFileError(
                f"{what}: {file}: `{where}` is {value}, larger than any dimension of the saved "
                f"weights (the largest is {largest}) and than {SMALL_INTEGER}; config.json was "
                "edited or belongs to other weights: save the model again")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_integers(item, largest, f"{where}[{i}]", file, what, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_integers(item, largest, f"{where}.{key}", file, what, depth + 1)


class _MeteredGenerator(np.random.Generator):
    """The default generator while a model is rebuilt: refuses draws past a budget.

    A rebuilt layer draws its initial weights from the default generator; those
    weights are the ones the weights file replaces, so a description that draws
    far more numbers than the file holds asks for memory the files do not
    justify. It is refused before the draw allocates. Metered: ``random``,
    ``standard_normal``, ``normal``, ``uniform`` and ``integers``, the methods
    steepest's initialisers use.
    """

    def __init__(self, budget: int, file: Path, what: str) -> None:
        super().__init__(np.random.PCG64(0))
        self.budget, self.file, self.what = budget, file, what

    def _charge(self, size: Any) -> None:
        try:
            count = math.prod(np.atleast_1d(np.asarray(size, dtype=np.int64)).tolist()) \
                if size is not None else 1
        except (TypeError, ValueError, OverflowError):
            return  # numpy refuses the size itself
        self.budget -= max(count, 0)
        if self.budget < 0:
            raise ModelFileError(
                f"{self.what}: {self.file}: rebuilding the model draws more initial weights "
                f"than the weights file holds; config.json was edited or belongs to other "
                "weights: save the model again")

    def random(self, size: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._charge(size)
        return super().random(size, *args, **kwargs)

    def standard_normal(self, size: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._charge(size)
        return super().standard_normal(size, *args, **kwargs)

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None) -> Any:
        self._charge(size)
        return super().normal(loc, scale, size)

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None) -> Any:
        self._charge(size)
        return super().uniform(low, high, size)

    def integers(self, low: Any, high: Any = None, size: Any = None, *args: Any,
                 **kwargs: Any) -> Any:
        self._charge(size)
        return super().integers(low, high, size, *args, **kwargs)


def load(path: str | os.PathLike[str]) -> Module:
    """Load a model saved by :func:`save`, allocating only what the files justify.

    Before anything is built, the files are checked against each other:

    * ``config.json`` is a steepest model file whose ``weights.file`` is a plain
      name inside the folder and whose ``weights.sha256`` is a real hash (it cannot
      be switched off with ``null``); the weights file must match that hash;
    * the safetensors header is well formed and backed by the file's bytes, and it
      declares exactly the tensors (names, shapes, dtypes) ``config.json`` records;
    * the rule for the architecture: every integer in the model description must be
      at most the largest dimension of a saved tensor (``SMALL_INTEGER``, 1024, at
      least). Sizes (features, channels, layer widths, kernels) are dimensions of
      the weights; other integers (strides, axes) are small;
    * while the model is rebuilt, its random initial weights may draw at most
      twice as many numbers as the file holds, plus 2**16: those draws are the
      weights the file replaces, so a description that needs more, such as extra
      residual blocks, is refused before the allocation. The draws come from a
      private generator put in place of steepest's default one for the rebuild, so
      loading never advances the default random stream (another thread drawing from
      it meanwhile would draw from the private one); a saved ``rng`` argument, which
      would bypass it, is refused (:func:`save` never writes one);
    * the rebuilt module's parameters and buffers must have exactly the saved
      names and shapes before any value is copied.

    Raises:
        ModelFileError: the folder or a file is missing, corrupt, truncated or
            edited, or the weights do not fit the architecture; one line naming the
            file and the problem.
    """
    folder = Path(path)
    what = "steepest.load"
    try:
        return _load(folder, what)
    except RecursionError:
        raise ModelFileError(f"{what}: {folder / CONFIG}: the model description is nested "
                             "too deeply") from None


def _load(folder: Path, what: str) -> Module:
    config = read_config(folder, what)
    model, _ = read_model(folder, config, what)
    return model


def read_model(folder: Path, config: dict[str, Any], what: str
               ) -> tuple[Module, dict[str, np.ndarray]]:
    """Build and fill the model of a checked ``config`` (see :func:`load`).

    Returns:
        The model and its state dict as read from the weights file.
    """
    data, weights_path = _read_checked_weights(folder, config, what)
    header = read_header(data, weights_path, what)
    _check_recorded_tensors(config, header, folder, what)
    largest = max((d for _, shape in header.values() for d in shape), default=0)
    config_path = folder / CONFIG
    _check_integers(config["model"], largest, "model", config_path, what)
    elements = sum(math.prod(shape) for _, shape in header.values())
    generator = _MeteredGenerator(2 * elements + _DRAW_SLACK, config_path, what)
    with backend.using_default_rng(generator):
        model = _build(config["model"], f"{what}: {config_path}")
    built = {name: (str(np.dtype(array.dtype)), tuple(array.shape))
             for name, array in model.state_dict().items()}
    if {n: s for n, (_, s) in built.items()} != {n: s for n, (_, s) in header.items()}:
        missing = sorted(set(header) - set(built))
        unexpected = sorted(set(built) - set(header))
        mismatched = [f"{n}: saved {header[n][1]}, expected {built[n][1]}"
                      for n in sorted(set(built) & set(header)) if built[n][1] != header[n][1]]
        parts = ([f"missing keys {missing}"] if missing else []) + (
            [f"unexpected keys {unexpected}"] if unexpected else []) + mismatched
        raise ModelFileError(f"{what}: the weights do not fit the architecture in "
                             f"{config_path}: {'; '.join(parts)}")
    state = _parse_weights(data, weights_path, what)
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError) as error:  # dtypes that cannot be cast, and the like
        raise ModelFileError(f"{what}: the weights do not fit the architecture: "
                             f"{error.args[0]}") from None
    return model, state


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
    except (KeyError, ValueError) as error:  # missing/unexpected keys, or a ShapeError
        raise ModelFileError(f"load_weights: {error.args[0]}") from None
