"""Where the batch axis sits in the channel-major scratch arrays of the convolutions
(im2col's columns and Winograd's tiles), and the copies in and out of NCHW."""

from __future__ import annotations

from typing import Any

from ..backend import array_module, give_buffer, take_buffer
from . import _parallel


class Layout:
    """Where the batch axis sits in the channel-major scratch arrays of a convolution.

    "cnhw" keeps (C, N, H, W): a filter offset's window is copied in rows of W
    contiguous numbers. "chwn" puts the batch last, (C, H, W, N): rows of W * N
    numbers, which copy and add several times faster when feature maps are small
    (a 4x4 map has rows of 4). The matrix products do not care about the order of
    the N*OH*OW axis, so each call picks the faster layout: im2col by the map's width
    (:meth:`for_width`), Winograd by the batch (its tile copies take every m-th number
    of a row, so only the batch axis gives them contiguous runs).
    """

    def __init__(self, batch_last: bool) -> None:
        self.batch_last = batch_last

    @staticmethod
    def for_width(width: int) -> Layout:
        return Layout(batch_last=width <= 16)

    def dims(self, n: int, h: int, w: int) -> tuple[int, int, int]:
        """The spatial-and-batch dimensions in this layout's order."""
        return (h, w, n) if self.batch_last else (n, h, w)

    def batch(self, shape: tuple[int, ...]) -> int:
        """The batch size of an array of ``shape`` in this layout (C first)."""
        return shape[3] if self.batch_last else shape[1]

    def window(self, array: Any, rows: slice, cols: slice) -> Any:
        """The (rows, cols) window of every channel and example."""
        return array[:, rows, cols] if self.batch_last else array[:, :, rows, cols]

    def assign_from_nchw(self, target: Any, x: Any) -> None:
        """target (this layout, C first) = x (N, C, H, W), rearranged."""
        if not self.batch_last:
            _parallel.assign(target, x.transpose(1, 0, 2, 3))
            return
        # Two steps: a direct (N, C, H, W) -> (C, H, W, N) transpose reads with a
        # stride of C*H*W numbers and thrashes the cache (many times slower at 256
        # channels of 8x8); through (C, N, H, W) the long stride is only H*W.
        n, c, h, w = x.shape
        staged = take_buffer(x, (c, n, h, w), x.dtype)
        _parallel.assign(staged, x.transpose(1, 0, 2, 3))
        _parallel.assign(target, staged.transpose(0, 2, 3, 1))
        give_buffer(staged)

    def to_nchw(self, array: Any) -> Any:
        """A new (N, C, H, W) array from one in this layout (C first)."""
        if not self.batch_last:
            return copy_to_nchw(array)
        c, h, w, n = array.shape
        staged = take_buffer(array, (c, n, h, w), array.dtype)
        _parallel.assign(staged, array.transpose(0, 3, 1, 2))
        out = copy_to_nchw(staged)
        give_buffer(staged)
        return out

    def padded(self, x: Any, pads: tuple[tuple[int, int], tuple[int, int]]) -> Any:
        """x (N, C, H, W) as a workspace array in this layout with zero borders."""
        n, c, h, w = x.shape
        (top, bottom), (left, right) = pads
        out = take_buffer(x, (c, *self.dims(n, h + top + bottom, w + left + right)), x.dtype)
        if top or bottom or left or right:
            everything = slice(None)
            self.window(out, slice(0, top), everything)[...] = 0
            self.window(out, slice(h + top, None), everything)[...] = 0
            self.window(out, slice(top, h + top), slice(0, left))[...] = 0
            self.window(out, slice(top, h + top), slice(w + left, None))[...] = 0
        self.assign_from_nchw(self.window(out, slice(top, h + top), slice(left, w + left)), x)
        return out


def copy_to_nchw(array: Any) -> Any:
    """A new (N, C, H, W) array holding a channel-first (C, N, H, W) one."""
    c, n, h, w = array.shape
    out = array_module(array).empty((n, c, h, w), dtype=array.dtype)
    _parallel.assign(out, array.transpose(1, 0, 2, 3), axis=1)
    return out
