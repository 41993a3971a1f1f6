"""Weights from PyTorch: a ``state_dict`` saved as safetensors, into a steepest model (K8)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import ShapeError, fmt_shape
from ..nn.module import Module

Rename = Mapping[str, str] | Callable[[str], str | None]

#: PyTorch's batch norm names -> the seed's.
_BATCH_NORM = {"weight": "gamma", "bias": "beta"}


def _read(source: Any) -> dict[str, np.ndarray]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"load_torch_weights: no file {str(path)!r} (expected a "
                                    ".safetensors file written by safetensors.torch.save_file)")
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
        try:
            return dict(load_file(str(path)))
        except (SafetensorError, OSError, ValueError) as error:
            raise ValueError(f"load_torch_weights: {str(path)!r} is not a readable "
                             f"safetensors file ({error})") from None
    if isinstance(source, Mapping):
        arrays = {}
        for key, value in source.items():
            if hasattr(value, "detach"):  # a torch tensor, without importing torch
                value = value.detach().cpu().numpy()
            arrays[str(key)] = np.asarray(value)
        return arrays
    raise TypeError(f"load_torch_weights: `source` must be a path to a .safetensors file or a "
                    f"dict of arrays; got {type(source).__name__}")


def load_torch_weights(model: Module, source: Any, rename: Rename | None = None) -> Module:
    """Load a PyTorch ``state_dict`` into a steepest model of the same architecture.

    steepest lays out weights as PyTorch does (Linear (out, in), Conv2d (out, in,
    kh, kw)) and names them by the same dotted paths when the modules have the
    same names, so most tensors map one to one. What is translated:

    * batch norm's ``weight`` / ``bias`` become the seed's ``gamma`` / ``beta``;
      ``running_mean`` and ``running_var`` are copied; ``num_batches_tracked`` is
      dropped. Batch norm's *momentum* is a hyperparameter, not a weight, and is
      not in the file: steepest's is the weight on the old average, PyTorch's the
      weight on the new one, so PyTorch's default 0.1 is steepest's 0.9 (the
      default), and a model trained with ``momentum=m`` there needs ``1 - m`` here
      to keep fine-tuning the same way;
    * ``rename`` maps the other names: a dict PyTorch name -> steepest name, or a
      function returning the steepest name (None to drop the tensor). It is applied
      before the batch norm translation.

    Every missing, unexpected and mis-shaped tensor is reported in one error, and
    the model is unchanged when there is one.

    Args:
        model: the steepest model to fill.
        source: a path to a file written by
            ``safetensors.torch.save_file(torch_model.state_dict(), path)``, or a
            dict of arrays (NumPy arrays, or CPU torch tensors).
        rename: optional renaming, see above.

    Returns:
        The model.

    Raises:
        FileNotFoundError: no such file.
        TypeError: ``source`` is neither a path nor a dict.
        ValueError: tensors missing or unexpected (``ShapeError`` when shapes differ),
            or an unreadable file.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.nn.Sequential(st.nn.Linear(3, 2), st.nn.BatchNorm1d(2))
        >>> torch_state = {"0.weight": np.ones((2, 3)), "0.bias": np.zeros(2),
        ...                "1.weight": np.ones(2), "1.bias": np.zeros(2),
        ...                "1.running_mean": np.zeros(2), "1.running_var": np.ones(2),
        ...                "1.num_batches_tracked": np.array(7)}
        >>> load_torch_weights(net, torch_state)[1].gamma.data
        array([1., 1.], dtype=float32)
        >>> load_torch_weights(net, {"0.weight": np.ones((2, 4))})
        Traceback (most recent call last):
        ...
        steepest._validation.ShapeError: load_torch_weights(Sequential): 5 missing: 0.bias, \
1.gamma, ...; 1 mis-shaped: 0.weight: the model has (2, 3), the source (2, 4)
    """
    if not isinstance(model, Module):
        raise TypeError(f"load_torch_weights: `model` must be a steepest Module; got "
                        f"{type(model).__name__}")
    if rename is not None and not (callable(rename) or isinstance(rename, Mapping)):
        raise TypeError(f"load_torch_weights: `rename` must be a dict or a function; got "
                        f"{type(rename).__name__}")
    arrays = _read(source)
    own = model.state_dict()
    mapped: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    for key, value in arrays.items():
        if key.endswith("num_batches_tracked"):
            continue
        name: str | None = key
        if isinstance(rename, Mapping):
            name = rename.get(key, key)
        elif rename is not None:
            name = rename(key)
        if name is None:
            continue
        prefix, _, leaf = name.rpartition(".")
        if name not in own and leaf in _BATCH_NORM:
            candidate = f"{prefix}.{_BATCH_NORM[leaf]}" if prefix else _BATCH_NORM[leaf]
            if candidate in own:
                name = candidate
        if name in mapped:
            raise ValueError(f"load_torch_weights({type(model).__name__}): {origin[name]!r} "
                             f"and {key!r} both map to {name!r}; fix `rename`")
        mapped[name], origin[name] = value, key
    missing = [k for k in own if k not in mapped]
    unexpected = [origin[k] for k in mapped if k not in own]
    mis_shaped = [f"{k}: the model has {fmt_shape(own[k].shape)}, the source "
                  f"{fmt_shape(np.shape(mapped[k]))}"
                  for k in own if k in mapped and tuple(np.shape(mapped[k])) != own[k].shape]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing: " + ", ".join(missing))
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected: " + ", ".join(unexpected))
    if mis_shaped:
        problems.append(f"{len(mis_shaped)} mis-shaped: " + "; ".join(mis_shaped))
    if problems:
        error = ShapeError if mis_shaped else ValueError
        hint = "" if mis_shaped or not (missing and unexpected) else (
            " (names differ: pass rename= to map PyTorch names to steepest's)")
        raise error(f"load_torch_weights({type(model).__name__}): " + "; ".join(problems)
                    + hint)
    model.load_state_dict(mapped)
    return model
