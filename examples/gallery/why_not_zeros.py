"""Why not zeros (concept S5): symmetric initialisation never breaks, large weights saturate tanh.

A two-layer network (2 inputs, 4 tanh hidden units, a sigmoid output) learns the
planar flower with batch gradient descent (learning rate 1.2, as in the course's
exercise) from five initialisations:

* all zeros: every hidden unit computes tanh(0) = 0, so no weight gets a gradient
  and the cost stays at ln 2 = 0.693;
* every weight 0.5 (symmetric but not zero): the hidden units get identical
  gradients, so their weight rows stay identical and the net is a one-unit net;
* randn * 0.01 (the seed's small random weights): the symmetry is broken;
* randn * 1 and randn * 30 (too large): most hidden units start saturated
  (|tanh(z)| > 0.99), their slope tanh'(z) is near 0 and learning crawls.

Run: ``python examples/gallery/why_not_zeros.py [--quick] [--out why_not_zeros.png]``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from _gallery import main, pyplot, save

import steepest as st

TARGET = 0.3  # "learned": the cost J below this


def constant(shape: tuple[int, ...], rng: Any = None, dtype: Any = None,
             value: float = 0.5) -> np.ndarray:
    """Every weight the same value: symmetric like zeros, but not stuck at tanh(0) = 0."""
    return np.full(shape, value, dtype=dtype or np.float32)


INITS: dict[str, Any] = {
    "zeros": "zeros",
    "constant 0.5": constant,
    "randn * 0.01": "small_random",
    "randn * 1": partial(st.nn.init.small_random, scale=1.0),
    "randn * 30": partial(st.nn.init.small_random, scale=30.0),
}


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Train the same net from each initialisation; return its weights, costs and saturation."""
    epochs = 300 if quick else 2000
    X, y = st.data.datasets.make_planar(400, rng=0)
    results: dict[str, Any] = {}
    print(f"planar flower, 400 points, 2-4-1 tanh net, gradient descent lr 1.2, {epochs} epochs")
    print(f"{'init':13s} {'saturated':>9s} {'mean tanh`':>10s} {'J start':>8s} "
          f"{'J end':>7s} {'epochs to J<0.3':>15s} {'accuracy':>8s} {'row spread':>10s}")
    for name, init in INITS.items():
        model = st.models.MLP([2, 4, 1], activation="tanh", output="sigmoid", init=init, rng=1)
        hidden = np.tanh(X @ model.layers[0].weight.data.T)            # (m, 4) at init
        history = st.train.fit(model, X, y, epochs=epochs, batch_size=None, verbose=0, rng=0,
                               optimizer=st.optim.GradientDescent(model.parameters(), lr=1.2))
        cost = np.asarray(history["loss"])
        W1 = model.layers[0].weight.data                                 # (4, 2)
        reached = np.flatnonzero(cost < TARGET)
        results[name] = {
            "W1": W1.copy(),
            "b1": model.layers[0].bias.data.copy(),
            "row_spread": float(np.abs(W1 - W1[0]).max()),               # 0: identical rows
            "saturated": float((np.abs(hidden) > 0.99).mean()),
            "mean_slope": float((1 - hidden**2).mean()),                 # tanh'(z) at init
            "hidden_at_init": hidden.ravel(),
            "cost": cost,
            "final_cost": float(cost[-1]),
            "epochs_to_target": int(reached[0]) + 1 if reached.size else None,
            "accuracy": history.last("accuracy"),
        }
        r = results[name]
        print(f"{name:13s} {r['saturated']:9.0%} {r['mean_slope']:10.3f} {cost[0]:8.3f} "
              f"{cost[-1]:7.3f} {r['epochs_to_target'] or f'>{epochs}':>15} "
              f"{r['accuracy']:8.1%} {r['row_spread']:10.2e}")
    results["epochs"] = epochs
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """Weight rows of three inits, cost curves of all, tanh activations at init."""
    plt = pyplot()
    figure, axes = plt.subplot_mosaic([["zeros", "constant 0.5", "randn * 0.01"],
                                       ["cost", "cost", "hist"]], figsize=(11, 6.4))
    for name in ("zeros", "constant 0.5", "randn * 0.01"):
        axis, W1 = axes[name], results[name]["W1"]
        limit = max(np.abs(W1).max(), 1e-3)
        axis.imshow(W1, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
        for (i, j), value in np.ndenumerate(W1):
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=9,
                      color="white" if abs(value) > 0.6 * limit else "black")
        axis.set_xticks([0, 1], ["from x1", "from x2"])
        axis.set_yticks(range(4), [f"unit {i + 1}" for i in range(4)])
        axis.set_title(f"W[1] after training, init {name}\n"
                       f"accuracy {results[name]['accuracy']:.0%}", fontsize=10)
    axis = axes["cost"]
    for name in INITS:
        axis.plot(np.arange(1, results["epochs"] + 1), results[name]["cost"], label=name)
    axis.axhline(TARGET, color="gray", linestyle=":", label=f"J = {TARGET}")
    axis.set_xscale("log")
    axis.set_ylim(0, 1.5)
    axis.set_xlabel("epoch (batch gradient descent, log scale)")
    axis.set_ylabel("cost J")
    axis.set_title("cost per epoch by initialisation")
    axis.legend(fontsize=8)
    axis = axes["hist"]
    for name in ("randn * 0.01", "randn * 30"):
        axis.hist(results[name]["hidden_at_init"], bins=40, range=(-1, 1), alpha=0.6,
                  label=f"{name}: {results[name]['saturated']:.0%} saturated")
    axis.set_xlabel("hidden activation tanh(z) at initialisation")
    axis.set_ylabel("count (units x examples)")
    axis.set_title("too-large weights saturate tanh")
    axis.legend(fontsize=8)
    small, large = results["randn * 0.01"], results["randn * 30"]
    figure.suptitle("Zero or constant weights keep every hidden unit identical; random ones break "
                    f"the symmetry.\nrandn*30 saturates {large['saturated']:.0%} of tanh units "
                    f"and needs {large['epochs_to_target'] or '>' + str(results['epochs'])} "
                    f"epochs to J<0.3 (randn*0.01: {small['epochs_to_target']})", fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "why_not_zeros.png")
