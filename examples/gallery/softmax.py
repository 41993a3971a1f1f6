"""Softmax (concepts H8, H9): decision regions of softmax regression against a small network.

Three spiral arms of 100 points each (C = 3 classes). Softmax regression, a
``Linear(2, 3)`` with the softmax cross-entropy (``MLP([2, 3])``, no hidden layer),
can only cut the plane with straight lines: the region where one class's logit
is the largest is an intersection of half-planes, so it is convex. A network with
one hidden layer of 50 ReLU units bends the boundaries around the arms.

The convexity is measured: for random pairs of points that a model puts in the
same class, the share of segments between them that leave the class (0 for every
convex region).

Run: ``python examples/gallery/softmax.py [--quick] [--out softmax.png]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from _gallery import grid, main, pyplot, save

import steepest as st

CLASSES = 3


def spirals(per_class: int = 100, noise: float = 0.2, rng: int = 0) -> tuple[np.ndarray, ...]:
    """C interleaved spiral arms (the classic toy problem): X (m, 2) float32, y (m,) int64."""
    generator = np.random.default_rng(rng)
    radius = np.tile(np.linspace(0.05, 1, per_class), CLASSES)
    y = np.repeat(np.arange(CLASSES), per_class)
    angle = y * 2 * np.pi / CLASSES + radius * 4 + generator.normal(0, noise, y.size)
    return np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]).astype(np.float32), y


def non_convex_share(model: st.nn.Module, X: np.ndarray, pairs: int = 300,
                     rng: int = 0) -> float:
    """Share of segments between two points of the same predicted class that leave it."""
    generator = np.random.default_rng(rng)
    low, high = X.min(axis=0), X.max(axis=0)
    a = generator.uniform(low, high, (pairs * 4, 2)).astype(np.float32)
    b = generator.uniform(low, high, (pairs * 4, 2)).astype(np.float32)
    same = st.train.predict(model, a) == st.train.predict(model, b)
    a, b = a[same][:pairs], b[same][:pairs]
    t = np.linspace(0, 1, 25, dtype=np.float32)[:, None, None]         # (25, 1, 1)
    points = (1 - t) * a + t * b                                       # (25, pairs, 2)
    labels = st.train.predict(model, points.reshape(-1, 2)).reshape(len(t), -1)
    return float((labels != labels[0]).any(axis=0).mean())


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Train both models; accuracy, convexity, probabilities."""
    epochs = 150 if quick else 500
    X, y = spirals()
    models = {"softmax regression (no hidden layer)": st.models.MLP([2, CLASSES], rng=0),
              "network, 50 hidden ReLU units": st.models.MLP([2, 50, CLASSES], rng=0)}
    xx, yy, points = grid(X, steps=200, margin=0.2)
    results: dict[str, Any] = {"X": X, "y": y, "grid": (xx, yy)}
    print(f"{CLASSES} spiral arms, {len(X)} points; Adam lr 0.05 on the full batch, "
          f"{epochs} epochs")
    for name, model in models.items():
        history = st.train.fit(model, X, y, epochs=epochs, batch_size=None, verbose=0, rng=0,
                               optimizer=st.optim.Adam(model.parameters(), lr=0.05))
        probabilities = st.train.predict_proba(model, points)           # (grid, C)
        results[name] = {
            "accuracy": history.last("accuracy"),
            "cost": history.last("loss"),
            "regions": probabilities.argmax(axis=1).reshape(xx.shape),
            "confidence": probabilities.max(axis=1).reshape(xx.shape),
            "row_sum_error": float(np.abs(probabilities.sum(axis=1) - 1).max()),
            "non_convex": non_convex_share(model, X, pairs=100 if quick else 300),
        }
        r = results[name]
        print(f"  {name:38s} accuracy {r['accuracy']:6.1%}  cost {r['cost']:.3f}  segments "
              f"leaving their class {r['non_convex']:5.1%}  |sum(p) - 1| <= "
              f"{r['row_sum_error']:.1e}")
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """Decision regions (shaded by the softmax's top probability) with the data."""
    plt = pyplot()
    from matplotlib.colors import ListedColormap

    figure, axes = plt.subplots(1, 2, figsize=(11, 5))
    xx, yy = results["grid"]
    X, y = results["X"], results["y"]
    colors = ["#d62728", "#2ca02c", "#1f77b4"]
    for axis, name in zip(axes, [k for k in results if isinstance(results[k], dict)]):
        r = results[name]
        axis.contourf(xx, yy, r["regions"], levels=np.arange(CLASSES + 1) - 0.5,
                      cmap=ListedColormap(colors), alpha=0.25)
        axis.contour(xx, yy, r["confidence"], levels=[0.5, 0.9], colors="gray",
                     linewidths=0.5, linestyles=["--", ":"])
        for label in range(CLASSES):
            axis.scatter(*X[y == label].T, s=10, c=colors[label], edgecolors="k",
                         linewidths=0.2, label=f"class {label}")
        axis.set_title(f"{name}\naccuracy {r['accuracy']:.1%}; segments leaving their class "
                       f"{r['non_convex']:.0%}", fontsize=10)
        axis.set_xlabel("x1")
        axis.set_ylabel("x2")
        axis.set_aspect("equal")
    axes[0].legend(fontsize=8, loc="lower left", title="grey lines: max p = 0.5, 0.9",
                   title_fontsize=7)
    names = [k for k in results if isinstance(results[k], dict)]
    figure.suptitle(f"Softmax regression cuts the plane into {CLASSES} convex regions "
                    f"({results[names[0]]['accuracy']:.0%}); one hidden layer bends them around "
                    f"the spirals ({results[names[1]]['accuracy']:.0%})", fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "softmax.png")
