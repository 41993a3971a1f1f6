"""Hyperparameter search on real runs: the figures and table of docs/tune.md.

(a) The notes' two pictures, from real searches of a toy objective (microseconds per
    trial): a 5 x 5 grid against 25 random points on a 2-D problem where only the
    learning rate matters; and where 30 draws of the learning rate land on a linear
    scale against a log scale.
(b) ``steepest tune``'s search on the 5,000 embedded MNIST digits: 30 random trials
    over lr, beta1 and the hidden units of the MLP (10 epochs each, median pruner),
    against the default configuration of ``steepest train --model mlp`` (lr 2e-3,
    beta1 0.9, 128 hidden units) trained by the same objective. Prints the table,
    the wall time and writes the search's plots.

Run: ``python benchmarks/bench_tune.py [--jobs 2] [--trials 30] [--figures-only]``.
The figures go to docs/ (``--out`` to change).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def figures(out: Path) -> None:
    import optuna

    from steepest.plotting import pyplot
    from steepest.tune import LogUniform, Uniform, search
    from steepest.tune.toys import one_that_matters

    plt = pyplot()
    space = {"lr": LogUniform(1e-4, 1), "epsilon": LogUniform(1e-10, 1e-6)}
    grid = {"lr": list(np.logspace(-4, 0, 5)), "epsilon": list(np.logspace(-10, -6, 5))}
    on_grid = search(one_that_matters, space, 25, sampler=optuna.samplers.GridSampler(grid,
                                                                                      seed=0))
    at_random = search(one_that_matters, space, 25, rng=0)
    figure, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
    for axis, result, title in ((axes[0], on_grid, "grid 5 x 5"),
                                (axes[1], at_random, "random, 25 points")):
        lrs = [t["params"]["lr"] for t in result.trials]
        eps = [t["params"]["epsilon"] for t in result.trials]
        axis.scatter(lrs, eps, c=[t["value"] for t in result.trials], cmap="viridis_r",
                     vmin=0.05, vmax=1.4, s=36, edgecolors="k", linewidths=0.4)
        best = result.best_params
        axis.scatter([best["lr"]], [best["epsilon"]], marker="*", s=220, color="C3",
                     label=f"best dev error {result.best_value:.3f}")
        axis.axvline(10**-2.3, color="0.6", ls=":", lw=1)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("learning rate (matters; best at 10^-2.3, dotted)")
        axis.set_title(f"{title}: {len(set(np.round(lrs, 12)))} distinct learning rates")
        axis.legend(loc="upper left", fontsize=8)
    axes[0].set_ylabel("Adam epsilon (does not matter)")
    figure.tight_layout()
    figure.savefig(out / "tune-grid-vs-random.png", dpi=100)
    plt.close(figure)
    grid_best, random_best = on_grid.best_value, at_random.best_value

    figure, axes = plt.subplots(2, 1, figsize=(8, 3.6), sharex=True)
    for axis, dimension, title in ((axes[0], Uniform(1e-4, 1), "linear: Uniform(1e-4, 1)"),
                                   (axes[1], LogUniform(1e-4, 1),
                                    "log: LogUniform(1e-4, 1), r in [-4, 0], 10**r")):
        result = search(one_that_matters, {"lr": dimension}, 30, rng=1)
        lrs = np.array([t["params"]["lr"] for t in result.trials])
        axis.scatter(lrs, np.zeros_like(lrs), marker="|", s=400, color="C0")
        counts = [int(np.sum((lrs >= 10.0**k) & (lrs < 10.0**(k + 1)))) for k in range(-4, 0)]
        for k, count in zip(range(-4, 0), counts):
            axis.text(10 ** (k + 0.5), 0.5, f"{count}", ha="center", fontsize=10)
        axis.set_xscale("log")
        axis.set_yticks([])
        axis.set_ylim(-1, 1)
        axis.set_title(f"{title}: draws per decade {counts}", fontsize=9)
    axes[1].set_xlabel("learning rate (30 draws each)")
    figure.tight_layout()
    figure.savefig(out / "tune-linear-vs-log.png", dpi=100)
    plt.close(figure)
    print(f"figures: grid best {grid_best:.4f}, random best {random_best:.4f}; "
          f"wrote {out / 'tune-grid-vs-random.png'}, {out / 'tune-linear-vs-log.png'}")


def mnist(out: Path, trials: int, jobs: int) -> None:
    from steepest import cli as base
    from steepest.tune import Choice, fit_objective, parse_space, search
    from steepest.tune.cli import ModelBuilder

    seed = 0
    data = base.load_dataset("mnist-sample", seed)
    splits = base.split_data(data, seed)
    preprocessing = base.fit_preprocessing(data, "mlp", splits.train[0])
    X_train = base.prepare(splits.train[0], preprocessing)
    X_dev = base.prepare(splits.dev[0], preprocessing)
    stand_in = base.Dataset(data.name, data.X[:1], data.y[:1], data.kind, data.classes,
                            data.scale)
    defaults = base.DEFAULTS["mlp"]
    builder = ModelBuilder("mlp", "128", "relu", 1.0, seed, stand_in, X_train.shape[1])
    objective = fit_objective(builder, X_train, splits.train[1], (X_dev, splits.dev[1]),
                              epochs=defaults["epochs"], batch_size=defaults["batch_size"],
                              lr=defaults["lr"], decay=defaults["decay"], rng=seed)
    start = time.perf_counter()
    default = search(objective, {"lr": Choice([defaults["lr"]]), "beta1": Choice([0.9]),
                                 "hidden": Choice([128])}, 1, metric="dev_error")
    default_time = time.perf_counter() - start
    space = parse_space("lr=log(1e-4,1e-1) beta1=1-log(0.9,0.999) hidden=intlog(32,512)")
    start = time.perf_counter()
    result = search(objective, space, trials, jobs=jobs, pruner="median", rng=seed,
                    metric="dev_error", verbose=1)
    elapsed = time.perf_counter() - start
    result.plot(out / "tune-mnist-search.png")
    result.plot_curves(out / "tune-mnist-curves.png")
    counts = result.counts()
    best = result.best_trial
    ranked = sorted((t for t in result.trials if t["state"] == "complete"),
                    key=lambda t: t["value"])
    cores = len(os.sched_getaffinity(0))
    print()
    print(f"MNIST sample (train {len(X_train):,}, dev {len(X_dev):,}), MLP 784-h-10, Adam, "
          f"batch {defaults['batch_size']}, lr decay {defaults['decay']}, "
          f"{defaults['epochs']} epochs; {cores} cores, jobs={jobs}")
    print()
    print("| configuration | lr | beta1 | hidden | dev accuracy |")
    print("| --- | --- | --- | --- | --- |")
    d = default.trials[0]
    print(f"| default (`steepest train --model mlp`) | {d['params']['lr']:.2g} | "
          f"{d['params']['beta1']:.3g} | {d['params']['hidden']} | "
          f"{100 * (1 - d['value']):.2f}% |")
    for rank, t in enumerate(ranked[:3], 1):
        p = t["params"]
        label = "best of the search" if t is best else f"search, rank {rank}"
        print(f"| {label} (trial #{t['number']}) | {p['lr']:.3g} | {p['beta1']:.4g} | "
              f"{p['hidden']} | {100 * (1 - t['value']):.2f}% |")
    worst = ranked[-1]
    print(f"| worst complete trial (#{worst['number']}) | {worst['params']['lr']:.3g} | "
          f"{worst['params']['beta1']:.4g} | {worst['params']['hidden']} | "
          f"{100 * (1 - worst['value']):.2f}% |")
    print()
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    print(f"{trials} trials in {elapsed:.0f} s wall ({states}); the default configuration "
          f"alone: {default_time:.1f} s")
    gap = (1 - best["value"]) - (1 - d["value"])
    verdict = "reaches" if gap >= 0 else "does NOT reach"
    print(f"the search {verdict} the default's dev accuracy ({100 * gap:+.2f} points)")
    if not math.isfinite(best["value"]):
        raise SystemExit("no finite result")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--figures-only", action="store_true")
    args = parser.parse_args()
    figures(args.out)
    if not args.figures_only:
        mnist(args.out, args.trials, args.jobs)


if __name__ == "__main__":
    main()
