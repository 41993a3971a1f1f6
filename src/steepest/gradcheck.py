"""Gradient checking, the seed's way (concepts I12, I13, I14).

Backpropagation is easy to get subtly wrong; gradient checking compares it with a
numerical estimate. All parameters are flattened into one vector theta, each
component is nudged both ways, and the two-sided difference

    d_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)

(more accurate than the one-sided one: its error is O(eps^2)) is compared with the
backpropagated d[i] by the relative error

    ||d_approx - d||_2 / (||d_approx||_2 + ||d||_2).

The seed's reading: about 1e-7 or less is right; above 1e-5 look closer; above
1e-3 there is almost certainly a bug. A report makes one decision, ``passed``
(``relative_error <= tol``), and its verdict word agrees with it: a passed check
reads "correct" or "probably correct", a failed one "look closer" or "bug". The
report also gives the error per parameter, so a failure points at the component
to debug. Use it for debugging
only, never in training; include the regularisation term; never with dropout on.
Checks run in float64 whatever the model's dtype, and leave the model as they
found it (weights, buffers, dtype, gradients).

Example:
    >>> import numpy as np
    >>> import steepest as st
    >>> report = gradcheck(lambda x: (x ** 3).sum(), [np.array([1.0, -2.0])])
    >>> report.passed
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ._validation import ShapeError, fmt_shape, real
from .autograd import Tensor, no_grad
from .backend import array_module, resolve_rng, to_numpy
from .nn.module import Module

Verdict = Literal["correct", "probably correct", "look closer", "bug"]
BANDS: tuple[tuple[float, Verdict], ...] = (
    (1e-7, "correct"), (1e-5, "probably correct"), (1e-3, "look closer"))
PASSING: tuple[Verdict, ...] = ("correct", "probably correct")


def verdict(relative_error: float, tol: float | None = None) -> Verdict:
    """The seed's reading of a relative error; with ``tol``, one that agrees with pass/fail.

    Without ``tol`` it is the seed's band: "correct" up to 1e-7, "probably correct"
    up to 1e-5, "look closer" up to 1e-3, "bug" above (and for NaN or inf).

    With ``tol`` the check passes when ``relative_error <= tol``, and the word never
    contradicts that: a pass reads "correct" (at most 1e-7) or "probably correct"
    (above, but within the tolerance you chose); a failure reads "bug" (above 1e-3)
    or "look closer" (including errors the seed would call probably correct but
    which a stricter ``tol`` rejects). A check passed exactly when the word is in
    :data:`PASSING`.

    Example:
        >>> verdict(3e-9), verdict(2e-6), verdict(1e-4), verdict(0.2)
        ('correct', 'probably correct', 'look closer', 'bug')
        >>> verdict(2e-6, tol=1e-7), verdict(1e-4, tol=1e-3)
        ('look closer', 'probably correct')
    """
    if tol is None:
        if not math.isfinite(relative_error):
            return "bug"
        for bound, word in BANDS:
            if relative_error <= bound:
                return word
        return "bug"
    if relative_error <= tol:  # False for NaN
        return "correct" if relative_error <= BANDS[0][0] else "probably correct"
    return "look closer" if relative_error <= BANDS[2][0] else "bug"


def relative_error(approx: Any, analytic: Any) -> float:
    """||approx - analytic||_2 / (||approx||_2 + ||analytic||_2); 0 when both are 0.

    Example:
        >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
        0.0
    """
    approx = np.asarray(approx, dtype=np.float64).ravel()
    analytic = np.asarray(analytic, dtype=np.float64).ravel()
    denominator = np.linalg.norm(approx) + np.linalg.norm(analytic)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(approx - analytic) / denominator)


@dataclass(frozen=True)
class GradcheckRow:
    """The check of one input or parameter."""

    name: str
    shape: tuple[int, ...]
    checked: int
    relative_error: float
    max_abs_difference: float
    verdict: Verdict | Literal["not checked"]


@dataclass(frozen=True)
class GradcheckReport:
    """The result of :func:`gradcheck` or :func:`gradcheck_model`.

    Attributes:
        relative_error: over all checked components together (the seed's number).
        passed: ``relative_error <= tol``; the one decision ``verdict`` also reads.
        tol: the threshold used.
        eps: the step of the two-sided differences.
        verdict: ``verdict(relative_error, tol)``: "correct" or "probably correct"
            exactly when ``passed``, else "look closer" or "bug".
        rows: one :class:`GradcheckRow` per input or parameter, each judged by the
            same rule at the same ``tol`` (a row whose gradient is tiny next to the
            others can fail while the overall, the seed's number, passes).
        worst: the name of the row with the largest relative error.
    """

    relative_error: float
    passed: bool
    tol: float
    eps: float
    verdict: Verdict
    rows: tuple[GradcheckRow, ...]
    worst: str | None

    def __str__(self) -> str:
        header = ("name", "shape", "checked", "relative error", "max |diff|", "verdict")
        lines = [
            (r.name, fmt_shape(r.shape), str(r.checked), f"{r.relative_error:.3e}",
             f"{r.max_abs_difference:.3e}", r.verdict)
            for r in self.rows
        ]
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        rule = "  ".join("-" * w for w in widths)
        table = [
            "  ".join(h.ljust(w) for h, w in zip(header, widths)),
            rule,
            *("  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines),
            rule,
        ]
        status = "PASSED" if self.passed else "FAILED"
        table.append(
            f"overall relative error {self.relative_error:.3e} ({self.verdict}); {status} at "
            f"tol={self.tol:g}, eps={self.eps:g}" + (f"; worst: {self.worst}" if self.worst else "")
        )
        return "\n".join(table)


def _scalar(value: Any, projection: Any) -> Tensor:
    """Reduce a function's output to the scalar whose gradient is checked."""
    if not isinstance(value, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor; got {type(value).__name__}")
    if value.data.size == 1:
        return value.reshape(())
    # A fixed random projection checks every output's gradient at once.
    return (value * projection(value.shape)).sum()


def _projection_factory(rng: np.random.Generator) -> Callable[[tuple[int, ...]], Any]:
    cache: dict[tuple[int, ...], Any] = {}

    def projection(shape: tuple[int, ...]) -> Any:
        if shape not in cache:
            cache[shape] = rng.standard_normal(shape)
        return cache[shape]

    return projection


def allocate_checks(sizes: Sequence[int], max_checks: int | None) -> list[int]:
    """How many components of each tensor to check within a budget of ``max_checks``.

    The budget is spread over all tensors rather than spent on the first: with
    ``max_checks`` at least the number of non-empty tensors, every one gets a
    check and the rest go in proportion to size (largest remainder); with fewer,
    one check each goes to tensors evenly spaced through the list.

    Args:
        sizes: the number of components of each tensor.
        max_checks: the budget, or None for every component.

    Returns:
        The number of components to check in each tensor (at most its size).

    Example:
        >>> allocate_checks([1000, 10, 100, 1], 20)
        [16, 1, 2, 1]
        >>> allocate_checks([6, 6, 6, 6, 6], 2)
        [1, 0, 0, 0, 1]
    """
    sizes = [int(s) for s in sizes]
    if max_checks is None or max_checks >= sum(sizes):
        return sizes
    filled = [i for i, s in enumerate(sizes) if s > 0]
    counts = [0] * len(sizes)
    if max_checks < len(filled):
        for position in np.linspace(0, len(filled) - 1, max_checks).round().astype(int):
            counts[filled[position]] = 1  # spacing >= 1, so the positions are distinct
        return counts
    spare = [sizes[i] - 1 for i in filled]
    remaining = max_checks - len(filled)
    shares = [remaining * c / sum(spare) for c in spare]  # each <= its spare capacity
    extra = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(filled)), key=lambda k: shares[k] - extra[k], reverse=True)
    for k in by_remainder[:remaining - sum(extra)]:
        extra[k] += 1
    for k, i in enumerate(filled):
        counts[i] = 1 + extra[k]
    return counts


def _check(names: Sequence[str], tensors: Sequence[Tensor], objective: Callable[[], Tensor],
           eps: float, tol: float, max_checks: int | None,
           rng: np.random.Generator) -> GradcheckReport:
    """Analytic gradients by backward, numerical ones by two-sided differences."""
    for t in tensors:
        t.grad = None
    objective().backward()
    analytic = [np.zeros(t.shape) if t.grad is None else to_numpy(t.grad).astype(np.float64)
                for t in tensors]

    sizes = [int(t.data.size) for t in tensors]
    if sum(sizes) == 0:
        raise ValueError("gradcheck: there are no components to check (all inputs are empty)")
    counts = allocate_checks(sizes, max_checks)

    approx = [np.full(t.shape, np.nan) for t in tensors]
    with no_grad():
        for k, (size, count) in enumerate(zip(sizes, counts)):
            picked = np.arange(size) if count == size else np.sort(
                rng.choice(size, count, replace=False))
            data = tensors[k].data
            for flat in picked:
                index = np.unravel_index(int(flat), tensors[k].shape)
                original = data[index].item()
                data[index] = original + eps
                plus = float(objective().item())
                data[index] = original - eps
                minus = float(objective().item())
                data[index] = original
                approx[k][index] = (plus - minus) / (2 * eps)

    rows = []
    all_approx, all_analytic = [], []
    for name, t, a, g in zip(names, tensors, approx, analytic):
        mask = ~np.isnan(a)
        checked = int(mask.sum())
        if checked == 0:
            rows.append(GradcheckRow(name, t.shape, 0, 0.0, 0.0, "not checked"))
            continue
        error = relative_error(a[mask], g[mask])
        rows.append(GradcheckRow(name, t.shape, checked, error,
                                 float(np.max(np.abs(a[mask] - g[mask]))),
                                 verdict(error, tol)))
        all_approx.append(a[mask])
        all_analytic.append(g[mask])
    overall = relative_error(np.concatenate(all_approx), np.concatenate(all_analytic))
    checked_rows = [r for r in rows if r.checked]
    worst = max(checked_rows, key=lambda r: r.relative_error).name if checked_rows else None
    word = verdict(overall, tol)  # the one decision: passed and the word both come from it
    return GradcheckReport(overall, word in PASSING, tol, eps, word, tuple(rows), worst)


def _validate_settings(eps: float, tol: float, max_checks: int | None) -> None:
    real("gradcheck", "eps", eps, low=0.0, low_inclusive=False)
    real("gradcheck", "tol", tol, low=0.0, low_inclusive=False)
    if max_checks is not None and (isinstance(max_checks, bool) or not isinstance(
            max_checks, int) or max_checks <= 0):
        raise ValueError(f"gradcheck: `max_checks` must be a positive int or None; got "
                         f"{max_checks!r}")


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Any], *, eps: float = 1e-7,
              tol: float = 1e-7, names: Sequence[str] | None = None,
              max_checks: int | None = None,
              rng: np.random.Generator | int | None = 0) -> GradcheckReport:
    """Check the gradients of ``fn`` with respect to each floating input.

    Args:
        fn: takes tensors (one per input) and returns a Tensor. A non-scalar output
            is reduced to ``sum(out * r)`` with a fixed random ``r``, which checks the
            gradient of every output at once.
        inputs: arrays or tensors; floating ones are copied to float64 and checked,
            the others (integer labels, say) are passed through unchanged.
        eps: the step of the two-sided difference (the seed's 1e-7).
        tol: ``passed`` is ``relative_error <= tol``.
        names: names for the report's rows (default ``input0``, ``input1`` ...).
        max_checks: check only this many randomly chosen components (for speed),
            spread over the inputs by :func:`allocate_checks`.
        rng: draws the random projection and the component choice: a
            ``numpy.random.Generator``, an int seed, or None for steepest's default
            generator. Default 0, so repeated checks see the same components.

    Returns:
        A :class:`GradcheckReport`; ``print(report)`` shows the table.

    Example:
        >>> import steepest.functional as F
        >>> report = gradcheck(F.sigmoid, [np.linspace(-3, 3, 5)])
        >>> report.relative_error < 1e-7, report.rows[0].verdict
        (True, 'correct')
    """
    _validate_settings(eps, tol, max_checks)
    names = [f"input{i}" for i in range(len(inputs))] if names is None else list(names)
    if len(names) != len(inputs):
        raise ValueError(f"gradcheck: got {len(names)} names for {len(inputs)} inputs")
    arguments: list[Any] = []
    checked: list[Tensor] = []
    checked_names: list[str] = []
    for name, value in zip(names, inputs):
        data = value.data if isinstance(value, Tensor) else value
        xp = array_module(data)
        array = xp.asarray(data)
        if array.dtype.kind == "f":
            t = Tensor(array.astype(np.float64, copy=True), requires_grad=True)
            arguments.append(t)
            checked.append(t)
            checked_names.append(name)
        else:
            arguments.append(value)
    if not checked:
        raise TypeError("gradcheck: none of the inputs is floating-point; nothing to check")
    generator = resolve_rng(rng)
    projection = _projection_factory(generator)
    return _check(checked_names, checked, lambda: _scalar(fn(*arguments), projection),
                  eps, tol, max_checks, generator)


