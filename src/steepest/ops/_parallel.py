"""steepest's own threads for the kernels NumPy runs on one core.

NumPy runs element-wise work (a batch norm's passes, ReLU, layout copies, an
optimiser's update) on one core; only its BLAS products use the others. PyTorch
threads both. This module cuts a kernel's work into parts and runs them at once on a
small pool of threads: NumPy releases the GIL inside its loops and :mod:`ctypes`
around a BLAS call.

BLAS's own thread pool cannot share the cores with ours. After each threaded product
its workers spin for about a tenth of a second, waiting for the next one. A spinning
worker takes half a core from an element-wise part: a two-thread pass over 8 MB took
7 ms instead of 1.9 ms on one thread. So while steepest's threads are on (see
:func:`parts`), every product steepest runs holds NumPy's OpenBLAS at one thread
(:func:`steepest.ops._blas.one_thread`), and steepest cuts large products itself
(:func:`matmul`, and the implicit GEMM in :mod:`steepest.ops.conv`). Outside
steepest's kernels, OpenBLAS keeps its own thread count.

How many threads: as many as NumPy's OpenBLAS is set to use. ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or threadpoolctl set it for NumPy and steepest alike. In these
cases the parts run one after another on the calling thread (the same numbers, one
core):

- steepest has no handle on NumPy's BLAS (:func:`steepest.ops._blas.available` is
  False, or ``STEEPEST_NO_BLAS=1``);
- a kernel runs inside another kernel's part;
- another thread is using the pool.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..backend import array_module
from . import _blas

# Element-wise parts of fewer numbers than this run in one part: waking a thread and
# waiting for it costs 20-90 us (a virtual machine's wake-ups are slow), about what
# two threads save on a pass over 2^18 numbers.
MIN_PART = 1 << 18


class _Worker:
    """One pool thread: it waits on ``start``, runs ``task`` and releases ``done``."""

    def __init__(self) -> None:
        self.start, self.done = threading.Lock(), threading.Lock()
        self.start.acquire()
        self.done.acquire()
        self.task: Callable[[], None] | None = None
        self.error: BaseException | None = None
        threading.Thread(target=self._loop, name="steepest-worker", daemon=True).start()

    def _loop(self) -> None:
        _state.inside = True  # a kernel called from a part runs its own parts serially
        while True:
            self.start.acquire()
            task, self.task = self.task, None
            try:
                if task is not None:
                    task()
            except BaseException as error:  # handed to the caller, which re-raises it
                self.error = error
            self.done.release()


class _State(threading.local):
    inside = False


_state = _State()
_workers: list[_Worker] = []
_dispatch = threading.Lock()  # one kernel at a time uses the pool


def _after_fork() -> None:
    """A forked child has none of the parent's threads: start from an empty pool."""
    global _dispatch
    _workers.clear()
    _dispatch = threading.Lock()
    _state.inside = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def threads() -> int:
    """How many threads steepest's kernels use: NumPy's OpenBLAS thread count, or 1
    where steepest has no handle on it.

    Example:
        >>> threads() >= 1
        True
    """
    return _blas.threads()


# Element-wise work of at least this many times MIN_PART switches the threads on, for
# ACTIVE seconds after the last such kernel (see parts). Two seconds keep them on across
# a pause between training steps (an evaluation, PyTorch's step in a benchmark): with
# 0.25 s, a ResNet-18 step after a 0.7 s pause took 0.78 s against 0.72 s back to back,
# because its first convolution ran on OpenBLAS's threads, whose worker then spun on
# the second core while steepest's threads worked (0.715 s with 2 s). The price: a
# small network trained within 2 s of a large one runs its products on one thread.
SWITCH_ON = 8
ACTIVE = 2.0
_active_until = -math.inf


def active() -> bool:
    """Whether steepest's threads are on: a kernel with large work ran less than
    :data:`ACTIVE` seconds ago (see :func:`parts`)."""
    return time.monotonic() < _active_until


