"""The optimisers race (concepts O1-O9): gradient descent, momentum, RMSprop and Adam.

Three scenes:

1. A real task: a 784-64-10 ReLU network on MNIST digits, every optimiser on the
   same mini-batches of 64 (same seed, same shuffles), each at its usual learning
   rate (0.1 for gradient descent and momentum, the seed's 0.001 for RMSprop and
   Adam). The cost per iteration is smoothed with an EWMA, as the progress bar does.
2. A plateau and a saddle: J(x, y) = 1 - exp(-(x^2 + (y^2 - 1)^2)), flat far from
   its two minima (0, +-1) and with a saddle at (0, 0). From (-2.5, 0.05) the
   gradient is about 1e-3: gradient descent and momentum (the seed's form, an
   average of the gradients, so no larger than them) crawl, while RMSprop and Adam
   divide by the gradient's running RMS and take full-size steps (O9).
3. Exponentially weighted averages (O3, O4) of a year of noisy daily temperatures
   (the seed's example): beta 0.9 averages about 10 days, 0.98 about 50 (smoother,
   shifted right), 0.5 about 2 (noisy); without bias correction, beta 0.98 starts
   near 0.

Run: ``python examples/gallery/optimizers.py [--quick] [--out optimizers.png]``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _gallery import main as command_line
from _gallery import mnist, pyplot, save

import steepest as st

OPTIMIZERS: dict[str, tuple[Callable[..., st.optim.Optimizer], float]] = {
    "gradient descent": (st.optim.GradientDescent, 0.1),
    "momentum (beta 0.9)": (st.optim.Momentum, 0.1),
    "RMSprop (beta 0.9)": (lambda params, lr: st.optim.RMSprop(params, lr=lr, beta=0.9), 0.001),
    "Adam": (st.optim.Adam, 0.001),
}
# on the plateau, step sizes that keep each optimiser stable near the minimum
SURFACE_LR = {"gradient descent": 0.1, "momentum (beta 0.9)": 0.1,
              "RMSprop (beta 0.9)": 0.01, "Adam": 0.05}
START = (-2.5, 0.05)
LOW = 0.1  # "off the plateau": J below this


def surface(w: Any) -> Any:
    """J(x, y) = 1 - exp(-(x^2 + (y^2 - 1)^2)): a plateau, a saddle at 0, minima at (0, +-1)."""
    x, y = w[0], w[1]
    return 1 - (-(x * x + (y * y - 1) ** 2)).exp()


def race_on_surface(steps: int) -> dict[str, Any]:
    """Each optimiser from START for ``steps`` steps: path, cost, steps to J < LOW."""
    results = {}
    for name, (make, _) in OPTIMIZERS.items():
        w = st.tensor(np.array(START), requires_grad=True)
        optimizer = make([w], lr=SURFACE_LR[name])
        path, cost = [w.data.copy()], []
        for _ in range(steps):
            optimizer.zero_grad()
            J = surface(w)
            J.backward()
            optimizer.step()
            cost.append(J.item())
            path.append(w.data.copy())
        cost_array = np.array(cost)
        below = np.flatnonzero(cost_array < LOW)
        results[name] = {"path": np.array(path), "cost": cost_array,
                         "final_cost": float(cost_array[-1]),
                         "steps_to_low": int(below[0]) + 1 if below.size else None}
    return results


def race_on_mnist(n_train: int, epochs: int) -> dict[str, Any]:
    """Each optimiser on the same mini-batches of MNIST digits."""
    train, dev = mnist(n_train, 300 if n_train < 1000 else 1000)
    results = {}
    for name, (make, lr) in OPTIMIZERS.items():
        model = st.models.MLP([784, 64, 10], rng=0)
        history = st.train.fit(model, *train, dev=dev, epochs=epochs, batch_size=64, rng=0,
                               verbose=0, optimizer=make(model.parameters(), lr=lr))
        smooth = st.optim.EWMA(0.9)
        results[name] = {"iteration_loss": np.array(history.iteration_loss),
                         "smoothed": np.array([smooth.update(v) for v in history.iteration_loss]),
                         "epoch_loss": np.array(history["loss"]),
                         "dev_accuracy": history.last("dev_accuracy"), "lr": lr}
    return results


def temperatures(rng: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A year of daily temperatures: a seasonal curve (coldest mid-January) plus noise."""
    days = np.arange(1, 366)
    season = 11 - 7 * np.cos(2 * np.pi * (days - 15) / 365)
    return season, season + np.random.default_rng(rng).normal(0, 3, days.size)


def averages(values: np.ndarray, beta: float, bias_correction: bool = True) -> np.ndarray:
    """The running EWMA of ``values``."""
    average = st.optim.EWMA(beta, bias_correction=bias_correction)
    return np.array([average.update(v) for v in values])


def lag_days(curve: np.ndarray, truth: np.ndarray, skip: int = 60) -> int:
    """The shift k (days) with curve[t] closest to truth[t - k]: how far it runs late."""
    errors = [np.abs(curve[skip:] - truth[skip - k:len(truth) - k]).mean() for k in range(40)]
    return int(np.argmin(errors))