def _refuse_dropout(model: Module) -> None:
    for name, module in model.named_modules():
        keep_prob = getattr(module, "keep_prob", 1.0)
        if module.training and isinstance(keep_prob, float) and keep_prob < 1.0:
            raise ValueError(
                f"gradcheck_model: dropout is active in {name or type(model).__name__!r} "
                f"(keep_prob={keep_prob}); the cost J is not well defined with dropout "
                "(seed I14). Call model.eval() or build it with keep_prob=1.0, check, then "
                "turn dropout back on"
            )


def gradcheck_model(model: Module | Callable[[Tensor], Tensor], loss_fn: Callable[..., Tensor],
                    X: Any, y: Any, *, params: Mapping[str, Tensor] | None = None,
                    regularization: Callable[[Any, int], Tensor] | None = None,
                    eps: float = 1e-7, tol: float = 1e-7, max_checks: int | None = None,
                    rng: np.random.Generator | int | None = 0) -> GradcheckReport:
    """Check backpropagation through a whole model: J(theta) = loss(model(X), y) [+ penalty].

    Args:
        model: a :class:`~steepest.nn.Module`, or a function ``f(X)`` of tensors given
            in ``params`` (for a network written by hand, the seed's W1, b1, ...).
        loss_fn: ``loss_fn(outputs, y)`` returning the scalar cost, e.g.
            ``F.cross_entropy``.
        X: the inputs (a few examples are enough).
        y: the targets.
        params: name -> Tensor, required when ``model`` is a plain function.
        regularization: a penalty ``reg(model, m)`` added to the cost (the seed: include
            the regularisation term when you check), e.g. ``steepest.nn.L2(0.1)``.
        eps: the two-sided difference step.
        tol: ``passed`` is ``relative_error <= tol``.
        max_checks: check this many random components of theta (default: all),
            spread over the parameters by :func:`allocate_checks`: when it is at
            least the number of parameters, every parameter gets checked.
        rng: draws the component choice: a ``numpy.random.Generator``, an int seed,
            or None for steepest's default generator (default 0: the same
            components every call).

    Returns:
        A :class:`GradcheckReport` with one row per parameter, by name.

    Raises:
        ValueError: dropout is active (keep_prob < 1 in training mode), or ``params``
            is missing for a plain function.

    Example:
        >>> import steepest as st
        >>> import steepest.functional as F
        >>> net = st.nn.Sequential(st.nn.Linear(3, 4), st.nn.Tanh(), st.nn.Linear(4, 2))
        >>> X = np.random.default_rng(0).normal(size=(5, 3))
        >>> report = gradcheck_model(net, F.cross_entropy, X, np.array([0, 1, 1, 0, 1]))
        >>> report.passed, [row.name for row in report.rows]
        (True, ['0.weight', '0.bias', '2.weight', '2.bias'])
        >>> net[0].weight.dtype  # the model is left as it was
        dtype('float32')
    """
    _validate_settings(eps, tol, max_checks)
    generator = resolve_rng(rng)
    if isinstance(model, Module):
        if params is not None:
            raise ValueError("gradcheck_model: `params` is only for plain functions; a Module "
                             "brings its own parameters")
        _refuse_dropout(model)
        named: list[tuple[str, Tensor]] = list(model.named_parameters())
        buffers = [(module, name, value) for module in model.modules()
                   for name, value in module._buffers.items()]
        target: Any = model
    else:
        if params is None:
            raise ValueError("gradcheck_model: `model` is a plain function, so pass its tensors "
                             "as params={'W1': W1, 'b1': b1, ...}")
        named = list(params.items())
        buffers = []
        target = dict(params)
    named = [(n, p) for n, p in named if p.requires_grad]
    if not named:
        raise ValueError("gradcheck_model: the model has no parameter that requires grad")

    X_data = X.data if isinstance(X, Tensor) else X
    xp = array_module(named[0][1].data)
    X_data = xp.asarray(X_data)
    if X_data.ndim == 0 or X_data.shape[0] == 0:
        raise ShapeError(f"gradcheck_model: `X` needs at least one example; got shape "
                         f"{fmt_shape(X_data.shape)}")
    if X_data.dtype.kind == "f":
        X_data = X_data.astype(np.float64)
    y_data = y.data if isinstance(y, Tensor) else y
    y_data = xp.asarray(y_data)
    if y_data.dtype.kind == "f":
        y_data = y_data.astype(np.float64)
    m = int(X_data.shape[0])
    X_tensor = Tensor(X_data)

    # Swap float64 copies into the very parameter objects (so closures and the
    # regularizer see them), and restore everything afterwards.
    saved = [(p, p.data, p.grad) for _, p in named]
    saved_buffers = [(module, name, None if value is None else value.copy())
                     for module, name, value in buffers]
    try:
        for _, p in named:
            p.data = p.data.astype(np.float64, copy=True)
            p.grad = None

        def objective() -> Tensor:
            cost = loss_fn(model(X_tensor), y_data)
            if regularization is not None:
                cost = cost + regularization(target, m)
            if cost.data.size != 1:
                raise ShapeError(f"gradcheck_model: `loss_fn` must return a scalar cost; got "
                                 f"shape {fmt_shape(cost.shape)}")
            return cost.reshape(())

        return _check([n for n, _ in named], [p for _, p in named], objective, eps, tol,
                      max_checks, generator)
    finally:
        for p, data, grad in saved:
            p.data, p.grad = data, grad
        for module, name, value in saved_buffers:
            setattr(module, name, value)

