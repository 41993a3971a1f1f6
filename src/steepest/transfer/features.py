"""Pre-computed features of a frozen network (concept M14): compute once, train the head."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import ShapeError, positive_int
from ..autograd import no_grad
from ..backend import to_device
from ..nn.module import Module
from ..tasks import detach, to_host


def precompute_features(frozen_part: Module, X: Any, batch_size: int = 256,
                        path: str | os.PathLike[str] | None = None) -> np.ndarray:
    """Run the frozen part of a network over X once and keep its outputs.

    The seed's trick for the small-data regime: a frozen network maps each image to
    the same activations every epoch, so compute them once (saving them to disk for
    a big set), then train only the new softmax layer on them: the same result as
    training it behind the frozen network, epochs many times cheaper. The part runs
    in eval mode (batch norm's running statistics, no dropout), without recording a
    graph, and is left in the mode it was in.

    Args:
        frozen_part: the frozen layers, e.g. ``Sequential(net.features,
            *net.classifier[:-1])``.
        X: inputs, examples first (a NumPy array or a memory-mapped one).
        batch_size: examples per forward pass.
        path: a ``.npy`` file to write the features to, batch by batch; the result
            is then read back memory-mapped (for sets larger than memory). None
            keeps them in memory.

    Returns:
        An array (m, ...) of the part's outputs (float, the model's dtype).

    Raises:
        TypeError: ``frozen_part`` is not a Module.
        ShapeError: X has no examples or the part returns several outputs.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = st.models.LeNet5(rng=0)
        >>> body = st.nn.Sequential(net.features, *net.classifier[:-1])
        >>> precompute_features(body, np.zeros((5, 1, 28, 28), np.float32), 2).shape
        (5, 84)
    """
    if not isinstance(frozen_part, Module):
        raise TypeError(f"precompute_features: `frozen_part` must be a Module; got "
                        f"{type(frozen_part).__name__}")
    batch_size = positive_int("precompute_features", "batch_size", batch_size)
    m = int(np.shape(X)[0]) if np.ndim(X) else 0
    if m == 0:
        raise ShapeError(f"precompute_features: X has no examples (shape {np.shape(X)})")
    device = frozen_part.device
    was_training = frozen_part.training
    frozen_part.eval()
    out: np.ndarray | None = None
    target = Path(path) if path is not None else None
    temporary = target.with_name(target.name + ".part") if target is not None else None
    try:
        with no_grad():
            for start in range(0, m, batch_size):
                batch = np.asarray(X[start:start + batch_size])
                features = to_host(detach(frozen_part(to_device(batch, device))))
                if not isinstance(features, np.ndarray):
                    raise ShapeError("precompute_features: the part returned several outputs "
                                     f"({type(features).__name__}); give it one output")
                if out is None:
                    shape = (m, *features.shape[1:])
                    out = (np.empty(shape, features.dtype) if temporary is None else
                           np.lib.format.open_memmap(temporary, mode="w+", dtype=features.dtype,
                                                     shape=shape))
                out[start:start + len(features)] = features
    except BaseException:
        if temporary is not None:
            del out
            temporary.unlink(missing_ok=True)  # no half-written file left behind
        raise
    finally:
        frozen_part.train(was_training)
    assert out is not None  # m > 0
    if temporary is None or target is None:
        return out
    out.flush()  # type: ignore[attr-defined]
    del out
    os.replace(temporary, target)
    return np.load(target, mmap_mode="r")
