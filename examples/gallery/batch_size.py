"""Mini-batch size (concepts O1, O2): batch, mini-batch and stochastic gradient descent.

The same 784-32-10 ReLU network learns the same MNIST digits with plain gradient
descent (learning rate 0.05) three ways:

* batch gradient descent (``batch_size=None``): one smooth step per epoch, each
  step over every example: slow progress per epoch;
* mini-batch gradient descent (64 examples): many steps per epoch, a noisy but
  downward cost per iteration (``History.iteration_loss``);
* stochastic gradient descent (``batch_size=1``): one example per step: the
  noisiest cost, and the slowest epochs, because nothing is vectorised.

Wall times are measured per epoch; they depend on the machine and its load.

Run: ``python examples/gallery/batch_size.py [--quick] [--out batch_size.png]``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from _gallery import main, mnist, pyplot, save

import steepest as st

SIZES: dict[str, int | None] = {"batch (m)": None, "mini-batch (64)": 64,
                                "stochastic (1)": 1}


class EpochClock(st.train.Callback):
    """Seconds spent in each epoch's updates (without the dev evaluation)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        self.start = time.perf_counter()

    def on_batch_end(self, trainer: Any, batch: int, logs: dict[str, float]) -> None:
        self.last = time.perf_counter()

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        self.seconds.append(self.last - self.start)


def noisiness(costs: np.ndarray) -> float:
    """Share of iterations whose cost went up from the previous one."""
    return float((np.diff(costs) > 0).mean()) if len(costs) > 1 else 0.0


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Train with each batch size; costs per iteration and per epoch, time per epoch."""
    n_train, epochs = (256, 2) if quick else (2000, 4)
    train, dev = mnist(n_train, 500)
    results: dict[str, Any] = {"m": len(train[0])}          # stratified: about n_train
    print(f"MNIST, {results['m']} digits, 784-32-10 ReLU, gradient descent lr 0.05, "
          f"{epochs} epochs")
    print(f"{'gradient descent':17s} {'steps/epoch':>11s} {'s/epoch':>8s} {'cost went up':>12s} "
          f"  dev cost per epoch")
    for name, batch_size in SIZES.items():
        model = st.models.MLP([784, 32, 10], rng=0)
        clock = EpochClock()
        history = st.train.fit(model, *train, dev=dev, epochs=epochs, batch_size=batch_size,
                               rng=0, verbose=0, callbacks=[clock],
                               optimizer=st.optim.GradientDescent(model.parameters(), lr=0.05))
        costs = np.array(history.iteration_loss)
        results[name] = {"iteration_loss": costs, "steps_per_epoch": len(costs) // epochs,
                         "seconds_per_epoch": float(np.median(clock.seconds)),
                         "epoch_seconds": np.cumsum(clock.seconds),
                         "dev_loss": np.array(history["dev_loss"]),
                         "went_up": noisiness(costs)}
        r = results[name]
        print(f"{name:17s} {r['steps_per_epoch']:11d} {r['seconds_per_epoch']:8.3f} "
              f"{r['went_up']:12.0%}   {' '.join(f'{v:.3f}' for v in r['dev_loss'])}")
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """Cost per iteration; dev cost against wall time; seconds per epoch."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.4))
    colors = dict(zip(SIZES, ("C0", "C1", "C2")))
    for name in SIZES:
        r = results[name]
        iterations = np.arange(1, len(r["iteration_loss"]) + 1)
        axes[0].plot(iterations, r["iteration_loss"], color=colors[name], alpha=0.6,
                     linewidth=0.6 if name.startswith("stochastic") else 1.2,
                     label=f"{name}: cost up on {r['went_up']:.0%} of steps")
        axes[1].plot(r["epoch_seconds"], r["dev_loss"], "o-", color=colors[name], label=name)
    axes[0].set_xscale("log")
    axes[0].set_ylim(0, 4)
    axes[0].set_xlabel("iteration (one update; log scale)")
    axes[0].set_ylabel("cost J of the iteration's batch")
    axes[0].set_title("cost per iteration")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("training time (s, this machine)")
    axes[1].set_ylabel("dev cost after each epoch")
    axes[1].set_title("progress against wall time")
    axes[1].legend(fontsize=8)
    seconds = [results[name]["seconds_per_epoch"] for name in SIZES]
    axes[2].bar(list(SIZES), seconds, color=[colors[n] for n in SIZES])
    for i, value in enumerate(seconds):
        axes[2].text(i, value, f"{value:.3f} s\n{results[list(SIZES)[i]]['steps_per_epoch']} "
                     "steps", ha="center", va="bottom", fontsize=8)
    axes[2].set_ylabel("seconds per epoch (median)")
    axes[2].set_title(f"time per epoch, m = {results['m']}")
    axes[2].set_ylim(0, max(seconds) * 1.3)
    mini, sgd = results["mini-batch (64)"], results["stochastic (1)"]
    slower = sgd["seconds_per_epoch"] / mini["seconds_per_epoch"]
    batch = results["batch (m)"]
    figure.suptitle(f"Batch gradient descent: one smooth step per epoch (cost never up, dev cost "
                    f"{batch['dev_loss'][-1]:.2f} at the end)\nstochastic: cost up on "
                    f"{sgd['went_up']:.0%} of steps and {slower:.0f}x slower per epoch than "
                    f"mini-batches of 64 (cost up on {mini['went_up']:.0%})", fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "batch_size.png")
