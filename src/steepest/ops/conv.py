"""Convolution and pooling on NCHW batches (concepts C1-C7, K5).

What deep learning calls convolution is cross-correlation: the filter slides over
the (zero-padded) image without being flipped, and each output is the sum of the
elementwise products (C1, C3). With input size n, filter f, padding p and stride s
the output size is floor((n + 2p - f) / s) + 1 (C3). A filter spans every input
channel, and each filter makes one output channel (C4).

How it is computed: im2col. For each of the f*f filter offsets one strided slice of
the padded input is copied into a column matrix of shape (C*KH*KW, N*OH*OW) --
channel-major columns, which are several times faster to build and scatter back
than example-major ones, with the batch axis placed where the copies are longest
(see :class:`steepest.ops._layout.Layout`) -- and one matrix product with the
filters (F, C*KH*KW) gives every output at once. The backward pass is two more
products and the reverse scatter (col2im). The loops run over filter offsets only
(9 for a 3x3 filter), never over pixels or examples. Three faster paths: 1x1 filters
as one product per image (pointwise); Winograd's F(4x4, 3x3) (and F(2x2, 3x3)) for
3x3 filters with many channels on maps of 8x8 or more; and, at stride 1 on larger
maps, an implicit GEMM that multiplies shifted views of the padded input directly
through BLAS (no columns; see :class:`_Grid`). A cost model picks per call and
:func:`conv2d_algorithm` forces one. Large scratch arrays come from the
backend's workspace, so a training loop does not pay page faults for them on
every step.

Pooling (C7) takes the max or mean over strided views of each window position,
again looping over window offsets only. The max-pool gradient goes to one maximum
per window, the first in row-major order, as in PyTorch.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

from .._validation import ShapeError, fmt_shape, pair
from ..autograd import Function, Tensor, apply_unary
from ..backend import array_module, get_default_dtype, give_buffer, take_buffer
from . import _blas, _parallel, winograd
from ._layout import Layout, copy_to_nchw
from .linalg import matmul_nt

Padding = int | tuple[int, int] | Literal["valid", "same"]


def _result_dtype(*arrays: Any) -> Any:
    """The dtype NumPy's promotion gives ``arrays`` together."""
    return np.result_type(*(a.dtype for a in arrays))


# ------------------------------------------------------------------ sizes (C2, C3)
def conv_output_size(n: int, f: int, p: int, s: int) -> int:
    """floor((n + 2p - f) / s) + 1, the output length of a convolution or pooling (C3).

    Example:
        >>> conv_output_size(6, 3, 0, 1), conv_output_size(7, 3, 0, 2)
        (4, 3)
    """
    return (n + 2 * p - f) // s + 1


