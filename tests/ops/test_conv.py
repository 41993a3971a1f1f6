"""conv2d, pooling and batch norm against PyTorch over a grid of configurations (C1-C7, H5)."""

from __future__ import annotations

import itertools
import threading
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import steepest as st
import steepest.functional as F
from steepest import ShapeError
from steepest.gradcheck import gradcheck
from steepest.ops import _blas, _layout, winograd
from steepest.ops import conv as conv_module
from steepest.ops.conv import Conv2dFunction, conv2d_algorithm

torch.set_num_threads(2)

# (kernel, stride, padding, channels in, channels out, batch, height, width)
GRID = [
    (k, s, p, c_in, c_out, n, h, w)
    for (k, s, p), (c_in, c_out), (n, h, w) in itertools.product(
        [(1, 1, 0), (1, 2, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1), (3, 3, 2), (4, 2, 1), (5, 1, 2),
         (5, 2, 0), (3, 1, "valid"), (3, 1, "same"), (5, 1, "same"), (2, 1, "same"),
         (4, 1, "same"), ((3, 5), (2, 1), (1, 2))],
        [(1, 1), (3, 8), (8, 3)],
        [(1, 9, 9), (2, 11, 8), (2, 6, 21)],  # widths above and below the layout switch
    )
]


def _ids(config):
    return "k{}-s{}-p{}-c{}-{}-n{}-{}x{}".format(*config)


# 3x3, stride 1; batches of 16 and more put the batch last in Winograd's tiles
WINOGRAD_GRID = [c for c in GRID if c[0] == 3 and c[1] == 1] + [
    (3, 1, 1, 3, 8, 16, 7, 5), (3, 1, "valid", 8, 3, 17, 9, 6), (3, 1, 2, 1, 1, 16, 6, 10)]
WINOGRAD = ["winograd", "winograd_4x4"]
ALGORITHMS = ["im2col", "pointwise", *WINOGRAD, "implicit_gemm"]
# 1x1 filters, no padding, any stride (square or not), odd sizes
POINTWISE_GRID = [c for c in GRID if c[0] == 1] + [
    (1, 3, 0, 3, 8, 2, 11, 8), ((1, 1), (2, 3), 0, 8, 3, 3, 9, 10), (1, 1, 0, 2, 5, 16, 2, 3)]
IMPLICIT_GRID = [c for c in GRID if c[1] in (1, (1, 1))]  # stride 1, any filter and padding
needs_blas = pytest.mark.skipif(not _blas.available(np.float32),
                                reason="NumPy is not linked to its bundled OpenBLAS")


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's note
@pytest.mark.parametrize("config", GRID, ids=[_ids(c) for c in GRID])
def test_conv2d_matches_torch(config) -> None:
    with conv2d_algorithm("im2col"):  # the reference path, whatever the cost model picks
        _check_against_torch(config)


REBUILD_GRID = GRID[::3]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("config", REBUILD_GRID, ids=[_ids(c) for c in REBUILD_GRID])
def test_conv2d_matches_torch_when_backward_rebuilds_its_columns(config, monkeypatch) -> None:
    # Small layers keep im2col's columns for backward; large ones (a ResNet's) keep the
    # input and rebuild the columns. No test layer is large: make every one rebuild.
    monkeypatch.setattr(conv_module, "_KEEP_COLUMNS_BYTES", 0)
    monkeypatch.setattr(conv_module, "_KEEP_COLUMNS_FACTOR", 0)
    with conv2d_algorithm("im2col"):
        _check_against_torch(config)
        k, s, p, c_in, c_out, n, h, w = config
        kh, kw = (k, k) if isinstance(k, int) else k
        fn = Conv2dFunction((s, s) if isinstance(s, int) else s, p)
        fn.forward(np.ones((n, c_in, h, w), np.float32), np.ones((c_out, c_in, kh, kw),
                                                                np.float32))
    assert fn.columns is None and fn.x is not None  # the path under test was taken


