"""What the gallery scripts share: the command line, figure saving, a decision-region grid.

Each script in this folder defines ``run(quick=False, out=None) -> dict``: it runs the
experiment, prints the numbers the course notes talk about, writes its figure to
``out`` when one is given, and returns the numbers (``tests/test_gallery.py`` checks
the finding each script states from them). This module is not part of the library.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

DPI = 80  # small PNGs for docs/gallery/


def pyplot() -> Any:
    """matplotlib.pyplot with a file backend (steepest's optional import)."""
    from steepest.plotting import pyplot as _pyplot

    return _pyplot()


def save(figure: Any, out: Path) -> None:
    """Lay out, write as PNG and close the figure."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if figure.get_layout_engine() is None:  # figures made with layout="constrained" keep it
        figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=DPI)
    pyplot().close(figure)
    # a 256-colour palette keeps the figures small (pillow comes with matplotlib)
    from PIL import Image

    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(colors=256).save(out, format="PNG", optimize=True)
    print(f"wrote {out}")


def grid(X: np.ndarray, steps: int = 200, margin: float = 0.5) -> tuple[np.ndarray, ...]:
    """A (steps x steps) grid covering X (m, 2): xx, yy and their points (steps**2, 2)."""
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run with one BLAS thread when threadpoolctl is installed (it comes with scikit-learn).

    The experiments multiply small matrices. On a busy machine, waking a second BLAS
    thread for each product can cost more than the product itself (a 2-second run
    was seen taking 100 seconds), and one thread changes none of the numbers.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def main(run: Callable[..., dict[str, Any]], doc: str | None, default_out: str) -> None:
    """The scripts' command line: ``[--quick] [--out FILE]``."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--out", default=default_out, help="where to write the figure (PNG)")
    args = parser.parse_args()
    with Timer() as timer, one_blas_thread():
        run(quick=args.quick, out=Path(args.out))
    print(f"done in {timer.seconds:.1f} s")


def mnist(n_train: int, n_dev: int, flat: bool = True,
          rng: int = 0) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A stratified (train, dev) draw from the 5,000 MNIST digits that ship with steepest.

    The digits are stored sorted by label, so never take a plain slice of them.
    Images are scaled to [0, 1]; ``flat`` unrolls them to (m, 784), otherwise (m, 1, 28, 28).
    """
    import steepest as st

    images, labels = st.data.datasets.load_mnist_sample()
    X = st.data.scale_images(images)
    X = st.data.unroll(X) if flat else X.reshape(len(X), 1, 28, 28)
    rest = len(X) - n_train - n_dev
    sizes = (n_train, n_dev, rest) if rest else (n_train, n_dev)
    splits = st.data.train_dev_test_split(X, labels, sizes=sizes, stratify=labels, rng=rng)
    return splits.train, splits.dev
