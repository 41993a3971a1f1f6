"""Train the LeNet-5 shipped as ``steepest.models.LeNet5.pretrained()``, reproducibly.

Usage:
    python scripts/train_pretrained_lenet.py [--out src/steepest/models/weights]

Seed 0; the 5,000 embedded MNIST digits shuffled with seed 0, the first 4,500 for
training and the last 500 as the dev set; inputs scaled to [0, 1]; Adam with an
exponentially decaying learning rate (3e-3 * 0.8^epoch), mini-batches of 64, random
shifts of up to 2 pixels; 15 epochs, keeping the epoch with the best dev accuracy.
BLAS runs on one thread (the order of a multi-threaded sum depends on the thread
count), so the result is the same bit for bit on every run with the same NumPy and
BLAS. It writes ``lenet5_mnist.safetensors`` (float32, 242 KB) and prints the dev
accuracy and the file's SHA-256 (shipped: 97.8% dev accuracy, sha256
39c28e57bc1a9863f7472017c5f324259e132184fe3647f128c0374a009e1857 with NumPy 2 and
OpenBLAS on x86-64).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before NumPy loads its BLAS

import argparse  # noqa: E402
import hashlib  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

import steepest as st  # noqa: E402


def train(epochs: int = 15) -> tuple[st.models.LeNet5, float]:
    """The shipped model and its dev accuracy."""
    images, labels = st.data.datasets.load_mnist_sample()
    X = images[:, None].astype(np.float32) / 255
    order = np.random.default_rng(0).permutation(len(X))
    train_rows, dev_rows = order[:4500], order[4500:]
    st.seed(0)
    model = st.models.LeNet5(rng=0)
    optimizer = st.optim.Adam(model.parameters(), lr=st.optim.ExponentialDecay(3e-3, 0.8))
    st.train.fit(model, X[train_rows], labels[train_rows], dev=(X[dev_rows], labels[dev_rows]),
                 optimizer=optimizer, epochs=epochs, batch_size=64, rng=0, verbose=0,
                 augment=st.data.augment.RandomCrop(28, padding=2),
                 callbacks=[st.train.EarlyStopping("dev_accuracy", patience=epochs,
                                                   restore_best=True)])
    accuracy = st.train.evaluate(model, X[dev_rows], labels[dev_rows])["accuracy"]
    return model, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "src" /
                                             "steepest" / "models" / "weights"))
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    start = time.perf_counter()
    model, accuracy = train(args.epochs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    file = out / "lenet5_mnist.safetensors"
    save_file({k: np.ascontiguousarray(v, dtype=np.float32)
               for k, v in model.state_dict().items()}, str(file))
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    print(f"dev accuracy {accuracy:.4f}; {time.perf_counter() - start:.0f} s; wrote {file} "
          f"({file.stat().st_size:,} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
