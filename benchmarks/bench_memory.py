"""Peak memory (resident set size) of training runs: steepest vs PyTorch (CPU, float32).

Each run is a fresh child process, so its peak RSS (``ru_maxrss``) is its own:
(a) one LeNet-5 epoch over the 5,000 embedded digits, batch 64, Adam;
(b) three ResNet-18 (CIFAR stem) training steps at batch 32, Adam.
The import of each library is part of its footprint (NumPy alone vs PyTorch), so a
baseline child that only imports is reported too.

Run: ``python benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import os, resource, sys
THREADS = os.environ.get("STEEPEST_BENCH_THREADS", "2")
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, THREADS)
import numpy as np
framework, work = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
if framework == "steepest":
    import steepest as st
    if work == "lenet":
        images, labels = st.data.datasets.load_mnist_sample()
        X = images[:, None].astype(np.float32) / 255
        model = st.models.LeNet5(rng=0)
        st.train.fit(model, X, labels, epochs=1, batch_size=64, verbose=0, rng=0,
                     optimizer=st.optim.Adam(model.parameters(), lr=1e-3))
    elif work == "resnet":
        model = st.models.resnet18(num_classes=10, stem="cifar", rng=0)
        opt = st.optim.Adam(model.parameters())
        X = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
        y = rng.integers(0, 10, 32)
        model.train()
        for _ in range(3):
            opt.zero_grad()
            st.functional.cross_entropy(model(X), y).backward()
            opt.step()
else:
    import torch
    torch.set_num_threads(int(THREADS))
    sys.path.insert(0, {tests!r})
    from helpers import torch_models
    if work == "lenet":
        import steepest as st  # only to read the same digits
        images, labels = st.data.datasets.load_mnist_sample()
        X = torch.from_numpy(images[:, None].astype(np.float32) / 255)
        Y = torch.from_numpy(labels.astype(np.int64))
        model = torch_models.lenet5()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        order = torch.randperm(len(X))
        for start in range(0, len(X), 64):
            index = order[start:start + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X[index]), Y[index]).backward()
            opt.step()
    elif work == "resnet":
        model = torch_models.resnet18_cifar(num_classes=10)
        opt = torch.optim.Adam(model.parameters())
        X = torch.from_numpy(rng.standard_normal((32, 3, 32, 32)).astype(np.float32))
        y = torch.from_numpy(rng.integers(0, 10, 32))
        model.train()
        for _ in range(3):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def peak_rss_mib(framework: str, work: str) -> float:
    code = CHILD.format(tests=str(HERE.parent / "tests"))
    result = subprocess.run([sys.executable, "-c", code, framework, work],
                            capture_output=True, text=True, check=True, cwd=HERE)
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    print(f"{'work':38s} {'steepest':>10s} {'PyTorch':>10s} {'ratio':>7s}")
    for work, title in (("import", "import only"),
                        ("lenet", "LeNet-5 epoch, 5,000 digits, batch 64"),
                        ("resnet", "ResNet-18 (CIFAR), 3 steps, batch 32")):
        ours, theirs = peak_rss_mib("steepest", work), peak_rss_mib("torch", work)
        print(f"{title:38s} {ours:8.0f}MiB {theirs:8.0f}MiB {ours / theirs:7.2f}")


if __name__ == "__main__":
    main()
