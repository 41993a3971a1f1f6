"""Regularisation (concepts I4-I6) on the planar flower: L2 at several lambda, dropout.

A 2-50-50-1 tanh network (Xavier initialisation, Adam on the full batch)
learns the planar flower (noise 0.3) from only 100 points and is tested on 900
others. Unregularised, it fits every training point and its boundary wraps
around single noisy points: high variance. Each regulariser is tried on the same
data:

* L2 (``fit(regularization=st.nn.L2(lambd))``, the cost gains
  lambd / (2m) * sum ||W||^2): the larger lambda, the higher the training error
  and the smoother the boundary;
* inverted dropout after each hidden layer (``MLP(keep_prob=...)``).

The numbers are averaged over three random train/dev splits (one in ``--quick``);
the boundaries are those of the first split.

Run: ``python examples/gallery/regularization.py [--quick] [--out regularization.png]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from _gallery import grid, main, pyplot, save

import steepest as st

SETTINGS: dict[str, dict[str, float]] = {
    "none": {},
    "L2 lambda 0.1": {"lambd": 0.1},
    "L2 lambda 0.5": {"lambd": 0.5},
    "L2 lambda 2": {"lambd": 2.0},
    "dropout keep_prob 0.8": {"keep_prob": 0.8},
    "dropout keep_prob 0.5": {"keep_prob": 0.5},
}
QUICK_SETTINGS = ("none", "L2 lambda 2", "dropout keep_prob 0.5")
N_TRAIN = 100


def train(setting: dict[str, float], X: np.ndarray, y: np.ndarray,
          epochs: int) -> st.models.MLP:
    """The 2-50-50-1 tanh net trained with one regulariser (or none)."""
    model = st.models.MLP([2, 50, 50, 1], activation="tanh", output="sigmoid", init="xavier",
                          keep_prob=setting.get("keep_prob", 1.0), rng=0)
    penalty = st.nn.L2(setting["lambd"]) if "lambd" in setting else None
    st.train.fit(model, X, y, epochs=epochs, batch_size=None, verbose=0, rng=0,
                 regularization=penalty,
                 optimizer=st.optim.Adam(model.parameters(), lr=0.01))
    return model


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Train and dev error for each setting; boundaries on the first split."""
    epochs, splits = (300, 1) if quick else (800, 3)
    names = QUICK_SETTINGS if quick else tuple(SETTINGS)
    X, y = st.data.datasets.make_planar(1000, noise=0.3, rng=0)
    results: dict[str, Any] = {name: {"train_error": [], "dev_error": []} for name in names}
    xx, yy, points = grid(X, steps=150)
    for split in range(splits):
        parts = st.data.train_dev_test_split(X, y, sizes=(N_TRAIN, len(X) - N_TRAIN), stratify=y,
                                             rng=split)
        for name in names:
            model = train(SETTINGS[name], *parts.train, epochs)
            results[name]["train_error"].append(1 - st.train.evaluate(model, *parts.train)
                                                ["accuracy"])
            results[name]["dev_error"].append(1 - st.train.evaluate(model, *parts.dev)
                                              ["accuracy"])
            if split == 0:
                results[name]["boundary"] = st.train.predict_proba(model, points)[:, 0].reshape(
                    xx.shape)
                results[name]["weight_norm"] = float(sum(
                    (layer.weight.data ** 2).sum() for layer in model.layers
                    if isinstance(layer, st.nn.Linear)))
        if split == 0:
            results["first_split"] = parts
    print(f"planar flower, noise 0.3: {N_TRAIN} training points, {len(X) - N_TRAIN} dev; "
          f"2-50-50-1 tanh, Adam, {epochs} epochs; mean of {splits} split(s)")
    print(f"{'regularisation':22s} {'train error':>11s} {'dev error':>9s} {'gap':>6s} "
          f"{'sum W^2':>8s}")
    for name in names:
        r = results[name]
        r["train_error"], r["dev_error"] = (float(np.mean(r["train_error"])),
                                            float(np.mean(r["dev_error"])))
        r["gap"] = r["dev_error"] - r["train_error"]
        print(f"{name:22s} {r['train_error']:11.1%} {r['dev_error']:9.1%} {r['gap']:6.1%} "
              f"{r['weight_norm']:8.1f}")
    results["names"], results["grid"] = names, (xx, yy)
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """One panel per setting: the boundary over the training points."""
    plt = pyplot()
    names = results["names"]
    columns = (len(names) + 1) // 2
    figure, axes = plt.subplots(2, columns, figsize=(max(4 * columns, 10), 7.8))
    xx, yy = results["grid"]
    X_train, y_train = results["first_split"].train
    for axis, name in zip(axes.ravel(), names):
        r = results[name]
        axis.contourf(xx, yy, r["boundary"], levels=[0, 0.5, 1], colors=["#f4b6b6", "#b6c8f4"])
        axis.contour(xx, yy, r["boundary"], levels=[0.5], colors="k", linewidths=0.8)
        for label, color in ((0, "C3"), (1, "C0")):
            chosen = y_train == label
            axis.scatter(*X_train[chosen].T, s=12, c=color, edgecolors="k", linewidths=0.3,
                         label=f"class {label} (train)")
        axis.set_title(f"{name}\ntrain {r['train_error']:.1%}, dev {r['dev_error']:.1%}",
                       fontsize=10)
        axis.set_xlabel("x1")
        axis.set_ylabel("x2")
    axes.ravel()[0].legend(fontsize=7, loc="lower left")
    for axis in axes.ravel()[len(names):]:
        axis.axis("off")
    best = min(names, key=lambda n: results[n]["dev_error"])
    figure.suptitle(f"Unregularised, the net fits all {N_TRAIN} points (dev error "
                    f"{results['none']['dev_error']:.1%}); regularisers trade training error for "
                    f"a smaller gap.\nBest dev error: {best} ({results[best]['dev_error']:.1%})",
                    fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "regularization.png")