TRANSPOSED_GRID = [c for c in GRID[::2] if c[1] == 1]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("transposed", [True, False])
@pytest.mark.parametrize("config", TRANSPOSED_GRID, ids=[_ids(c) for c in TRANSPOSED_GRID])
def test_both_ways_to_the_input_gradient_match_torch(config, transposed, monkeypatch) -> None:
    # At stride 1, im2col's dL/dx is either col2im or a convolution with the flipped
    # filters, as a cost model picks; force each (where padding allows the second).
    taken = []

    def forced(self, grad_shape):
        taken.append(transposed)
        return transposed

    monkeypatch.setattr(Conv2dFunction, "_transposed_is_cheaper", forced)
    with conv2d_algorithm("im2col"):
        _check_against_torch(config)
    assert taken == [transposed]


def test_kept_and_rebuilt_columns_give_the_same_gradients_twice_with_retain_graph(
        monkeypatch) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    grads = {}
    for keep in (True, False):
        if not keep:
            monkeypatch.setattr(conv_module, "_KEEP_COLUMNS_BYTES", 0)
            monkeypatch.setattr(conv_module, "_KEEP_COLUMNS_FACTOR", 0)
        xs, ws = st.tensor(x, requires_grad=True), st.tensor(w, requires_grad=True)
        with conv2d_algorithm("im2col"):
            out = (F.conv2d(xs, ws, padding=1) ** 2).sum()
        function = out._ctx.inputs[0]._ctx.inputs[0]._ctx  # sum <- pow <- conv2d
        assert (function.columns is None) == (not keep)
        out.backward(retain_graph=True)
        first = (xs.grad.copy(), ws.grad.copy())
        out.backward()  # gradients add up: twice the first
        np.testing.assert_allclose(ws.grad, 2 * first[1], rtol=1e-6)
        grads[keep] = first
    for a, b in zip(grads[True], grads[False]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_retained_graph_gives_the_same_gradients_again_on_every_path(algorithm) -> None:
    # What forward saved (columns, the gridded input, Winograd's V, pointwise's input)
    # must survive the first backward of a retained graph.
    rng = np.random.default_rng(1)
    k, s = (1, 2) if algorithm == "pointwise" else (3, 1)
    x = st.tensor(rng.standard_normal((16, 3, 6, 7)), requires_grad=True)
    w = st.tensor(rng.standard_normal((4, 3, k, k)), requires_grad=True)
    xt, wt = (torch.tensor(a.data, requires_grad=True) for a in (x, w))
    with conv2d_algorithm(algorithm):
        out = (F.conv2d(x, w, stride=s, padding=k // 2) ** 2).sum()
    assert out._ctx.inputs[0]._ctx.inputs[0]._ctx.method == algorithm  # sum <- pow <- conv2d
    (TF.conv2d(xt, wt, stride=s, padding=k // 2) ** 2).sum().backward()
    out.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    first = x.grad.copy()
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-12)


@pytest.mark.parametrize("config", POINTWISE_GRID, ids=[_ids(c) for c in POINTWISE_GRID])
def test_pointwise_conv2d_matches_torch(config) -> None:
    with conv2d_algorithm("pointwise"):
        _check_against_torch(config)


@pytest.mark.parametrize("stride", [1, 2, (2, 3)])
def test_pointwise_gradcheck(stride) -> None:
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal((2, 3, 5, 7)), rng.standard_normal((4, 3, 1, 1)),
              rng.standard_normal(4)]
    with conv2d_algorithm("pointwise"):
        report = gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=stride), inputs,
                           names=["x", "weight", "bias"])
    assert report.passed, str(report)


@pytest.mark.parametrize("algorithm", WINOGRAD)
@pytest.mark.parametrize("config", WINOGRAD_GRID, ids=[_ids(c) for c in WINOGRAD_GRID])
def test_winograd_conv2d_matches_torch(config, algorithm) -> None:
    with conv2d_algorithm(algorithm):
        _check_against_torch(config)


@pytest.mark.parametrize("algorithm", WINOGRAD)
@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (16, 1, 5, 6)])  # both tile layouts
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_winograd_gradcheck(padding, shape, algorithm) -> None:
    rng = np.random.default_rng(padding)
    inputs = [rng.standard_normal(shape), rng.standard_normal((4, shape[1], 3, 3)),
              rng.standard_normal(4)]
    with conv2d_algorithm(algorithm):
        report = gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=padding), inputs,
                           names=["x", "weight", "bias"])
    assert report.passed, str(report)