def resolve_padding(owner: str, padding: Any, kernel: tuple[int, int], stride: tuple[int, int]
                    ) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) zero padding from an int, a pair, "valid" or "same".

    "valid" is no padding. "same" keeps the size at stride 1: p = (f - 1) / 2 on each
    side for an odd f; for an even f the f - 1 padding cannot be split evenly and the
    extra row/column goes to the bottom/right (as in PyTorch and TensorFlow).

    Example:
        >>> resolve_padding("conv2d", "same", (3, 4), (1, 1))
        ((1, 1), (1, 2))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{owner}: padding='same' needs stride 1 (got stride {stride}); "
                                 "with a stride the output cannot keep the input size")
            total = (kernel[0] - 1, kernel[1] - 1)
            return ((total[0] // 2, total[0] - total[0] // 2),
                    (total[1] // 2, total[1] - total[1] // 2))
        raise ValueError(f"{owner}: `padding` must be an int, a pair, 'valid' or 'same'; got "
                         f"{padding!r}")
    ph, pw = pair(owner, "padding", padding, minimum=0)
    return (ph, ph), (pw, pw)


def _output_shape(owner: str, height: int, width: int, kernel: tuple[int, int],
                  stride: tuple[int, int], pads: tuple[tuple[int, int], tuple[int, int]]
                  ) -> tuple[int, int]:
    sizes = []
    for axis, n, f, s, (before, after) in (("height", height, kernel[0], stride[0], pads[0]),
                                           ("width", width, kernel[1], stride[1], pads[1])):
        padded = n + before + after
        if f > padded:
            raise ShapeError(
                f"{owner}: the kernel {axis} {f} is larger than the padded input {axis} "
                f"{padded} (= {n} + {before} + {after}); floor((n + 2p - f) / s) + 1 = "
                f"floor(({n} + {before + after} - {f}) / {s}) + 1 = "
                f"{(padded - f) // s + 1} is not a positive size"
            )
        sizes.append((padded - f) // s + 1)
    return sizes[0], sizes[1]


def _window(offset: int, size: int, stride: int) -> slice:
    """The strided slice of a padded axis that filter offset ``offset`` reads."""
    return slice(offset, offset + stride * (size - 1) + 1, stride)


def _im2col(padded: Any, layout: Layout, kernel: tuple[int, int], out_size: tuple[int, int],
            stride: tuple[int, int]) -> Any:
    """Columns (C, KH, KW, *dims): one strided copy per filter offset."""
    (kh, kw), (oh, ow), (sh, sw) = kernel, out_size, stride
    c = padded.shape[0]
    n = layout.batch(padded.shape)
    columns = take_buffer(padded, (c, kh, kw, *layout.dims(n, oh, ow)), padded.dtype)

    def channels(start: int, stop: int) -> None:
        source, target = padded[start:stop], columns[start:stop]
        for i in range(kh):
            for j in range(kw):
                target[:, i, j] = layout.window(source, _window(i, oh, sh), _window(j, ow, sw))
    _parallel.run_over(channels, c, columns)
    return columns


# ------------------------------------------------------------------ conv2d
ConvAlgorithm = Literal["auto", "im2col", "pointwise", "winograd", "winograd_4x4",
                       "implicit_gemm"]
_ALGORITHMS = ("auto", "im2col", "pointwise", "winograd", "winograd_4x4", "implicit_gemm")
# Each Winograd algorithm's transforms (see steepest.ops.winograd).
_WINOGRAD = {"winograd": winograd.F2, "winograd_4x4": winograd.F4}


class _AlgorithmStack(threading.local):
    """Each thread's stack of :func:`conv2d_algorithm` choices (one thread's ``with``
    block never decides another's convolutions)."""

    def __init__(self) -> None:
        self.choices: list[ConvAlgorithm] = ["auto"]


_ALGORITHM = _AlgorithmStack()


@contextlib.contextmanager
def conv2d_algorithm(name: ConvAlgorithm) -> Iterator[None]:
    """Choose how ``conv2d`` multiplies inside a ``with`` block (tests and benchmarks).

    "auto" (the default) lets a cost model pick per call; "im2col" is the reference
    path for every convolution; "pointwise" multiplies 1x1 filters straight into each
    image (1x1 filters, no padding, any stride) and uses im2col elsewhere; "winograd"
    and "winograd_4x4" use F(2x2, 3x3) and F(4x4, 3x3) wherever they apply (3x3
    filters, stride 1) and im2col elsewhere; "implicit_gemm" multiplies shifted views
    of the padded input wherever it applies (stride 1, float32 or float64 NumPy arrays,
    NumPy's bundled OpenBLAS) and uses im2col elsewhere.

    Example:
        >>> import numpy as np
        >>> x, w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))
        >>> with conv2d_algorithm("winograd"):
        ...     conv2d(x, w, padding=1).data[0, 0, 0, :2]
        array([ 8., 12.])
    """
    if name not in _ALGORITHMS:
        raise ValueError(f"conv2d_algorithm: `name` must be one of "
                         f"{', '.join(map(repr, _ALGORITHMS))}; got {name!r}")
    _ALGORITHM.choices.append(name)
    try:
        yield
    finally:
        _ALGORITHM.choices.pop()


# Keep im2col's columns for backward while they are at most this many times the input,
# or small whatever the ratio (a LeNet-5 layer's few MB); beyond both, rebuild them in
# backward (one more strided copy, far less memory: a ResNet's columns are 9 times its
# activations, hundreds of MB).
_KEEP_COLUMNS_FACTOR = 4
_KEEP_COLUMNS_BYTES = 16 << 20


def _implicit_gemm_pays(c: int, f: int, waste: float) -> bool:
    """The cost model for the implicit GEMM: it reads the input once instead of writing and
    reading K*K copies of it, but its products also run over the grid's border
    positions, which are thrown away (``waste`` grid positions per output), and each
    product's inner axis is only C long. Measured forward + backward of 3x3 layers at
    batch 32 (benchmarks/bench_cnn.py (d), 2 cores, three runs): 1.4x faster than
    im2col at 16 channels and 1.5x at 64 on 32x32 maps (1.06 positions per output),
    1.2x at 128 on 16x16 (1.13); 1.05-1.1x slower than im2col and Winograd at 256 on
    8x8 (1.27) and 1.3x at 512 on 4x4 (1.56); slower than im2col at 3 input channels
    and on LeNet-5's 14x14 "valid" layer (1.96). So: at least 16 channels in and out
    and at most 1.2 positions per output."""
    return min(c, f) >= 16 and waste <= 1.2


def _choose_method(x: Any, channels: tuple[int, int], kernel: tuple[int, int],
                   stride: tuple[int, int], pads: tuple[tuple[int, int], tuple[int, int]],
                   out_size: tuple[int, int]) -> str:
    """im2col, pointwise, Winograd or the implicit GEMM, as :func:`conv2d_algorithm` and
    the cost models say; the others than im2col only where they apply (1x1 filters and
    no padding for pointwise, at any stride; stride 1 for the rest; 3x3 filters for
    Winograd; float32/float64 NumPy arrays, NumPy's OpenBLAS and no side padded by a
    whole filter or more for the implicit GEMM).

    Pointwise needs no layout copies in forward, but each image's product reads the
    whole weight matrix. Forward + backward (benchmarks/bench_cnn.py (e), 2 cores):
    ResNet-18's shortcuts at stride 2 took 0.57-0.91 of im2col's time (5.9 against
    10.4 ms at 64 -> 128 channels on 32x32); stride-1 bottleneck layers on 16x16 maps
    tied the implicit GEMM and took 0.6-0.7 of im2col's, on 4x4 maps all tied, and on
    2x2 maps pointwise took 1.8 times im2col's. So: from 16 output positions an image.
    """
    choice = _ALGORITHM.choices[-1]
    if choice == "im2col":
        return "im2col"
    if (kernel == (1, 1) and pads == ((0, 0), (0, 0)) and choice in ("auto", "pointwise")
            and (choice == "pointwise" or math.prod(out_size) >= 16)):
        return "pointwise"
    if choice == "pointwise" or stride != (1, 1):
        return "im2col"
    # Winograd's transforms hold fractions (1/6, 1/24): never for integer arrays.
    winograd_fits = kernel == (3, 3) and x.dtype.kind in "fc"
    implicit_fits = (array_module(x) is np and _blas.available(x.dtype)
                     and _Grid.applies(pads, kernel))
    if choice != "auto":
        fits = implicit_fits if choice == "implicit_gemm" else winograd_fits
        return choice if fits else "im2col"
    # (Its timings are float32's; float16 has no BLAS product and rounds worse.)
    if (winograd_fits and x.dtype in (np.float32, np.float64)
            and _winograd_pays(*channels, x.shape[0], out_size)):
        return "winograd_4x4"
    outputs = x.shape[0] * math.prod(out_size)
    if implicit_fits and outputs and _implicit_gemm_pays(
            *channels, _Grid(x.shape, pads, kernel).length / outputs):
        return "implicit_gemm"
    return "im2col"


class _Grid:
    """The implicit GEMM's layout of a padded batch, per channel and flattened: the
    images one under another, each row W + g numbers long (g = the wider of the left and
    right borders) and each image H + gv rows (gv likewise), so neighbouring rows and
    images share their zero borders.

    In this layout, filter offset (i, j) of the output at grid position q reads the input
    at q + base + i * (W + g) + j: a window that runs off a row's right end reads the
    next row's left border, which is zero, and one that runs off an image's bottom reads
    the zero rows above the next image. So each offset's input is a *view* (a shift) of
    the flat array, and the outputs over all grid positions are a sum of matrix
    products; the positions outside the real H x W outputs (g columns per row, gv rows
    per image) are computed and thrown away.
    """

    def __init__(self, shape: tuple[int, ...], pads: tuple[tuple[int, int], tuple[int, int]],
                 kernel: tuple[int, int]) -> None:
        n, _, h, w = shape
        (top, bottom), (left, right) = pads
        self.n, self.h, self.w = n, h, w
        self.gap_rows, self.gap = max(top, bottom), max(left, right)
        self.rows, self.width = h + self.gap_rows, w + self.gap  # per image, per row
        self.length = n * self.rows * self.width  # grid positions (outputs and waste)
        self.start = self.gap_rows * self.width  # where the first image's rows begin
        base = (self.gap_rows - top) * self.width + self.gap - left
        self.shifts = [base + i * self.width + j for i in range(kernel[0])
                       for j in range(kernel[1])]
        # The flat input: the images and the trailing zeros the last shifts read.
        self.size = max(self.shifts[-1], self.start) + self.length

    @staticmethod
    def applies(pads: tuple[tuple[int, int], tuple[int, int]], kernel: tuple[int, int]) -> bool:
        """Whether every output fits in an image's rows and columns of the grid (not so
        when both sides of an axis are padded by a whole filter or more)."""
        return all(min(pad) <= k - 1 for pad, k in zip(pads, kernel))

    def _images(self, flat: Any) -> Any:
        """(C, N, H + gv, W + g): each image with the borders below and left of it."""
        return flat[:, self.start:self.start + self.length].reshape(
            -1, self.n, self.rows, self.width)

    def fill(self, x: Any) -> Any:
        """A scratch-pool array (C, size) holding x (N, C, H, W) in this layout."""
        flat = take_buffer(x, (x.shape[1], self.size), x.dtype)
        images = self._images(flat)
        flat[:, :self.start] = 0  # the top border of the first image
        flat[:, self.start + self.length:] = 0  # below the last image
        images[:, :, self.h:] = 0  # the rows between images
        images[:, :, :self.h, :self.gap] = 0  # the columns between rows
        _parallel.assign(images[:, :, :self.h, self.gap:], x.transpose(1, 0, 2, 3))
        return flat

    def spread(self, grad: Any) -> Any:
        """A scratch-pool array (F, length) holding an output gradient (N, F, OH, OW) at
        the output positions of the grid and zeros at the thrown-away ones."""
        n, f, oh, ow = grad.shape
        flat = take_buffer(grad, (f, self.length), grad.dtype)
        on_grid = flat.reshape(f, n, self.rows, self.width)
        on_grid[:, :, oh:] = 0
        on_grid[:, :, :oh, ow:] = 0
        _parallel.assign(on_grid[:, :, :oh, :ow], grad.transpose(1, 0, 2, 3))
        return flat

    def inputs(self, flat: Any) -> Any:
        """The (C, N, H, W) view of the input positions of a flat array."""
        return self._images(flat)[:, :, :self.h, self.gap:]

    def outputs(self, grid: Any, out_size: tuple[int, int]) -> Any:
        """The (F, N, OH, OW) view of the real outputs of an (F, length) grid array."""
        return grid.reshape(-1, self.n, self.rows, self.width)[:, :, :out_size[0], :out_size[1]]


def _winograd_pays(c: int, f: int, n: int, out_size: tuple[int, int]) -> bool:
    """The cost model for F(4x4, 3x3): it does a quarter of im2col's multiplications,
    but its transforms read and write the data (36 values per 16 outputs and channel)
    and the filters (36 values per 9) several times, which in NumPy costs as much as
    the saved products unless the channel counts and the batch are large. Measured
    forward + backward of 3x3 layers (benchmarks/bench_cnn.py (d) and a grid like it;
    2 cores, Intel), at batch 32: 30.3 ms against the implicit GEMM's 44.3 at 128
    channels on 16x16 maps, 24.4 against F(2x2, 3x3)'s 29.6 at 256 on 8x8, 9.1
    against im2col's 11.4 at 128 on 8x8; at batch 8, 4.7 against im2col's 3.8 (128 on
    8x8). At 64 channels on 32x32 it ties the implicit GEMM (44.5-47.1 against
    46.8-48.5 ms) but would keep 2.25 times the input for backward, 75 MB more in a
    ResNet-18. So: at least 128 channels in and out, maps of 8x8 or more and 2,048
    outputs per channel.

    F(2x2, 3x3) is never picked. It beat im2col only at 512 channels on 4x4 maps at
    batch 32 (27.4-30.9 against 33.5-35.9 ms), which made no measurable difference
    to a ResNet-18 step but raised its peak memory from 718 to 741 MiB (its filter
    transforms are 16/9 of the weights, 17 MB at 512 channels), to PyTorch's level.
    """
    return min(c, f) >= 128 and min(out_size) >= 8 and n * math.prod(out_size) >= 2048


class Conv2dFunction(Function):
    saves_output = False
    padded_input: Any = None  # the implicit GEMM's saved input (a scratch-pool array)
    v: Any = None  # Winograd's saved transformed input (a scratch-pool array)

    def __init__(self, stride: tuple[int, int], padding: Any, owner: str = "conv2d") -> None:
        self.stride, self.padding, self.owner = stride, padding, owner

    def forward(self, x: Any, weight: Any, bias: Any = None) -> Any:
        owner = self.owner
        if x.ndim != 4:
            hint = " (add the batch axis: x[None])" if x.ndim == 3 else ""
            raise ShapeError(f"{owner}: expected a 4-D input (N, C, H, W); got shape "
                             f"{fmt_shape(x.shape)}{hint}")
        if weight.ndim != 4:
            raise ShapeError(f"{owner}: `weight` must be 4-D (out_channels, in_channels, kh, kw); "
                             f"got shape {fmt_shape(weight.shape)}")
        n, c, h, w = x.shape
        f, c_w, kh, kw = weight.shape
        if c != c_w:
            raise ShapeError(f"{owner}: input has {c} channels (shape {fmt_shape(x.shape)}); "
                             f"expected {c_w}, the in_channels of `weight` "
                             f"{fmt_shape(weight.shape)}")
        if bias is not None and bias.shape != (f,):
            raise ShapeError(f"{owner}: `bias` must have shape ({f},); got {fmt_shape(bias.shape)}")
        # Promote as NumPy would (uint8 images with float32 filters give float32): the
        # scratch buffers below take the input's dtype, and ints cannot hold the sums.
        dtype = _result_dtype(x, weight)
        x, weight = x.astype(dtype, copy=False), weight.astype(dtype, copy=False)
        pads = resolve_padding(owner, self.padding, (kh, kw), self.stride)
        oh, ow = _output_shape(owner, h, w, (kh, kw), self.stride, pads)
        if not (c and f and h and w):
            raise ShapeError(f"{owner}: needs at least one input channel, filter, row and "
                             f"column; got input {fmt_shape(x.shape)} and `weight` "
                             f"{fmt_shape(weight.shape)}")
        if n == 0:  # an empty batch gives an empty output, as in PyTorch
            self.method, self.shape, self.weight = "empty", x.shape, weight
            self.has_bias, self.x, self.columns = bias is not None, None, None
            return array_module(x).zeros((0, f, oh, ow), dtype=dtype)
        self.method = _choose_method(x, (c, f), (kh, kw), self.stride, pads, (oh, ow))
        if self.method == "pointwise":
            return self._pointwise_forward(x, weight, bias)
        if self.method in _WINOGRAD:
            return self._winograd_forward(x, weight, bias, pads, (oh, ow))
        if self.method == "implicit_gemm":
            return self._implicit_forward(x, weight, bias, pads, (oh, ow))
        layout = Layout.for_width(ow)
        padded = layout.padded(x, pads)  # (C, N, Hp, Wp) or (C, Hp, Wp, N)
        columns = _im2col(padded, layout, (kh, kw), (oh, ow), self.stride)  # (C, KH, KW, ...)
        give_buffer(padded)
        out = take_buffer(x, (f, *layout.dims(n, oh, ow)), x.dtype)
        _parallel.matmul(weight.reshape(f, -1), columns.reshape(c * kh * kw, -1),
                         out.reshape(f, -1))  # (F, N*OH*OW)
        result = layout.to_nchw(out)  # (N, F, OH, OW)
        if bias is not None:
            result += bias.reshape(1, f, 1, 1)
        give_buffer(out)
        self.shape, self.pads, self.weight, self.layout = x.shape, pads, weight, layout
        self.has_bias = bias is not None
        self.x = None
        if columns.nbytes > max(_KEEP_COLUMNS_FACTOR * x.nbytes, _KEEP_COLUMNS_BYTES):
            # The columns hold each input value K*K/stride^2 times: keeping them for
            # backward would make a deep network's memory several times PyTorch's.
            # Keep the input instead and rebuild the columns in backward.
            give_buffer(columns)
            columns, self.x = None, x
        self.columns = columns
        return result

    def _pointwise_forward(self, x: Any, weight: Any, bias: Any) -> Any:
        """1x1 filters, no padding: each image's (F, C) @ (C, OH*OW) product lands in NCHW
        order, so forward copies no more than the strided subsample at stride > 1 (and
        a non-contiguous input)."""
        xp = array_module(x)
        n, c = x.shape[:2]
        f = weight.shape[0]
        sh, sw = self.stride
        taken = xp.ascontiguousarray(x[:, :, ::sh, ::sw])  # (N, C, OH, OW); x at stride 1
        out = xp.empty((n, f, *taken.shape[2:]), dtype=x.dtype)
        _parallel.matmul(xp.broadcast_to(weight.reshape(f, c), (n, f, c)),
                         taken.reshape(n, c, -1), out.reshape(n, f, -1))
        if bias is not None:
            out += bias.reshape(1, f, 1, 1)
        self.shape, self.weight, self.has_bias = x.shape, weight, bias is not None
        self.x, self.columns = taken, None
        return out

    def _pointwise_backward(self, grad: Any) -> tuple[Any, ...]:
        """dW sums each image's dY X^T, as one product over the batch (both moved channel
        first); dX is each image's W^T dY, spread back to the strided positions."""
        need_x, need_w = self.needs_input_grad[:2]
        xp = array_module(grad)
        taken: Any = self.x
        n, c = taken.shape[:2]
        f = self.weight.shape[0]
        grad = xp.ascontiguousarray(grad.astype(taken.dtype, copy=False))
        grad_w = grad_x = None
        if need_w:
            layout = Layout(batch_last=False)
            grad_t = take_buffer(grad, (f, n, *grad.shape[2:]), grad.dtype)
            layout.assign_from_nchw(grad_t, grad)
            taken_t = take_buffer(taken, (c, n, *taken.shape[2:]), taken.dtype)
            layout.assign_from_nchw(taken_t, taken)
            grad_w = matmul_nt(grad_t.reshape(f, -1), taken_t.reshape(c, -1))
            grad_w = grad_w.reshape(self.weight.shape)
            give_buffer(grad_t)
            give_buffer(taken_t)
        if need_x:
            grad_taken = xp.empty(taken.shape, dtype=grad.dtype)
            _parallel.matmul(xp.broadcast_to(self.weight.reshape(f, c).T, (n, c, f)),
                             grad.reshape(n, f, -1), grad_taken.reshape(n, c, -1))
            if self.stride == (1, 1):
                grad_x = grad_taken
            else:
                grad_x = xp.zeros(self.shape, dtype=grad.dtype)
                grad_x[:, :, ::self.stride[0], ::self.stride[1]] = grad_taken
        if self.has_bias:
            return grad_x, grad_w, grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w

    def _implicit_forward(self, x: Any, weight: Any, bias: Any,
                          pads: tuple[tuple[int, int], tuple[int, int]],
                          out_size: tuple[int, int]) -> Any:
        """Stride 1 with no columns: the outputs over the whole grid are the sum, over
        filter offsets, of that offset's (F, C) filter tap times a shifted view of the
        padded input, each product added in place by BLAS (see :class:`_Grid`)."""
        f, c, kh, kw = weight.shape
        grid = _Grid(x.shape, pads, (kh, kw))
        inputs = grid.fill(x)
        taps = np.ascontiguousarray(weight.transpose(2, 3, 0, 1)).reshape(kh * kw, f, c)
        outputs = take_buffer(x, (f, grid.length), x.dtype)

        def positions(start: int, stop: int) -> None:  # every tap, on a stretch of the grid
            for t, shift in enumerate(grid.shifts):
                _blas.gemm(taps[t], inputs[:, shift + start:shift + stop],
                           outputs[:, start:stop], accumulate=t > 0)
        _parallel.run(positions, _parallel.spans(
            grid.length, _parallel.parts(weight.size * grid.length, _parallel.SPLIT_MACS), 64))
        result = copy_to_nchw(grid.outputs(outputs, out_size))
        give_buffer(outputs)
        if bias is not None:
            result += bias.reshape(1, f, 1, 1)
        self.shape, self.pads, self.weight = x.shape, pads, weight
        self.has_bias, self.x, self.columns = bias is not None, None, None
        # The input in the grid (its size plus the shared borders) is all backward needs.
        self.grid, self.padded_input, self.taps = grid, inputs, taps
        return result

    def _implicit_backward(self, grad: Any) -> tuple[Any, ...]:
        """The adjoints of the shifted products: dW's tap (i, j) is the output gradient
        times the shifted input, transposed; dx adds each tap's transpose times the
        output gradient back at its shift (col2im with no columns)."""
        need_x, need_w = self.needs_input_grad[:2]
        grid, inputs, taps = self.grid, self.padded_input, self.taps
        f, c, kh, kw = self.weight.shape
        grad = grad.astype(inputs.dtype, copy=False)
        spread = grid.spread(grad)  # zero at the thrown-away positions: they add nothing
        grad_w = grad_x = None
        macs = self.weight.size * grid.length
        if need_w:
            # Each part sums the taps' products over its own stretch of the grid (as
            # many stretches whether or not the threads are on: the same rounding).
            stretches = _parallel.spans(grid.length, _parallel.sum_parts(macs), 64)
            per_tap = [np.empty((kh * kw, f, c), dtype=inputs.dtype) for _ in stretches]

            def weights(part: int, start: int, stop: int) -> None:
                for t, shift in enumerate(grid.shifts):
                    _blas.gemm(spread[:, start:stop], inputs[:, shift + start:shift + stop].T,
                               per_tap[part][t])
            _parallel.run(weights, [(i, *stretch) for i, stretch in enumerate(stretches)])
            for extra in per_tap[1:]:
                per_tap[0] += extra
            grad_w = per_tap[0].reshape(kh, kw, f, c).transpose(2, 3, 0, 1).copy()
        if need_x:
            # Every input position lies in [shifts[0], shifts[0] + length), which the
            # first (unshifted) product overwrites; the borders are never read back.
            # Each part adds every tap into its own stretch of those positions.
            scattered = take_buffer(inputs, inputs.shape, inputs.dtype)
            first = grid.shifts[0]

            def inputs_at(start: int, stop: int) -> None:
                for t, shift in enumerate(grid.shifts):
                    low, high = max(start, shift), min(stop, shift + grid.length)
                    if high > low:
                        _blas.gemm(taps[t].T, spread[:, low - shift:high - shift],
                                   scattered[:, low:high], accumulate=t > 0)
            count = _parallel.parts(macs, _parallel.SPLIT_MACS)
            _parallel.run(inputs_at, [(first + a, first + b)
                                      for a, b in _parallel.spans(grid.length, count, 64)])
            grad_x = copy_to_nchw(grid.inputs(scattered))
            give_buffer(scattered)
        give_buffer(spread)
        if not self.retain_graph:
            give_buffer(self.padded_input)
            self.padded_input = None
        if self.has_bias:
            return grad_x, grad_w, grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w

    def _winograd_forward(self, x: Any, weight: Any, bias: Any,
                          pads: tuple[tuple[int, int], tuple[int, int]],
                          out_size: tuple[int, int]) -> Any:
        """F(m x m, 3x3) (see :mod:`steepest.ops.winograd`); keeps V for backward."""
        n = x.shape[0]
        f = weight.shape[0]
        transform = self.transform = _WINOGRAD[self.method]
        self.tiles, self.shape, self.pads = transform.tiles(*out_size), x.shape, pads
        # Batch last for batches of 16 or more: each tile copy then moves rows of N
        # numbers instead of single ones m apart (F(4x4, 3x3), forward + backward at
        # 32x128x16x16: 30.6 against 36.0 ms; at 4x64x56x56 it costs 33 against 27 ms).
        self.layout = Layout(batch_last=n >= 16)
        self.x, self.weight, self.has_bias, self.columns = None, weight, bias is not None, None
        v = self._transformed_input(x)
        u = winograd.transform_filters(weight, transform)
        m = take_buffer(v, (v.shape[0], f, v.shape[2]), v.dtype)
        _parallel.matmul(u, v, m)
        give_buffer(u)
        result = winograd.output_from_tiles(m, (n, f, *out_size), self.tiles, transform,
                                            self.layout)
        give_buffer(m)
        if bias is not None:
            result += bias.reshape(1, f, 1, 1)
        # Backward's weight gradient multiplies by the same V: kept rather than
        # transformed again (a ResNet-18 step 0.67-0.72 s against 0.72-0.75 s). V is 2.25
        # times the input for F(4x4, 3x3), 42 MB over ResNet-18's six such layers at
        # batch 32, and the run's peak memory stays below PyTorch's (715-723 against
        # 741-746 MiB, benchmarks/bench_memory.py). Keeping U as well (4 times the
        # weights, 35 MB more) gained nothing measurable and reached PyTorch's peak, so
        # backward transforms the filters again.
        self.v = v
        return result

    def _transformed_input(self, x: Any) -> Any:
        """V (t^2, C, T), a scratch-pool array (hand it back)."""
        (top, _), (left, _) = self.pads
        _, _, h, w = x.shape
        th, tw = self.tiles
        m = self.transform.m
        # Zero borders: the convolution's padding, plus what rounds the output up to
        # whole m x m tiles (those extra outputs are cropped).
        padded = self.layout.padded(
            x, ((top, m * th + 2 - h - top), (left, m * tw + 2 - w - left)))  # C first
        self.padded_shape = padded.shape
        v = winograd.transform_input(padded, self.tiles, self.transform, self.layout)
        give_buffer(padded)
        return v

    def _winograd_backward(self, grad: Any) -> tuple[Any, ...]:
        """The adjoint of the forward transforms and products."""
        need_x, need_w = self.needs_input_grad[:2]
        _, c, h, w = self.shape
        f = self.weight.shape[0]
        transform = self.transform
        dm = winograd.grad_of_tiles(grad, self.tiles, transform, self.layout)  # (t^2, F, T)
        grad_w = grad_x = None
        if need_w:
            du = take_buffer(dm, (dm.shape[0], f, c), dm.dtype)
            _parallel.matmul(dm, self.v.transpose(0, 2, 1), du)  # (t^2, F, C)
            grad_w = winograd.grad_of_filters(du, (f, c), transform)
            give_buffer(du)
        if need_x:
            u = winograd.transform_filters(self.weight, transform)
            dv = take_buffer(dm, (dm.shape[0], c, dm.shape[2]), dm.dtype)
            _parallel.matmul(u.transpose(0, 2, 1), dm, dv)  # (t^2, C, T)
            give_buffer(u)
            padded = winograd.grad_of_input(dv, self.padded_shape, self.tiles, transform,
                                            self.layout)
            give_buffer(dv)
            (top, _), (left, _) = self.pads
            grad_x = self.layout.to_nchw(self.layout.window(padded, slice(top, top + h),
                                                            slice(left, left + w)))
            give_buffer(padded)
        give_buffer(dm)
        if not self.retain_graph:
            self.discard()
        if self.has_bias:
            return grad_x, grad_w, grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w

    def discard(self) -> None:
        # Not recorded (or its last backward has run): hand back what forward saved.
        self.x = None
        for saved in (self.columns, self.padded_input, self.v):
            give_buffer(saved)
        self.columns = self.padded_input = self.v = None

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if self.method == "empty":  # nothing flowed through: zero gradients
            xp = array_module(grad)
            grads = (xp.zeros(self.shape, grad.dtype), xp.zeros_like(self.weight))
            return (*grads, xp.zeros(self.weight.shape[0], grad.dtype)) if self.has_bias \
                else grads
        if self.method == "pointwise":
            return self._pointwise_backward(grad)
        if self.method in _WINOGRAD:
            return self._winograd_backward(grad)
        if self.method == "implicit_gemm":
            return self._implicit_backward(grad)
        need_x, need_w = self.needs_input_grad[:2]
        layout = self.layout
        n = self.shape[0]
        f = self.weight.shape[0]
        _, _, oh, ow = grad.shape
        grad_t = take_buffer(grad, (f, *layout.dims(n, oh, ow)), grad.dtype)
        layout.assign_from_nchw(grad_t, grad)
        grad_2d = grad_t.reshape(f, -1)  # (F, N*OH*OW), in the columns' order
        grad_w = None
        if need_w:
            if self.columns is None:  # rebuilt from the input (see forward)
                kh, kw = self.weight.shape[2:]
                padded = layout.padded(self.x, self.pads)
                self.columns = _im2col(padded, layout, (kh, kw), (oh, ow), self.stride)
                give_buffer(padded)
            columns_2d = self.columns.reshape(-1, grad_2d.shape[1])
            grad_w = matmul_nt(grad_2d, columns_2d).reshape(self.weight.shape)  # (F, C, KH, KW)
        if not self.retain_graph or self.x is not None:
            give_buffer(self.columns)
            self.columns = None
        grad_x = None
        if need_x:
            if self._transposed_is_cheaper(grad.shape):
                grad_x = self._grad_input_by_convolution(grad)
            else:
                grad_x = self._grad_input_by_col2im(grad_2d, (oh, ow))
        grad_b = grad_2d.sum(axis=1) if self.has_bias else None
        give_buffer(grad_t)
        if self.has_bias:
            return grad_x, grad_w, grad_b
        return grad_x, grad_w

    def _transposed_is_cheaper(self, grad_shape: tuple[int, ...]) -> bool:
        """Pick the cheaper way to dL/dx (they compute the same numbers).

        col2im adds K*K shifted column blocks into dx (about 3 K^2 C N OH OW memory
        accesses); at stride 1, dx is also the convolution of the padded output
        gradient with the flipped filters, whose im2col costs about 2 K^2 F N H W
        plain copies, plus flipping and transposing the filters, a strided copy that
        costs about 4 accesses per weight (5 ms for 512 x 512 x 3 x 3; measured
        with 3x3 layers at batch 32, where col2im is then the faster from 4x4 maps with
        512 channels to 32x32 with 64). The matrix products cost the same either way.
        """
        _, f, oh, ow = grad_shape
        n, c, h, w = self.shape
        kh, kw = self.weight.shape[2:]
        (top, bottom), (left, right) = self.pads
        if self.stride != (1, 1) or max(top, bottom) > kh - 1 or max(left, right) > kw - 1:
            return False
        return 2 * f * n * h * w + 4 * f * c < 3 * c * n * oh * ow

    def _grad_input_by_convolution(self, grad: Any) -> Any:
        """dL/dx at stride 1 as a full convolution with the flipped filters."""
        f = grad.shape[1]
        _, c, h, w = self.shape
        kh, kw = self.weight.shape[2:]
        (top, bottom), (left, right) = self.pads
        pads = ((kh - 1 - top, kh - 1 - bottom), (kw - 1 - left, kw - 1 - right))
        padded = self.layout.padded(grad, pads)  # F first, H + K - 1 by W + K - 1
        columns = _im2col(padded, self.layout, (kh, kw), (h, w), (1, 1))  # (F, KH, KW, ...)
        give_buffer(padded)
        flipped = self.weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(c, f * kh * kw)
        out = take_buffer(grad, (c, *columns.shape[3:]), grad.dtype)
        _parallel.matmul(flipped, columns.reshape(f * kh * kw, -1), out.reshape(c, -1))
        give_buffer(columns)
        grad_x = self.layout.to_nchw(out)  # (N, C, H, W)
        give_buffer(out)
        return grad_x

    def _grad_input_by_col2im(self, grad_2d: Any, out_size: tuple[int, int]) -> Any:
        """dL/dx by scattering the column gradients back (any stride)."""
        layout = self.layout
        (oh, ow), (sh, sw) = out_size, self.stride
        n, c, h, w = self.shape
        f, _, kh, kw = self.weight.shape
        grad_columns = take_buffer(grad_2d, (c, kh, kw, *layout.dims(n, oh, ow)), grad_2d.dtype)
        _parallel.matmul(self.weight.reshape(f, -1).T, grad_2d,
                         grad_columns.reshape(c * kh * kw, -1))
        (top, bottom), (left, right) = self.pads
        padded = take_buffer(grad_2d, (c, *layout.dims(n, h + top + bottom, w + left + right)),
                             grad_2d.dtype)

        def channels(start: int, stop: int) -> None:
            target, source = padded[start:stop], grad_columns[start:stop]
            target[...] = 0
            for i in range(kh):  # col2im: scatter each offset's columns back, adding
                for j in range(kw):
                    layout.window(target, _window(i, oh, sh), _window(j, ow, sw))[...] += \
                        source[:, i, j]
        _parallel.run_over(channels, c, grad_columns)
        grad_x = layout.to_nchw(layout.window(padded, slice(top, top + h),
                                              slice(left, left + w)))
        give_buffer(grad_columns)
        give_buffer(padded)
        return grad_x


def conv2d(x: Any, weight: Any, bias: Any = None, stride: int | tuple[int, int] = 1,
           padding: Padding = 0, *, owner: str = "conv2d") -> Tensor:
    """2-D convolution (cross-correlation) of an NCHW batch with a bank of filters.

    Args:
        x: input of shape (N, C, H, W).
        weight: filters of shape (F, C, KH, KW) (F = out_channels).
        bias: one bias per filter, shape (F,), or None.
        stride: s, an int or (sh, sw).
        padding: p, an int or (ph, pw) of zeros on each side, or "valid" (none) or
            "same" (output size = input size; stride 1 only; see
            :func:`resolve_padding` for even filter sizes).
        owner: the name error messages start with; the ``Conv2d`` layer passes its
            own (``Conv2d(in_channels=3, out_channels=8)``), so each shape check
            lives here once.

    Returns:
        Output of shape (N, F, OH, OW) with OH = floor((H + 2 ph - KH) / sh) + 1.

    Raises:
        ShapeError: wrong dimensions, a channel mismatch, or a kernel larger than the
            padded input (the message shows the formula's numbers).

    Example:
        >>> import numpy as np
        >>> image = np.zeros((1, 1, 6, 6), dtype=np.float32)
        >>> image[..., :3] = 10.0                        # bright left half, dark right half
        >>> vertical = np.array([[1, 0, -1]] * 3, dtype=np.float32).reshape(1, 1, 3, 3)
        >>> conv2d(image, vertical).data[0, 0]           # the seed's edge detection (C1)
        array([[ 0., 30., 30.,  0.],
               [ 0., 30., 30.,  0.],
               [ 0., 30., 30.,  0.],
               [ 0., 30., 30.,  0.]], dtype=float32)
    """
    fn = Conv2dFunction(pair(owner, "stride", stride), padding, owner)
    if bias is None:
        return fn(x, weight)
    return fn(x, weight, bias)


# ------------------------------------------------------------------ pooling (C7)
def _pool_geometry(owner: str, x: Any, kernel: tuple[int, int], stride: tuple[int, int],
                   padding: tuple[int, int]) -> tuple[int, int]:
    if x.ndim != 4:
        raise ShapeError(f"{owner}: input must be 4-D (N, C, H, W); got shape "
                         f"{fmt_shape(x.shape)}")
    for p, f in zip(padding, kernel):
        if 2 * p > f:
            raise ValueError(f"{owner}: padding {p} is more than half the window {f}; a window "
                             "could then see only padding")
    pads = ((padding[0], padding[0]), (padding[1], padding[1]))
    return _output_shape(owner, x.shape[2], x.shape[3], kernel, stride, pads)


def _padded(x: Any, padding: tuple[int, int], value: float) -> Any:
    ph, pw = padding
    if not ph and not pw:
        return x
    xp = array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


class _PoolFunction(Function):
    """Shared configuration of the pooling functions."""

    shape: tuple[int, ...]

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int]) -> None:
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def _unpad(self, grad_padded: Any) -> Any:
        """The gradient of the unpadded input."""
        ph, pw = self.padding
        h, w = self.shape[2:]
        return grad_padded[:, :, ph:ph + h, pw:pw + w]


def pool_arguments(owner: str, kernel_size: Any, stride: Any, padding: Any
                    ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Validated (kernel, stride, padding); the stride defaults to the window size."""
    kernel = pair(owner, "kernel_size", kernel_size)
    strides = kernel if stride is None else pair(owner, "stride", stride)
    return kernel, strides, pair(owner, "padding", padding, minimum=0)


class MaxPool2dFunction(_PoolFunction):
    def forward(self, x: Any) -> Any:
        oh, ow = _pool_geometry("max_pool2d", x, self.kernel, self.stride, self.padding)
        xp = array_module(x)
        lowest = xp.iinfo(x.dtype).min if x.dtype.kind in "iu" else -math.inf
        padded = _padded(x, self.padding, lowest)
        (kh, kw), (sh, sw) = self.kernel, self.stride
        out = padded[:, :, _window(0, oh, sh), _window(0, ow, sw)].copy()
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    xp.maximum(out, padded[:, :, _window(i, oh, sh), _window(j, ow, sw)], out=out)
        self.padded, self.out, self.shape = padded, out, x.shape
        return out

    def backward(self, grad: Any) -> Any:
        xp = array_module(grad)
        (kh, kw), (sh, sw) = self.kernel, self.stride
        oh, ow = grad.shape[2:]
        # When the windows tile the input exactly (stride = size, no remainder), every
        # input position belongs to one window: assign instead of zero-fill and add.
        tiles = (sh, sw) == (kh, kw) and self.padded.shape[2:] == (oh * kh, ow * kw)
        grad_padded = (xp.empty if tiles else xp.zeros)(self.padded.shape, dtype=grad.dtype)
        # One winner per window: the first maximum in row-major order, as PyTorch
        # picks. (Routing to every tied maximum would multiply the gradient of
        # MNIST's blank windows, where all four values tie.)
        unclaimed = xp.ones(grad.shape, dtype=bool)
        for i in range(kh):
            for j in range(kw):
                hit = self.padded[:, :, _window(i, oh, sh), _window(j, ow, sw)] == self.out
                hit &= unclaimed
                unclaimed &= ~hit
                target = grad_padded[:, :, _window(i, oh, sh), _window(j, ow, sw)]
                if tiles:
                    xp.multiply(grad, hit, out=target)
                else:
                    target += grad * hit
        return self._unpad(grad_padded)


def max_pool2d(x: Any, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0) -> Tensor:
    """The largest value of each window, per channel (C7); no learnable parameters.

    Args:
        x: input (N, C, H, W).
        kernel_size: f, the window size.
        stride: s (default: the window size, so windows do not overlap).
        padding: rows/columns of -inf (the dtype's minimum for integers) added on each
            side (usually 0).

    Example:
        >>> import numpy as np
        >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        >>> max_pool2d(x, 2).data[0, 0]                  # f = 2, s = 2 halves H and W
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """
    fn = MaxPool2dFunction(*pool_arguments("max_pool2d", kernel_size, stride, padding))
    return apply_unary(fn, x)


class AvgPool2dFunction(_PoolFunction):
    saves_inputs = False
    saves_output = False

    def forward(self, x: Any) -> Any:
        oh, ow = _pool_geometry("avg_pool2d", x, self.kernel, self.stride, self.padding)
        if x.dtype.kind not in "fc":  # integer images average in the default float dtype
            x = x.astype(get_default_dtype())
        padded = _padded(x, self.padding, 0.0)
        (kh, kw), (sh, sw) = self.kernel, self.stride
        out = padded[:, :, _window(0, oh, sh), _window(0, ow, sw)].copy()
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    out += padded[:, :, _window(i, oh, sh), _window(j, ow, sw)]
        out *= 1.0 / (kh * kw)  # padding counts in the average, as in PyTorch's default
        self.padded_shape, self.shape = padded.shape, x.shape
        return out

    def backward(self, grad: Any) -> Any:
        xp = array_module(grad)
        (kh, kw), (sh, sw) = self.kernel, self.stride
        oh, ow = grad.shape[2:]
        share = grad * (1.0 / (kh * kw))
        grad_padded = xp.zeros(self.padded_shape, dtype=grad.dtype)
        for i in range(kh):
            for j in range(kw):
                grad_padded[:, :, _window(i, oh, sh), _window(j, ow, sw)] += share
        return self._unpad(grad_padded)


def avg_pool2d(x: Any, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0) -> Tensor:
    """The mean of each window, per channel (C7); zero padding counts in the mean.

    Integer input (such as uint8 images) is averaged in the default float dtype.

    Example:
        >>> import numpy as np
        >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        >>> avg_pool2d(x, 2).data[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """
    fn = AvgPool2dFunction(*pool_arguments("avg_pool2d", kernel_size, stride, padding))
    return apply_unary(fn, x)


class GlobalAvgPool2dFunction(Function):
    saves_inputs = False
    saves_output = False

    def forward(self, x: Any) -> Any:
        if x.ndim != 4:
            raise ShapeError(f"global_avg_pool2d: input must be 4-D (N, C, H, W); got shape "
                             f"{fmt_shape(x.shape)}")
        self.shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, grad: Any) -> Any:
        xp = array_module(grad)
        h, w = self.shape[2:]
        return xp.broadcast_to((grad * (1.0 / (h * w)))[:, :, None, None], self.shape)


def global_avg_pool2d(x: Any) -> Tensor:
    """The mean of each channel over all positions: (N, C, H, W) -> (N, C).

    Example:
        >>> import numpy as np
        >>> global_avg_pool2d(np.ones((2, 3, 4, 4), dtype=np.float32)).shape
        (2, 3)
    """
    return apply_unary(GlobalAvgPool2dFunction(), x)

