"""The CuPy backend: the same results on a GPU as on the CPU (skipped without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
import steepest.functional as F
from steepest.backend import gpu_available, to_device, to_numpy

pytestmark = pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA GPU")

CASES = {
    "add broadcast": (lambda a, b: a + b, [(3, 4), (4,)]),
    "matmul": (lambda a, b: a @ b, [(3, 5), (5, 2)]),
    "linear": (F.linear, [(6, 4), (3, 4), (3,)]),
    "relu sum": (lambda a: F.relu(a).sum(axis=1), [(4, 5)]),
    "softmax": (F.softmax, [(3, 6)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1), [(2, 3, 6, 6), (4, 3, 3, 3), (4,)]),
    "conv2d stride": (lambda x, w: F.conv2d(x, w, stride=2), [(2, 3, 7, 7), (4, 3, 3, 3)]),
    "max pool": (lambda x: F.max_pool2d(x, 2), [(2, 3, 6, 6)]),
    "avg pool": (lambda x: F.avg_pool2d(x, 3, 2, 1), [(2, 3, 6, 6)]),
    "batch norm": (F.batch_norm, [(4, 3, 5, 5), (3,), (3,)]),
    "indexing": (lambda a: a[np.array([0, 2, 0])].sum(), [(4, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gpu_matches_cpu(name: str) -> None:
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    results = []
    for device in ("cpu", "gpu"):
        inputs = [st.tensor(to_device(a, device), requires_grad=True) for a in arrays]
        out = fn(*inputs)
        assert out.device == device
        out.backward(to_device(np.ones(out.shape), device))
        results.append((to_numpy(out.data), [to_numpy(t.grad) for t in inputs]))
    (cpu_out, cpu_grads), (gpu_out, gpu_grads) = results
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-10, atol=1e-10)
    for a, b in zip(gpu_grads, cpu_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_cross_entropy_on_gpu() -> None:
    z = np.random.default_rng(0).standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    cpu = st.tensor(z, requires_grad=True)
    gpu = st.tensor(to_device(z, "gpu"), requires_grad=True)
    cpu_loss, gpu_loss = F.cross_entropy(cpu, labels), F.cross_entropy(gpu, labels)
    cpu_loss.backward()
    gpu_loss.backward()
    assert gpu_loss.item() == pytest.approx(cpu_loss.item(), rel=1e-12)
    np.testing.assert_allclose(to_numpy(gpu.grad), cpu.grad, rtol=1e-10)


def test_fit_on_gpu_learns_and_saves(tmp_path) -> None:
    X, y = st.data.datasets.make_planar(200, rng=0)
    model = st.models.MLP([2, 8, 2], activation="tanh", rng=0).to("gpu")
    history = st.train.fit(model, X, y, optimizer=st.optim.Adam(model.parameters(), lr=0.05),
                           epochs=60, batch_size=None, verbose=0, dev=(X, y),
                           callbacks=[st.train.EarlyStopping("dev_loss", patience=100)])
    assert model.device == "gpu" and history.last("accuracy") > 0.8
    st.save(model, tmp_path / "m")
    clone = st.load(tmp_path / "m")
    np.testing.assert_allclose(clone.predict_proba(X), model.predict_proba(X), rtol=1e-5)


def test_gradcheck_on_gpu() -> None:
    net = st.nn.Sequential(st.nn.Conv2d(1, 2, 3, padding=1, rng=0), st.nn.BatchNorm2d(2),
                           st.nn.ReLU(), st.nn.MaxPool2d(2), st.nn.Flatten(),
                           st.nn.Linear(8, 3, rng=0)).to("gpu")
    X = np.random.default_rng(0).standard_normal((3, 1, 4, 4))
    report = st.gradcheck_model(net, F.cross_entropy, X, np.array([0, 1, 2]))
    assert report.passed, str(report)