def test_winograd_does_fewer_multiplications() -> None:
    wino, im2col = winograd.multiplications(32, 64, 64, 32, 32)
    assert im2col / wino == 2.25
    wino, im2col = winograd.multiplications(32, 64, 64, 32, 32, winograd.F4)
    assert im2col / wino == 4.0
    assert winograd.F4.tiles(9, 8) == (3, 2) and winograd.F2.tiles(9, 8) == (5, 4)


@pytest.mark.parametrize("transform", [winograd.F2, winograd.F4], ids=["F2", "F4"])
def test_winograd_transforms_compute_one_tile_of_a_correlation(transform) -> None:
    # Y = A^T [(G g G^T) * (B^T d B)] A on one tile, against the definition, in float64.
    rng = np.random.default_rng(0)
    t, m = transform.t, transform.m
    d, g = rng.standard_normal((t, t)), rng.standard_normal((3, 3))
    direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(m)] for i in range(m)])
    tile = transform.output @ ((transform.filter @ g.ravel()) * (transform.input @ d.ravel()))
    np.testing.assert_allclose(tile.reshape(m, m), direct, rtol=1e-12, atol=1e-12)


def test_winograd_4x4_rounds_within_float32_tolerance() -> None:
    # F(4x4, 3x3)'s larger transform entries cost accuracy: its float32 error against
    # a float64 reference is larger than F(2x2, 3x3)'s but stays far below 1e-4.
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 64, 12, 12)), rng.standard_normal((32, 64, 3, 3)) / 24
    reference = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    errors = {}
    for algorithm in ("im2col", *WINOGRAD):
        with conv2d_algorithm(algorithm):
            out = F.conv2d(x.astype(np.float32), w.astype(np.float32), padding=1).data
        errors[algorithm] = np.abs(out - reference).max() / np.abs(reference).max()
    assert errors["winograd_4x4"] < 2e-5
    assert errors["winograd_4x4"] > errors["winograd"]


def _picked(channels: int, kernel: int, stride: int, size: int, dtype=np.float32,
            batch: int = 1) -> str:
    fn = Conv2dFunction((stride, stride), kernel // 2)
    fn.forward(np.zeros((batch, channels, size, size), dtype),
               np.zeros((channels, channels, kernel, kernel), dtype))
    return fn.method


def test_the_cost_model_picks_pointwise_for_1x1_filters_without_padding() -> None:
    assert _picked(64, 1, 2, 32) == _picked(256, 1, 1, 4) == _picked(3, 1, 1, 4) == "pointwise"
    assert _picked(256, 1, 1, 2) != "pointwise"  # 2x2 maps: each image re-reads W
    fn = Conv2dFunction((1, 1), 1)  # padded: the border outputs are the bias alone
    fn.forward(np.zeros((2, 8, 6, 6), np.float32), np.zeros((8, 8, 1, 1), np.float32))
    assert fn.method != "pointwise"
    with conv2d_algorithm("pointwise"):
        assert _picked(8, 1, 1, 2) == "pointwise" and _picked(8, 3, 1, 8) == "im2col"


def test_winograd_is_never_picked_for_integers_and_auto_leaves_float16_to_im2col() -> None:
    # Its transforms hold fractions: integer arrays keep exact integer results by
    # im2col (a forced "winograd" falls back too); float16 has no BLAS product and
    # rounds F(4x4, 3x3)'s transforms ten times worse.
    rng = np.random.default_rng(0)
    x, w = rng.integers(-3, 4, (2, 3, 6, 6)), rng.integers(-3, 4, (4, 3, 3, 3))
    reference = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    for algorithm in WINOGRAD:
        with conv2d_algorithm(algorithm):
            out = F.conv2d(x, w, padding=1)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.data, reference)

    def pick(dtype) -> str:  # a layer the cost model gives F(4x4, 3x3) in float32
        return conv_module._choose_method(np.zeros((32, 128, 8, 8), dtype), (128, 128), (3, 3),
                                          (1, 1), ((1, 1), (1, 1)), (8, 8))
    assert pick(np.float32) == pick(np.float64) == "winograd_4x4"
    assert pick(np.int64) == pick(np.float16) == "im2col"


