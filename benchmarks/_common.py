"""Shared helpers for the benchmarks: thread pinning, timing, tables."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

THREADS = int(os.environ.get("STEEPEST_BENCH_THREADS", "2"))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))


# The PyTorch versions of steepest's models live with the tests, which use them as oracles.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import torch_models  # noqa: E402, F401  (re-exported for the benchmarks)


def torch_threads():
    import torch

    torch.set_num_threads(THREADS)
    return torch


def settle(seconds: float = 0.2) -> None:
    """Wait for the other framework's idle threads to stop spinning before a timing.

    After a threaded product OpenBLAS's workers spin for about a tenth of a second
    waiting for the next one (PyTorch's OpenMP threads briefly too), and a spinning
    worker takes half a core from whatever is timed next. Interleaved timings without
    this pause charged one framework for the other's spinning workers: PyTorch's
    ResNet-18 step measured 569-582 ms right after steepest's steps that left
    OpenBLAS spinning and 518-546 ms after steps that did not.
    """
    time.sleep(seconds)


def median_time(fn: Callable[[], object], repeat: int = 7, number: int = 1,
                warmup: int = 1) -> float:
    """Median wall-clock seconds of ``number`` calls, over ``repeat`` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def print_table(title: str, rows: list[tuple[str, float, float]], unit: str = "ms",
                goal: dict[str, float] | None = None) -> None:
    """Rows of (name, steepest seconds, reference seconds) with their ratio."""
    scale = {"ms": 1e3, "us": 1e6, "s": 1.0}[unit]
    print(f"\n{title}  (threads={THREADS}, medians)")
    print(f"{'case':44s} {'steepest':>10s} {'reference':>10s} {'ratio':>7s} {'goal':>6s}")
    for name, ours, theirs in rows:
        target = (goal or {}).get(name)
        print(f"{name:44s} {ours * scale:9.3f}{unit[0]:1s} {theirs * scale:9.3f}{unit[0]:1s} "
              f"{ours / theirs:7.2f} {'' if target is None else f'<={target:g}':>6s}")
