"""steepest against itself: one workload timed in this process, for A/B runs of two versions.

PyTorch's own times move from run to run on a shared machine, so a before/after
comparison of a change is steadier without it: run this script alternately on two
checkouts and compare the printed seconds (the best of three repetitions), e.g.

    for i in 1 2 3 4 5; do
        python benchmarks/bench_versions.py lenet
        PYTHONPATH=/path/to/other/checkout/src python benchmarks/bench_versions.py lenet
    done

Workloads: ``lenet`` (one LeNet-5 epoch over the 5,000 digits, batch 64, Adam),
``mlp`` (one 784-256-128-10 MLP epoch, batch 128, Adam), ``resnet`` (one ResNet-18
CIFAR step at batch 32, Adam), ``adam`` (one Adam step over ResNet-18's 11.2 M
parameters, with the flat store and parameter by parameter, both printed).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _common import THREADS  # noqa: F401  (pins the BLAS threads like the other scripts)

import steepest as st
import steepest.functional as F


def _best(run, repeat: int = 3) -> float:
    run()  # warm-up
    return min(run() for _ in range(repeat))


def lenet() -> float:
    images, labels = st.data.datasets.load_mnist_sample()
    X = images[:, None].astype(np.float32) / 255

    def run() -> float:
        model = st.models.LeNet5(rng=0)
        start = time.perf_counter()
        st.train.fit(model, X, labels, epochs=1, batch_size=64, verbose=0, rng=0)
        return time.perf_counter() - start
    return _best(run)


def mlp() -> float:
    images, labels = st.data.datasets.load_mnist_sample()
    X = images.reshape(len(images), -1).astype(np.float32) / 255

    def run() -> float:
        model = st.models.MLP([784, 256, 128, 10], rng=0)
        start = time.perf_counter()
        st.train.fit(model, X, labels, optimizer=st.optim.Adam(model.parameters(), lr=1e-3),
                     epochs=2, batch_size=128, verbose=0, rng=0)
        return (time.perf_counter() - start) / 2
    return _best(run)


def resnet() -> float:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    model = st.models.resnet18(num_classes=10, stem="cifar", rng=0)
    optimizer = st.optim.Adam(model.parameters())

    def run() -> float:
        start = time.perf_counter()
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start
    return _best(run)


def adam() -> float:
    model = st.models.resnet18(num_classes=10, stem="cifar", rng=0)
    params = list(model.parameters())
    for p in params:
        p.grad = np.full(p.shape, 1e-3, np.float32)
    times = {}
    for flat in (True, False):
        optimizer = st.optim.Adam(params)
        optimizer.elementwise = flat  # False: the parameter-by-parameter path

        def run(optimizer=optimizer) -> float:
            start = time.perf_counter()
            optimizer.step()
            return time.perf_counter() - start
        times[flat] = _best(run, repeat=5)
    print(f"adam step, ResNet-18's parameters: flat {times[True] * 1e3:.1f} ms, "
          f"per parameter {times[False] * 1e3:.1f} ms")
    return times[True]


def main() -> None:
    workloads = {"lenet": lenet, "mlp": mlp, "resnet": resnet, "adam": adam}
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in workloads:
        raise SystemExit(f"usage: python bench_versions.py {{{','.join(workloads)}}}")
    print(f"{name} {workloads[name]():.4f} s  (steepest from {st.__file__})")


if __name__ == "__main__":
    main()
