"""Containers: ``Sequential`` runs layers one after another."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from .module import Module


class Sequential(Module):
    """Layers applied in order; their parameters are named ``0.weight``, ``1.bias`` ...

    Args:
        *layers: modules, or a single OrderedDict of name -> module.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> net = Sequential(st.nn.Linear(4, 3), st.nn.ReLU(), st.nn.Linear(3, 1))
        >>> net(np.ones((2, 4), dtype=np.float32)).shape
        (2, 1)
        >>> len(net), type(net[1]).__name__
        (3, 'ReLU')
    """

    def __init__(self, *layers: Any) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            items = list(layers[0].items())
        else:
            items = [(str(i), layer) for i, layer in enumerate(layers)]
        for name, layer in items:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {name!r} must be a Module; got "
                                f"{type(layer).__name__}")
            self.add_module(name, layer)

    def forward(self, x: Any) -> Any:
        for layer in self.children():
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        layers = list(self.children())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self.children()))

    def append(self, layer: Module) -> Sequential:
        """Add a layer at the end (named by its position)."""
        self.add_module(str(len(self._modules)), layer)
        return self

    def get_config(self) -> dict[str, Any]:
        return {"layers": list(self.children()), "names": list(self._modules)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """Rebuild from :meth:`get_config` (with the layers already rebuilt)."""
        return cls(OrderedDict(zip(config["names"], config["layers"])))