def test_the_cost_model_picks_winograd_for_wide_3x3_layers(monkeypatch) -> None:
    monkeypatch.setattr(_blas, "_GEMM", {})  # as where NumPy links another BLAS
    picked = {config: _picked(*config, batch=32) for config in (
        (256, 3, 1, 8), (16, 3, 1, 8), (256, 3, 2, 8), (256, 5, 1, 8))}
    assert picked == {(256, 3, 1, 8): "winograd_4x4", (16, 3, 1, 8): "im2col",
                      (256, 3, 2, 8): "im2col", (256, 5, 1, 8): "im2col"}
    assert _picked(512, 3, 1, 4, batch=32) == "im2col"  # 4x4 maps: one tile an image
    assert _picked(256, 3, 1, 8, batch=8) == "im2col"  # too few outputs to pay
    with pytest.raises(ValueError, match="one of 'auto', 'im2col', 'pointwise', 'winograd', "
                                         "'winograd_4x4', 'implicit_gemm'; got 'fft'"):
        with conv2d_algorithm("fft"):  # type: ignore[arg-type]
            pass


@needs_blas
def test_the_cost_model_picks_the_implicit_gemm_for_wide_layers_on_large_maps() -> None:
    # At least 16 channels and at most 1.2 grid positions per output (16x16 maps with a
    # 3x3 filter: 17 * 17 / 256; 8x8: 81 / 64 is too many); float16 has no BLAS
    # product, stride 2 no shifted views.
    assert _picked(64, 3, 1, 32) == _picked(128, 3, 1, 16) == "implicit_gemm"
    assert _picked(256, 1, 1, 2) == _picked(16, 5, 1, 32) == "implicit_gemm"
    assert _picked(128, 3, 1, 16, batch=32) == _picked(256, 3, 1, 8, batch=32) == "winograd_4x4"
    assert _picked(64, 3, 1, 32, batch=32) == "implicit_gemm"
    assert _picked(8, 3, 1, 32) == _picked(64, 3, 2, 32) == _picked(16, 5, 1, 8) == "im2col"
    assert _picked(64, 3, 1, 32, np.float16) == "im2col"


@needs_blas
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("config", IMPLICIT_GRID, ids=[_ids(c) for c in IMPLICIT_GRID])
def test_implicit_gemm_conv2d_matches_torch(config) -> None:
    with conv2d_algorithm("implicit_gemm"):
        _check_against_torch(config)
        k, _, p, c_in, c_out, n, h, w = config
        kh, kw = (k, k) if isinstance(k, int) else k
        fn = Conv2dFunction((1, 1), p)
        fn.forward(np.ones((n, c_in, h, w), np.float32), np.ones((c_out, c_in, kh, kw),
                                                                np.float32))
    assert fn.method == "implicit_gemm"  # the path under test was taken


@needs_blas
@pytest.mark.parametrize("kernel, padding, width", [
    ((3, 3), 1, 6), ((3, 3), 0, 6), ((2, 3), (0, 2), 6), ((1, 1), 0, 6), ((3, 3), 2, 18)])
def test_implicit_gemm_gradcheck(kernel, padding, width) -> None:
    # float64 products (dgemm), odd and even filters, no padding, one-sided padding.
    rng = np.random.default_rng(width)
    inputs = [rng.standard_normal((2, 3, 5, width)), rng.standard_normal((4, 3, *kernel)),
              rng.standard_normal(4)]
    with conv2d_algorithm("implicit_gemm"):
        report = gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=padding), inputs,
                           names=["x", "weight", "bias"])
        recorded = F.conv2d(st.tensor(inputs[0], requires_grad=True), inputs[1], inputs[2],
                            padding=padding)
    assert recorded._ctx.method == "implicit_gemm"
    assert report.passed, str(report)


