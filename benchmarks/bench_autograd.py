"""steepest vs PyTorch (CPU, same thread count): dispatch overhead and an MLP step.

Run: ``python benchmarks/bench_autograd.py``. Prints medians and ratios
(steepest / PyTorch; below 1 means steepest is faster).
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
from _common import THREADS, median_time, print_table, torch_threads

import steepest as st
import steepest.functional as F


def import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(5)]
    return sorted(runs)[2]


def tiny_ops(torch) -> list[tuple[str, float, float]]:
    a = st.tensor(np.ones(3, np.float32), requires_grad=True)
    b = st.tensor(np.ones(3, np.float32), requires_grad=True)
    ta = torch.ones(3, requires_grad=True)
    tb = torch.ones(3, requires_grad=True)
    n = 20000
    rows = []
    for name, ours, theirs in [
        ("a + b (recorded, 3 elements)", lambda: a + b, lambda: ta + tb),
        ("a * b (recorded, 3 elements)", lambda: a * b, lambda: ta * tb),
        ("relu(a) (recorded)", lambda: F.relu(a), lambda: torch.relu(ta)),
        ("a.sum() (recorded)", lambda: a.sum(), lambda: ta.sum()),
    ]:
        rows.append((name, median_time(ours, number=n), median_time(theirs, number=n)))
    return rows


def mlp_step(torch) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    sizes = [784, 256, 128, 10]
    lr = 0.1

    layers = [st.nn.Linear(i, o, rng=rng) for i, o in itertools.pairwise(sizes)]
    params = [p for layer in layers for p in layer.parameters()]

    def ours() -> None:
        h = X
        for layer in layers[:-1]:
            h = F.relu(layer(h))
        loss = F.cross_entropy(layers[-1](h), y)
        for p in params:
            p.grad = None
        loss.backward()
        with st.no_grad():
            for p in params:
                p.data -= lr * p.grad

    tlayers = [torch.nn.Linear(i, o) for i, o in itertools.pairwise(sizes)]
    for t, s in zip(tlayers, layers):
        t.weight.data = torch.from_numpy(s.weight.data.copy())
    tparams = [p for layer in tlayers for p in layer.parameters()]
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def theirs() -> None:
        h = tX
        for layer in tlayers[:-1]:
            h = torch.relu(layer(h))
        loss = torch.nn.functional.cross_entropy(tlayers[-1](h), ty)
        for p in tparams:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in tparams:
                p -= lr * p.grad

    return median_time(ours, repeat=21, number=10), median_time(theirs, repeat=21, number=10)


def main() -> None:
    torch = torch_threads()
    rows = tiny_ops(torch)
    print_table("Per-op dispatch on tiny arrays", rows, unit="us")
    print(f"  absolute: a + b recorded costs {rows[0][1] * 1e6:.2f} us (goal <= 1 us)")
    ours, theirs = mlp_step(torch)
    print_table("784-256-128-10 ReLU MLP, batch 128, float32: forward + backward + GD update",
                [("training step", ours, theirs)], goal={"training step": 0.9})
    st_import, torch_import = import_time("steepest"), import_time("torch")
    print_table("Import time (fresh interpreter, median of 5)",
                [("import", st_import, torch_import)])
    print(f"  absolute: import steepest {st_import * 1e3:.0f} ms (goal <= 300 ms)")
    print(f"threads: {THREADS}")


if __name__ == "__main__":
    main()
