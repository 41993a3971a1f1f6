"""The model zoo in numbers: sizes and costs, cached features, ensembles and multi-crop.

(a) ``--table``: each classic network at its paper's input size: parameters (checked
    against the same network built in PyTorch) and multiplications per image from
    ``st.summary`` (one forward pass each, about a minute in all);
(b) ``--features``: transfer learning's small-data regime on the shipped LeNet-5:
    training the new softmax layer on pre-computed features vs behind the frozen
    network, same seed, same result (checked), and the time of each;
(c) ``--train``: a small version of each network (the same layout, fewer channels)
    trained for 3 epochs on 4,500 of the embedded MNIST digits, dev accuracy on the
    other 500 and CPU seconds per epoch: each architecture learns real data here;
(d) ``--ensemble``: on the embedded MNIST digits (4,500 train / 500 dev, the split
    of ``scripts/train_pretrained_lenet.py``), dev accuracy of one LeNet-5 vs an
    ensemble of 3 (seeds 0, 1, 2), each with and without multi-crop.

(e) ``--speed``: one training step of AlexNet, VGG-16 and ResNet-50 (batch 8, small
    inputs) against the same networks in torch.nn, wall-clock medians and ratios.

Run: ``python benchmarks/bench_zoo.py [--table] [--features] [--train] [--ensemble] [--speed]`` (all
when none is given). Threads: ``STEEPEST_BENCH_THREADS`` (default 2). Times are CPU
seconds of the process (``time.process_time``), which a machine shared with other
jobs does not inflate as it does wall-clock time.
"""

from __future__ import annotations

import os

# BLAS reads its thread count when NumPy loads it, so set it before NumPy is imported
# (on a busy machine, idle BLAS threads spinning cost 10x more CPU than the work).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, os.environ.get("STEEPEST_BENCH_THREADS", "2"))

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _common import THREADS, settle, torch_models, torch_threads  # noqa: E402

import steepest as st  # noqa: E402
from steepest.transfer import (  # noqa: E402
    freeze,
    precompute_features,
    pretrained_lenet5,
    replace_head,
)


def table() -> None:
    torch = torch_threads()
    cases = [
        ("LeNet-5", lambda: st.models.LeNet5(), (1, 28, 28), "K1", None),
        ("AlexNet", lambda: st.models.AlexNet(init="zeros"), (3, 227, 227), "K2",
         lambda: torch_models.alexnet()),
        ("VGG-16", lambda: st.models.VGG16(init="zeros"), (3, 224, 224), "K3",
         lambda: torch_models.vgg16()),
        ("ResNet-18", lambda: st.models.resnet18(init="zeros"), (3, 224, 224), "K4",
         lambda: torch_models.ResNet((2, 2, 2, 2))),
        ("ResNet-50", lambda: st.models.resnet50(init="zeros"), (3, 224, 224), "K4",
         lambda: torch_models.ResNet((3, 4, 6, 3), "bottleneck")),
        ("ResNet-101", lambda: st.models.resnet101(init="zeros"), (3, 224, 224), "K4",
         lambda: torch_models.ResNet((3, 4, 23, 3), "bottleneck")),
        ("ResNet-152", lambda: st.models.resnet152(init="zeros"), (3, 224, 224), "K4",
         lambda: torch_models.ResNet((3, 8, 36, 3), "bottleneck")),
        ("GoogLeNet (with side heads)", lambda: st.models.GoogLeNet(init="zeros"),
         (3, 224, 224), "K6, K7", lambda: torch_models.GoogLeNet()),
        ("GoogLeNet (inference)", lambda: st.models.GoogLeNet(aux_logits=False, init="zeros"),
         (3, 224, 224), "K6, K7", lambda: torch_models.GoogLeNet(aux_logits=False)),
    ]
    print("| network | parameters | multiplications per image | seed concept | input |")
    print("|---|---:|---:|---|---|")
    for name, build, shape, concept, reference in cases:
        net = build()
        start = time.process_time()
        report = st.summary(net, shape)
        seconds = time.process_time() - start
        if reference is not None:
            with torch.no_grad():
                count = sum(p.numel() for p in reference().parameters())
            assert count == net.num_parameters(), (name, count, net.num_parameters())
        size = "x".join(str(d) for d in (shape[1], shape[2], shape[0]))
        print(f"| {name} | {net.num_parameters():,} | {report.total_multiplies:,} | "
              f"{concept} | {size} |  <!-- forward {seconds:.1f} s -->", flush=True)


