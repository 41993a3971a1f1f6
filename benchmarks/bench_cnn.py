"""steepest vs PyTorch (CPU, same thread count) on convolutional work, float32.

(a) forward + backward of each conv layer of LeNet-5 (batch 64, MNIST sizes) and of a
    3x3, 64-channel convolution on 32x32 images at batch 32;
(b) one LeNet-5 training epoch over the 5,000 digits, batch 64, Adam;
(c) one training step (forward, backward, Adam) of a ResNet-18 (CIFAR stem, 3x32x32,
    batch 32, 10 classes);
(d) im2col, Winograd F(2x2, 3x3) and F(4x4, 3x3) and the implicit GEMM (with PyTorch)
    for the 3x3 convolutions of each ResNet stage;
(e) im2col, the implicit GEMM and pointwise (with PyTorch) for 1x1 convolutions.

Run: ``python benchmarks/bench_cnn.py [--profile]``. Prints medians and ratios
(steepest / PyTorch); with ``--profile`` also where steepest's ResNet step spends time.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

import numpy as np
from _common import THREADS, median_time, print_table, settle, torch_models, torch_threads

import steepest as st
import steepest.functional as F


def conv_layers(torch) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(0)
    rows = []
    for name, (n, c, h, f, k, p) in {
        "LeNet-5 conv1 (64x1x28x28, 6@5x5, pad 2)": (64, 1, 28, 6, 5, 2),
        "LeNet-5 conv2 (64x6x14x14, 16@5x5)": (64, 6, 14, 16, 5, 0),
        "3x3 conv, 64->64, 32x32, batch 32": (32, 64, 32, 64, 3, 1),
    }.items():
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = rng.standard_normal((f, c, k, k)).astype(np.float32) * 0.1
        b = np.zeros(f, dtype=np.float32)
        xs, ws, bs = (st.tensor(a, requires_grad=True) for a in (x, w, b))
        out_shape = F.conv2d(xs, ws, bs, padding=p).shape
        g = rng.standard_normal(out_shape).astype(np.float32)

        def ours(xs=xs, ws=ws, bs=bs, p=p, g=g):
            xs.grad = ws.grad = bs.grad = None
            F.conv2d(xs, ws, bs, padding=p).backward(g)

        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        gt = torch.from_numpy(g)

        def theirs(xt=xt, wt=wt, bt=bt, p=p, gt=gt):
            xt.grad = wt.grad = bt.grad = None
            torch.nn.functional.conv2d(xt, wt, bt, padding=p).backward(gt)

        rows.append((name, median_time(ours, repeat=9), median_time(theirs, repeat=9)))
    return rows


def _algorithm_table(torch, title: str, algorithms: tuple[str, ...],
                     cases: list[tuple[int, int, int, int, int, int, int]]) -> None:
    """Forward + backward of each (batch, channels in, out, size, kernel, stride,
    padding) case by each algorithm (ms), with PyTorch for scale; * marks the cost
    model's pick."""
    from steepest.ops.conv import Conv2dFunction, conv2d_algorithm

    rng = np.random.default_rng(0)
    print(f"\n{title} (ms; * = the cost model's pick)")
    print("  " + " " * 30 + "".join(f"{name:>15s}" for name in (*algorithms, "pytorch")))
    for n, c, f, size, k, stride, padding in cases:
        data = rng.standard_normal((n, c, size, size)).astype(np.float32)
        weights = rng.standard_normal((f, c, k, k)).astype(np.float32) * 0.05
        x, w = st.tensor(data, requires_grad=True), st.tensor(weights, requires_grad=True)
        out_size = st.functional.conv_output_size(size, k, padding, stride)
        g = np.ones((n, f, out_size, out_size), np.float32)
        times = {}
        for algorithm in algorithms:
            def step(algorithm=algorithm, x=x, w=w, g=g, stride=stride, padding=padding):
                x.grad = w.grad = None
                with conv2d_algorithm(algorithm):
                    F.conv2d(x, w, stride=stride, padding=padding).backward(g)
            times[algorithm] = median_time(step, repeat=7)
        xt, wt = torch.tensor(data, requires_grad=True), torch.tensor(weights, requires_grad=True)
        gt = torch.from_numpy(g)

        def theirs(xt=xt, wt=wt, gt=gt, stride=stride, padding=padding):
            xt.grad = wt.grad = None
            torch.nn.functional.conv2d(xt, wt, stride=stride, padding=padding).backward(gt)
        times["pytorch"] = median_time(theirs, repeat=7)
        picked = Conv2dFunction((stride, stride), padding)
        picked.forward(data, weights)
        cells = "".join(f"{times[name] * 1e3:14.1f}{'*' if name == picked.method else ' '}"
                        for name in (*algorithms, "pytorch"))
        label = f"{n}x{c}x{size}x{size} -> {f}, stride {stride}:"
        print(f"  {label:<30s}{cells}")


