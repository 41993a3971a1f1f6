"""Transfer learning (concepts K8, M14): the shipped MNIST LeNet-5 on scikit-learn's digits.

The target task: scikit-learn's 1,797 8x8 digits (other writers, other scanner,
a quarter of the resolution), enlarged to 28x28. With 10, 50 or all (about 130)
labelled images per class, the seed's three regimes are compared with training
from scratch, on the same held-out 500 digits:

* head: freeze the pre-trained network, replace its softmax layer, train only that
  (on pre-computed features: ``steepest.transfer.precompute_features``);
* last layers: freeze the convolutions, train the three fully connected layers
  (on the convolutions' pre-computed features; the pre-trained layers with a 10x
  smaller learning rate than the new one: parameter groups);
* everything: start from the pre-trained weights and train every layer;
* scratch: the same LeNet-5, randomly initialised, every layer trained.

Run: ``python examples/transfer_digits.py [--seeds 3]`` (a few minutes per seed on
one core); it prints the Markdown table of ``docs/transfer.md``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import steepest as st
from steepest.transfer import (
    freeze,
    load_digits_28,
    precompute_features,
    pretrained_lenet5,
    replace_head,
)

REGIMES = ("head", "last layers", "everything", "scratch")
TEST_SIZE = 500


def split(labels_per_class: int | None, seed: int = 0
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test): a fixed test set of 500 digits and
    ``labels_per_class`` training digits of each class from the rest (None: all)."""
    images, labels = load_digits_28()
    order = np.random.default_rng(0).permutation(len(images))
    test, pool = order[:TEST_SIZE], order[TEST_SIZE:]
    if labels_per_class is None:
        chosen = pool
    else:
        shuffled = np.random.default_rng(seed).permutation(pool)
        chosen = np.concatenate([shuffled[labels[shuffled] == c][:labels_per_class]
                                 for c in range(10)])
    return images[chosen], labels[chosen], images[test], labels[test]


def body(net: st.models.LeNet5) -> st.nn.Sequential:
    """Everything but the softmax layer: the frozen part of the "head" regime."""
    return st.nn.Sequential(net.features, *net.classifier[:-1])


def _epochs(m: int) -> int:
    """About 400 updates of 32 examples (100 epochs of 100 digits, 10 of 1,297)."""
    return max(10, -(-400 // -(-m // 32)))


def train(regime: str, X: np.ndarray, y: np.ndarray, seed: int = 0,
          epochs: int | None = None) -> st.models.LeNet5:
    """A LeNet-5 for the digits, trained in one of the four regimes."""
    if regime not in REGIMES:
        raise ValueError(f"train: `regime` must be one of {REGIMES}; got {regime!r}")
    epochs = epochs if epochs is not None else _epochs(len(X))
    st.seed(seed)
    fit_args = {"epochs": epochs, "batch_size": 32, "rng": seed, "verbose": 0}
    if regime == "scratch":
        net = st.models.LeNet5(rng=seed)
        st.train.fit(net, X, y, optimizer=st.optim.Adam(net.parameters(), lr=1e-3), **fit_args)
        return net
    net = replace_head(pretrained_lenet5(), 10, rng=seed)
    head = net.classifier[-1]
    if regime == "head":
        freeze(net, until=-1)
        features = precompute_features(body(net), X)
        st.train.fit(head, features, y, task="classification",
                     optimizer=st.optim.Adam(head.parameters(), lr=1e-2), **fit_args)
    elif regime == "last layers":
        freeze(net, until="features")
        features = precompute_features(net.features, X)
        head_ids = {id(p) for p in head.parameters()}
        pretrained = [p for p in net.classifier.parameters() if id(p) not in head_ids]
        optimizer = st.optim.Adam([{"params": pretrained, "lr": 3e-4},
                                   {"params": list(head.parameters())}], lr=3e-3)
        st.train.fit(net.classifier, features, y, task="classification", optimizer=optimizer,
                     **fit_args)
    else:
        optimizer = st.optim.Adam(net.parameters(), lr=5e-4)
        st.train.fit(net, X, y, optimizer=optimizer, **fit_args)
    return net.eval()  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description="Transfer the MNIST LeNet-5 to 8x8 digits.")
    parser.add_argument("--seeds", type=int, default=3, help="training subsets per setting")
    args = parser.parse_args()
    rows = []
    for per_class in (10, 50, None):
        accuracies: dict[str, list[float]] = {r: [] for r in REGIMES}
        seconds: dict[str, float] = dict.fromkeys(REGIMES, 0.0)
        for seed in range(args.seeds):
            X, y, X_test, y_test = split(per_class, seed)
            for regime in REGIMES:
                start = time.perf_counter()
                net = train(regime, X, y, seed)
                seconds[regime] += time.perf_counter() - start
                accuracies[regime].append(float((net.predict(X_test) == y_test).mean()))
        label = "all (~130)" if per_class is None else str(per_class)
        cells = [f"{100 * np.mean(accuracies[r]):.1f} ± {100 * np.std(accuracies[r]):.1f}"
                 for r in REGIMES]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
        times = ", ".join(f"{r} {seconds[r] / args.seeds:.1f} s" for r in REGIMES)
        print(f"labels per class {label}: {times}", flush=True)
    print("\n| labels per class | " + " | ".join(REGIMES) + " |")
    print("|---|" + "---|" * len(REGIMES))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