@needs_blas
def test_implicit_gemm_backward_twice_with_retain_graph_and_release_without() -> None:
    rng = np.random.default_rng(5)
    x = st.tensor(rng.standard_normal((2, 16, 12, 12)).astype(np.float32), requires_grad=True)
    w = st.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32), requires_grad=True)
    with conv2d_algorithm("implicit_gemm"):
        out = F.conv2d(x, w, padding=1)
    function = out._ctx
    loss = (out ** 2).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy(), w.grad.copy()
    assert function.padded_input is not None  # kept for the second pass
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first[0], rtol=1e-5)
    np.testing.assert_allclose(w.grad, 2 * first[1], rtol=1e-5)
    assert function.padded_input is None  # handed back to the scratch pool


def test_implicit_gemm_falls_back_to_im2col_without_blas(monkeypatch) -> None:
    monkeypatch.setattr(_blas, "_GEMM", {})
    assert not _blas.available(np.float32)
    with conv2d_algorithm("implicit_gemm"):
        _check_against_torch((3, 1, 1, 3, 8, 2, 11, 8))
    assert _picked(64, 3, 1, 32) == "im2col"


@needs_blas
def test_implicit_gemm_hands_its_padded_input_back_when_not_recorded(monkeypatch) -> None:
    given = []
    monkeypatch.setattr(conv_module, "give_buffer", lambda a: given.append(a))
    x = np.ones((2, 16, 8, 8), np.float32)
    with conv2d_algorithm("implicit_gemm"), st.no_grad():
        F.conv2d(x, np.ones((16, 16, 3, 3), np.float32), padding=1)
    size = conv_module._Grid(x.shape, ((1, 1), (1, 1)), (3, 3)).size
    assert any(a is not None and a.shape == (16, size) for a in given)  # the gridded input


def _check_against_torch(config) -> None:
    k, s, p, c_in, c_out, n, h, w = config
    kh, kw = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(zlib.crc32(str(config).encode()))
    x = rng.standard_normal((n, c_in, h, w)).astype(np.float32)
    weight = rng.standard_normal((c_out, c_in, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32)
    ours = [st.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = F.conv2d(*ours, stride=s, padding=p)
    expected = TF.conv2d(*theirs, stride=s, padding=p)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-4)
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    for mine, reference, name in zip(ours, theirs, ("input", "weight", "bias")):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-4, atol=1e-3,
                                   err_msg=name)


@pytest.mark.parametrize("config", [(3, 1, 1), (3, 2, 1), (2, 2, 0), (1, 1, 0), (4, 1, "same")])
def test_conv2d_gradcheck(config) -> None:
    k, s, p = config
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, k, k)),
              rng.standard_normal(4)]
    report = gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p), inputs,
                       names=["x", "weight", "bias"])
    assert report.passed, str(report)


def test_conv_output_size_formula() -> None:
    # C3: floor((n + 2p - f) / s) + 1, including the seed's 7x7 / 3x3 / stride 2 example.
    for n, f, p, s in itertools.product(range(3, 12), (1, 2, 3, 5), (0, 1, 2), (1, 2, 3)):
        if n + 2 * p < f:
            continue
        x = np.zeros((1, 1, n, n), dtype=np.float32)
        out = F.conv2d(x, np.zeros((1, 1, f, f), dtype=np.float32), stride=s, padding=p)
        assert out.shape[2] == F.conv_output_size(n, f, p, s) == (n + 2 * p - f) // s + 1
    assert F.conv_output_size(7, 3, 0, 2) == 3


