"""The CuPy backend on a GPU: LeNet-5 training and a ResNet-18 step, against PyTorch (CUDA).

Run on a machine with CuPy and a CUDA GPU: ``python benchmarks/bench_gpu.py``. Prints
the steepest / PyTorch ratio of each, both in float32 on the same GPU (PyTorch with
cuDNN; steepest with im2col and cuBLAS through CuPy).
"""

from __future__ import annotations

import time

import numpy as np
from _common import torch_models

import steepest as st
import steepest.functional as F
from steepest.backend import gpu_available


def _sync() -> None:
    import cupy

    cupy.cuda.Device().synchronize()


def timed(fn, repeat: int = 10, sync=_sync) -> float:
    fn()
    sync()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def lenet(torch) -> None:
    images, labels = st.data.datasets.load_mnist_sample()
    X = images[:, None].astype(np.float32) / 255
    order = np.random.default_rng(0).permutation(len(X))
    train, dev = order[:4000], order[4000:]
    st.seed(0)
    model = st.models.LeNet5(rng=0).to("gpu")
    # One short run first: CuPy compiles each elementwise kernel on first use.
    st.train.fit(model, X[:640], labels[:640], epochs=1, batch_size=64, verbose=0)
    model = st.models.LeNet5(rng=0).to("gpu")
    start = time.perf_counter()
    history = st.train.fit(model, X[train], labels[train], dev=(X[dev], labels[dev]), epochs=5,
                           batch_size=64, verbose=0, rng=0)
    seconds = (time.perf_counter() - start) / 5
    print(f"LeNet-5 on the GPU: {seconds:.2f} s/epoch (4,000 digits, batch 64, incl. dev "
          f"evaluation); dev accuracy {history.last('dev_accuracy'):.3f}")


def resnet(torch, batch: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    model = st.models.resnet18(num_classes=10, stem="cifar", rng=0).to("gpu")
    optimizer = st.optim.Adam(model.parameters())
    import cupy

    gX = cupy.asarray(X)

    def ours() -> None:
        loss = F.cross_entropy(model(gX), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    reference = torch_models.resnet18_cifar().cuda()
    t_optimizer = torch.optim.Adam(reference.parameters())
    tX, ty = torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda()

    def theirs() -> None:
        t_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(reference(tX), ty).backward()
        t_optimizer.step()

    ours_time = timed(ours)
    theirs_time = timed(theirs, sync=torch.cuda.synchronize)
    print(f"ResNet-18 (CIFAR stem) step, batch {batch}: steepest {ours_time * 1e3:.1f} ms, "
          f"PyTorch {theirs_time * 1e3:.1f} ms, ratio {ours_time / theirs_time:.2f}")


def main() -> None:
    if not gpu_available():
        print("no GPU: nothing to measure")
        return
    import cupy
    import torch

    print(f"GPU: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}, CuPy "
          f"{cupy.__version__}, PyTorch {torch.__version__}")
    lenet(torch)
    for batch in (32, 128):
        resnet(torch, batch)


if __name__ == "__main__":
    main()
