"""Batch normalisation (concepts H5-H7): the same deep net with and without it.

A network of four hidden layers of 100 ReLU units (He initialisation) learns MNIST
digits with plain mini-batch gradient descent (batches of 64), once as is and once
with ``BatchNorm1d`` after each hidden ``Linear`` (whose bias it makes redundant, H6):

* training curves at three learning rates: with batch norm the cost falls faster,
  and at the largest rate, where the plain net's cost stays at chance level or
  becomes non-finite (which one depends on rounding, such as the number of BLAS
  threads), it still trains;
* the distribution of one hidden layer's input (the z[3] that enters the third
  ReLU, over a fixed batch of dev digits) as training goes on: without batch norm
  its centre drifts as the earlier layers change; with it, each unit stays near the
  mean and spread its beta and gamma set (by construction, in training mode), so
  the later layers see inputs that shift less ("less covariate shift", H7);
* train vs eval mode (H6): in training mode an example's output depends on the
  other examples of its mini-batch; in eval mode batch norm uses its running
  averages and the output is the example's alone.

Run: ``python examples/gallery/batch_norm.py [--quick] [--out batch_norm.png]``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
from _gallery import main, mnist, pyplot, save

import steepest as st

TARGET = 0.5  # cost J that counts as "learned"
WATCH_LR, HIGH_LR = 0.3, 1.0  # the rate at which z[3] is watched; the largest rate
WATCHED = 2   # the hidden block whose input to the non-linearity is recorded (z[3])


def network(batch_norm: bool, rng: int = 0) -> st.nn.Sequential:
    """784 -> 4 x (Linear 100 [-> BatchNorm1d] -> ReLU) -> 10 logits."""
    generator = np.random.default_rng(rng)
    layers: list[st.nn.Module] = []
    n_in = 784
    for _ in range(4):
        layers.append(st.nn.Linear(n_in, 100, bias=not batch_norm, rng=generator))
        if batch_norm:
            layers.append(st.nn.BatchNorm1d(100))
        layers.append(st.nn.ReLU())
        n_in = 100
    layers.append(st.nn.Linear(100, 10, rng=generator))
    return st.nn.Sequential(*layers)


def hidden_input(model: st.nn.Sequential, X: np.ndarray, block: int = WATCHED) -> np.ndarray:
    """What enters the ReLU of hidden block ``block`` (0-based) for X, in training mode.

    In training mode batch norm normalises with this batch's statistics, as it does
    during training; the running averages it would update are put back afterwards.
    """
    buffers = {name: np.array(value, copy=True) for name, value in model.named_buffers()}
    with st.no_grad():
        a: Any = X
        seen = 0
        for layer in model:
            if isinstance(layer, st.nn.ReLU):
                if seen == block:
                    break
                seen += 1
            a = layer(a)
    if buffers:
        model.load_state_dict({**model.state_dict(), **buffers})
    return np.asarray(a.data)


class Watch(st.train.Callback):
    """Record the hidden layer's input on a fixed batch every ``every`` mini-batches."""

    def __init__(self, X: np.ndarray, every: int) -> None:
        self.X, self.every, self.seen = X, every, 0
        self.iterations: list[int] = []
        self.snapshots: list[np.ndarray] = []

    def record(self, model: st.nn.Sequential) -> None:
        self.iterations.append(self.seen)
        self.snapshots.append(hidden_input(model, self.X))

    def on_train_begin(self, trainer: Any) -> None:
        self.record(trainer.model)

    def on_batch_end(self, trainer: Any, batch: int, logs: dict[str, float]) -> None:
        self.seen += 1
        if self.seen % self.every == 0:
            self.record(trainer.model)


def drift(snapshots: list[np.ndarray]) -> float:
    """How far each unit's mean input moves during training, in units of its spread.

    For each unit: the std over time of its mean over the batch, divided by the
    average over time of its std over the batch; then averaged over units.
    """
    means = np.array([s.mean(axis=0) for s in snapshots])     # (times, units)
    spreads = np.array([s.std(axis=0) for s in snapshots])    # (times, units)
    return float((means.std(axis=0) / (spreads.mean(axis=0) + 1e-8)).mean())


