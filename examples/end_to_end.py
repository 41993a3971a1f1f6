"""End-to-end learning vs a hand-built pipeline (concept M16), on noisy shapes.

The task: is the shape in a 32x32 image a circle, a square or a triangle? The images
come from ``steepest.data.datasets.make_shapes`` with heavy background noise (0.2)
and shapes as small as 12% of the image.

* The pipeline is what a person would build: blur away the noise, segment the shape
  by thresholding, measure four hand-designed features (how much of its bounding box
  it fills: 1 for a square, pi/4 for a circle, 1/2 for a triangle; its aspect ratio;
  its compactness, area / perimeter^2; how wide its top quarter is), and classify
  those with a small network.
* End-to-end learning maps pixels to the class with one network (a LeNet-5), learning
  its own features.

The seed's point: the pipeline's human knowledge carries it when data is scarce, but
it is also a ceiling (where the threshold loses a small or faint shape, no amount of
data brings it back); end-to-end needs much more data and then does better. Both get
about 600 updates of 32 examples at every size.

Run: ``python examples/end_to_end.py`` (16 s of CPU on one core); it prints the
Markdown table of ``docs/transfer.md``.
"""

from __future__ import annotations

import argparse

import numpy as np

import steepest as st
from steepest.data.datasets.shapes import make_shapes

NOISE, MIN_SIZE, TEST_SIZE = 0.2, 0.12, 1000


def make_data(m: int, rng: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """m noisy shape images (m, 3, 32, 32) and their classes (m,)."""
    images, labels, _ = make_shapes(m, image_size=32, noise=NOISE, min_size=MIN_SIZE, rng=rng)
    return images, labels[:, 0]


def hand_features(images: np.ndarray) -> np.ndarray:
    """The pipeline's first stages: denoise, segment, measure. (m, 4) features."""
    gray = images.max(axis=1)  # (m, H, W): the brightest channel
    padded = np.pad(gray, ((0, 0), (1, 1), (1, 1)), mode="edge")
    height, width = gray.shape[1:]
    blurred = sum(padded[:, i:i + height, j:j + width] for i in range(3) for j in range(3)) / 9
    background = np.median(blurred.reshape(len(blurred), -1), axis=1)[:, None, None]
    masks = blurred > background + 0.25
    features = np.zeros((len(images), 4), np.float32)
    for k, mask in enumerate(masks):
        rows, columns = np.nonzero(mask)
        if len(rows) == 0:
            continue  # nothing segmented: all-zero features
        h = rows.max() - rows.min() + 1
        w = columns.max() - columns.min() + 1
        area = mask.sum()
        perimeter = (mask[1:] != mask[:-1]).sum() + (mask[:, 1:] != mask[:, :-1]).sum()
        widths = mask[rows.min():rows.max() + 1].sum(axis=1)
        features[k] = [area / (h * w), h / w, area / max(perimeter, 1) ** 2,
                       widths[:max(1, h // 4)].mean() / max(widths.max(), 1)]
    return features


def _epochs(m: int) -> int:
    return max(5, -(-600 // -(-m // 32)))  # about 600 updates of 32


def pipeline(X: np.ndarray, y: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Hand-built features, then a small classifier on them: test predictions."""
    features, test_features = hand_features(X), hand_features(X_test)
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-6
    st.seed(0)
    classifier = st.models.MLP([4, 16, 3], rng=0)
    st.train.fit(classifier, (features - mean) / std, y, epochs=_epochs(len(X)), batch_size=32,
                 optimizer=st.optim.Adam(classifier.parameters(), lr=1e-2), rng=0, verbose=0)
    return classifier.predict((test_features - mean) / std)


def end_to_end(X: np.ndarray, y: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """One network from pixels to classes: test predictions."""
    st.seed(0)
    net = st.models.LeNet5(num_classes=3, in_channels=3, input_size=32, rng=0)
    st.train.fit(net, X, y, epochs=_epochs(len(X)), batch_size=32, rng=0, verbose=0,
                 optimizer=st.optim.Adam(net.parameters(), lr=2e-3))
    return net.predict(X_test)


def main() -> None:
    parser = argparse.ArgumentParser(description="End-to-end learning vs a pipeline.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000])
    args = parser.parse_args()
    images, labels = make_data(max(args.sizes) + TEST_SIZE)
    X_test, y_test = images[-TEST_SIZE:], labels[-TEST_SIZE:]
    print("| training images | hand-built pipeline | end-to-end (LeNet-5) |")
    print("|---:|---:|---:|")
    for m in args.sizes:
        ours = (pipeline(images[:m], labels[:m], X_test) == y_test).mean()
        theirs = (end_to_end(images[:m], labels[:m], X_test) == y_test).mean()
        print(f"| {m:,} | {100 * ours:.1f}% | {100 * theirs:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