def conv_algorithms(torch) -> None:
    """(d) im2col, Winograd F(2x2, 3x3) and F(4x4, 3x3) and the implicit GEMM for the 3x3
    convolutions of each ResNet stage; (e) im2col, the implicit GEMM and pointwise for
    1x1 convolutions (ResNet-18's shortcuts, ResNet-50's bottleneck layers)."""
    _algorithm_table(torch, "(d) 3x3 stride-1 convolution, padding 1, forward + backward",
                     ("im2col", "winograd", "winograd_4x4", "implicit_gemm"),
                     [(32, c, c, size, 3, 1, 1)
                      for c, size in ((16, 32), (64, 32), (128, 16), (256, 8), (512, 4))])
    _algorithm_table(torch, "(e) 1x1 convolution, forward + backward",
                     ("im2col", "implicit_gemm", "pointwise"),
                     [(32, 64, 128, 32, 1, 2, 0), (32, 128, 256, 16, 1, 2, 0),
                      (32, 256, 512, 8, 1, 2, 0), (8, 64, 256, 16, 1, 1, 0),
                      (8, 256, 64, 16, 1, 1, 0), (8, 1024, 256, 4, 1, 1, 0),
                      (8, 2048, 512, 2, 1, 1, 0)])


def lenet_epoch(torch) -> tuple[float, float]:
    images, labels = st.data.datasets.load_mnist_sample()
    X = images[:, None].astype(np.float32) / 255

    def ours():
        model = st.models.LeNet5(rng=0)
        start = time.perf_counter()
        st.train.fit(model, X, labels, epochs=1, batch_size=64, verbose=0, rng=0)
        return time.perf_counter() - start

    tX, ty = torch.from_numpy(X), torch.from_numpy(labels)

    def theirs():
        torch.manual_seed(0)
        model = torch_models.lenet5()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        start = time.perf_counter()
        order = torch.randperm(len(X))
        for i in range(0, len(X), 64):
            index = order[i:i + 64]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(tX[index]), ty[index]).backward()
            optimizer.step()
        return time.perf_counter() - start

    ours_times, theirs_times = [], []
    for _ in range(5):  # interleaved, each after the other's threads went idle
        settle()
        ours_times.append(ours())
        settle()
        theirs_times.append(theirs())
    return float(np.median(ours_times)), float(np.median(theirs_times))


def resnet_step(torch, profile: bool) -> tuple[float, float, int, int]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    model = st.models.resnet18(num_classes=10, stem="cifar", rng=0)
    optimizer = st.optim.Adam(model.parameters())

    def ours():
        out = model(X)
        loss = F.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    reference = torch_models.resnet18_cifar()
    t_optimizer = torch.optim.Adam(reference.parameters())
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def theirs():
        t_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(reference(tX), ty).backward()
        t_optimizer.step()

    ours_times, theirs_times = [], []
    ours()
    theirs()
    for _ in range(7):  # interleaved, each after the other's threads went idle
        settle()
        ours_times.append(median_time(ours, repeat=1, warmup=0))
        settle()
        theirs_times.append(median_time(theirs, repeat=1, warmup=0))
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            ours()
        profiler.disable()
        print("\nWhere steepest's ResNet-18 step spends its time (3 steps, by own time):")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    return (float(np.median(ours_times)), float(np.median(theirs_times)),
            model.num_parameters(), sum(p.numel() for p in reference.parameters()))


def main() -> None:
    torch = torch_threads()
    print_table("(a) conv2d forward + backward", conv_layers(torch))
    ours, theirs = lenet_epoch(torch)
    print_table("(b) LeNet-5 epoch, 5,000 digits, batch 64, Adam (median of 5 interleaved)",
                [("epoch", ours, theirs)], unit="s", goal={"epoch": 1.0})
    ours, theirs, n_ours, n_theirs = resnet_step(torch, "--profile" in sys.argv)
    print_table("(c) ResNet-18 (CIFAR stem) training step, batch 32, Adam (median of 7)",
                [("step", ours, theirs)], goal={"step": 1.5})
    print(f"  parameters: steepest {n_ours:,}, PyTorch {n_theirs:,}; threads {THREADS}")
    conv_algorithms(torch)


if __name__ == "__main__":
    main()