def test_same_padding_keeps_the_size_for_odd_and_even_kernels() -> None:
    x = np.ones((1, 1, 7, 6), dtype=np.float32)
    for f in (1, 2, 3, 4, 5):
        assert F.conv2d(x, np.ones((1, 1, f, f), dtype=np.float32), padding="same").shape == \
            (1, 1, 7, 6)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        F.conv2d(x, np.ones((1, 1, 3, 3), dtype=np.float32), stride=2, padding="same")


def test_edge_filters_find_the_edge() -> None:
    # C1: a bright left half next to a dark right half.
    image = np.zeros((1, 1, 6, 6), dtype=np.float32)
    image[..., :3] = 10
    vertical = st.nn.init.edge_filter("basic", "vertical")[None, None]
    horizontal = st.nn.init.edge_filter("basic", "horizontal")[None, None]
    v = F.conv2d(image, vertical).data[0, 0]
    np.testing.assert_array_equal(v, [[0, 30, 30, 0]] * 4)
    assert (F.conv2d(image, horizontal).data == 0).all()
    sobel = st.nn.init.edge_filter("sobel")
    scharr = st.nn.init.edge_filter("scharr", "horizontal")
    np.testing.assert_array_equal(sobel, [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    np.testing.assert_array_equal(scharr, [[3, 10, 3], [0, 0, 0], [-3, -10, -3]])
    with pytest.raises(ValueError, match="`kind` must be one of 'basic', 'sobel', 'scharr'"):
        st.nn.init.edge_filter("prewitt")


POOLS = [(2, None, 0), (2, 1, 0), (3, 2, 1), (3, 3, 0), ((2, 3), (2, 1), (1, 1)), (1, 1, 0)]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("config", POOLS, ids=str)
def test_pooling_matches_torch(kind, config) -> None:
    k, s, p = config
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    ours, theirs = st.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    reference = TF.max_pool2d if kind == "max" else TF.avg_pool2d
    out = pool(ours, k, s, p)
    expected = reference(theirs, k, s, p)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("config", [(2, 2, 0), (3, 1, 1), (2, 1, 0), (3, 3, 0),
                                    ((2, 3), (2, 3), 0), ((3, 2), None, 0)])
def test_max_pool_ties_route_to_the_first_maximum_like_torch(config) -> None:
    # On MNIST's blank background whole windows tie; PyTorch sends the gradient to
    # the first maximum of each window, and so do we.
    k, s, p = config
    x = np.random.default_rng(1).integers(0, 2, (2, 2, 6, 6)).astype(np.float32)
    x[0, 0] = 0  # a blank channel: every window ties
    ours, theirs = st.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(ours, k, s, p).sum().backward()
    TF.max_pool2d(theirs, k, s, p).sum().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_pooling_gradcheck() -> None:
    x = np.random.default_rng(0).permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) / 200.0
    assert gradcheck(lambda t: F.max_pool2d(t, 2), [x]).passed
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1), [x]).passed
    assert gradcheck(F.global_avg_pool2d, [x]).passed


def test_global_avg_pool_matches_torch() -> None:
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 3)).astype(np.float32)
    expected = TF.adaptive_avg_pool2d(torch.tensor(x), 1).flatten(1).numpy()
    np.testing.assert_allclose(F.global_avg_pool2d(x).data, expected, rtol=1e-6)


@pytest.mark.parametrize("cut", [False, True], ids=["one part", "in parts"])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 2), (1, 2, 3, 3)])
def test_batch_norm_training_and_running_statistics_match_torch(shape, cut, request) -> None:
    if cut:  # each run of channels on its own thread (steepest.ops._parallel)
        request.getfixturevalue("threaded")
    rng = np.random.default_rng(0)
    channels = shape[1]
    gamma, beta = rng.standard_normal(channels), rng.standard_normal(channels)
    ours_mean, ours_var = np.zeros(channels), np.ones(channels)
    theirs_mean = torch.zeros(channels, dtype=torch.float64)
    theirs_var = torch.ones(channels, dtype=torch.float64)
    for step in range(4):  # running statistics after several steps
        x = rng.standard_normal(shape) * (step + 1) + step
        ours = [st.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
        out = F.batch_norm(*ours, ours_mean, ours_var, training=True, momentum=0.9)
        # PyTorch's momentum is 1 - ours.
        expected = TF.batch_norm(theirs[0], theirs_mean, theirs_var, theirs[1], theirs[2],
                                 training=True, momentum=0.1)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-10)
        upstream = rng.standard_normal(shape)
        out.backward(upstream)
        expected.backward(torch.tensor(upstream))
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours_mean, theirs_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_var, theirs_var.numpy(), rtol=1e-12)  # unbiased, as torch


