"""ONNX export, checked by onnxruntime: the same outputs as steepest for every layer and model."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import steepest as st
import steepest.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from steepest import onnx as st_onnx  # noqa: E402  (after the skip)
from steepest.export_cli import add_export_parser, command_export  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5


def run_onnx(proto: Any, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})


def outputs(model: st.nn.Module, x: np.ndarray) -> list[np.ndarray]:
    model.eval()
    out = model(x)
    if isinstance(out, dict):
        return [v.data for v in out.values()]
    if isinstance(out, (tuple, list)):
        return [v.data for v in out]
    return [out.data]


def assert_same(model: st.nn.Module, input_shape: tuple[int, ...], batch: int = 3,
                opset: int | None = None) -> Any:
    """Export, check, and compare with onnxruntime at a batch size other than the trace's."""
    proto = st_onnx.to_onnx(model, input_shape, opset)
    onnx.checker.check_model(proto, full_check=True)
    x = np.random.default_rng(7).standard_normal((batch, *input_shape)).astype(np.float32)
    expected = outputs(model, x)
    got = run_onnx(proto, x)
    assert len(got) == len(expected)
    for ours, theirs in zip(expected, got):
        assert theirs.shape == ours.shape
        np.testing.assert_allclose(theirs, ours, rtol=RTOL, atol=ATOL)
    return proto


def trained_batch_norm(layer: st.nn.Module, shape: tuple[int, ...]) -> st.nn.Module:
    """Give batch norm non-trivial running statistics and affine parameters."""
    rng = np.random.default_rng(3)
    layer.train()
    for _ in range(3):
        layer(rng.normal(2.0, 3.0, shape).astype(np.float32))
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, layer.gamma.shape)
    layer.beta.data[...] = rng.normal(size=layer.beta.shape)
    return layer


