"""Edge detection with convolution (concept C1), on real MNIST digits.

Vertical and horizontal edge filters (the seed's basic one, Sobel and Scharr) slide
over a handwritten digit with ``steepest.functional.conv2d``; the outputs light up
where brightness changes from left to right (vertical edges) or from top to
bottom (horizontal edges).

Run: ``python examples/edge_detection.py [--out edges.png]`` (needs matplotlib).
"""

from __future__ import annotations

import argparse

import numpy as np

import steepest as st
import steepest.functional as F


def edge_maps(image: np.ndarray) -> dict[str, np.ndarray]:
    """Filter name -> the convolution of ``image`` (H, W) with it ("same" size)."""
    x = image.astype(np.float32)[None, None] / 255
    maps = {}
    for kind in ("basic", "sobel", "scharr"):
        for direction in ("vertical", "horizontal"):
            kernel = st.nn.init.edge_filter(kind, direction)[None, None]
            maps[f"{kind} {direction}"] = F.conv2d(x, kernel, padding="same").data[0, 0]
    return maps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="edges.png", help="where to write the figure")
    parser.add_argument("--index", type=int, default=3, help="which of the 5,000 digits")
    args = parser.parse_args()

    images, labels = st.data.datasets.load_mnist_sample()
    image = images[args.index]
    maps = edge_maps(image)
    for name, response in maps.items():
        print(f"{name:18s} strongest response {np.abs(response).max():6.2f}")

    from steepest.plotting import pyplot

    plt = pyplot()
    figure, axes = plt.subplots(1, 1 + len(maps), figsize=(2.2 * (1 + len(maps)), 2.6))
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title(f"digit {labels[args.index]}")
    for axis, (name, response) in zip(axes[1:], maps.items()):
        limit = np.abs(response).max()
        axis.imshow(response, cmap="RdBu", vmin=-limit, vmax=limit)
        axis.set_title(name, fontsize=8)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
