"""Winograd's minimal filtering F(2x2, 3x3) and F(4x4, 3x3) for stride-1 3x3 convolutions.

A 3x3 convolution computes each m x m block of outputs from an (m+2) x (m+2) tile of
the (padded) input. Lavin and Gray's transforms do it with (m+2)^2 multiplications
per tile and channel pair instead of 9 m^2:

    Y = A^T [ (G g G^T) * (B^T d B) ] A

with g the 3x3 filter, d the input tile and ``*`` an elementwise product: 16 instead
of 36 for F(2x2, 3x3) (2.25x fewer), 36 instead of 144 for F(4x4, 3x3) (4x fewer).
Over all tiles and channels the elementwise products become t^2 = (m+2)^2
independent matrix products (one per position of the transformed tile),

    M[k] = U[k] @ V[k],   U = G g G^T: (t^2, F, C),   V = B^T d B: (t^2, C, T).

Each transform is itself one small matrix product on flattened tiles (``B^T d B`` is
``kron(B^T, B^T) @ vec(d)``), so it reads and writes the data once. The backward
pass is the exact adjoint of the same linear maps: dU[k] = dM[k] @ V[k]^T and
dV[k] = U[k]^T @ dM[k], so the gradients need no im2col either. F(4x4, 3x3) also
gathers fewer numbers: its 6x6 tiles overlap by two of six rows, F(2x2, 3x3)'s 4x4
tiles by two of four, so V holds 2.25 times the input for F(4x4, 3x3) and 4 times
for F(2x2, 3x3).

The price of F(4x4, 3x3) is rounding: its transforms have entries up to 8 and
fractions such as 1/6 and 1/24, and its float32 results differ from a direct
convolution's by about ten times as much as F(2x2, 3x3)'s (measured in
``tests/ops/test_conv.py``).

The big intermediate arrays (the gathered tiles, U, V, dM, dV, the padded input
and its gradient) come from the backend's scratch pool, and the functions returning one
say so: the caller hands it back with ``give_buffer`` when done. Fresh arrays of
tens of MB would be page-faulted in on every training step (a ResNet-18 step spent
about a tenth of its time in the kernel doing that).

Reference:
    A. Lavin and S. Gray, "Fast Algorithms for Convolutional Neural Networks",
    CVPR 2016 (arXiv:1509.09308).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_module, give_buffer, take_buffer
from . import _parallel
from ._layout import Layout


class Transform:
    """The matrices of one F(m x m, 3x3), also on row-major flattened tiles
    (vec(L X R^T) = kron(L, R) vec(X)).

    Attributes:
        m: outputs per tile side; ``t = m + 2`` inputs per tile side.
        input: kron(B^T, B^T), (t^2, t^2): a t x t tile -> t^2 transformed values.
        filter: kron(G, G), (t^2, 9): a 3x3 filter -> t^2.
        output: kron(A^T, A^T), (m^2, t^2): t^2 products -> m x m outputs.
    """

    def __init__(self, b_t: np.ndarray, g: np.ndarray, a_t: np.ndarray) -> None:
        self.m, self.t = a_t.shape
        self.input = np.kron(b_t, b_t)
        self.filter = np.kron(g, g)
        self.output = np.kron(a_t, a_t)

    def tiles(self, out_h: int, out_w: int) -> tuple[int, int]:
        """Tiles of m x m outputs needed to cover an out_h x out_w output."""
        return -(-out_h // self.m), -(-out_w // self.m)

    def multiplications(self, n: int, c: int, f: int, out_h: int, out_w: int) -> int:
        """Multiplications of the t^2 matrix products of one convolution."""
        return self.t * self.t * f * c * n * math.prod(self.tiles(out_h, out_w))


# Lavin and Gray, section 4.1 (F(2x2, 3x3)) and 4.2 (F(4x4, 3x3)); interpolation
# points 0, 1, -1 and 0, 1, -1, 2, -2, each with the point at infinity.
F2 = Transform(
    b_t=np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64),
    g=np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64),
    a_t=np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64))
F4 = Transform(
    b_t=np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
                 dtype=np.float64),
    g=np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
               dtype=np.float64),
    a_t=np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]], dtype=np.float64))


def _matrix(matrix: np.ndarray, like: Any) -> Any:
    return array_module(like).asarray(matrix, dtype=like.dtype)


def transform_filters(weight: Any, transform: Transform) -> Any:
    """U = G g G^T for every filter: (F, C, 3, 3) -> (t^2, F, C).

    U is a scratch-pool array (see the module's note).
    """
    f, c = weight.shape[:2]
    u = take_buffer(weight, (transform.t ** 2, f, c), weight.dtype)
    flat = weight.reshape(f * c, 9).T  # (9, F*C)
    _parallel.matmul(_matrix(transform.filter, weight), flat, u.reshape(-1, f * c))
    return u


def transform_input(padded: Any, tiles: tuple[int, int], transform: Transform,
                    layout: Layout) -> Any:
    """V = B^T d B for every t x t tile: padded (C, N, m TH + 2, m TW + 2), or
    (C, m TH + 2, m TW + 2, N) in the batch-last layout, -> (t^2, C, T) with the
    T = N*TH*TW tiles in the layout's order.

    V is a scratch-pool array (see the module's note).
    """
    th, tw = tiles
    m, t = transform.m, transform.t
    c, n = padded.shape[0], layout.batch(padded.shape)
    d = take_buffer(padded, (t, t, c, *layout.dims(n, th, tw)), padded.dtype)

    def gather(start: int, stop: int) -> None:  # the tiles overlap by two: t^2 strided copies
        source, target = padded[start:stop], d[:, :, start:stop]
        for i in range(t):
            for j in range(t):
                target[i, j] = layout.window(source, slice(i, i + m * th, m),
                                             slice(j, j + m * tw, m))
    _parallel.run_over(gather, c, d)
    v = take_buffer(padded, (t * t, c, n * th * tw), padded.dtype)
    _parallel.matmul(_matrix(transform.input, padded), d.reshape(t * t, -1), v.reshape(t * t, -1))
    give_buffer(d)
    return v


def output_from_tiles(products: Any, shape: tuple[int, int, int, int], tiles: tuple[int, int],
                      transform: Transform, layout: Layout) -> Any:
    """Y = A^T M A, tiles to the image: M (t^2, F, T) -> (N, F, OH, OW)."""
    xp = array_module(products)
    n, f, oh, ow = shape
    th, tw = tiles
    m = transform.m
    y = _parallel.product(_matrix(transform.output, products),
                          products.reshape(transform.t ** 2, -1))
    y = y.reshape(m, m, f, *layout.dims(n, th, tw))
    out = xp.empty((n, f, th, m, tw, m), dtype=products.dtype)
    # (N, F, TH, m, TW, m) from (m, m, F, N, TH, TW) or (m, m, F, TH, TW, N)
    order = (5, 2, 3, 0, 4, 1) if layout.batch_last else (3, 2, 4, 0, 5, 1)
    _parallel.assign(out, y.transpose(order), axis=1)
    return xp.ascontiguousarray(out.reshape(n, f, m * th, m * tw)[:, :, :oh, :ow])


def grad_of_tiles(grad: Any, tiles: tuple[int, int], transform: Transform,
                  layout: Layout) -> Any:
    """dM = A dY A^T, the adjoint of :func:`output_from_tiles`: (N, F, OH, OW) -> (t^2, F, T).

    dM is a scratch-pool array (see the module's note).
    """
    n, f, oh, ow = grad.shape
    th, tw = tiles
    m, t = transform.m, transform.t
    dy = take_buffer(grad, (m, m, f, *layout.dims(n, th, tw)), grad.dtype)
    if (oh, ow) != (m * th, m * tw):  # ragged sizes: the cropped outputs have no gradient
        dy[...] = 0
    order = (1, 2, 3, 0) if layout.batch_last else (1, 0, 2, 3)

    # dy[a, b, f, (n, i, j)] = grad[n, f, m i + a, m j + b]
    def gather(start: int, stop: int) -> None:
        source, target = grad[:, start:stop], dy[:, :, start:stop]
        for a in range(m):
            for b in range(m):
                rows, cols = slice(0, -(-(oh - a) // m)), slice(0, -(-(ow - b) // m))
                layout.window(target[a, b], rows, cols)[...] = \
                    source[:, :, a::m, b::m].transpose(order)
    _parallel.run_over(gather, f, dy)
    dm = take_buffer(grad, (t * t, f, n * th * tw), grad.dtype)
    _parallel.matmul(_matrix(transform.output, grad).T, dy.reshape(m * m, -1),
                     dm.reshape(t * t, -1))
    give_buffer(dy)
    return dm


def grad_of_filters(du: Any, shape: tuple[int, int], transform: Transform) -> Any:
    """dg = G^T dU G, the adjoint of :func:`transform_filters`: (t^2, F, C) -> (F, C, 3, 3)."""
    f, c = shape
    xp = array_module(du)
    # Written straight into (F, C, 3, 3) order: the transpose of a (9, F*C) product
    # would cost a 10-20 ms strided copy at 512 channels when the gradient is stored.
    out = xp.empty((f, c, 3, 3), dtype=du.dtype)
    _parallel.matmul(du.reshape(-1, f * c).T, _matrix(transform.filter, du), out.reshape(f * c, 9))
    return out


def grad_of_input(dv: Any, padded_shape: tuple[int, ...], tiles: tuple[int, int],
                  transform: Transform, layout: Layout) -> Any:
    """The adjoint of :func:`transform_input`: (t^2, C, T) -> d(padded), of
    ``padded_shape`` in the layout's order.

    Neighbouring tiles overlap by two rows and columns, so their gradients add. The
    result is a scratch-pool array (see the module's note).
    """
    c, n = padded_shape[0], layout.batch(padded_shape)
    th, tw = tiles
    m, t = transform.m, transform.t
    dd = take_buffer(dv, (t, t, c, *layout.dims(n, th, tw)), dv.dtype)
    _parallel.matmul(_matrix(transform.input, dv).T, dv.reshape(t * t, -1), dd.reshape(t * t, -1))
    out = take_buffer(dv, padded_shape, dv.dtype)

    def scatter(start: int, stop: int) -> None:  # t^2 strided additions
        target, source = out[start:stop], dd[:, :, start:stop]
        target[...] = 0
        for i in range(t):
            for j in range(t):
                layout.window(target, slice(i, i + m * th, m), slice(j, j + m * tw, m))[...] += \
                    source[i, j]
    _parallel.run_over(scatter, c, out)
    give_buffer(dd)
    return out


def multiplications(n: int, c: int, f: int, out_h: int, out_w: int,
                    transform: Transform = F2) -> tuple[int, int]:
    """Multiplications of the matrix products: (Winograd by ``transform``, im2col) for
    one convolution.

    Example:
        >>> wino, im2col = multiplications(32, 64, 64, 32, 32)
        >>> round(im2col / wino, 2)
        2.25
        >>> wino, im2col = multiplications(32, 64, 64, 32, 32, F4)
        >>> round(im2col / wino, 2)
        4.0
    """
    return transform.multiplications(n, c, f, out_h, out_w), 9 * f * c * n * out_h * out_w