def features() -> None:
    images, labels = st.transfer.load_digits_28()
    X, y = images[:1000], labels[:1000]

    def build():
        return freeze(replace_head(pretrained_lenet5(), 10, rng=1), until=-1)

    epochs = 20
    behind, cached = build(), build()
    start = time.process_time()
    st.train.fit(behind, X, y, optimizer=st.optim.Adam(behind.parameters(), lr=1e-2),
                 epochs=epochs, batch_size=32, rng=0, verbose=0)
    t_behind = time.process_time() - start
    start = time.process_time()
    cache = precompute_features(st.nn.Sequential(cached.features, *cached.classifier[:-1]), X)
    t_cache = time.process_time() - start
    start = time.process_time()
    head = cached.classifier[-1]
    st.train.fit(head, cache, y, task="classification", epochs=epochs, batch_size=32, rng=0,
                 optimizer=st.optim.Adam(head.parameters(), lr=1e-2), verbose=0)
    t_head = time.process_time() - start
    difference = max(float(np.abs(a - b).max()) for a, b in
                     zip(behind.state_dict().values(), cached.state_dict().values()))
    print(f"\nhead only, 1,000 digits, {epochs} epochs, batch 32, threads={THREADS}, "
          "CPU seconds of this process")
    print(f"  behind the frozen network: {t_behind:.2f} s")
    print(f"  pre-compute features once: {t_cache:.2f} s, then train the head: {t_head:.2f} s "
          f"({t_behind / (t_cache + t_head):.0f}x faster in all)")
    print(f"  largest weight difference between the two: {difference:.2e}")


def train_small() -> None:
    from steepest.transfer.pretrained import _interpolation_matrix

    images, labels = st.data.datasets.load_mnist_sample()
    X = images[:, None].astype(np.float32) / 255
    order = np.random.default_rng(0).permutation(len(X))
    train, dev = order[:4500], order[4500:]
    padded = np.pad(X, ((0, 0), (0, 0), (2, 2), (2, 2)))  # 32x32 for VGG-16
    grow = _interpolation_matrix(28, 67)
    large = np.einsum("ij,ncjk,lk->ncil", grow, X, grow).astype(np.float32)  # 67x67
    cases = [
        ("LeNet-5", lambda: st.models.LeNet5(rng=0), X),
        ("AlexNet, channels (24, 64, 96, 96, 64), FC 256, 67x67",
         lambda: st.models.AlexNet(10, 1, 67, (24, 64, 96, 96, 64), 256, rng=0), large),
        ("VGG-16, channels (8, 16, 32, 64, 64), FC 128, 32x32",
         lambda: st.models.VGG16(10, 1, 32, (8, 16, 32, 64, 64), 128, rng=0), padded),
        ("ResNet-18, width 8, CIFAR stem",
         lambda: st.models.ResNet((2, 2, 2, 2), 10, 1, "cifar", 8, rng=0), X),
        ("ResNet-50, width 4, CIFAR stem",
         lambda: st.models.ResNet((3, 4, 6, 3), 10, 1, "cifar", 4, block="bottleneck",
                                  rng=0), X),
        ("GoogLeNet, width 1/8, side heads on",
         lambda: st.models.GoogLeNet(10, in_channels=1, input_size=28, width=1 / 8, rng=0), X),
    ]
    epochs = 3
    print(f"\n| network (small) | parameters | dev accuracy after {epochs} epochs | "
          "CPU s per epoch |")
    print("|---|---:|---:|---:|")
    for name, build, data in cases:
        st.seed(0)
        net = build()
        start = time.process_time()
        st.train.fit(net, data[train], labels[train], epochs=epochs, batch_size=64, rng=0,
                     optimizer=st.optim.Adam(net.parameters(), lr=2e-3), verbose=0)
        seconds = (time.process_time() - start) / epochs
        accuracy = float((net.predict(data[dev]) == labels[dev]).mean())
        print(f"| {name} | {net.num_parameters():,} | {100 * accuracy:.1f}% | {seconds:.1f} |",
              flush=True)