def epochs_to(costs: list[float], target: float) -> float:
    """The first epoch whose cost is below ``target`` (inf if none)."""
    return next((i + 1 for i, c in enumerate(costs) if math.isfinite(c) and c < target),
                math.inf)


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Curves at three learning rates, the hidden-input drift, train vs eval mode."""
    n_train, epochs = (320, 3) if quick else (1500, 6)
    train, dev = mnist(n_train, 500)
    rates = (WATCH_LR, HIGH_LR) if quick else (0.03, WATCH_LR, HIGH_LR)
    results: dict[str, Any] = {"rates": rates, "epochs": epochs, "curves": {}}
    print(f"MNIST, {n_train} digits, 784-4x100-10 ReLU, gradient descent, batches of 64")
    print(f"{'lr':>5s} {'batch norm':>10s}  cost per epoch{'':22s} epochs to J<{TARGET}")
    for lr in rates:
        for batch_norm in (False, True):
            model = network(batch_norm)
            watch = Watch(dev[0][:256], every=2 if quick else 4)
            history = st.train.fit(model, *train, task="classification", epochs=epochs,
                                   batch_size=64, rng=0, verbose=0,
                                   optimizer=st.optim.GradientDescent(model.parameters(), lr=lr),
                                   callbacks=[watch] if lr == WATCH_LR else [])
            costs = list(history.history.get("loss", []))
            costs += [math.nan] * (epochs - len(costs))                  # stopped: non-finite
            key = (lr, batch_norm)
            results["curves"][key] = {"cost": costs, "epochs_to_target": epochs_to(costs, TARGET),
                                      "stop_reason": history.stop_reason}
            print(f"{lr:5} {'yes' if batch_norm else 'no':>10s}  "
                  f"{' '.join(f'{c:6.3f}' for c in costs):36s} "
                  f"{results['curves'][key]['epochs_to_target']}")
            if lr == WATCH_LR:
                results["watch", batch_norm] = watch
                results["drift", batch_norm] = drift(watch.snapshots)
            if lr == WATCH_LR and batch_norm:
                results["modes"] = modes(model, dev)
    print(f"drift of z[3]'s mean, in its spreads (lr {WATCH_LR}): without batch norm "
          f"{results['drift', False]:.2f}, with {results['drift', True]:.2f}")
    modes_ = results["modes"]
    print(f"train mode: example 0's logits change by {modes_['train_batch_dependence']:.3f} with "
          f"other batch companions; eval mode: by {modes_['eval_batch_dependence']:.1e}")
    print(f"dev accuracy: eval mode {modes_['eval_accuracy']:.1%}, train mode (batch statistics "
          f"of the whole dev set) {modes_['train_accuracy']:.1%}")
    if out is not None:
        plot(results, out)
    return results


def modes(model: st.nn.Sequential, dev: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    """Train vs eval mode on a copy (training-mode passes would update the running averages)."""
    X, y = dev
    twin = copy.deepcopy(model)
    batch_a, batch_b = X[:64], np.concatenate([X[:1], X[100:163]])    # share example 0 only
    out: dict[str, float] = {}
    for mode, train_mode in (("train", True), ("eval", False)):
        twin.train(train_mode)
        with st.no_grad():
            first, second = twin(batch_a).data[0], twin(batch_b).data[0]
            predictions = twin(X).data.argmax(axis=1)
        out[f"{mode}_batch_dependence"] = float(np.abs(first - second).max())
        out[f"{mode}_accuracy"] = float((predictions == y).mean())
    return out


def plot(results: dict[str, Any], out: Path) -> None:
    """Curves per learning rate, z[3] percentiles over training without and with batch norm."""
    plt = pyplot()
    figure, axes = plt.subplots(2, 3, figsize=(13, 7.6))
    if len(results["rates"]) < 3:
        axes[0][2].axis("off")
    epochs = np.arange(1, results["epochs"] + 1)
    for axis, lr in zip(axes[0], results["rates"]):
        for batch_norm, style in ((False, "o--"), (True, "s-")):
            curve = results["curves"][lr, batch_norm]
            reached = curve["epochs_to_target"]
            label = (f"{'with' if batch_norm else 'without'} batch norm: J<{TARGET} at epoch "
                     f"{reached if math.isfinite(reached) else 'never'}")
            axis.plot(epochs, curve["cost"], style, label=label)
            if curve["stop_reason"]:
                axis.text(0.05, 0.5, "without batch norm the cost\nbecame non-finite: stopped",
                          transform=axis.transAxes, fontsize=8, color="C0")
        axis.axhline(TARGET, color="gray", linestyle=":")
        axis.set_ylim(0, 3)
        axis.set_xlabel("epoch")
        axis.set_ylabel("training cost J")
        axis.set_title(f"learning rate {lr}")
        axis.legend(fontsize=8)
    for axis, batch_norm in zip(axes[1][:2], (False, True)):
        watch = results["watch", batch_norm]
        values = np.array([s[:, :3] for s in watch.snapshots])          # (times, m, 3 units)
        for unit, color in zip(range(3), ("C0", "C1", "C2")):
            low, mid, high = np.percentile(values[:, :, unit], [15, 50, 85], axis=1)
            axis.fill_between(watch.iterations, low, high, color=color, alpha=0.2)
            axis.plot(watch.iterations, mid, color=color, label=f"unit {unit + 1}: median, "
                                                                "15-85%")
        axis.set_xlabel("iteration")
        axis.set_ylim(-3, 3)
        axis.set_ylabel("z[3] entering the ReLU")
        axis.set_title(f"{'with' if batch_norm else 'without'} batch norm (lr "
                       f"{WATCH_LR}): drift {results['drift', batch_norm]:.2f}")
        axis.legend(fontsize=8)
    axis = axes[1][2]
    modes_ = results["modes"]
    names = ["train mode", "eval mode"]
    axis.bar(names, [modes_["train_batch_dependence"], modes_["eval_batch_dependence"]],
             color=["C1", "C2"])
    for i, key in enumerate(("train_batch_dependence", "eval_batch_dependence")):
        axis.text(i, modes_[key], f"{modes_[key]:.3g}", ha="center", va="bottom")
    axis.set_ylabel("max change of example 0's logits\nwhen its mini-batch changes")
    axis.set_title(f"train vs eval mode (dev accuracy {modes_['train_accuracy']:.1%} / "
                   f"{modes_['eval_accuracy']:.1%})", fontsize=10)
    low_rate, high_rate = WATCH_LR, HIGH_LR
    plain, normed = (results["curves"][high_rate, bn]["epochs_to_target"] for bn in (False, True))
    figure.suptitle(
        f"Batch norm trains faster and survives learning rate {high_rate} (J<{TARGET} at epoch "
        f"{normed if math.isfinite(normed) else 'never'} vs "
        f"{plain if math.isfinite(plain) else 'never'}); it keeps z[3]'s distribution in place "
        f"(drift {results['drift', True]:.2f} vs {results['drift', False]:.2f} at lr {low_rate})",
        fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "batch_norm.png")
