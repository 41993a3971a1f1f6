"""Vectorisation (concept B8): explicit Python loops against whole-array operations, timed.

Two of the seed's examples, each computed both ways and checked to agree:

* the dot product of two random vectors of a million numbers: ``for i in range(n):
  c += a[i] * b[i]`` against ``np.dot(a, b)`` (the notes quote a speed-up of
  about 300-500 times);
* one epoch of logistic-regression gradient descent on m examples of n_x
  features: the notes' version with a loop over the examples and one over the
  features, against the vectorised Z = X w + b, dZ = A - Y, dw = X^T dZ / m,
  db = sum(dZ) / m (NumPy), and the same through steepest's autograd.

Timings are the fastest of a few repeats and depend on the machine and its load.

Run: ``python examples/gallery/vectorization.py [--quick] [--out vectorization.png]``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _gallery import main, pyplot, save

import steepest as st
import steepest.functional as F


def best_time(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The fastest of ``repeats`` calls (seconds) and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def dot_loop(a: np.ndarray, b: np.ndarray) -> float:
    """The seed's non-vectorised dot product."""
    c = 0.0
    for i in range(len(a)):
        c += a[i] * b[i]
    return c


def logistic_epoch_loops(X: np.ndarray, y: np.ndarray, w: np.ndarray,
                         b: float) -> tuple[np.ndarray, float]:
    """dw, db of one gradient step, with a loop over examples and one over features."""
    m, n_x = X.shape
    dw, db = np.zeros(n_x), 0.0
    for i in range(m):
        z = b
        for j in range(n_x):
            z += w[j] * X[i, j]
        a = 1 / (1 + math.exp(-z))
        dz = a - y[i]
        for j in range(n_x):
            dw[j] += X[i, j] * dz
        db += dz
    return dw / m, db / m


def logistic_epoch_numpy(X: np.ndarray, y: np.ndarray, w: np.ndarray,
                         b: float) -> tuple[np.ndarray, float]:
    """The same step vectorised: Z = X w + b, dZ = A - Y, dw = X^T dZ / m, db = mean(dZ)."""
    dZ = 1 / (1 + np.exp(-(X @ w + b))) - y                            # (m,)
    return X.T @ dZ / len(X), float(dZ.mean())


def logistic_epoch_steepest(X: np.ndarray, y: np.ndarray, w: np.ndarray,
                            b: float) -> tuple[np.ndarray, float]:
    """The same step through steepest's autograd (the cost's backward gives dw, db)."""
    weight = st.tensor(w[:, None], requires_grad=True)                 # (n_x, 1)
    bias = st.tensor(np.array([b]), requires_grad=True)
    F.binary_cross_entropy_with_logits(X @ weight + bias, y[:, None]).backward()
    return weight.grad[:, 0], float(bias.grad[0])


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Time both examples both ways; check that they agree."""
    n, (m, n_x), repeats = (100_000, (200, 20), 2) if quick else (1_000_000, (1000, 100), 3)
    rng = np.random.default_rng(0)
    a, b = rng.random(n), rng.random(n)
    results: dict[str, Any] = {"n": n, "m": m, "n_x": n_x}
    loop_time, loop_value = best_time(lambda: dot_loop(a, b), 1 if not quick else 2)
    vector_time, vector_value = best_time(lambda: np.dot(a, b), 20)
    # np.dot calls the BLAS, which may run several threads; on an oversubscribed
    # machine waking them can cost milliseconds. np.sum(a * b) stays on one core.
    sum_time, _ = best_time(lambda: np.sum(a * b), 20)
    results["dot"] = {"loop": loop_time, "vectorised": vector_time, "sum_of_products": sum_time,
                      "speedup": loop_time / vector_time,
                      "speedup_best": loop_time / min(vector_time, sum_time),
                      "relative_difference": abs(loop_value - vector_value) / abs(vector_value)}
    X, y = rng.normal(size=(m, n_x)), (rng.random(m) > 0.5).astype(np.float64)
    w, bias = rng.normal(size=n_x) * 0.1, 0.1
    timings, gradients = {}, {}
    for name, step in (("loops", logistic_epoch_loops), ("NumPy", logistic_epoch_numpy),
                       ("steepest autograd", logistic_epoch_steepest)):
        timings[name], gradients[name] = best_time(lambda step=step: step(X, y, w, bias),
                                                   1 if name == "loops" else repeats * 10)
    reference = gradients["NumPy"]
    results["logistic"] = {
        "seconds": timings,
        "speedup": timings["loops"] / timings["NumPy"],
        "speedup_steepest": timings["loops"] / timings["steepest autograd"],
        "max_gradient_difference": max(
            float(np.abs(dw - reference[0]).max()) + abs(db - reference[1])
            for dw, db in gradients.values()),
    }
    dot, logistic = results["dot"], results["logistic"]
    print(f"dot product of {n:,} numbers: loop {1e3 * dot['loop']:.1f} ms, np.dot "
          f"{1e3 * dot['vectorised']:.3f} ms -> {dot['speedup']:.0f}x (np.sum(a * b) "
          f"{1e3 * dot['sum_of_products']:.3f} ms; results agree to "
          f"{dot['relative_difference']:.0e})")
    print(f"logistic-regression gradient step, m = {m}, n_x = {n_x}: " + ", ".join(
        f"{name} {1e3 * seconds:.2f} ms" for name, seconds in timings.items()))
    print(f"  loops / NumPy {logistic['speedup']:.0f}x, loops / steepest "
          f"{logistic['speedup_steepest']:.0f}x; gradients agree to "
          f"{logistic['max_gradient_difference']:.0e}")
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """Bar charts of the times, log scale."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    dot, logistic = results["dot"], results["logistic"]
    panels = [(axes[0], {"for loop": dot["loop"], "np.dot": dot["vectorised"],
                         "np.sum(a * b)": dot["sum_of_products"]},
               f"dot product, n = {results['n']:,}"),
              (axes[1], logistic["seconds"],
               f"one logistic-regression step, m = {results['m']}, n_x = {results['n_x']}")]
    for axis, times, title in panels:
        names = list(times)
        axis.bar(names, [1e3 * t for t in times.values()],
                 color=["C3"] + ["C0"] * (len(names) - 1))
        for i, seconds in enumerate(times.values()):
            axis.text(i, 1e3 * seconds, f"{1e3 * seconds:.3g} ms", ha="center", va="bottom")
        axis.set_yscale("log")
        axis.set_ylabel("time (ms, log scale)")
        axis.set_title(title)
    figure.suptitle(f"Vectorised code is {dot['speedup']:.0f}x faster for the dot product and "
                    f"{logistic['speedup']:.0f}x for a logistic-regression step\n(measured on "
                    f"{os.cpu_count()} cores with a load average of {os.getloadavg()[0]:.1f}: "
                    "timings vary from machine to machine and run to run)", fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "vectorization.png")
