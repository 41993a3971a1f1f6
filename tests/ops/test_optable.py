"""The op table: every differentiable primitive against PyTorch and by gradcheck.

Each row is checked (a) forward and backward against the same computation in
PyTorch on seeded float32 inputs, including broadcasting shapes, and (b) by
``steepest.gradcheck`` in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import steepest as st
import steepest.functional as F
from helpers.oracle import (
    FactoryCase,
    OpCase,
    away_from,
    check_gradients,
    compare_factory_with_torch,
    compare_with_torch,
)
from steepest import ops


def normal(*shapes, low=None):
    def make(rng, dtype):
        arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
        return arrays
    return make


def positive(*shapes, low=0.5, high=2.0):
    def make(rng, dtype):
        return [rng.uniform(low, high, s).astype(dtype) for s in shapes]
    return make


def kinked(*shapes, points=(0.0,)):
    def make(rng, dtype):
        return [away_from(rng.standard_normal(s), points).astype(dtype) for s in shapes]
    return make


def distinct_pair(shape_a, shape_b):
    def make(rng, dtype):
        a = rng.standard_normal(shape_a)
        b = rng.standard_normal(shape_b)
        diff = np.broadcast_to(a, np.broadcast_shapes(shape_a, shape_b)) - b
        b = b + np.where(np.abs(diff) < 0.1, 0.3, 0.0).reshape(np.broadcast_shapes(
            shape_a, shape_b))[tuple(slice(0, s) for s in np.broadcast_shapes(shape_a, shape_b))]
        return [a.astype(dtype), np.asarray(b).astype(dtype)]
    return make


def labels_case(m, c, one_hot=False):
    def make(rng, dtype):
        logits = (rng.standard_normal((m, c)) * 3).astype(dtype)
        labels = rng.integers(0, c, m)
        if one_hot:
            return [logits, np.eye(c, dtype=dtype)[labels]]
        return [logits, labels]
    return make


def binary_case(shape):
    def make(rng, dtype):
        return [(rng.standard_normal(shape) * 3).astype(dtype),
                rng.integers(0, 2, shape).astype(dtype)]
    return make


def probs_case(shape):
    def make(rng, dtype):
        return [rng.uniform(0.05, 0.95, shape).astype(dtype),
                rng.integers(0, 2, shape).astype(dtype)]
    return make


def masked_case(shape):
    def make(rng, dtype):
        logits = (rng.standard_normal(shape) * 2).astype(dtype)
        targets = rng.integers(0, 2, shape).astype(dtype)
        mask = rng.random(shape) < 0.6
        return [logits, targets, mask]
    return make


def torch_masked_bce(z, y, mask):
    losses = TF.binary_cross_entropy_with_logits(z, y, reduction="none")
    return (losses * mask).sum() / mask.sum()


def _distinct_max(shape):
    def make(rng, dtype):
        values = rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0
        return [values.astype(dtype)]
    return make


CASES = [
    OpCase("add", ops.add, torch.add, normal((3, 4), (3, 4))),
    OpCase("add broadcast", ops.add, torch.add, normal((2, 3, 4), (3, 1))),
    OpCase("add scalar-shaped", ops.add, torch.add, normal((5,), ())),
    OpCase("sub broadcast", ops.sub, torch.sub, normal((4, 1), (1, 5))),
    OpCase("mul broadcast", ops.mul, torch.mul, normal((2, 3, 4), (4,))),
    OpCase("div broadcast", ops.div, torch.div,
           lambda rng, dt: [rng.standard_normal((3, 4)).astype(dt),
                            rng.uniform(0.5, 2, (3, 1)).astype(dt)]),
    OpCase("pow scalar exponent", lambda a: ops.pow(a, 3), lambda a: a ** 3, normal((3, 4))),
    OpCase("pow tensor exponent", ops.pow, torch.pow, positive((3, 4), (4,))),
    OpCase("neg", ops.neg, torch.neg, normal((3, 4))),
    OpCase("matmul 2d", ops.matmul, torch.matmul, normal((3, 4), (4, 5))),
    OpCase("matmul batched broadcast", ops.matmul, torch.matmul, normal((2, 3, 4), (4, 5))),
    OpCase("matmul batch both", ops.matmul, torch.matmul, normal((2, 1, 3, 4), (3, 4, 2))),
    OpCase("matmul vector-matrix", ops.matmul, torch.matmul, normal((4,), (4, 5))),
    OpCase("matmul matrix-vector", ops.matmul, torch.matmul, normal((3, 4), (4,))),
    OpCase("matmul vector-vector", ops.matmul, torch.matmul, normal((4,), (4,))),
    OpCase("operator @", lambda a, b: a @ b, lambda a, b: a @ b, normal((3, 4), (4, 2))),
    OpCase("sum all", lambda x: x.sum(), lambda x: x.sum(), normal((3, 4))),
    OpCase("sum axis", lambda x: x.sum(axis=1), lambda x: x.sum(dim=1), normal((3, 4, 2))),
    OpCase("sum axes keepdims", lambda x: x.sum(axis=(0, 2), keepdims=True),
           lambda x: x.sum(dim=(0, 2), keepdim=True), normal((3, 4, 2))),
    OpCase("mean all", lambda x: x.mean(), lambda x: x.mean(), normal((3, 4))),
    OpCase("mean axis -1", lambda x: x.mean(axis=-1), lambda x: x.mean(dim=-1), normal((3, 4))),
    OpCase("max all", lambda x: x.max(), lambda x: torch.amax(x), _distinct_max((3, 4))),
    OpCase("max axis keepdims", lambda x: x.max(axis=1, keepdims=True),
           lambda x: torch.amax(x, dim=1, keepdim=True), _distinct_max((3, 4))),
    OpCase("max ties share", lambda x: x.max(axis=1),
           lambda x: torch.amax(x, dim=1),
           lambda rng, dt: [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype=dt)]),
    OpCase("min axis", lambda x: x.min(axis=0), lambda x: torch.amin(x, dim=0),
           _distinct_max((3, 4))),
    OpCase("reshape", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), normal((2, 3, 2))),
    OpCase("flatten", lambda x: x.flatten(), lambda x: torch.flatten(x, 1), normal((2, 3, 2))),
    OpCase("transpose", lambda x: x.transpose(2, 0, 1), lambda x: x.permute(2, 0, 1),
           normal((2, 3, 4))),
    OpCase(".T", lambda x: x.T, lambda x: x.T, normal((3, 5))),
    OpCase("getitem slice", lambda x: x[1:, ::2], lambda x: x[1:, ::2], normal((4, 5))),
    OpCase("getitem int", lambda x: x[2], lambda x: x[2], normal((4, 5))),
    OpCase("getitem repeated int array", lambda x: x[np.array([0, 2, 0, 0])],
           lambda x: x[torch.tensor([0, 2, 0, 0])], normal((4, 5))),
    OpCase("getitem pairs", lambda x: x[np.arange(4), np.array([1, 1, 0, 4])],
           lambda x: x[torch.arange(4), torch.tensor([1, 1, 0, 4])], normal((4, 5))),
    OpCase("getitem bool mask", lambda x: x[x.data > 0],
           lambda x: x[x.detach() > 0], normal((4, 5))),
    OpCase("concatenate", lambda a, b: ops.concatenate([a, b], axis=1),
           lambda a, b: torch.cat([a, b], dim=1), normal((2, 3), (2, 4))),
    OpCase("stack", lambda a, b: ops.stack([a, b], axis=1),
           lambda a, b: torch.stack([a, b], dim=1), normal((2, 3), (2, 3))),
    OpCase("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)),
           lambda x: torch.broadcast_to(x, (2, 3, 4)), normal((3, 1))),
    OpCase("exp", ops.exp, torch.exp, normal((3, 4))),
    OpCase("log", ops.log, torch.log, positive((3, 4))),
    OpCase("sqrt", ops.sqrt, torch.sqrt, positive((3, 4))),
    OpCase("abs", ops.abs, torch.abs, kinked((3, 4))),
    OpCase("maximum", ops.maximum, torch.maximum, distinct_pair((3, 4), (3, 4))),
    OpCase("maximum broadcast", ops.maximum, torch.maximum, distinct_pair((3, 4), (4,))),
    OpCase("maximum ties", ops.maximum, torch.maximum,
           lambda rng, dt: [np.array([1.0, 2.0, 3.0], dt), np.array([1.0, 0.0, 3.0], dt)]),
    OpCase("minimum", ops.minimum, torch.minimum, distinct_pair((3, 4), (3, 4))),
    OpCase("clip", lambda x: ops.clip(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7),
           kinked((4, 5), points=(-0.5, 0.7))),
    OpCase("clip low only", lambda x: ops.clip(x, min=0.2), lambda x: torch.clamp(x, min=0.2),
           kinked((4, 5), points=(0.2,))),
    OpCase("where", lambda a, b: ops.where(a.data > 0, a, b),
           lambda a, b: torch.where(a.detach() > 0, a, b), normal((3, 4), (3, 4))),
    OpCase("where broadcast", lambda a, b: ops.where(a.data > 0, a, b),
           lambda a, b: torch.where(a.detach() > 0, a, b), normal((3, 4), (4,))),
    OpCase("sigmoid", F.sigmoid, torch.sigmoid, lambda rng, dt: [
        (rng.standard_normal((3, 4)) * 4).astype(dt)]),
    OpCase("tanh", F.tanh, torch.tanh, normal((3, 4))),
    OpCase("relu", F.relu, torch.relu, kinked((3, 4))),
    OpCase("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1),
           kinked((3, 4))),
    OpCase("softmax", F.softmax, lambda x: torch.softmax(x, -1), normal((3, 5))),
    OpCase("softmax axis 0", lambda x: F.softmax(x, axis=0), lambda x: torch.softmax(x, 0),
           normal((3, 5))),
    OpCase("log_softmax", F.log_softmax, lambda x: torch.log_softmax(x, -1), normal((3, 5))),
    OpCase("linear", F.linear, TF.linear, normal((6, 4), (3, 4), (3,))),
    OpCase("linear no bias", F.linear, TF.linear, normal((6, 4), (3, 4))),
    OpCase("linear 3-d input", F.linear, TF.linear, normal((2, 6, 4), (3, 4), (3,))),
    OpCase("cross_entropy labels", F.cross_entropy, TF.cross_entropy, labels_case(6, 4)),
    OpCase("cross_entropy one-hot", F.cross_entropy, TF.cross_entropy,
           labels_case(6, 4, one_hot=True), differentiable=[0]),
    OpCase("cross_entropy sum", lambda z, y: F.cross_entropy(z, y, reduction="sum"),
           lambda z, y: TF.cross_entropy(z, y, reduction="sum"), labels_case(5, 3)),
    OpCase("cross_entropy none", lambda z, y: F.cross_entropy(z, y, reduction="none"),
           lambda z, y: TF.cross_entropy(z, y, reduction="none"), labels_case(5, 3)),
    OpCase("bce with logits", F.binary_cross_entropy_with_logits,
           TF.binary_cross_entropy_with_logits, binary_case((6, 1)), differentiable=[0]),
    OpCase("bce with logits none",
           lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
           lambda z, y: TF.binary_cross_entropy_with_logits(z, y, reduction="none"),
           binary_case((4, 3)), differentiable=[0]),
    OpCase("bce with logits soft targets", F.binary_cross_entropy_with_logits,
           TF.binary_cross_entropy_with_logits, normal((4, 3), (4, 3))),
    OpCase("bce", F.binary_cross_entropy, TF.binary_cross_entropy, probs_case((6, 1)),
           differentiable=[0]),
    OpCase("bce sum", lambda p, y: F.binary_cross_entropy(p, y, reduction="sum"),
           lambda p, y: TF.binary_cross_entropy(p, y, reduction="sum"), probs_case((5,)),
           differentiable=[0]),
    OpCase("masked bce", F.masked_binary_cross_entropy_with_logits, torch_masked_bce,
           masked_case((6, 3)), differentiable=[0]),
    OpCase("mse", F.mse_loss, TF.mse_loss, normal((5, 2), (5, 2))),
    OpCase("mse none", lambda a, b: F.mse_loss(a, b, reduction="none"),
           lambda a, b: TF.mse_loss(a, b, reduction="none"), normal((5, 2), (5, 2))),
    OpCase("l2_penalty", lambda a, b: F.l2_penalty([a, b], lambd=0.7, m=5),
           lambda a, b: 0.7 / 10 * ((a ** 2).sum() + (b ** 2).sum()), normal((3, 4), (2, 3))),
    OpCase("l1_penalty", lambda a, b: F.l1_penalty([a, b], lambd=0.7, m=5),
           lambda a, b: 0.7 / 10 * (a.abs().sum() + b.abs().sum()), kinked((3, 4), (2, 3))),
    # Tensor methods a PyTorch user tries first.
    OpCase("method relu", lambda x: x.relu(), lambda x: x.relu(), kinked((3, 4))),
    OpCase("method sigmoid", lambda x: x.sigmoid(), lambda x: x.sigmoid(), normal((3, 4))),
    OpCase("method tanh", lambda x: x.tanh(), lambda x: x.tanh(), normal((3, 4))),
    OpCase("method softmax", lambda x: x.softmax(axis=0), lambda x: x.softmax(dim=0),
           normal((3, 5))),
    OpCase("method softmax default axis", lambda x: x.softmax(), lambda x: x.softmax(dim=-1),
           normal((2, 3, 4))),
    OpCase("method log", lambda x: x.log(), lambda x: x.log(), positive((3, 4))),
    OpCase("method view", lambda x: x.view(4, -1), lambda x: x.view(4, -1), normal((2, 3, 2))),
    OpCase("method view tuple", lambda x: x.view((3, 4)), lambda x: x.view((3, 4)),
           normal((2, 6))),
    OpCase("method max axis", lambda x: x.max(axis=1), lambda x: x.amax(dim=1),
           _distinct_max((3, 4))),
    OpCase("method min all", lambda x: x.min(), lambda x: x.amin(), _distinct_max((3, 4))),
    OpCase("method argmax all", lambda x: x.argmax(), lambda x: x.argmax(),
           _distinct_max((3, 4)), tags=("integer",)),
    OpCase("method argmax axis", lambda x: x.argmax(axis=1), lambda x: x.argmax(dim=1),
           _distinct_max((3, 4)), tags=("integer",)),
    OpCase("method argmax axis -1 keepdims", lambda x: x.argmax(axis=-1, keepdims=True),
           lambda x: x.argmax(dim=-1, keepdim=True), _distinct_max((2, 3, 4)),
           tags=("integer",)),
    OpCase("method argmin axis 0", lambda x: x.argmin(axis=0), lambda x: x.argmin(dim=0),
           _distinct_max((3, 4)), tags=("integer",)),
    OpCase("method argmin keepdims", lambda x: x.argmin(axis=1, keepdims=True),
           lambda x: x.argmin(dim=1, keepdim=True), _distinct_max((3, 4)), tags=("integer",)),
    # Coercion: the same ops fed plain arrays or lists, the other operand a tensor.
    OpCase("mul by list", lambda a: a * [[2.0], [-1.0], [0.5]],
           lambda a: a * torch.tensor([[2.0], [-1.0], [0.5]]), normal((3, 4))),
    OpCase("add list on the left", lambda a: ops.add([1.0, 2.0, 3.0, 4.0], a),
           lambda a: torch.tensor([1.0, 2.0, 3.0, 4.0]) + a, normal((3, 4))),
]

FACTORIES = [
    FactoryCase("zeros ints", lambda: st.zeros(2, 3), lambda: torch.zeros(2, 3)),
    FactoryCase("zeros tuple", lambda: st.zeros((2, 3)), lambda: torch.zeros((2, 3))),
    FactoryCase("zeros 0-d", lambda: st.zeros(()), lambda: torch.zeros(())),
    FactoryCase("zeros int64", lambda: st.zeros(4, dtype="int64"),
                lambda: torch.zeros(4, dtype=torch.int64)),
    FactoryCase("zeros requires_grad", lambda: st.zeros(2, requires_grad=True),
                lambda: torch.zeros(2, requires_grad=True)),
    FactoryCase("ones", lambda: st.ones(3, 1), lambda: torch.ones(3, 1)),
    FactoryCase("ones list float64", lambda: st.ones([2, 2], dtype=np.float64),
                lambda: torch.ones([2, 2], dtype=torch.float64)),
    FactoryCase("ones empty", lambda: st.ones(0, 3), lambda: torch.ones(0, 3)),
    FactoryCase("full float", lambda: st.full((2, 3), 0.5), lambda: torch.full((2, 3), 0.5)),
    FactoryCase("full int", lambda: st.full((2,), 7), lambda: torch.full((2,), 7)),
    FactoryCase("full bool", lambda: st.full((2,), True), lambda: torch.full((2,), True)),
    FactoryCase("full int shape", lambda: st.full(3, -1.5), lambda: torch.full((3,), -1.5)),
    FactoryCase("full dtype requires_grad",
                lambda: st.full((2,), 3, dtype="float64", requires_grad=True),
                lambda: torch.full((2,), 3, dtype=torch.float64, requires_grad=True)),
    FactoryCase("arange end", lambda: st.arange(5), lambda: torch.arange(5)),
    FactoryCase("arange start end step", lambda: st.arange(2, 11, 3),
                lambda: torch.arange(2, 11, 3)),
    FactoryCase("arange negative step", lambda: st.arange(5, 0, -2),
                lambda: torch.arange(5, 0, -2)),
    FactoryCase("arange float step", lambda: st.arange(0, 1, 0.1),
                lambda: torch.arange(0, 1, 0.1)),
    FactoryCase("arange float start", lambda: st.arange(-1.5, 2),
                lambda: torch.arange(-1.5, 2)),
    FactoryCase("arange empty", lambda: st.arange(3, 3), lambda: torch.arange(3, 3)),
    FactoryCase("arange dtype", lambda: st.arange(4, dtype="float64", requires_grad=True),
                lambda: torch.arange(4, dtype=torch.float64, requires_grad=True)),
    FactoryCase("eye", lambda: st.eye(3), lambda: torch.eye(3)),
    FactoryCase("eye rectangular", lambda: st.eye(2, 4), lambda: torch.eye(2, 4)),
    FactoryCase("eye int", lambda: st.eye(2, dtype="int64"),
                lambda: torch.eye(2, dtype=torch.int64)),
    FactoryCase("cat", lambda: st.cat([st.ones(2, 1), st.zeros(2, 2)], axis=1),
                lambda: torch.cat([torch.ones(2, 1), torch.zeros(2, 2)], dim=1)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matches_torch(case: OpCase) -> None:
    compare_with_torch(case)


@pytest.mark.parametrize("case", [c for c in CASES if c.name != "max ties share"
                                  and "integer" not in c.tags], ids=str)
def test_gradcheck(case: OpCase) -> None:
    check_gradients(case)


@pytest.mark.parametrize("case", FACTORIES, ids=str)
def test_factory_matches_torch(case: FactoryCase) -> None:
    compare_factory_with_torch(case)


def test_every_factory_has_a_row() -> None:
    names = " ".join(c.name for c in FACTORIES)
    for factory in ["zeros", "ones", "full", "arange", "eye", "cat"]:
        assert factory in names, factory


def test_every_primitive_has_a_row() -> None:
    names = " ".join(c.name for c in CASES)
    for primitive in ["add", "sub", "mul", "div", "pow", "neg", "matmul", "sum", "mean", "max",
                      "min", "reshape", "transpose", "getitem", "concatenate", "stack", "exp",
                      "log", "sqrt", "abs", "maximum", "minimum", "clip", "where", "sigmoid",
                      "tanh", "relu", "leaky_relu", "softmax", "log_softmax", "linear",
                      "cross_entropy", "bce with logits", "bce", "masked bce", "mse",
                      "l2_penalty", "l1_penalty", "broadcast_to", "method relu",
                      "method sigmoid", "method tanh", "method softmax", "method log",
                      "method view", "method argmax", "method argmin"]:
        assert primitive in names, primitive


def test_max_ties_split_equally() -> None:
    # Ties are not differentiable points, so gradcheck does not apply; the rule is
    # torch.amax's: tied maxima share the gradient equally.
    x = st.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5]])