@pytest.mark.parametrize("cut", [False, True], ids=["one part", "in parts"])
def test_batch_norm_eval_mode_matches_torch(cut, request) -> None:
    if cut:
        request.getfixturevalue("threaded")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 4, 4))
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    ours = [st.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    out = F.batch_norm(*ours, mean.copy(), var.copy(), training=False)
    expected = TF.batch_norm(theirs[0], torch.tensor(mean), torch.tensor(var), theirs[1],
                             theirs[2], training=False)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10)


def test_batch_norm_gradcheck() -> None:
    rng = np.random.default_rng(0)
    for shape in [(5, 3), (3, 2, 3, 3)]:
        inputs = [rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape[1]),
                  rng.standard_normal(shape[1])]
        assert gradcheck(lambda x, g, b: F.batch_norm(x, g, b), inputs).passed
        mean, var = np.zeros(shape[1]), np.ones(shape[1])
        assert gradcheck(lambda x, g, b, m=mean, v=var: F.batch_norm(x, g, b, m, v,
                                                                     training=False),
                         inputs).passed


def test_batch_norm_keeps_no_activation_sized_array_of_its_own_for_backward() -> None:
    # Memory: x is held by the graph anyway; x - mu is recomputed in backward rather
    # than kept (one activation per batch norm layer otherwise).
    from steepest.ops.norm import BatchNormFunction

    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    for training in (True, False):
        fn = BatchNormFunction(np.zeros(3, np.float32), np.ones(3, np.float32), training,
                               0.9, 1e-5)
        out = fn.forward(x, np.ones(3, np.float32), np.zeros(3, np.float32))
        kept = [v for v in vars(fn).values() if isinstance(v, np.ndarray)]
        big = [v for v in kept if v.size == x.size]
        assert len(big) == 1 and big[0] is x and not np.shares_memory(out, x)