def ensemble() -> None:
    images, labels = st.data.datasets.load_mnist_sample()
    X = images[:, None].astype(np.float32) / 255
    order = np.random.default_rng(0).permutation(len(X))
    train, dev = order[:4500], order[4500:]
    members = []
    for seed in range(3):
        st.seed(seed)
        model = st.models.LeNet5(rng=seed)
        optimizer = st.optim.Adam(model.parameters(), lr=st.optim.ExponentialDecay(3e-3, 0.8))
        st.train.fit(model, X[train], labels[train], optimizer=optimizer, epochs=10,
                     batch_size=64, rng=seed, verbose=0,
                     augment=st.data.augment.RandomCrop(28, padding=2))
        members.append(model)
    crops = {"none": None,
             "5 crops (shifts by 2 px)": st.data.augment.MultiCrop(28, crops=5, padding=2),
             "10 crops (+ mirrors)": st.data.augment.MultiCrop(28, crops=10, padding=2)}
    print("\n| model | multi-crop | dev accuracy (500 digits) | dev errors |")
    print("|---|---|---:|---:|")
    for name, model in (("LeNet-5 (seed 0)", members[0]),
                        ("LeNet-5 (mean of seeds 0-2)", None),
                        ("ensemble of 3", st.models.Ensemble(members))):
        for label, tta in crops.items():
            if model is None:
                accuracy = float(np.mean([(m.predict(X[dev], tta=tta) == labels[dev]).mean()
                                          for m in members]))
            else:
                accuracy = float((model.predict(X[dev], tta=tta) == labels[dev]).mean())
            print(f"| {name} | {label} | {100 * accuracy:.1f}% | "
                  f"{round((1 - accuracy) * 500)} |", flush=True)


def speed() -> None:
    """(e) One training step (forward, backward, Adam) of each network against the same
    network in torch.nn, at small batches and inputs; ResNet-50 at batch 8, 64x64."""
    torch = torch_threads()
    rng = np.random.default_rng(0)
    cases = {
        "AlexNet, 3x67x67, batch 8 (channels / 4, hidden 512)": (
            8, 67, lambda: st.models.AlexNet(10, input_size=67, channels=(24, 64, 96, 96, 64),
                                             hidden=512, rng=0),
            lambda: torch_models.alexnet(10, input_size=67, channels=(24, 64, 96, 96, 64),
                                         hidden=512)),
        "VGG-16, 3x32x32, batch 8 (channels / 4, hidden 512)": (
            8, 32, lambda: st.models.VGG16(10, input_size=32, channels=(16, 32, 64, 128, 128),
                                           hidden=512, rng=0),
            lambda: torch_models.vgg16(10, input_size=32, channels=(16, 32, 64, 128, 128),
                                       hidden=512)),
        "ResNet-50, 3x64x64, batch 8": (
            8, 64, lambda: st.models.resnet50(10, rng=0),
            lambda: torch_models.ResNet((3, 4, 6, 3), block="bottleneck", num_classes=10)),
    }
    print("\n(e) one training step (forward, backward, Adam), median of 5, interleaved "
          f"(threads={THREADS})")
    for name, (batch, size, ours_factory, theirs_factory) in cases.items():
        X = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
        y = rng.integers(0, 10, batch)
        ours, theirs = ours_factory(), theirs_factory()
        ours.train()
        theirs.train()
        opt_ours = st.optim.Adam(ours.parameters())
        opt_theirs = torch.optim.Adam(theirs.parameters())
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

        def step_ours(ours=ours, opt_ours=opt_ours, X=X, y=y) -> None:
            opt_ours.zero_grad()
            st.functional.cross_entropy(ours(X), y).backward()
            opt_ours.step()

        def step_theirs(theirs=theirs, opt_theirs=opt_theirs, Xt=Xt, yt=yt) -> None:
            opt_theirs.zero_grad()
            torch.nn.functional.cross_entropy(theirs(Xt), yt).backward()
            opt_theirs.step()

        times: dict[str, list[float]] = {"ours": [], "theirs": []}
        step_ours(), step_theirs()  # warm-up
        for _ in range(5):
            for key, step in (("ours", step_ours), ("theirs", step_theirs)):
                settle()  # the other's threads idle first
                start = time.perf_counter()
                step()
                times[key].append(time.perf_counter() - start)
        a, b = float(np.median(times["ours"])), float(np.median(times["theirs"]))
        print(f"  {name:55s} steepest {a * 1e3:8.1f} ms  PyTorch {b * 1e3:8.1f} ms  "
              f"ratio {a / b:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    jobs = {"table": table, "features": features, "train": train_small, "ensemble": ensemble,
            "speed": speed}
    for flag in jobs:
        parser.add_argument(f"--{flag}", action="store_true")
    args = parser.parse_args()
    for name in [f for f in jobs if getattr(args, f)] or list(jobs):
        jobs[name]()


if __name__ == "__main__":
    main()
