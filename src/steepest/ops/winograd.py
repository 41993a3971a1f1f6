"""Winograd's minimal filtering F(2x2, 3x3) for stride-1 3x3 convolutions.

A 3x3 convolution computes each 2x2 block of outputs from a 4x4 tile of the
(padded) input. Lavin and Gray's transform does it with 16 multiplications per
tile and channel pair instead of 36:

    Y = A^T [ (G g G^T) * (B^T d B) ] A

with g the 3x3 filter, d the 4x4 input tile and ``*`` an elementwise product. Over
all tiles and channels the elementwise products become 16 independent matrix
products (one per position of the 4x4 transformed tile),

    M[k] = U[k] @ V[k],   U = G g G^T: (16, F, C),   V = B^T d B: (16, C, T),

2.25x fewer multiplications than im2col's (F, 9C) @ (9C, 4T). Each transform is
itself one small matrix product on flattened tiles (``B^T d B`` is
``kron(B^T, B^T) @ vec(d)``), so it reads and writes the data once. The backward
pass is the exact adjoint of the same linear maps: dU[k] = dM[k] @ V[k]^T and
dV[k] = U[k]^T @ dM[k], so the gradients need no im2col either.

The big intermediate arrays (the gathered tiles, V, dM, dV, the padded input and
its gradient) come from the backend's scratch pool, and the functions returning one
say so: the caller hands it back with ``give_buffer`` when done. Fresh arrays of
tens of MB would be page-faulted in on every training step (a ResNet-18 step spent
about a tenth of its time in the kernel doing that).

Reference:
    A. Lavin and S. Gray, "Fast Algorithms for Convolutional Neural Networks",
    CVPR 2016 (arXiv:1509.09308).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module, give_buffer, take_buffer
from . import _parallel

# The transform matrices of F(2x2, 3x3) (Lavin and Gray, section 4.1).
B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)

# The same transforms on row-major flattened tiles: vec(L X R^T) = kron(L, R) vec(X).
INPUT = np.kron(B_T, B_T)  # (16, 16): 4x4 tile -> 16 transformed values
FILTER = np.kron(G, G)  # (16, 9): 3x3 filter -> 16
OUTPUT = np.kron(A_T, A_T)  # (4, 16): 16 products -> 2x2 outputs


def _matrix(matrix: np.ndarray, like: Any) -> Any:
    return array_module(like).asarray(matrix, dtype=like.dtype)


def tile_counts(out_h: int, out_w: int) -> tuple[int, int]:
    """Tiles of 2x2 outputs needed to cover an out_h x out_w output."""
    return (out_h + 1) // 2, (out_w + 1) // 2


def transform_filters(weight: Any) -> Any:
    """U = G g G^T for every filter: (F, C, 3, 3) -> (16, F, C)."""
    f, c = weight.shape[:2]
    flat = weight.reshape(f * c, 9).T  # (9, F*C)
    return _parallel.product(_matrix(FILTER, weight), flat).reshape(16, f, c)


def transform_input(padded: Any, tiles: tuple[int, int]) -> Any:
    """V = B^T d B for every 4x4 tile: padded (C, N, 2TH+2, 2TW+2) -> (16, C, N*TH*TW).

    V is a scratch-pool array (see the module's note).
    """
    th, tw = tiles
    c, n = padded.shape[:2]
    d = take_buffer(padded, (4, 4, c, n, th, tw), padded.dtype)

    def gather(start: int, stop: int) -> None:  # the tiles overlap by two: 16 strided copies
        source, target = padded[start:stop], d[:, :, start:stop]
        for i in range(4):
            for j in range(4):
                target[i, j] = source[:, :, i:i + 2 * th:2, j:j + 2 * tw:2]
    _parallel.run_over(gather, c, d)
    v = take_buffer(padded, (16, c, n * th * tw), padded.dtype)
    _parallel.matmul(_matrix(INPUT, padded), d.reshape(16, -1), v.reshape(16, -1))
    give_buffer(d)
    return v


def output_from_tiles(m: Any, shape: tuple[int, int, int, int], tiles: tuple[int, int]) -> Any:
    """Y = A^T M A, tiles to the image: m (16, F, T) -> (N, F, OH, OW)."""
    xp = array_module(m)
    n, f, oh, ow = shape
    th, tw = tiles
    y = _parallel.product(_matrix(OUTPUT, m), m.reshape(16, -1)).reshape(2, 2, f, n, th, tw)
    out = xp.empty((n, f, th, 2, tw, 2), dtype=m.dtype)
    _parallel.assign(out, y.transpose(3, 2, 4, 0, 5, 1), axis=1)  # (N, F, TH, 2, TW, 2)
    return xp.ascontiguousarray(out.reshape(n, f, 2 * th, 2 * tw)[:, :, :oh, :ow])


def grad_of_tiles(grad: Any, tiles: tuple[int, int]) -> Any:
    """dM = A dY A^T, the adjoint of :func:`output_from_tiles`: (N, F, OH, OW) -> (16, F, T).

    dM is a scratch-pool array (see the module's note).
    """
    n, f, oh, ow = grad.shape
    th, tw = tiles
    dy = take_buffer(grad, (2, 2, f, n, th, tw), grad.dtype)
    if (oh, ow) != (2 * th, 2 * tw):  # odd sizes: the cropped outputs have no gradient
        dy[...] = 0
    # dy[a, b, f, n, i, j] = grad[n, f, 2i + a, 2j + b]
    def gather(start: int, stop: int) -> None:
        source, target = grad[:, start:stop], dy[:, :, start:stop]
        for a in range(2):
            for b in range(2):
                rows, cols = (oh - a + 1) // 2, (ow - b + 1) // 2
                target[a, b, :, :, :rows, :cols] = source[:, :, a::2, b::2].transpose(1, 0, 2, 3)
    _parallel.run_over(gather, f, dy)
    dm = take_buffer(grad, (16, f, n * th * tw), grad.dtype)
    _parallel.matmul(_matrix(OUTPUT, grad).T, dy.reshape(4, -1), dm.reshape(16, -1))
    give_buffer(dy)
    return dm


def grad_of_filters(du: Any, shape: tuple[int, int]) -> Any:
    """dg = G^T dU G, the adjoint of :func:`transform_filters`: (16, F, C) -> (F, C, 3, 3)."""
    f, c = shape
    xp = array_module(du)
    # Written straight into (F, C, 3, 3) order: the transpose of a (9, F*C) product
    # would cost a 10-20 ms strided copy at 512 channels when the gradient is stored.
    out = xp.empty((f, c, 3, 3), dtype=du.dtype)
    _parallel.matmul(du.reshape(16, f * c).T, _matrix(FILTER, du), out.reshape(f * c, 9))
    return out


def grad_of_input(dv: Any, padded_shape: tuple[int, int, int, int],
                  tiles: tuple[int, int]) -> Any:
    """The adjoint of :func:`transform_input`: (16, C, T) -> d(padded) (C, N, Hp, Wp).

    Neighbouring tiles overlap by two rows and columns, so their gradients add. The
    result is a scratch-pool array (see the module's note).
    """
    c, n = padded_shape[:2]
    th, tw = tiles
    dd = take_buffer(dv, (4, 4, c, n, th, tw), dv.dtype)
    _parallel.matmul(_matrix(INPUT, dv).T, dv.reshape(16, -1), dd.reshape(16, -1))
    out = take_buffer(dv, padded_shape, dv.dtype)

    def scatter(start: int, stop: int) -> None:  # 16 strided additions
        target, source = out[start:stop], dd[:, :, start:stop]
        target[...] = 0
        for i in range(4):
            for j in range(4):
                target[:, :, i:i + 2 * th:2, j:j + 2 * tw:2] += source[i, j]
    _parallel.run_over(scatter, c, out)
    give_buffer(dd)
    return out


def multiplications(n: int, c: int, f: int, out_h: int, out_w: int) -> tuple[int, int]:
    """Multiplications of the matrix products: (Winograd, im2col) for one convolution.

    Example:
        >>> wino, im2col = multiplications(32, 64, 64, 32, 32)
        >>> round(im2col / wino, 2)
        2.25
    """
    th, tw = tile_counts(out_h, out_w)
    return 16 * f * c * n * th * tw, 9 * f * c * n * out_h * out_w
