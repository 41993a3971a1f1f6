"""The one oracle helper: the same seeded inputs through steepest and PyTorch.

An :class:`OpCase` is one row of the op table: a steepest function, the same
computation in PyTorch, and how to make its inputs. :func:`compare_with_torch`
checks shape, dtype, values and the gradient of every differentiable input (using a
random upstream gradient, so every output element's gradient is checked), and
:func:`check_gradients` runs ``steepest.gradcheck`` in float64. Where PyTorch's result
carries no gradient (argmax, comparisons), steepest's must not either.

A :class:`FactoryCase` is one row for a tensor factory (``zeros``, ``arange`` ...):
:func:`compare_factory_with_torch` checks shape, dtype, values and
``requires_grad`` against the PyTorch call of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import steepest as st
from steepest.gradcheck import gradcheck

torch.set_num_threads(2)


def away_from(values: np.ndarray, points: Sequence[float], margin: float = 0.05) -> np.ndarray:
    """Push values at least ``margin`` away from kinks (where no derivative exists)."""
    values = values.copy()
    for p in points:
        close = np.abs(values - p) < margin
        values[close] = p + np.where(values[close] >= p, margin, -margin) * 2
    return values


@dataclass
class OpCase:
    """One op-table row.

    ``make`` receives a Generator and a float dtype and returns the inputs: floating
    arrays are differentiable, anything else (labels, masks, ints) is a constant.
    """

    name: str
    fn: Callable[..., st.Tensor]
    torch_fn: Callable[..., torch.Tensor]
    make: Callable[[np.random.Generator, Any], list[Any]]
    rtol: float = 1e-5
    atol: float = 1e-6
    gradcheck_tol: float = 1e-7
    differentiable: Sequence[int] | None = None  # default: every floating input
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.name


def _floating(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _which(case: OpCase, inputs: list[Any]) -> list[int]:
    if case.differentiable is not None:
        return list(case.differentiable)
    return [i for i, v in enumerate(inputs) if _floating(v)]


def compare_with_torch(case: OpCase, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    inputs = case.make(rng, np.float32)
    diff = _which(case, inputs)
    ours = [st.tensor(v, requires_grad=True) if i in diff else v for i, v in enumerate(inputs)]
    theirs = [torch.tensor(v, requires_grad=True) if i in diff
              else (torch.from_numpy(v) if isinstance(v, np.ndarray) else v)
              for i, v in enumerate(inputs)]
    out = case.fn(*ours)
    expected = case.torch_fn(*theirs)
    assert isinstance(out, st.Tensor), f"{case.name}: did not return a Tensor"
    assert out.shape == tuple(expected.shape), (
        f"{case.name}: shape {out.shape} vs {tuple(expected.shape)}")
    assert out.dtype == np.dtype(str(expected.dtype).replace("torch.", "")), (
        f"{case.name}: dtype {out.dtype} vs {expected.dtype}")
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=case.rtol,
                               atol=case.atol, err_msg=f"{case.name}: forward")
    if not expected.requires_grad:
        assert not out.requires_grad, (
            f"{case.name}: the result requires grad, but PyTorch's does not")
        return
    assert out.requires_grad, f"{case.name}: the result does not require grad, PyTorch's does"
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    for i in diff:
        ours_grad = ours[i].grad
        theirs_grad = theirs[i].grad
        assert ours_grad is not None, f"{case.name}: no gradient for input {i}"
        assert ours_grad.shape == ours[i].shape, f"{case.name}: gradient shape of input {i}"
        assert ours_grad.dtype == ours[i].dtype, f"{case.name}: gradient dtype of input {i}"
        np.testing.assert_allclose(ours_grad, theirs_grad.numpy(), rtol=case.rtol * 10,
                                   atol=case.atol * 10,
                                   err_msg=f"{case.name}: gradient of input {i}")


def check_gradients(case: OpCase, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    inputs = case.make(rng, np.float64)
    diff = _which(case, inputs)
    # gradcheck treats floating inputs as checked; freeze the others as constants.
    constants = {i: v for i, v in enumerate(inputs) if i not in diff}
    checked = [v for i, v in enumerate(inputs) if i in diff]

    def fn(*tensors: st.Tensor) -> st.Tensor:
        it = iter(tensors)
        args = [constants[i] if i in constants else next(it) for i in range(len(inputs))]
        return case.fn(*args)

    report = gradcheck(fn, checked, tol=case.gradcheck_tol)
    assert report.passed, f"{case.name}:\n{report}"


@dataclass
class FactoryCase:
    """One factory row: a steepest call and the PyTorch call that must give the same tensor."""

    name: str
    fn: Callable[[], st.Tensor]
    torch_fn: Callable[[], torch.Tensor]
    rtol: float = 1e-6
    atol: float = 0.0

    def __str__(self) -> str:
        return self.name


def compare_factory_with_torch(case: FactoryCase) -> None:
    out = case.fn()
    expected = case.torch_fn()
    assert isinstance(out, st.Tensor), f"{case.name}: did not return a Tensor"
    assert out.shape == tuple(expected.shape), (
        f"{case.name}: shape {out.shape} vs {tuple(expected.shape)}")
    assert out.dtype == np.dtype(str(expected.dtype).replace("torch.", "")), (
        f"{case.name}: dtype {out.dtype} vs {expected.dtype}")
    assert out.requires_grad == expected.requires_grad, f"{case.name}: requires_grad"
    assert out.is_leaf, f"{case.name}: a factory must return a leaf"
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=case.rtol,
                               atol=case.atol, err_msg=f"{case.name}: values")
