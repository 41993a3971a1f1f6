"""Layers: the conformance helper on each, PyTorch as the oracle, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from helpers.layers import check_layer
from steepest import ShapeError, nn


@pytest.mark.parametrize("make,shape,expected", [
    (lambda: nn.Linear(4, 3), (5, 4), (5, 3)),
    (lambda: nn.Linear(4, 3, bias=False), (2, 6, 4), (2, 6, 3)),
    (lambda: nn.ReLU(), (3, 4), (3, 4)),
    (lambda: nn.LeakyReLU(0.2), (3, 4), (3, 4)),
    (lambda: nn.Sigmoid(), (3, 4), (3, 4)),
    (lambda: nn.Tanh(), (3, 4), (3, 4)),
    (lambda: nn.Softmax(), (3, 4), (3, 4)),
    (lambda: nn.Identity(), (3, 4), (3, 4)),
    (lambda: nn.Flatten(), (2, 3, 4, 5), (2, 60)),
    (lambda: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), (5, 4), (5, 2)),
], ids=lambda v: v.__name__ if callable(v) else str(v))
def test_layer_conformance(make, shape, expected) -> None:
    st.seed(0)
    check_layer(make, shape, expected)


def test_dropout_conformance_and_modes() -> None:
    st.seed(0)
    layer = check_layer(lambda: nn.Dropout(0.5), (50, 40), (50, 40), train_eval_differ=True)
    x = np.ones((50, 40), dtype=np.float32)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, x)  # keep_prob 1: identity


def test_dropout_preserves_the_mean() -> None:
    out = nn.Dropout(0.7, rng=3)(np.ones((400, 500), dtype=np.float32)).data
    assert abs(out.mean() - 1.0) < 0.01
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7], rtol=1e-6)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.01, float("nan")])
def test_dropout_keep_prob_range(bad: float) -> None:
    with pytest.raises(ValueError, match=r"Dropout: `keep_prob` must"):
        nn.Dropout(bad)


def test_linear_matches_torch() -> None:
    layer = nn.Linear(6, 3, rng=0)
    reference = torch.nn.Linear(6, 3)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight.data))
        reference.bias.copy_(torch.from_numpy(layer.bias.data))
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    out = layer(st.tensor(x))
    expected = reference(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), rtol=1e-5)
    assert list(layer.state_dict()) == list(reference.state_dict())  # same names, same shapes


def test_linear_input_error_names_layer_and_shape() -> None:
    layer = nn.Linear(784, 10)
    with pytest.raises(ShapeError, match=r"Linear\(in_features=784\): input has 783 features "
                                         r"\(shape \(64, 783\)\)"):
        layer(np.zeros((64, 783), dtype=np.float32))


@pytest.mark.parametrize("kwargs,message", [
    ({"in_features": 0, "out_features": 3}, r"`in_features` must be a positive int; got 0"),
    ({"in_features": 3, "out_features": -1}, r"`out_features` must be a positive int; got -1"),
    ({"in_features": 2.5, "out_features": 3}, r"`in_features` must be a positive int; got 2.5"),
    ({"in_features": 3, "out_features": 3, "init": "glorot"}, r"unknown `init` 'glorot'"),
])
def test_linear_argument_errors(kwargs, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        nn.Linear(**kwargs)


def test_linear_without_bias_has_none_registered() -> None:
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]


def test_sequential_indexing_and_errors() -> None:
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(net[0], nn.Linear) and len(net) == 3
    assert len(net[1:]) == 2
    net.append(nn.Sigmoid())
    assert len(net) == 4
    with pytest.raises(TypeError, match="Sequential: layer '1' must be a Module; got function"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


def test_leaky_relu_slope_range() -> None:
    with pytest.raises(ValueError, match=r"`negative_slope` must be in \[0, 1\)"):
        nn.LeakyReLU(1.5)


# ------------------------------------------------------------------ one coercion point
# Every layer of steepest.nn with an input shape; Sequential stands for containers.
EVERY_LAYER = {
    "Linear": (lambda: nn.Linear(4, 3, rng=0), (5, 4)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1, rng=0), (2, 2, 5, 5)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 2, 4, 4)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (2, 2, 4, 4)),
    "GlobalAvgPool2d": (lambda: nn.GlobalAvgPool2d(), (2, 2, 4, 4)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), (6, 4)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (3, 2, 4, 4)),
    "Dropout": (lambda: nn.Dropout(0.5, rng=7), (5, 4)),
    "ReLU": (lambda: nn.ReLU(), (5, 4)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), (5, 4)),
    "Sigmoid": (lambda: nn.Sigmoid(), (5, 4)),
    "Tanh": (lambda: nn.Tanh(), (5, 4)),
    "Softmax": (lambda: nn.Softmax(), (5, 4)),
    "Identity": (lambda: nn.Identity(), (5, 4)),
    "Flatten": (lambda: nn.Flatten(), (2, 2, 3, 3)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU()), (5, 4)),
}


def test_the_coercion_table_covers_every_layer() -> None:
    layers = {name for name in nn.__all__ if isinstance(getattr(nn, name), type)
              and issubclass(getattr(nn, name), nn.Module) and not name.endswith("Loss")}
    assert layers - {"Module"} == set(EVERY_LAYER)


@pytest.mark.parametrize("name", sorted(EVERY_LAYER))
@pytest.mark.parametrize("kind", ["ndarray", "list"])
def test_every_layer_takes_arrays_and_lists_like_tensors(name: str, kind: str) -> None:
    make, shape = EVERY_LAYER[name]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    expected = make()(st.tensor(x))
    out = make()(x if kind == "ndarray" else x.tolist())
    assert isinstance(out, st.Tensor)
    assert out.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(out.data, expected.data)


def test_linear_with_a_list_of_examples() -> None:
    layer = nn.Linear(2, 1, init="zeros")
    layer.weight.data[:] = [[1.0, 2.0]]
    np.testing.assert_allclose(layer([[1.0, 1.0], [0.0, 3.0]]).data, [[3.0], [6.0]])


def test_linear_shape_error_is_raised_once_with_the_layer_name() -> None:
    with pytest.raises(ShapeError) as error:
        nn.Linear(784, 10)(np.zeros((64, 783), dtype=np.float32))
    assert str(error.value) == ("Linear(in_features=784): input has 783 features (shape "
                                "(64, 783)); expected 784, the in_features of `weight` (10, 784)")
    with pytest.raises(ShapeError, match=r"^Linear\(in_features=3\): input has 0 features "
                                         r"\(shape \(\)\)"):
        nn.Linear(3, 2)(st.tensor(1.0))


def test_functional_linear_names_itself() -> None:
    with pytest.raises(ShapeError, match=r"^linear: input has 2 features \(shape \(4, 2\)\); "
                                         r"expected 3, the in_features of `weight` \(5, 3\)$"):
        st.functional.linear(np.zeros((4, 2)), np.zeros((5, 3)))


def test_op_classes_never_share_a_name_with_a_layer() -> None:
    import inspect

    import steepest.ops as ops

    functions = [cls for module in (ops.conv, ops.elementwise, ops.linalg, ops.loss, ops.norm,
                                    ops.reduce, ops.shape, ops.random)
                 for _, cls in inspect.getmembers(module, inspect.isclass)
                 if issubclass(cls, st.Function) and cls.__module__ == module.__name__]
    assert len(functions) >= 40
    names = {cls.__name__ for cls in functions}
    assert all(name.endswith("Function") for name in names), names  # the convention
    assert not names & set(dir(nn)), names & set(dir(nn))
    for name in ("Conv2d", "ReLU", "Linear", "Softmax", "MaxPool2d", "AvgPool2d", "Sigmoid"):
        assert not hasattr(ops.conv, name) and not hasattr(ops.elementwise, name)
        assert not hasattr(ops.linalg, name) and not hasattr(ops.norm, name)


def test_layers_call_functional_not_ops() -> None:
    import pathlib

    import steepest.nn

    folder = pathlib.Path(steepest.nn.__file__).parent
    for path in folder.glob("*.py"):
        text = path.read_text()
        for line in text.splitlines():
            if line.startswith("from ..ops"):
                # validation helpers and types only; forward goes through functional
                assert "import Padding, resolve_padding" in line or \
                    "import pool_arguments" in line or "import REDUCTIONS, Reduction" in line, \
                    f"{path.name}: {line}"