def parts(size: int, minimum: int | None = None, *, switch_on: bool = True) -> int:
    """How many parts to cut ``size`` numbers of element-wise work (or, with
    ``minimum=SPLIT_MACS``, a product of ``size`` multiply-adds) into: :func:`threads`,
    but none smaller than ``minimum``, and 1 while the threads are off or inside a part.

    Element-wise work of :data:`SWITCH_ON` times :data:`MIN_PART` numbers (a ResNet's
    batch norms at batch 32 on 32x32 maps: 2 M numbers) switches the threads on; they
    stay on while such kernels keep coming. While they are on, every product steepest
    runs holds NumPy's OpenBLAS at one thread (see the module's note), which slows
    mid-sized products: the LeNet-5 and MLP epochs took 1.3-1.4x longer so. Networks
    without large element-wise work (those, and a ResNet-50 on 64x64 images at batch
    8) gain nothing from the threads, so they keep OpenBLAS's own. ``switch_on=False``
    cuts work only while the threads are already on (an optimiser's update: a large
    model's parameters alone say nothing about its activations).
    """
    global _active_until
    minimum = MIN_PART if minimum is None else minimum
    if size < 2 * minimum or _state.inside:
        return 1
    count = threads()
    if minimum == MIN_PART and switch_on and size >= SWITCH_ON * minimum:
        if count < 2:
            return 1
        _active_until = time.monotonic() + ACTIVE
    elif time.monotonic() >= _active_until:
        return 1
    return max(1, min(count, size // minimum))


def sum_parts(size: int, minimum: int | None = None) -> int:
    """How many stretches to cut the inner axis of a sum of ``size`` multiply-adds into
    (at least ``minimum``, :data:`SPLIT_MACS` by default, each). Fixed by the thread
    count and the size alone, so its rounding is the same whether or not the threads
    are on when it runs (:func:`run` takes the stretches in turn while they are off).
    """
    minimum = SPLIT_MACS if minimum is None else minimum
    if size < 2 * minimum:
        return 1
    return max(1, min(threads(), size // minimum))


def cuttable(array: Any) -> bool:
    """Whether element-wise work over ``array`` could be cut into parts: a NumPy array
    of at least two parts' worth (a cheap test that keeps tiny ops on their fast path)."""
    return type(array) is np.ndarray and array.size >= 2 * MIN_PART


def parts_of(array: Any) -> int:
    """:func:`parts` for element-wise work over ``array``: 1 unless it is a NumPy array
    (a GPU array's kernels run on the device)."""
    return parts(array.size) if type(array) is np.ndarray else 1


def run_over(function: Callable[[int, int], None], length: int, work: Any) -> None:
    """``function(start, stop)`` over [0, length) (channels, say), in as many parts as
    the element-wise work over the array ``work`` earns (:func:`parts_of`).

    Example:
        >>> import numpy as np
        >>> out = np.zeros(4)
        >>> run_over(lambda a, b: out.__setitem__(slice(a, b), 1.0), 4, out)
        >>> out
        array([1., 1., 1., 1.])
    """
    run(function, spans(length, parts_of(work)))


def _held() -> contextlib.AbstractContextManager[None]:
    """OpenBLAS at one thread while steepest's threads are on (no change otherwise)."""
    return _blas.one_thread() if active() else contextlib.nullcontext()


def spans(length: int, count: int, align: int = 1) -> list[tuple[int, int]]:
    """``count`` consecutive (start, stop) ranges covering [0, length), as equal as
    whole multiples of ``align`` allow (the last takes the rest; none is empty)."""
    blocks = -(-length // align)
    count = max(1, min(count, blocks))
    edges = [min(length, (blocks * i // count) * align) for i in range(count + 1)]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def run(function: Callable[..., None], arguments: Sequence[tuple[Any, ...]]) -> None:
    """``function(*args)`` for each tuple of ``arguments``, at once on the pool's
    threads while they are on (the first on the calling thread; NumPy's BLAS runs one
    thread each meanwhile), else in turn. The calls must write apart (they may read
    the same arrays). The first error raised is raised here, after every call has
    finished.

    Example:
        >>> import numpy as np
        >>> out = np.zeros(6)
        >>> def fill(start, stop):
        ...     out[start:stop] = np.arange(start, stop)
        >>> run(fill, spans(6, 2))
        >>> out
        array([0., 1., 2., 3., 4., 5.])
    """
    if (len(arguments) < 2 or _state.inside or not active()
            or not _dispatch.acquire(blocking=False)):
        _in_turn(function, arguments)
        return
    try:
        try:
            while len(_workers) < len(arguments) - 1:
                _workers.append(_Worker())
        except RuntimeError:  # no more threads for this process: one is enough
            _in_turn(function, arguments)
            return
        started: list[_Worker] = []
        with _blas.one_thread():
            _state.inside = True
            try:
                for worker, args in zip(_workers, arguments[1:]):
                    worker.task = _bind(function, args)
                    started.append(worker)  # (counted before it starts: see _wait)
                    worker.start.release()
                function(*arguments[0])
            finally:  # (the caller's error, if any, goes before the workers')
                _state.inside = False
                errors = _wait(started)
        if errors:
            raise errors[0]
    finally:
        _dispatch.release()


def _in_turn(function: Callable[..., None], arguments: Sequence[tuple[Any, ...]]) -> None:
    with _held():
        for args in arguments:
            function(*args)


def _wait(workers: list[_Worker]) -> list[BaseException]:
    """Wait until every worker finished its part; their errors, cleared. An interrupt
    (Ctrl-C) while waiting is raised only once they all have: a part still running
    could otherwise write into scratch memory that the next kernel is given."""
    interrupted: BaseException | None = None
    for worker in workers:
        while True:
            try:
                worker.done.acquire()
                break
            except BaseException as error:  # KeyboardInterrupt: the part is still running
                interrupted = interrupted or error
    if interrupted is not None:
        raise interrupted
    errors = [worker.error for worker in workers if worker.error is not None]
    for worker in workers:
        worker.error = None
    return errors


def _bind(function: Callable[..., None], args: tuple[Any, ...]) -> Callable[[], None]:
    return lambda: function(*args)


# Products of fewer than twice this many multiply-adds run in one part (and on
# OpenBLAS's own threads, as NumPy runs them): a hand-over to a thread costs about as
# much as 2^22 multiply-adds on one core.
SPLIT_MACS = 1 << 23


def matmul(a: Any, b: Any, out: Any) -> Any:
    """``out[...] = a @ b`` (2-D, or stacks of matrices of one batch shape), cut into
    :func:`threads` parts: along the batch, the rows or the columns of ``out`` when it
    is large, else along the inner axis (partial products added); returns ``out``.
    Other arrays (CuPy) go to their own ``matmul``.

    Example:
        >>> import numpy as np
        >>> a = np.arange(6.0).reshape(2, 3)
        >>> matmul(a, a.T, np.empty((2, 2)))
        array([[ 5., 14.],
               [14., 50.]])
    """
    if not (type(out) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray):
        array_module(out).matmul(a, b, out=out)
        return out
    m, n = out.shape[-2:]
    k = a.shape[-1]
    batch = out.size // max(1, m * n)
    macs = out.size * k
    small = out.ndim == 2 == a.ndim == b.ndim and m * n < 8192  # (a (64, 64) result, say)
    inner = sum_parts(macs) if small else 1
    if inner > 1:  # a small result over a long inner axis: each part sums a stretch of it
        pieces = spans(k, inner, 64)
        partial = [out] + [np.empty_like(out) for _ in pieces[1:]]

        def stretch(i: int, start: int, stop: int) -> None:
            np.matmul(a[:, start:stop], b[start:stop], out=partial[i])
        run(stretch, [(i, *piece) for i, piece in enumerate(pieces)])
        for extra in partial[1:]:
            out += extra
        return out
    count = parts(macs, SPLIT_MACS)
    if count == 1:
        with _held():
            np.matmul(a, b, out=out)
        return out
    if out.ndim == 3 and a.ndim == 3 and b.ndim == 3 and batch == 1:  # one matrix: cut it
        matmul(a[0], b[0], out[0])
    elif out.ndim == 3 and a.ndim == 3 and b.ndim == 3 and batch >= count:
        def stack(start: int, stop: int) -> None:
            np.matmul(a[start:stop], b[start:stop], out=out[start:stop])
        run(stack, spans(batch, count))
    elif out.ndim != 2 or a.ndim != 2 or b.ndim != 2:
        with _held():
            np.matmul(a, b, out=out)
    elif m >= n:
        def rows(start: int, stop: int) -> None:
            np.matmul(a[start:stop], b, out=out[start:stop])
        run(rows, spans(m, count, 8))
    else:
        def cols(start: int, stop: int) -> None:
            np.matmul(a, b[:, start:stop], out=out[:, start:stop])
        run(cols, spans(n, count, 16))
    return out


def product(a: Any, b: Any) -> Any:
    """``a @ b`` as a new array, through :func:`matmul` where both are NumPy float
    arrays of one dtype, both matrices or both stacks of one batch shape (``@``
    itself otherwise: broadcasting, 1-D operands, mismatched shapes and their error).

    Example:
        >>> import numpy as np
        >>> product(np.eye(2), np.ones((2, 3)))
        array([[1., 1., 1.],
               [1., 1., 1.]])
    """
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == b.ndim
            and a.ndim in (2, 3) and a.shape[:-2] == b.shape[:-2]
            and a.shape[-1] == b.shape[-2] and a.dtype == b.dtype and a.dtype.kind == "f"
            and parts(a.size * b.shape[-1], SPLIT_MACS) > 1):
        out = np.empty((*a.shape[:-1], b.shape[-1]), dtype=a.dtype)
        return matmul(a, b, out)
    with _held():
        return a @ b


def assign(target: Any, source: Any, axis: int = 0) -> None:
    """``target[...] = source`` (arrays of one shape, any strides: a transposing copy),
    cut into parts along ``axis``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(6.0).reshape(2, 3)
        >>> out = np.empty((3, 2))
        >>> assign(out, x.T)
        >>> out[2]
        array([2., 5.])
    """
    count = parts_of(target)
    if count == 1:
        target[...] = source
        return
    index = (slice(None),) * axis

    def part(start: int, stop: int) -> None:
        where = (*index, slice(start, stop))
        target[where] = source[where]
    run(part, spans(target.shape[axis], count))


def elementwise(function: Callable[..., Any], out: Any, *inputs: Any) -> Any:
    """``function(out, *inputs)`` cut into parts, each call on the same flat stretch
    of every array; the arrays must be C-contiguous and of one shape (otherwise one
    call on the whole arrays). Returns ``out``.

    Example:
        >>> import numpy as np
        >>> x = np.array([-1.0, 2.0])
        >>> elementwise(lambda o, v: np.maximum(v, 0, out=o), np.empty(2), x)
        array([0., 2.])
    """
    count = parts_of(out)
    if count == 1 or not all(type(a) is np.ndarray and a.shape == out.shape
                             and a.flags.c_contiguous for a in (out, *inputs)):
        function(out, *inputs)
        return out
    flat = [a.reshape(-1) for a in (out, *inputs)]

    def part(start: int, stop: int) -> None:
        function(*(a[start:stop] for a in flat))
    run(part, spans(out.size, count, 1024))
    return out