def ewma_study() -> dict[str, Any]:
    """Smoothness, lag and the start with and without bias correction."""
    season, daily = temperatures()
    results: dict[str, Any] = {"season": season, "daily": daily}
    for beta in (0.5, 0.9, 0.98):
        curve = averages(daily, beta)
        results[beta] = {"curve": curve, "window": 1 / (1 - beta),
                         "roughness": float(np.diff(curve).std()),
                         "lag": lag_days(curve, season)}
    raw = averages(daily, 0.98, bias_correction=False)
    results["raw_0.98"] = raw
    results["first_week"] = {"data": float(daily[:7].mean()), "raw": float(raw[:7].mean()),
                             "corrected": float(results[0.98]["curve"][:7].mean())}
    return results


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """The three scenes; prints their numbers."""
    results = {"mnist": race_on_mnist(300 if quick else 4000, 2 if quick else 5),
               "surface": race_on_surface(300 if quick else 1000), "ewma": ewma_study()}
    print("MNIST 784-64-10, mini-batches of 64 (same for all):")
    for name, r in results["mnist"].items():
        print(f"  {name:20s} lr {r['lr']:<6} cost per epoch "
              f"{' '.join(f'{v:.3f}' for v in r['epoch_loss'])}  dev accuracy "
              f"{r['dev_accuracy']:.1%}")
    print(f"plateau J = 1 - exp(-(x^2 + (y^2 - 1)^2)) from {START}:")
    for name, r in results["surface"].items():
        print(f"  {name:20s} lr {SURFACE_LR[name]:<5} final J {r['final_cost']:.4f}  steps to "
              f"J < {LOW}: {r['steps_to_low'] or 'not reached'}")
    ewma = results["ewma"]
    print("EWMA of 365 noisy daily temperatures:")
    for beta in (0.5, 0.9, 0.98):
        r = ewma[beta]
        print(f"  beta {beta:<4}  ~{r['window']:4.0f} days  day-to-day change (std) "
              f"{r['roughness']:.2f}  runs {r['lag']} days late")
    week = ewma["first_week"]
    print(f"  first week: data {week['data']:.1f}, beta 0.98 without bias correction "
          f"{week['raw']:.1f}, with it {week['corrected']:.1f}")
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """Four panels: MNIST costs, the surface with paths, plateau costs, EWMAs."""
    plt = pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(12, 8.6))
    colors = dict(zip(OPTIMIZERS, ("C0", "C1", "C2", "C3")))
    axis = axes[0, 0]
    for name, r in results["mnist"].items():
        axis.plot(r["iteration_loss"], color=colors[name], alpha=0.15)
        axis.plot(r["smoothed"], color=colors[name],
                  label=f"{name}, lr {r['lr']} (dev {r['dev_accuracy']:.1%})")
    axis.set_xlabel("iteration (mini-batch of 64)")
    axis.set_ylabel("cost J (faint: per batch; line: EWMA 0.9)")
    axis.set_title("MNIST 784-64-10 on the same mini-batches")
    axis.set_ylim(0, 2.5)
    axis.legend(fontsize=8)

    surface_runs = results["surface"]
    axis = axes[0, 1]
    xx, yy = np.meshgrid(np.linspace(-3, 1.5, 200), np.linspace(-1.6, 1.6, 200))
    J = 1 - np.exp(-(xx**2 + (yy**2 - 1) ** 2))
    contours = axis.contourf(xx, yy, J, levels=20, cmap="viridis")
    figure.colorbar(contours, ax=axis, label="J")
    for name, r in surface_runs.items():
        axis.plot(*r["path"].T, ".-", color=colors[name], markersize=2, linewidth=1, label=name)
    axis.plot(*START, "w*", markersize=12, label="start")
    axis.plot(0, 0, "wx", markersize=9, label="saddle")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title("a plateau and a saddle: the paths")
    axis.legend(fontsize=7, loc="lower left")

    axis = axes[1, 0]
    for name, r in surface_runs.items():
        axis.plot(np.arange(1, len(r["cost"]) + 1), r["cost"], color=colors[name],
                  label=f"{name}, lr {SURFACE_LR[name]}: J < {LOW} after "
                        f"{r['steps_to_low'] or 'never'}")
    axis.set_xscale("log")
    axis.set_xlabel("step (log scale)")
    axis.set_ylabel("J(x, y)")
    axis.set_title("leaving the plateau")
    axis.legend(fontsize=8)

    ewma = results["ewma"]
    axis = axes[1, 1]
    days = np.arange(1, 366)
    axis.plot(days, ewma["daily"], ".", color="gray", markersize=3, label="daily temperature")
    for beta, color in ((0.5, "C2"), (0.9, "C3"), (0.98, "C0")):
        r = ewma[beta]
        axis.plot(days, r["curve"], color=color,
                  label=f"beta {beta} (~{r['window']:.0f} days, {r['lag']} days late)")
    axis.plot(days, ewma["raw_0.98"], "--", color="C0", label="beta 0.98, no bias correction")
    axis.set_xlabel("day of the year")
    axis.set_ylabel("temperature (°C)")
    axis.set_title("exponentially weighted averages")
    axis.legend(fontsize=7)

    adam, gd = surface_runs["Adam"], surface_runs["gradient descent"]
    figure.suptitle(f"On the plateau Adam is off in {adam['steps_to_low']} steps and gradient "
                    f"descent in {gd['steps_to_low'] or 'more than ' + str(len(gd['cost']))}; "
                    "on MNIST all four learn at their usual rates.\nA larger beta averages "
                    "more days and runs later; bias correction fixes the start", fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    command_line(run, __doc__, "optimizers.png")
