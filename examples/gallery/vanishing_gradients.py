"""Vanishing and exploding gradients (concepts I10, I11) through a 30-layer network.

One forward and one backward pass of a batch through a 30-layer network (100 units
per hidden layer, 10 softmax outputs, float64 so that nothing underflows), with
five initialisations. Each layer multiplies the scale of the activations, and
backward the scale of the gradient, by about sqrt(n * var(W) * c) (c = 1/2 for ReLU,
about 1 for tanh near 0); thirty such factors vanish or explode unless the
factor is 1:

* randn * 0.01 with ReLU: factor 0.07, the gradient vanishes (1e-34 of itself);
* randn * 1 with ReLU: factor 7, it explodes (1e+24);
* Xavier (variance 1/n) with tanh, the pair it was made for: factor about 1;
* Xavier with ReLU: factor 1/sqrt(2), still a slow vanish (1e-5 over 30 layers);
* He (variance 2/n) with ReLU: factor 1, the gradient keeps its size.

The gradient shown is dJ/dZ[l], the error signal backpropagated to layer l's
pre-activation (a zero tensor added to Z[l] gives it as its ``grad``).

Run: ``python examples/gallery/vanishing_gradients.py [--quick] [--out vanishing.png]``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from _gallery import main, pyplot, save

import steepest as st
import steepest.functional as F

LAYERS, WIDTH = 30, 100

SETUPS: dict[str, tuple[Any, str]] = {
    "randn * 0.01, ReLU": ("small_random", "relu"),
    "randn * 1, ReLU": (partial(st.nn.init.small_random, scale=1.0), "relu"),
    "Xavier, tanh": ("xavier", "tanh"),
    "Xavier, ReLU": ("xavier", "relu"),
    "He, ReLU": ("he", "relu"),
}


def gradient_norms(model: st.models.MLP, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per layer: activation std (forward), ||dJ/dZ[l]|| and ||dJ/dW[l]|| (backward)."""
    a: Any = st.tensor(X)
    probes, stds = [], []
    for layer in model.layers:
        a = layer(a)
        if isinstance(layer, st.nn.Linear):
            # J does not change when a zero is added to Z[l], but the zero's gradient
            # is dJ/dZ[l]: a probe on a non-leaf tensor with the public API.
            probe = st.tensor(np.zeros(a.shape), requires_grad=True)
            a = a + probe
            probes.append(probe)
        else:
            stds.append(float(a.data.std()))
    F.cross_entropy(a, y).backward()
    linears = [layer for layer in model.layers if isinstance(layer, st.nn.Linear)]
    return {"activation_std": np.array(stds),
            "grad_z": np.array([np.linalg.norm(p.grad) for p in probes]),
            "grad_w": np.array([np.linalg.norm(layer.weight.grad) for layer in linears])}


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Gradient norms per layer for every initialisation; ratio first / last layer."""
    rng = np.random.default_rng(0)
    m = 64 if quick else 256
    X, y = rng.normal(size=(m, WIDTH)), rng.integers(0, 10, m)
    results: dict[str, Any] = {}
    print(f"{LAYERS}-layer net, {WIDTH} units per hidden layer, batch of {m} random inputs")
    print(f"{'initialisation':20s} {'|dZ[1]|/|dZ[30]|':>17s} {'act std layer 29':>16s} "
          f"{'|dW[1]|':>9s}")
    for name, (init, activation) in SETUPS.items():
        model = st.models.MLP([WIDTH] * LAYERS + [10], activation=activation, init=init, rng=0,
                              dtype=np.float64)
        norms = gradient_norms(model, X, y)
        norms["ratio"] = float(norms["grad_z"][0] / norms["grad_z"][-1])
        results[name] = norms
        print(f"{name:20s} {norms['ratio']:17.2e} {norms['activation_std'][-1]:16.2e} "
              f"{norms['grad_w'][0]:9.2e}")
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """Three log-scale panels: forward activations, dJ/dZ and dJ/dW per layer."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.4))
    panels = [("activation_std", "std of A[l] (forward)", np.arange(1, LAYERS)),
              ("grad_z", "||dJ/dZ[l]|| (backward)", np.arange(1, LAYERS + 1)),
              ("grad_w", "||dJ/dW[l]||", np.arange(1, LAYERS + 1))]
    for axis, (key, label, layers) in zip(axes, panels):
        for name, norms in results.items():
            axis.plot(layers, norms[key], marker="o", markersize=2.5, label=name)
        axis.set_yscale("log")
        axis.set_xlabel("layer l")
        axis.set_ylabel(label)
        axis.set_title(label)
        axis.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    ratios = "; ".join(f"{name} {norms['ratio']:.0e}" for name, norms in results.items())
    figure.suptitle("Through 30 layers the gradient vanishes with small weights and explodes with "
                    "large ones; He keeps it at scale with ReLU\n|dZ[1]| / |dZ[30]|: " + ratios,
                    fontsize=10)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "vanishing.png")
