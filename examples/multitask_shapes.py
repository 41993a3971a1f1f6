"""Multi-task learning (concept M15): one network, three yes/no questions, labels missing.

The seed's multi-task example: one image, several labels (pedestrian? car? stop
sign? traffic light?), one network with one sigmoid output per label instead of one
network per label, trained even where some labels are unknown ("?"): the cost sums
only over the known ones. Here the images hold one to three coloured shapes
(``make_shapes(objects=(1, 3), multi_label=True)``) and the labels say whether there
is a circle, a square, a triangle; 30% of the training labels are unknown (NaN).

* Multi-task: one LeNet-5 with 3 sigmoid outputs, ``task=MultiLabel(3)``: every
  image teaches it, whatever it knows about that image; the unknown labels add
  nothing to the cost.
* Single-task: three LeNet-5s with one sigmoid output each (``task="binary"``), the
  one for circles trained only on the images whose circle label is known, and so on.

Same budget: the same number of example passes in all (epochs x training examples
of the multi-task net = the three single-task nets' together, up to whole epochs:
20,000 against 20,160 to 21,000 by default), so about the same
training time; the three single-task nets have three times the parameters. F1 per
label on 1,000 test images with every label known (scikit-learn's ``f1_score``).

Run: ``python examples/multitask_shapes.py`` (26 s of CPU on one core; prints the table of
``docs/transfer.md``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import f1_score

import steepest as st
from steepest.data.datasets.shapes import SHAPES, make_shapes

UNKNOWN, TEST_SIZE, BATCH = 0.3, 1000, 32


def make_data(m: int, unknown: float, rng: int) -> tuple[np.ndarray, np.ndarray]:
    """m 32x32 images of one to three shapes, (m, 3, 32, 32), and presence (m, 3)."""
    images, present, _ = make_shapes(m, image_size=32, objects=(1, 3), max_size=0.4,
                                     multi_label=True, unknown=unknown, rng=rng)
    return images, present


def _net(outputs: int) -> st.models.LeNet5:
    st.seed(0)
    return st.models.LeNet5(num_classes=outputs, in_channels=3, input_size=32, rng=0)


def _train(net: st.models.LeNet5, X: np.ndarray, y: np.ndarray, task: st.tasks.Task | str,
           passes: int) -> None:
    """Train on about ``passes`` example passes (whole epochs, at least one)."""
    epochs = max(1, round(passes / len(X)))
    st.train.fit(net, X, y, task=task, epochs=epochs, batch_size=BATCH, rng=0, verbose=0,
                 optimizer=st.optim.Adam(net.parameters(), lr=2e-3))


def multi_task(X: np.ndarray, Y: np.ndarray, X_test: np.ndarray, passes: int
               ) -> tuple[np.ndarray, int]:
    """One net, 3 sigmoid outputs, NaN labels masked: test predictions (m, 3), parameters."""
    net = _net(len(SHAPES))
    _train(net, X, Y, st.tasks.MultiLabel(len(SHAPES)), passes)
    return np.asarray(net(X_test).data > 0, dtype=np.int64), net.num_parameters()


def single_tasks(X: np.ndarray, Y: np.ndarray, X_test: np.ndarray, passes: int
                 ) -> tuple[np.ndarray, int]:
    """One binary net per label, each on its known labels only, passes / 3 each."""
    predictions, parameters = [], 0
    for j in range(Y.shape[1]):
        known = ~np.isnan(Y[:, j])
        net = _net(1)
        _train(net, X[known], Y[known, j], "binary", passes // Y.shape[1])
        predictions.append(np.asarray(net(X_test).data[:, 0] > 0, dtype=np.int64))
        parameters += net.num_parameters()
    return np.stack(predictions, axis=1), parameters


def main() -> None:
    parser = argparse.ArgumentParser(description="Multi-task vs single-task learning.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 2000],
                        help="training set sizes")
    parser.add_argument("--passes", type=int, default=20_000,
                        help="example passes (epochs x examples) per approach")
    args = parser.parse_args()
    X_all, Y_all = make_data(max(args.sizes), UNKNOWN, rng=0)
    X_test, Y_test = make_data(TEST_SIZE, 0.0, rng=1)
    always = [f1_score(Y_test[:, j], np.ones(TEST_SIZE)) for j in range(len(SHAPES))]
    print(f"{np.isnan(Y_all).mean():.0%} of training labels unknown; {args.passes:,} example "
          f"passes per approach; F1 on {TEST_SIZE:,} test images")
    print("| training images | approach | " + " | ".join(f"F1 {kind}" for kind in SHAPES)
          + " | mean F1 | parameters | training (CPU s) |")
    print("|---:|---|" + "---:|" * (len(SHAPES) + 3))
    print("| - | always \"yes\" | " + " | ".join(f"{s:.3f}" for s in always)
          + f" | {np.mean(always):.3f} | 0 | 0 |")
    for m in args.sizes:
        X, Y = X_all[:m], Y_all[:m]
        for name, approach in (("multi-task (1 net, 3 outputs)", multi_task),
                               ("single-task (3 nets, 1 output)", single_tasks)):
            start = time.process_time()
            predicted, parameters = approach(X, Y, X_test, args.passes)
            seconds = time.process_time() - start
            scores = [f1_score(Y_test[:, j], predicted[:, j]) for j in range(len(SHAPES))]
            print(f"| {m:,} | {name} | " + " | ".join(f"{s:.3f}" for s in scores)
                  + f" | {np.mean(scores):.3f} | {parameters:,} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
