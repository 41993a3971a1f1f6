"""What the layers learn (concepts D1, C1): LeNet-5's first-layer filters and feature maps.

LeNet-5 learns MNIST digits (Adam, mini-batches of 64). Its six 5x5 first-layer
filters are shown next to the hand-made edge filters of the seed's edge-detection
example (``steepest.nn.init.edge_filter``), and one digit is followed through the
layers: 6 maps of 28x28 after the first convolution, 16 maps of 10x10 after the
second.

He's random 5x5 filters look like noise, and in a few epochs the first layer
moves only about an eighth of their size, so the trained filters still mostly show
their random start. To see what gradient descent itself puts there, a second
LeNet-5 starts with its first-layer weights shrunk 20 times: its filters grow
from almost nothing into smooth stroke and edge detectors (bright on one side,
dark on the other). Two numbers say so: the correlation of neighbouring weights
(0 for noise, near 1 for smooth filters) and the best correlation of a filter's
response over digits with the response of an edge filter (Sobel, 4 directions).

Run: ``python examples/gallery/lenet_filters.py [--quick] [--out lenet_filters.png]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from _gallery import main, mnist, pyplot, save

import steepest as st
import steepest.functional as F

SHRINK = 0.05  # the second net's first-layer weights start at 1/20 of He's


def edge_bank() -> list[np.ndarray]:
    """Sobel filters in four directions (vertical, horizontal, two diagonals), padded to 5x5."""
    diagonal = np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], dtype=np.float32)
    bank = []
    for kernel in (st.nn.init.edge_filter("sobel", "vertical"),
                   st.nn.init.edge_filter("sobel", "horizontal"), diagonal, diagonal[:, ::-1]):
        padded = np.zeros((5, 5), dtype=np.float32)
        padded[1:4, 1:4] = kernel
        bank.append(padded)
    return bank


def responses(X: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The convolution of every image of X (m, 1, 28, 28) with one 2-D kernel, flattened."""
    weight = np.ascontiguousarray(kernel[None, None], dtype=np.float32)
    return F.conv2d(X, weight, padding="same").data.ravel()


def neighbour_correlation(filters: np.ndarray) -> float:
    """Mean correlation of horizontally and vertically adjacent weights (smoothness)."""
    values = []
    for f in filters[:, 0]:                                            # (5, 5) each
        pairs = np.concatenate([np.column_stack([f[:, :-1].ravel(), f[:, 1:].ravel()]),
                                np.column_stack([f[:-1].ravel(), f[1:].ravel()])])
        values.append(np.corrcoef(pairs.T)[0, 1])
    return float(np.mean(values))


def edge_likeness(filters: np.ndarray, X: np.ndarray) -> float:
    """Mean over filters of the best |correlation| of its response with an edge filter's."""
    edges = [responses(X, kernel) for kernel in edge_bank()]
    return float(np.mean([max(abs(np.corrcoef(responses(X, f[0]), e)[0, 1]) for e in edges)
                          for f in filters]))


def feature_maps(model: st.models.LeNet5, image: np.ndarray) -> list[np.ndarray]:
    """The activations of one image after each ReLU of the convolutional part."""
    maps, a = [], image[None]
    with st.no_grad():
        for layer in model.features:
            a = layer(a)
            if isinstance(layer, st.nn.ReLU):
                maps.append(a.data[0])
    return maps


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Train both LeNet-5s; filters, their smoothness and edge-likeness, feature maps."""
    n_train, epochs = (640, 1) if quick else (4000, 3)
    train, dev = mnist(n_train, 1000 if not quick else 200, flat=False)
    probe = dev[0][:100]
    results: dict[str, Any] = {}
    print(f"LeNet-5 on {n_train} MNIST digits, Adam lr 0.002, {epochs} epoch(s)")
    for name, shrink in (("He init", 1.0), (f"first layer x{SHRINK}", SHRINK)):
        model = st.models.LeNet5(rng=0)
        model.features[0].weight.data *= shrink
        start = model.features[0].weight.data.copy()
        history = st.train.fit(model, *train, dev=dev, epochs=epochs, batch_size=64, verbose=0,
                               rng=0, optimizer=st.optim.Adam(model.parameters(), lr=2e-3))
        filters = model.features[0].weight.data.copy()                  # (6, 1, 5, 5)
        results[name] = {
            "filters": filters, "dev_accuracy": history.last("dev_accuracy"),
            "change": float(np.linalg.norm(filters - start) / np.linalg.norm(start)),
            "smoothness_start": neighbour_correlation(start),
            "smoothness": neighbour_correlation(filters),
            "edge_likeness_start": edge_likeness(start, probe),
            "edge_likeness": edge_likeness(filters, probe),
            "maps": feature_maps(model, dev[0][0]),
        }
        r = results[name]
        print(f"  {name:18s} dev accuracy {r['dev_accuracy']:.1%}; filters moved "
              f"{r['change']:.0%} of their start; neighbouring weights correlate "
              f"{r['smoothness_start']:.2f} -> {r['smoothness']:.2f}; edge-likeness "
              f"{r['edge_likeness_start']:.2f} -> {r['edge_likeness']:.2f}")
    results["digit"], results["label"] = dev[0][0, 0], int(dev[1][0])
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """Left: hand-made and learned filters; right: one digit through the layers."""
    plt = pyplot()
    figure = plt.figure(figsize=(14, 6.2), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[1, 1.25])
    rows = [("hand-made", [st.nn.init.edge_filter(kind, direction)
                           for kind in ("basic", "sobel", "scharr")
                           for direction in ("vertical", "horizontal")])]
    for name in results:
        if isinstance(results[name], dict):
            r = results[name]
            rows.append((f"{name}\n(smoothness {r['smoothness']:.2f})", list(r["filters"][:, 0])))
    axes = left.subplots(len(rows), 6)
    for row, (label, kernels) in zip(axes, rows):
        for axis, kernel in zip(row, kernels):
            limit = np.abs(kernel).max()
            axis.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
            axis.set_xticks([])
            axis.set_yticks([])
        row[0].set_ylabel(label, fontsize=8)
    names = [f"{k} {d}" for k in ("basic", "sobel", "scharr") for d in ("vert.", "horiz.")]
    for axis, name in zip(axes[0], names):
        axis.set_title(name, fontsize=8)
    left.suptitle("first-layer filters (red +, blue -)", fontsize=10)

    name = f"first layer x{SHRINK}"
    maps = results[name]["maps"]
    axes = right.subplots(3, 8)
    for axis in axes.ravel():
        axis.axis("off")
    axes[0, 0].imshow(results["digit"], cmap="gray")
    axes[0, 0].set_title(f"digit {results['label']}", fontsize=8)
    for i, fmap in enumerate(maps[0]):
        axes[0, i + 1].imshow(fmap, cmap="magma")
        axes[0, i + 1].set_title(f"conv1 map {i + 1}", fontsize=7)
    for i, fmap in enumerate(maps[1]):
        axes[1 + i // 8, i % 8].imshow(fmap, cmap="magma")
        axes[1 + i // 8, i % 8].set_title(f"conv2 map {i + 1}", fontsize=7)
    right.suptitle(f"one digit through the {name} net: conv1 maps (28x28), conv2 maps "
                   "(10x10)", fontsize=10)
    he, small = results["He init"], results[name]
    figure.suptitle(f"Learned from a near-zero start, the first-layer filters become smooth "
                    f"edge and stroke detectors (neighbour correlation {small['smoothness']:.2f}, "
                    f"He's random start {he['smoothness_start']:.2f})", fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "lenet_filters.png")