ZOO: dict[str, tuple[Callable[[], st.nn.Module], tuple[int, ...]]] = {
    "logistic": (lambda: st.models.LogisticRegression(5, init="he", rng=0), (5,)),
    "mlp": (lambda: st.models.MLP([6, 8, 7, 3], activation="tanh", keep_prob=0.5, rng=0), (6,)),
    "mlp_sigmoid": (lambda: st.models.MLP([4, 5, 2], activation="leaky_relu",
                                          output="sigmoid", rng=0), (4,)),
    "lenet5": (lambda: st.models.LeNet5(rng=0), (1, 28, 28)),
    "lenet5_tanh_avg_32": (lambda: st.models.LeNet5(3, in_channels=3, input_size=32,
                                                    activation="tanh", pooling="avg", rng=0),
                           (3, 32, 32)),
    "resnet18_cifar": (lambda: st.models.resnet18(num_classes=10, stem="cifar", rng=0),
                       (3, 8, 8)),
    "resnet_imagenet_stem": (lambda: st.models.ResNet((1, 1, 1, 1), num_classes=4, width=8,
                                                      rng=0), (3, 32, 32)),
    # ResNet-50's bottleneck blocks, AlexNet, VGG-16 and GoogLeNet at toy widths: the
    # same graphs as the full-size networks, exported in a fraction of the time.
    "resnet_bottleneck": (lambda: st.models.ResNet((1, 1, 1, 1), num_classes=4, width=8,
                                                   block="bottleneck", rng=0), (3, 32, 32)),
    "alexnet": (lambda: st.models.AlexNet(num_classes=10, input_size=67,
                                          channels=(8, 16, 16, 16, 16), hidden=32, rng=0),
                (3, 67, 67)),
    "vgg16": (lambda: st.models.VGG16(num_classes=10, input_size=32, channels=(4, 8, 8, 16, 16),
                                      hidden=32, rng=0), (3, 32, 32)),
    "googlenet": (lambda: st.models.GoogLeNet(num_classes=10, in_channels=1, input_size=28,
                                              width=1 / 16, rng=0), (1, 28, 28)),
    "ensemble": (lambda: st.models.Ensemble([st.models.MLP([4, 5, 3], rng=0),
                                             st.models.MLP([4, 3], rng=1)]), (4,)),
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_models_match_onnxruntime(name: str) -> None:
    make, shape = ZOO[name]
    model = make()
    for module in model.modules():
        if isinstance(module, (st.nn.BatchNorm1d, st.nn.BatchNorm2d)):
            rng = np.random.default_rng(len(module.running_mean))
            module.running_mean[...] = rng.normal(size=module.num_features)
            module.running_var[...] = rng.uniform(0.5, 2.0, module.num_features)
    proto = assert_same(model, shape)
    # Every weight is in the file under its state_dict name (GoogLeNet's side
    # classifiers run in training only, so inference has no use for theirs).
    names = {init.name for init in proto.graph.initializer}
    assert {k for k in model.state_dict() if not k.startswith("aux")} <= names
    ops = [node.op_type for node in proto.graph.node]
    if name == "resnet18_cifar":  # the residual additions are in the graph
        assert ops.count("Add") == 8 and ops.count("Conv") == 20  # 8 blocks, 3 projections
        assert ops.count("BatchNormalization") == 20
    if name == "googlenet":  # nine Inception modules, each a channel concatenation
        assert ops.count("Concat") == 9 and "Dropout" not in ops


class EveryLayer(st.nn.Module):
    """Every layer of nn (and the composites models write inline) in one forward."""

    def __init__(self) -> None:
        super().__init__()
        self.same = st.nn.Conv2d(3, 4, 3, padding="same", rng=1)
        self.even_same = st.nn.Conv2d(3, 2, 4, padding="same", rng=2)
        self.strided = st.nn.Conv2d(6, 5, 3, stride=(2, 1), padding=(1, 2), rng=3)
        self.valid = st.nn.Conv2d(5, 4, 2, padding="valid", bias=False, rng=4)
        self.bn2 = trained_batch_norm(st.nn.BatchNorm2d(4), (8, 4, 3, 3))
        self.max = st.nn.MaxPool2d(3, stride=1, padding=1)
        self.avg = st.nn.AvgPool2d(2, stride=1, padding=1)
        self.gap = st.nn.GlobalAvgPool2d()
        self.flat = st.nn.Flatten()
        self.fc = st.nn.Linear(4 * 4 * 8, 6, rng=5)
        self.bn1 = trained_batch_norm(st.nn.BatchNorm1d(6), (16, 6))
        self.acts = st.nn.Sequential(st.nn.LeakyReLU(0.2), st.nn.Dropout(0.5), st.nn.Identity(),
                                     st.nn.Tanh())
        self.head = st.nn.Sequential(st.nn.Linear(6, 3, rng=6), st.nn.Softmax())

    def forward(self, x: Any) -> Any:
        mixed = st.concatenate([self.same(x), self.even_same(x)], axis=1)  # channel concat
        y = F.relu(self.strided(mixed))
        y = self.bn2(self.valid(y))
        y = y + self.max(y)  # a residual addition
        pooled = self.avg(y)
        z = self.bn1(self.fc(self.flat(pooled)))
        side = F.sigmoid(self.gap(y))
        return self.head(self.acts(z)), side, F.log_softmax(z, axis=1)


def test_every_layer_and_several_outputs() -> None:
    model = EveryLayer()
    proto = assert_same(model, (3, 7, 6), batch=5)
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2"]
    ops = {node.op_type for node in proto.graph.node}
    assert {"Conv", "Concat", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm",
            "BatchNormalization", "LeakyRelu", "Tanh", "Softmax", "Sigmoid", "Relu", "Add",
            "Reshape", "LogSoftmax"} <= ops
    assert "Dropout" not in ops  # identity in evaluation mode


class DictHeads(st.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = st.nn.Linear(4, 6, rng=0)

    def forward(self, x: Any) -> Any:
        h = self.body(x)
        parts = h.reshape(-1, 3, 2).transpose(0, 2, 1)  # (N, 2, 3)
        return {"scores": parts[:, 0], "boxes": parts[:, 1, 1:] * 2.0 - 1.0,
                "pooled": h.mean(axis=1, keepdims=True).clip(-0.5, 0.5), "echo": x}


@pytest.mark.parametrize("opset", [13, 18])
def test_dict_outputs_keep_their_names_and_opsets(opset: int) -> None:
    proto = assert_same(DictHeads(), (4,), batch=4, opset=opset)
    assert [o.name for o in proto.graph.output] == ["scores", "boxes", "pooled", "echo"]
    assert proto.opset_import[0].version == opset


def test_batch_axis_is_dynamic() -> None:
    proto = st_onnx.to_onnx(st.models.LeNet5(rng=0), (1, 28, 28))
    for value in (*proto.graph.input, *proto.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    for batch in (1, 9):
        x = np.zeros((batch, 1, 28, 28), dtype=np.float32)
        assert run_onnx(proto, x)[0].shape == (batch, 10)


def test_export_writes_a_checked_file_and_never_overwrites(tmp_path: Path) -> None:
    path = st_onnx.export(st.models.MLP([3, 2], rng=0), tmp_path / "m.onnx", (3,),
                          metadata={"classes": ["a", "b"]})
    onnx.checker.check_model(str(path), full_check=True)
    loaded = onnx.load(str(path))
    assert {p.key: p.value for p in loaded.metadata_props} == {"classes": '["a", "b"]'}
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="exists"):
        st_onnx.export(st.models.MLP([3, 4], rng=0), path, (3,))
    assert path.read_bytes() == before
    st_onnx.export(st.models.MLP([3, 4], rng=0), path, (3,), overwrite=True)
    assert path.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # no temporary left


class Cube(st.Function):
    def forward(self, x: Any) -> Any:
        return x**3

    def backward(self, grad: Any) -> Any:
        return grad


class CubeLayer(st.nn.Module):
    def forward(self, x: Any) -> Any:
        return Cube()(x)


class OffGraph(st.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = st.nn.Linear(3, 3, rng=0)

    def forward(self, x: Any) -> Any:
        return st.where(x.data > 0, self.fc(x), x)  # the mask is computed off the graph


def test_unsupported_layer_is_one_error_naming_it() -> None:
    model = st.nn.Sequential(st.nn.Linear(3, 3), CubeLayer())
    with pytest.raises(st_onnx.UnsupportedOperationError,
                       match=r"layer '1' \(CubeLayer\) runs the operation Cube, which has no "
                             "ONNX translation; supported: Abs, Add"):
        st_onnx.to_onnx(model, (3,))


def test_input_dependent_constant_is_refused() -> None:
    with pytest.raises(ValueError, match="computed from the input outside the recorded graph"):
        st_onnx.to_onnx(OffGraph(), (3,))


def test_bad_arguments() -> None:
    net = st.models.MLP([3, 2], rng=0)
    with pytest.raises(ValueError, match=r"`opset` must be an int in \[13, "):
        st_onnx.to_onnx(net, (3,), opset=7)
    with pytest.raises(TypeError, match="`input_shape` must be a non-empty tuple"):
        st_onnx.to_onnx(net, [])
    with pytest.raises(ValueError, match="`input_shape` must be a positive int; got 0"):
        st_onnx.to_onnx(net, (0,))
    with pytest.raises(ValueError, match=r"does not accept input_shape \(4,\).*Linear"):
        st_onnx.to_onnx(net, (4,))
    with pytest.raises(TypeError, match="`model` must be a steepest Module; got str"):
        st_onnx.to_onnx("net", (3,))  # type: ignore[arg-type]
    assert net.training  # the mode is restored after tracing


def test_missing_onnx_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install steepest\[onnx\]"):
        st_onnx.to_onnx(st.models.MLP([3, 2]), (3,))


def test_export_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = st.models.MLP([4, 5, 3], rng=0)
    metadata = {"data": "digits", "model": "mlp", "classes": ["a", "b", "c"], "seed": 0,
                "preprocessing": {"type": "standardize", "mean": [0.0] * 4, "std": [1.0] * 4}}
    st.save(model, tmp_path / "run" / "model", metadata=metadata)
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers(dest="command"))
    target = tmp_path / "model.onnx"
    args = parser.parse_args(["export", str(tmp_path / "run"), "--onnx", str(target)])
    assert command_export(args) == 0
    assert "wrote" in capsys.readouterr().out
    proto = onnx.load(str(target))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(proto, x)[0], outputs(model, x)[0], rtol=RTOL,
                               atol=ATOL)
    assert '"classes"' not in target.name and {p.key for p in proto.metadata_props} >= {
        "classes", "preprocessing"}
    from steepest.cli import CommandError
    with pytest.raises(CommandError, match="never replaces a file"):
        command_export(args)


def test_import_steepest_loads_no_optional_engine() -> None:
    code = ("import sys, steepest, steepest.train; heavy = [m for m in ('onnx', 'onnxruntime', "
            "'tensorboardX', 'sklearn', 'mkdocs', 'torch', 'optuna') if m in sys.modules]; "
            "print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"