# ------------------------------------------------------------------ bad input
def test_conv_errors_name_the_numbers() -> None:
    x = np.zeros((1, 1, 3, 3), dtype=np.float32)
    with pytest.raises(ShapeError, match=r"kernel height 5 is larger than the padded input "
                                         r"height 3 \(= 3 \+ 0 \+ 0\); floor\(\(n \+ 2p - f\) / s"
                                         r"\) \+ 1 = floor\(\(3 \+ 0 - 5\) / 1\) \+ 1 = -1"):
        F.conv2d(x, np.zeros((1, 1, 5, 5), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"^conv2d: input has 1 channels \(shape \(1, 1, 3, 3\)\); "
                                         r"expected 3, the in_channels of `weight` "
                                         r"\(2, 3, 1, 1\)$"):
        F.conv2d(x, np.zeros((2, 3, 1, 1), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"^conv2d: expected a 4-D input \(N, C, H, W\); got shape "
                                         r"\(1, 3, 3\) \(add the batch axis: x\[None\]\)$"):
        F.conv2d(np.zeros((1, 3, 3), dtype=np.float32), np.zeros((1, 1, 1, 1), np.float32))
    with pytest.raises(ShapeError, match=r"^MyConv: expected a 4-D input"):
        F.conv2d(np.zeros((3, 3), dtype=np.float32), np.zeros((1, 1, 1, 1), np.float32),
                 owner="MyConv")
    with pytest.raises(ValueError, match=r"^MyConv: `stride` must be a positive int"):
        F.conv2d(x, np.zeros((1, 1, 1, 1), dtype=np.float32), stride=0, owner="MyConv")
    with pytest.raises(ValueError, match="`stride` must be a positive int or a pair"):
        F.conv2d(x, np.zeros((1, 1, 1, 1), dtype=np.float32), stride=0)
    with pytest.raises(ValueError, match="`padding` must be a non-negative int or a pair"):
        F.conv2d(x, np.zeros((1, 1, 1, 1), dtype=np.float32), padding=-1)
    with pytest.raises(ValueError, match="`padding` must be an int, a pair, 'valid' or 'same'"):
        F.conv2d(x, np.zeros((1, 1, 1, 1), dtype=np.float32), padding="full")


def test_pool_errors() -> None:
    x = np.zeros((1, 1, 3, 3), dtype=np.float32)
    with pytest.raises(ShapeError, match=r"kernel height 4 is larger than the padded input "
                                         r"height 3"):
        F.max_pool2d(x, 4)
    with pytest.raises(ShapeError, match="input must be 4-D"):
        F.avg_pool2d(np.zeros((3, 3)), 2)
    with pytest.raises(ValueError, match="more than half the window"):
        F.max_pool2d(x, 2, padding=2)


def test_batch_norm_errors() -> None:
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(st.tensor(np.zeros((1, 3))), st.tensor(np.ones(3)), st.tensor(np.zeros(3)))
    with pytest.raises(ShapeError, match=r"`gamma` must have shape \(3,\)"):
        F.batch_norm(st.tensor(np.zeros((4, 3))), st.tensor(np.ones(2)), st.tensor(np.zeros(3)))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_no_path_reads_scratch_it_did_not_write(algorithm, monkeypatch) -> None:
    # Scratch arrays come from a pool and hold old numbers: hand out NaN-filled ones,
    # so any position read before it is written (a border left unzeroed) shows.
    real_take = conv_module.take_buffer

    def poisoned(like, shape, dtype):
        array = real_take(like, shape, dtype)
        array[...] = np.nan
        return array

    for module in (conv_module, winograd, _layout):
        monkeypatch.setattr(module, "take_buffer", poisoned)
    with conv2d_algorithm(algorithm):
        for config in [(3, 1, 1, 3, 8, 2, 11, 8), (2, 1, "same", 3, 8, 2, 6, 21),
                       (5, 1, 2, 3, 8, 2, 9, 9), (1, 1, 0, 8, 3, 1, 9, 9),
                       (3, 1, 1, 3, 8, 16, 7, 6)]:
            _check_against_torch(config)


def test_an_empty_batch_gives_an_empty_output_and_zero_gradients_as_in_torch() -> None:
    x = st.tensor(np.zeros((0, 3, 5, 5), np.float32), requires_grad=True)
    w = st.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    b = st.tensor(np.ones(4, np.float32), requires_grad=True)
    out = F.conv2d(x, w, b, padding=1)
    expected = TF.conv2d(torch.zeros(0, 3, 5, 5), torch.ones(4, 3, 3, 3), padding=1)
    assert out.shape == tuple(expected.shape) == (0, 4, 5, 5)
    out.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5)
    assert not w.grad.any() and not b.grad.any() and w.grad.dtype == np.float32


@pytest.mark.parametrize("x_shape, w_shape", [((2, 0, 5, 5), (4, 0, 3, 3)),
                                              ((2, 3, 5, 5), (0, 3, 3, 3)),
                                              ((2, 3, 0, 5), (4, 3, 1, 1))])
def test_zero_channels_filters_or_rows_are_refused_clearly(x_shape, w_shape) -> None:
    with pytest.raises(ShapeError, match="needs at least one input channel, filter, row and "
                                         "column"):
        F.conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), padding=1)


def test_each_thread_has_its_own_conv2d_algorithm() -> None:
    both_inside = threading.Barrier(2, timeout=30)
    picked = {}

    def worker(name: str) -> None:
        with conv2d_algorithm(name):
            both_inside.wait()  # both blocks are open at once
            picked[name] = _picked(256, 3, 1, 8)
            both_inside.wait()  # neither closes before the other has picked

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("im2col", "winograd")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert picked == {"im2col": "im2col", "winograd": "winograd"}
