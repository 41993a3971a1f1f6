"""The autograd engine: graph walking, accumulation, operators, dtypes and errors."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import steepest as st
from steepest import ShapeError


def test_chain_of_100000_ops_does_not_recurse() -> None:
    x = st.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    y.sum().backward()
    assert sys.getrecursionlimit() == limit
    np.testing.assert_allclose(x.grad, [1.0])


def test_long_retained_graph_is_freed_without_recursion() -> None:
    x = st.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    y.sum().backward(retain_graph=True)
    del y
    gc.collect()  # dropping the chain must not overflow the C stack


def test_shared_subexpression() -> None:
    # b = a + a; c = b * b  ->  dc/da = 2b * 2 = 8a
    a = st.tensor([3.0], requires_grad=True)
    b = a + a
    c = b * b
    c.backward()
    np.testing.assert_allclose(a.grad, [24.0])


def test_node_reached_on_paths_of_different_length() -> None:
    # The bug of recursive/visited-on-push sorts: d depends on x directly and via y.
    x = st.tensor([2.0], requires_grad=True)
    y = x * x          # x^2
    z = y * x          # x^3
    d = z + y + x      # x^3 + x^2 + x
    d.backward()
    np.testing.assert_allclose(x.grad, [3 * 4 + 2 * 2 + 1])


def test_grad_accumulates_across_backward_calls() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_second_backward_through_freed_graph_raises() -> None:
    x = st.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_second_backward_with_retain_graph_adds_again() -> None:
    x = st.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [8.0])


def test_grads_are_private_and_writable() -> None:
    a = st.tensor([1.0, 2.0], requires_grad=True)
    b = st.tensor([3.0, 4.0], requires_grad=True)
    upstream = np.ones(2, dtype=np.float32)
    (a + b).backward(upstream)
    assert a.grad is not b.grad
    assert a.grad is not upstream
    a.grad += 1  # must not change b.grad
    np.testing.assert_allclose(b.grad, [1.0, 1.0])
    c = st.tensor([1.0, 2.0], requires_grad=True)
    c.sum().backward()  # sum's backward broadcasts a read-only view
    c.grad *= 2
    np.testing.assert_allclose(c.grad, [2.0, 2.0])


def test_ndarray_op_tensor_from_both_sides() -> None:
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = st.tensor([3.0, 4.0], requires_grad=True)
    for result in (a + t, t + a, a - t, a * t, a / t, a ** t, t @ a, a @ t):
        assert isinstance(result, st.Tensor)
        assert result.requires_grad
    (a - t).sum().backward()
    np.testing.assert_allclose(t.grad, [-1.0, -1.0])


def test_python_scalars_do_not_upcast_float32() -> None:
    t = st.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for result in (t + 1, 2.5 * t, t / 3.0, 1 - t, t ** 2, 2.0 ** t, -t, abs(t)):
        assert result.dtype == np.float32
    (t * 2.5).sum().backward()
    assert t.grad.dtype == np.float32


def test_python_float_lists_get_default_dtype() -> None:
    assert st.tensor([1.0, 2.0]).dtype == np.float32
    assert st.tensor([1, 2]).dtype.kind == "i"
    assert st.tensor(np.zeros(2)).dtype == np.float64  # arrays keep their dtype
    assert st.tensor([1, 2], dtype="float64").dtype == np.float64


def test_float64_constant_gives_float32_leaf_float32_grad() -> None:
    t = st.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (t * np.ones(3)).sum().backward()  # the product is float64, the gradient is cast back
    assert t.grad.dtype == np.float32


def test_no_grad_records_nothing() -> None:
    w = st.tensor([1.0], requires_grad=True)
    with st.no_grad():
        y = w * 2
    assert not y.requires_grad and y.is_leaf

    @st.no_grad()
    def predict(v):
        return v * 3

    assert not predict(w).requires_grad
    assert st.is_grad_enabled()


def test_detach_and_properties() -> None:
    x = st.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.data is y.data
    assert (x.shape, x.ndim, x.size, x.dtype, x.device) == ((2, 3), 2, 6, np.float32, "cpu")
    assert x.T.shape == (3, 2)
    assert x[1, 2].item() == 5.0
    assert isinstance(x.numpy(), np.ndarray)
    assert "requires_grad=True" in repr(x)
    assert len(x) == 2


def test_astype_is_differentiable() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    y = x.astype("float64")
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_custom_function_and_needs_input_grad() -> None:
    seen = {}

    class Scale(st.Function):
        def forward(self, x, y):
            self.y = y
            return x * y

        def backward(self, grad):
            seen["needs"] = self.needs_input_grad
            return grad * self.y, None

    x = st.tensor([2.0], requires_grad=True)
    Scale()(x, np.array([5.0], dtype=np.float32)).sum().backward()
    assert seen["needs"] == (True, False)
    np.testing.assert_allclose(x.grad, [5.0])


def test_comparisons_give_bool_tensors_without_grad() -> None:
    x = st.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert result.dtype == bool and not result.requires_grad
    assert (x > 1.5).data.tolist() == [False, True, True]


# ------------------------------------------------------------------ bad input
def test_mismatched_matmul_names_shapes() -> None:
    a = st.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned: "
                                         r"3 \(last dim of a\) != 4"):
        a @ np.ones((4, 5))


def test_non_broadcastable_operands_name_shapes() -> None:
    a = st.tensor(np.ones((3,)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"add: operands could not be broadcast together: "
                                         r"shapes \(3,\) and \(4,\)"):
        a + np.ones(4)
    with pytest.raises(ShapeError, match=r"mul: .*\(2, 3\) and \(2,\)"):
        st.tensor(np.ones((2, 3))) * st.tensor(np.ones(2))


def test_backward_on_non_scalar_without_grad() -> None:
    y = st.tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(ShapeError, match=r"shape \(2, 3\).*Reduce it first"):
        y.backward()
    with pytest.raises(ShapeError, match=r"`grad` has shape \(3,\)"):
        y.backward(np.ones(3))


def test_backward_without_graph() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        st.tensor([1.0]).backward()


def test_integer_tensors_cannot_require_grad() -> None:
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients; "
                                        "got dtype int64"):
        st.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        st.tensor([1, 2]).requires_grad_()


def test_item_and_bool_of_many_elements() -> None:
    t = st.tensor([1.0, 2.0])
    with pytest.raises(ShapeError, match=r"one-element.*\(2,\)"):
        t.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)


def test_reshape_and_axis_errors() -> None:
    t = st.tensor(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"cannot reshape a tensor of shape \(2, 3\) "
                                         r"\(6 elements\) into \(4,\)"):
        t.reshape(4)
    with pytest.raises(ShapeError, match="axis 2 is out of range for a tensor with 2"):
        t.sum(axis=2)
    with pytest.raises(ShapeError, match=r"concatenate: shapes \(2, 3\), \(3, 3\)"):
        st.concatenate([t, st.tensor(np.ones((3, 3)))], axis=1)
