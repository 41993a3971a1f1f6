"""Losses, fused with their final activation where that is what makes them stable.

``cross_entropy`` is log-softmax + negative log-likelihood in one op, and
``binary_cross_entropy_with_logits`` is sigmoid + cross-entropy in one op: both take
logits (the last layer's Z), never overflow for logits of +-1000, and have the
seed's simple gradients, dZ = A - Y (B7, H9). The seed's cost J is the mean of the
per-example loss over the m examples (``reduction="mean"``, B4).

Rules every loss here follows:

* **Inputs.** Predictions and targets may be Tensors, NumPy (or CuPy) arrays or
  Python lists.
* **Shapes.** A loss refuses inputs whose shapes differ instead of broadcasting them:
  a (m, 1) prediction against (m,) labels would silently broadcast to (m, m), the
  rank-1 pitfall of the seed (B11).
* **dtypes.** The loss is computed in the predictions' floating dtype (a float32 model
  gets a float32 loss; float64 targets are cast down to it). Integer or boolean
  predictions are first promoted as NumPy promotes them with the targets
  (``result_type``; the default float dtype when both are integers), so float
  targets are never truncated: ``mse_loss([1, 2], [0.5, 0.5])`` is 1.25.
* **No host round trip per batch.** Checks of dtypes and shapes read only array
  metadata. Value checks (class indices in [0, C), probabilities in [0, 1], a mask
  of 0/1, finite targets) run on the arrays' device: an invalid value makes the loss
  NaN there, and the one finiteness check of the result, the only value a loss reads
  back from a GPU, then finds and names the culprit. On the CPU this costs nothing
  extra either; on a GPU it is one scalar transfer per call instead of one per check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np

from .._validation import NonFiniteError, ShapeError, finite_array, fmt_shape, one_of, real
from ..autograd import Function, Tensor, as_tensor
from ..backend import array_module, get_default_dtype, to_device
from . import elementwise as ew
from . import reduce as rd
from .norm import _log_softmax

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS: tuple[Reduction, ...] = ("mean", "sum", "none")


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _as_target(target: Any, like: Any) -> Any:
    """Targets as an array on the device of ``like`` (no gradient needed)."""
    data = _data(target)
    xp = array_module(like)
    if not hasattr(data, "dtype"):
        data = np.asarray(data)
    return xp.asarray(data)


def _floating(prediction: Tensor, target: Any) -> Tensor:
    """``prediction`` itself when it is floating, else promoted with ``target``'s dtype.

    NumPy's promotion (``result_type``) decides: int predictions with float64 targets
    become float64; with integer targets too, the default float dtype. Integer
    tensors never require gradients, so nothing is cut off the graph.
    """
    if prediction.dtype.kind in "fc":
        return prediction
    dtype = np.result_type(prediction.dtype, _data(target).dtype)
    if dtype.kind not in "fc":
        dtype = get_default_dtype()
    return Tensor(prediction.data.astype(dtype))


def _same_shape(owner: str, name_a: str, a: Any, name_b: str, b: Any) -> None:
    if a.shape == b.shape:
        return
    hint = ""
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1 and a.shape[:-1] == b.shape:
        hint = f"; reshape `{name_b}` with .reshape(-1, 1) (rank-1 arrays are a pitfall, seed B11)"
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1 and b.shape[:-1] == a.shape:
        hint = f"; reshape `{name_b}` with .reshape(-1) (rank-1 arrays are a pitfall, seed B11)"
    raise ShapeError(
        f"{owner}: `{name_a}` has shape {fmt_shape(a.shape)} but `{name_b}` has shape "
        f"{fmt_shape(b.shape)}; they must match{hint}"
    )


def _elementwise_pair(owner: str, name: str, prediction: Any, targets: Any
                      ) -> tuple[Tensor, Any]:
    """The prediction as a floating Tensor and the targets of the same shape: a Tensor as
    given, else an array of the prediction's dtype on its device. Refuses mismatched
    shapes and empty predictions."""
    p = as_tensor(prediction)
    y = targets if isinstance(targets, Tensor) else _as_target(targets, p.data)
    _same_shape(owner, name, p.data, "targets", _data(y))
    if p.size == 0:
        raise ValueError(f"{owner}: `{name}` is empty")
    p = _floating(p, y)
    return p, (y if isinstance(y, Tensor) else y.astype(p.dtype, copy=False))


def _reduce(losses: Any, reduction: str, count: Any) -> Any:
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / count if reduction == "mean" else total


def _scale(grad: Any, reduction: str, count: Any) -> Any:
    """How dJ/dloss spreads over the elements for each reduction."""
    if reduction == "none":
        return grad
    return grad / count if reduction == "mean" else grad


def _check_finite(owner: str, out: Tensor, explain: Callable[[], None] | None = None,
                  **inputs: Any) -> Tensor:
    """Return ``out`` if the loss is finite, else raise naming what made it NaN/Inf.

    This is the one value a loss reads back to the host. Only when the loss is not
    finite does ``explain`` (the loss's own value checks: label range, probability
    range, mask) run, then the finiteness of each input.
    """
    value = out.data
    finite = math.isfinite(float(value)) if value.ndim == 0 else bool(
        array_module(value).isfinite(value).all())
    if finite:
        return out
    if explain is not None:
        explain()
    for name, array in inputs.items():
        if array is not None and hasattr(array, "dtype"):
            finite_array(owner, name, array)
    raise NonFiniteError(f"{owner}: the loss is not finite ({float(value.ravel()[0])}) although "
                         "its inputs are; check for probabilities of exactly 0 or 1")


# ------------------------------------------------------------------ cross-entropy
class SoftmaxCrossEntropyFunction(Function):
    saves_output = False

    def __init__(self, reduction: str, labels_are_indices: bool) -> None:
        self.reduction = reduction
        self.indices = labels_are_indices

    def forward(self, logits: Any, target: Any) -> Any:
        xp = array_module(logits)
        m, num_classes = logits.shape
        log_probs = _log_softmax(logits, axis=1)  # (m, C)
        if self.indices:
            # The range check on the device: an index outside [0, C) reads class 0
            # and makes its loss NaN, which cross_entropy's finiteness check reports.
            invalid = (target < 0) | (target >= num_classes)  # (m,)
            target = xp.where(invalid, 0, target)
            losses = xp.where(invalid, xp.nan, -log_probs[xp.arange(m), target])  # (m,)
        else:
            losses = -(target * log_probs).sum(axis=1)  # (m,)
        self.log_probs, self.target, self.m = log_probs, target, m
        return _reduce(losses, self.reduction, m)

    def backward(self, grad: Any) -> tuple[Any, Any]:
        xp = array_module(grad)
        scale = _scale(grad, self.reduction, self.m)
        if self.reduction == "none":
            scale = scale[:, None]  # (m, 1)
        grad_target = None
        if self.needs_input_grad[1] and not self.indices:
            grad_target = -self.log_probs * scale
        grad_logits = xp.exp(self.log_probs)  # softmax, (m, C); ours to modify in place
        if self.indices:
            grad_logits[xp.arange(self.m), self.target] -= 1  # dZ = A - Y
        else:
            grad_logits *= self.target.sum(axis=1, keepdims=True)
            grad_logits -= self.target
        grad_logits *= scale
        return grad_logits, grad_target


def cross_entropy(logits: Any, labels: Any, reduction: Reduction = "mean") -> Tensor:
    """Softmax cross-entropy from logits: -sum_k y_k log softmax(z)_k, averaged over m (H9).

    The label range is checked on the logits' device, without copying the labels to
    the host (see the module docstring): a label outside [0, C) makes its loss NaN
    and the loss's finiteness check, the one value read back, raises the error.

    Args:
        logits: Z of shape (m, C), before any softmax.
        labels: integer class indices of shape (m,) in [0, C), or targets of shape
            (m, C) (one-hot or any distribution over the classes).
        reduction: "mean" (the cost J), "sum", or "none" (a loss per example).

    Returns:
        A scalar tensor (or shape (m,) for ``reduction="none"``).

    Raises:
        ShapeError: logits not 2-D, or labels of the wrong shape.
        TypeError: float labels of shape (m,) (class indices must be integers).
        ValueError: a label outside [0, C) (found on the device, see above).
        NonFiniteError: the logits or the targets contain NaN or Inf.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> z = st.tensor([[2.0, 0.0, -2.0], [1000.0, 0.0, -1000.0]], requires_grad=True)
        >>> loss = cross_entropy(z, np.array([0, 0]))
        >>> round(loss.item(), 4)
        0.0715
        >>> loss.backward(); z.grad.round(3)
        array([[-0.067,  0.059,  0.008],
               [ 0.   ,  0.   ,  0.   ]], dtype=float32)
    """
    owner = "cross_entropy"
    one_of(owner, "reduction", reduction, REDUCTIONS)
    z_tensor = as_tensor(logits)
    z = z_tensor.data
    if z.ndim != 2:
        raise ShapeError(f"cross_entropy: `logits` must be 2-D (m, num_classes); got shape "
                         f"{fmt_shape(z.shape)}")
    m, num_classes = z.shape
    if m == 0:
        raise ValueError("cross_entropy: `logits` is empty (0 examples)")
    y = labels if isinstance(labels, Tensor) and labels.requires_grad else _as_target(labels, z)
    y_data = _data(y)
    indices = y_data.dtype.kind in "iub"
    # Class indices are not values: integer logits with them get the default float dtype.
    z_tensor = _floating(z_tensor, z if indices else y_data)
    if indices:
        if y_data.shape != (m,):
            hint = " (flatten them with .reshape(-1))" if y_data.shape == (m, 1) else ""
            raise ShapeError(f"cross_entropy: integer `labels` must have shape ({m},) to match "
                             f"`logits` {fmt_shape(z.shape)}; got {fmt_shape(y_data.shape)}{hint}")
        y_data = y_data.astype(np.intp, copy=False)
        y = y_data
    else:
        if y_data.shape == (m,):
            raise TypeError(f"cross_entropy: `labels` of shape ({m},) must be integer class "
                            f"indices; got dtype {y_data.dtype}. Use labels.astype(int), or "
                            f"pass one-hot targets of shape ({m}, {num_classes})")
        _same_shape(owner, "logits", z, "labels", y_data)
        if not isinstance(y, Tensor):
            y = y_data.astype(z_tensor.dtype, copy=False)

    def explain() -> None:
        if not indices:
            return
        labels_host = to_device(y_data, "cpu")
        bad = labels_host[(labels_host < 0) | (labels_host >= num_classes)]
        if bad.size:
            raise ValueError(f"{owner}: `labels` must be class indices in [0, {num_classes}) "
                             f"for logits with {num_classes} classes; got {int(bad[0])}")

    out = SoftmaxCrossEntropyFunction(reduction, indices)(z_tensor, y)
    return _check_finite(owner, out, explain, logits=z_tensor.data, labels=_data(y))


# --------------------------------------------------------- binary cross-entropy
class SigmoidBinaryCrossEntropyFunction(Function):
    """BCE on logits, optionally weighted per element and divided by a given count."""

    saves_output = False

    def __init__(self, reduction: str, count: Any, weight: Any = None) -> None:
        self.reduction, self.count, self.weight = reduction, count, weight

    def forward(self, z: Any, y: Any) -> Any:
        xp = array_module(z)
        # max(z, 0) - z*y + log(1 + e^-|z|): no exp of a large positive number. An
        # infinite target gives NaN (0 * inf) without a warning: the caller's
        # finiteness check names it.
        with np.errstate(invalid="ignore"):
            losses = xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
        if self.weight is not None:
            losses = losses * self.weight
        self.z, self.y = z, y
        return _reduce(losses, self.reduction, self.count)

    def backward(self, grad: Any) -> tuple[Any, Any]:
        xp = array_module(grad)
        e = xp.exp(-xp.abs(self.z))
        probs = xp.where(self.z >= 0, 1 / (1 + e), e / (1 + e))
        grad_z = (probs - self.y) * _scale(grad, self.reduction, self.count)
        if self.weight is not None:
            grad_z = grad_z * self.weight
        grad_y = None
        if self.needs_input_grad[1]:
            grad_y = -self.z * _scale(grad, self.reduction, self.count)
        return grad_z, grad_y


def binary_cross_entropy_with_logits(logits: Any, targets: Any,
                                     reduction: Reduction = "mean") -> Tensor:
    """-(y log a + (1 - y) log(1 - a)) with a = sigmoid(z), computed from z stably (B4).

    Its gradient is the seed's dz = a - y (divided by m for the mean). No value check
    copies data to the host (see the module docstring).

    Args:
        logits: z, any shape (usually (m, 1) or (m,)).
        targets: y in [0, 1], the same shape as ``logits``.
        reduction: "mean" (J, averaged over all elements), "sum" or "none".

    Example:
        >>> import steepest as st
        >>> z = st.tensor([[1000.0], [-1000.0], [0.0]], requires_grad=True)
        >>> loss = binary_cross_entropy_with_logits(z, [[1.0], [0.0], [1.0]])
        >>> round(loss.item(), 4)  # log(2) / 3
        0.231
    """
    owner = "binary_cross_entropy_with_logits"
    one_of(owner, "reduction", reduction, REDUCTIONS)
    z, y = _elementwise_pair(owner, "logits", logits, targets)
    out = SigmoidBinaryCrossEntropyFunction(reduction, z.size)(z, y)
    return _check_finite(owner, out, logits=z.data, targets=_data(y))


def masked_binary_cross_entropy_with_logits(logits: Any, targets: Any, mask: Any = None,
                                            reduction: Literal["mean", "sum"] = "mean"
                                            ) -> Tensor:
    """Binary cross-entropy for multi-task learning: only labels that exist count (M15).

    Each example may carry several binary labels (one output unit per task), some of
    them unknown. The cost sums the loss over the labels whose ``mask`` is 1 and, for
    ``"mean"``, divides by how many there are. Unknown targets may be NaN. The mask
    and the targets are checked on the device (see the module docstring).

    Args:
        logits: z of shape (m, num_tasks).
        targets: y of the same shape; entries where ``mask`` is 0 are ignored (NaN ok).
        mask: 1/True where the label exists. Default: where ``targets`` is not NaN.
        reduction: "mean" over the existing labels, or "sum".

    Returns:
        A scalar tensor; 0 (with zero gradient) when no label exists in the batch.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> z = st.tensor([[0.0, 5.0], [0.0, 0.0]], requires_grad=True)
        >>> y = np.array([[1.0, np.nan], [0.0, np.nan]])  # task 2 unlabelled here
        >>> round(masked_binary_cross_entropy_with_logits(z, y).item(), 4)  # log 2
        0.6931
    """
    owner = "masked_binary_cross_entropy_with_logits"
    one_of(owner, "reduction", reduction, ("mean", "sum"))
    z_tensor = as_tensor(logits)
    z = z_tensor.data
    xp = array_module(z)
    y = _as_target(targets, z)
    _same_shape(owner, "logits", z, "targets", y)
    z_tensor = _floating(z_tensor, y)
    dtype = z_tensor.dtype
    if mask is None:
        exists = ~xp.isnan(y) if y.dtype.kind == "f" else xp.ones(y.shape, dtype=bool)
        weight = exists.astype(dtype)
    else:
        mask_data = _as_target(mask, z)
        _same_shape(owner, "logits", z, "mask", mask_data)
        exists = mask_data != 0
        weight = mask_data.astype(dtype)
        if mask_data.dtype != bool:  # a value other than 0/1 makes the loss NaN
            weight = xp.where((mask_data == 0) | (mask_data == 1), weight, xp.nan)
    y = xp.where(exists, y, 0).astype(dtype)
    # With no label in the batch the weighted sum is 0; dividing it by 1 instead of 0
    # gives the documented 0 with zero gradient, without reading the count back.
    count = xp.maximum(weight.sum(), 1)

    def explain() -> None:
        if mask is not None and mask_data.dtype != bool and \
                not bool(((mask_data == 0) | (mask_data == 1)).all()):
            raise ValueError(f"{owner}: `mask` must contain only 0/1 or booleans")
        finite_array(owner, "targets (where mask is 1)", y)

    out = SigmoidBinaryCrossEntropyFunction(reduction, count, weight)(z_tensor, y)
    return _check_finite(owner, out, explain, logits=z)


class BinaryCrossEntropyFunction(Function):
    saves_output = False

    def __init__(self, reduction: str, count: int) -> None:
        self.reduction, self.count = reduction, count

    def forward(self, p: Any, y: Any) -> Any:
        xp = array_module(p)
        # Clamp the logs at -100, as PyTorch does, so p = 0 or 1 gives a finite loss
        # (log(0) = -inf is expected here, so NumPy need not warn about it). A p
        # outside [0, 1] gives NaN, which binary_cross_entropy reports.
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_1mp = xp.maximum(xp.log1p(-p), -100)
        self.p, self.y = p, y
        return _reduce(-(y * log_p + (1 - y) * log_1mp),
                       self.reduction, self.count)

    def backward(self, grad: Any) -> tuple[Any, Any]:
        xp = array_module(grad)
        p = self.p
        denominator = xp.maximum(p * (1 - p), 1e-12)
        scale = _scale(grad, self.reduction, self.count)
        grad_y = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                grad_y = (xp.maximum(xp.log1p(-p), -100) - xp.maximum(xp.log(p), -100)) * scale
        return (p - self.y) / denominator * scale, grad_y


def binary_cross_entropy(probs: Any, targets: Any, reduction: Reduction = "mean") -> Tensor:
    """-(y log a + (1 - y) log(1 - a)) from probabilities a (the seed's L(a, y), B4).

    Prefer :func:`binary_cross_entropy_with_logits`, which is exact for large |z|.
    Each log is clamped at -100 (as in PyTorch), so a = 0 or 1 gives a finite loss.
    The range [0, 1] of ``probs`` is checked on the device (see the module docstring).

    Example:
        >>> import steepest as st
        >>> round(binary_cross_entropy(st.tensor([0.9, 0.2]), [1.0, 0.0]).item(), 4)
        0.1643
    """
    owner = "binary_cross_entropy"
    one_of(owner, "reduction", reduction, REDUCTIONS)
    p, y = _elementwise_pair(owner, "probs", probs, targets)

    def explain() -> None:
        data = p.data
        finite_array(owner, "probs", data)
        if bool((data < 0).any()) or bool((data > 1).any()):
            raise ValueError(f"{owner}: `probs` must lie in [0, 1]; got values from "
                             f"{float(data.min())} to {float(data.max())} (pass logits to "
                             "binary_cross_entropy_with_logits instead)")

    out = BinaryCrossEntropyFunction(reduction, p.size)(p, y)
    return _check_finite(owner, out, explain, probs=p.data, targets=_data(y))


def mse_loss(predictions: Any, targets: Any, reduction: Reduction = "mean") -> Tensor:
    """Squared error (a - y)^2, averaged over all elements: the loss for regression.

    The seed explains why logistic regression does not use it (the cost becomes
    non-convex in w); a linear output with this loss is the regression case (S4).
    Integer predictions are promoted, never truncating float targets.

    Example:
        >>> import steepest as st
        >>> mse_loss(st.tensor([1.0, 3.0]), [0.0, 1.0]).item()
        2.5
        >>> float(mse_loss([1, 2], [0.5, 0.5]).item())  # ints promoted, not truncated
        1.25
    """
    owner = "mse_loss"
    one_of(owner, "reduction", reduction, REDUCTIONS)
    p, y = _elementwise_pair(owner, "predictions", predictions, targets)
    difference = ew.sub(p, y)
    squares = ew.mul(difference, difference)
    out = squares if reduction == "none" else (
        rd.mean(squares) if reduction == "mean" else rd.sum(squares))
    return _check_finite(owner, out, predictions=p.data, targets=_data(y))


# ------------------------------------------------------------------ penalties (I4)
def _penalty_args(owner: str, weights: Any, lambd: float, m: int) -> list[Tensor]:
    real(owner, "lambd", lambd, low=0.0)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m <= 0:
        raise ValueError(f"{owner}: `m` (the number of examples) must be a positive int; got "
                         f"{m!r}")
    # One tensor or array is one weight; any other iterable holds several (for the sums
    # of squares and of absolute values it makes no difference how a list is split).
    items = [weights] if isinstance(weights, Tensor) or hasattr(weights, "ndim") else \
        list(weights)
    if not items:
        raise ValueError(f"{owner}: `weights` is empty")
    return items


def l2_penalty(weights: Tensor | Iterable[Tensor], lambd: float, m: int) -> Tensor:
    """The seed's L2 term lambd / (2m) * sum_l ||W[l]||_F^2 (squared Frobenius norms, I4).

    Add it to the cost so gradient checks and optimisers see it; its gradient is
    (lambd / m) W, which is why L2 is called weight decay.

    Args:
        weights: one weight tensor or several (weights only, not biases).
        lambd: the regularisation strength lambda >= 0, tuned on the dev set.
        m: the number of examples the cost averages over.

    Example:
        >>> import steepest as st
        >>> l2_penalty([st.tensor([[1.0, 2.0]]), st.tensor([3.0])], lambd=0.2, m=2).item()
        0.7
    """
    items = _penalty_args("l2_penalty", weights, lambd, m)
    total = rd.sum(ew.mul(items[0], items[0]))
    for w in items[1:]:
        total = ew.add(total, rd.sum(ew.mul(w, w)))
    return ew.mul(total, lambd / (2 * m))


def l1_penalty(weights: Tensor | Iterable[Tensor], lambd: float, m: int) -> Tensor:
    """The L1 term lambd / (2m) * sum_l ||W[l]||_1, which drives weights to exactly 0 (I4).

    The scaling follows the course's slide (lambda / 2m, like L2); the seed notes
    that L1 makes w sparse but that L2 is the one used in practice.

    Example:
        >>> import steepest as st
        >>> l1_penalty(st.tensor([[1.0, -2.0]]), lambd=1.0, m=3).item()
        0.5
    """
    items = _penalty_args("l1_penalty", weights, lambd, m)
    total = rd.sum(ew.abs(items[0]))
    for w in items[1:]:
        total = ew.add(total, rd.sum(ew.abs(w)))
    return ew.mul(total, lambd / (2 * m))
