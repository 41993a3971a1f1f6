"""The autograd engine: graph walking, accumulation, operators, dtypes and errors."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest

import steepest as st
import steepest.functional as F
from steepest import ShapeError, autograd, ops


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_chain_of_100000_ops_does_not_recurse() -> None:
    x = st.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    y.sum().backward()
    assert sys.getrecursionlimit() == limit
    np.testing.assert_allclose(x.grad, [1.0])


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
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


# ------------------------------------------------------------- in-place changes
def test_in_place_change_after_forward_raises_naming_the_op() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data *= 10  # augmented assignment goes through the setter
    with pytest.raises(RuntimeError, match=r"backward\(\): input 0 of Mul was changed in place "
                                           r"\(version 0 -> 1\) after the forward pass, and Mul "
                                           r"needs its old value"):
        y.backward()
    assert x.grad is None  # nothing was accumulated from the stale graph


def test_optimiser_style_update_then_stale_backward_raises() -> None:
    w = st.tensor([1.0, -1.0], requires_grad=True)
    x = st.tensor([3.0, 4.0])
    loss = (w * x).sum()
    w.data -= 0.1 * np.ones(2, dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"input 0 of Mul .*version 0 -> 1"):
        loss.backward()


def test_change_to_a_constant_input_raises_too() -> None:
    # The constant is what Mul's backward multiplies by: a change would be silent.
    x = st.tensor([1.0, 2.0], requires_grad=True)
    c = st.tensor([3.0, 3.0])
    y = (x * c).sum()
    c.data = np.array([5.0, 5.0], dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"input 1 of Mul"):
        y.backward()


def test_in_place_change_through_the_generic_call_path_raises() -> None:
    x = st.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = st.tensor(np.ones((4, 3), dtype=np.float32), requires_grad=True)
    y = F.linear(x, w).sum()
    w.data += 1
    with pytest.raises(RuntimeError, match=r"input 1 of Linear was changed in place"):
        y.backward()


def test_changed_output_that_backward_reads_raises() -> None:
    x = st.tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()  # exp's backward multiplies by its own output
    y.data *= 2
    with pytest.raises(RuntimeError, match=r"the output of Exp was changed in place "
                                           r"\(version 0 -> 1\)"):
        y.sum().backward()


def test_ops_that_do_not_read_their_inputs_do_not_raise() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1.0).sum() - x.reshape(2, 1).sum()
    x.data *= 10
    y.backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0])


def test_item_assignment_is_seen_after_bump_version() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data[0] = 5.0  # invisible to the setter ...
    assert x._version == 0
    x.bump_version()  # ... until announced, as optimisers do
    assert x._version == 1
    with pytest.raises(RuntimeError, match="Mul was changed in place"):
        y.backward()


def test_changes_before_forward_or_after_backward_are_fine() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    x.data *= 2  # version 1 before the graph exists
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad, [4.0, 8.0])
    x.data += 1  # after backward: a new forward pass sees the new values
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 10.0])
    with pytest.raises(RuntimeError, match=r"version 1 -> 2"):  # the retained graph is stale
        y.backward()


def test_custom_function_can_declare_it_saves_nothing() -> None:
    class Double(st.Function):
        saves_inputs = False
        saves_output = False

        def forward(self, x):
            return 2 * x

        def backward(self, grad):
            return 2 * grad

    class Square(st.Function):  # the defaults: backward reads its input
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad):
            return 2 * grad * self.x

    x = st.tensor([1.0, 2.0], requires_grad=True)
    y = Double()(x)
    x.data *= 3
    y.data *= 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    z = Square()(x)
    x.data *= 3
    with pytest.raises(RuntimeError, match="input 0 of Square"):
        z.sum().backward()


def test_data_setter_replaces_the_array_and_bumps_the_version() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    new = np.array([7.0, 8.0], dtype=np.float32)
    x.data = new
    assert x.data is new and x._version == 1
    x.data -= 1
    assert x.data is new and x._version == 2  # the same array, changed in place
    np.testing.assert_allclose(new, [6.0, 7.0])


# ---------------------------------------------------------------- recording per thread
def test_no_grad_in_another_thread_does_not_stop_this_one() -> None:
    inside = threading.Event()
    release = threading.Event()

    def predict() -> None:
        with st.no_grad():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=predict)
    worker.start()
    try:
        assert inside.wait(10)
        assert st.is_grad_enabled()  # the other thread's no_grad is its own
        x = st.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        assert y.requires_grad
        y.backward()
        np.testing.assert_allclose(x.grad, [2.0, 4.0])
    finally:
        release.set()
        worker.join()
    assert autograd._threads_without_grad == 0


def test_threads_toggling_no_grad_while_another_records() -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def toggle() -> None:
        w = st.tensor([1.0], requires_grad=True)
        try:
            while not stop.is_set():
                with st.no_grad():
                    assert not (w * 2).requires_grad
                    assert not st.is_grad_enabled()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    togglers = [threading.Thread(target=toggle) for _ in range(4)]
    for thread in togglers:
        thread.start()
    try:
        missing = 0
        for step in range(300):
            x = st.tensor([1.0, float(step)], requires_grad=True)
            y = (x * x).sum() + F.relu(x).sum()
            if not y.requires_grad:
                missing += 1
                continue
            y.backward()
            if x.grad is None:
                missing += 1
            else:
                np.testing.assert_allclose(x.grad, 2 * x.data + (x.data > 0))
    finally:
        stop.set()
        for thread in togglers:
            thread.join()
    assert missing == 0
    assert not errors, errors
    assert st.is_grad_enabled()
    assert autograd._threads_without_grad == 0


def test_enable_grad_inside_no_grad_and_as_decorator() -> None:
    w = st.tensor([1.0], requires_grad=True)

    @st.enable_grad()
    def train_step(v):
        return v * 3

    with st.no_grad():
        assert train_step(w).requires_grad
        with st.enable_grad():
            assert st.is_grad_enabled()
            assert (w * 2).requires_grad
        assert not st.is_grad_enabled()  # restored to no_grad, not to "on"
        assert not (w * 2).requires_grad
    assert st.is_grad_enabled()


def test_one_no_grad_instance_can_be_reused_and_nested() -> None:
    context = st.no_grad()
    with context:
        with context:
            assert not st.is_grad_enabled()
        assert not st.is_grad_enabled()
    assert st.is_grad_enabled()


def test_no_grad_is_restored_after_an_exception() -> None:
    with pytest.raises(KeyError), st.no_grad():
        raise KeyError("boom")
    assert st.is_grad_enabled()
    assert autograd._threads_without_grad == 0


# ------------------------------------------------------------------- coercion
def test_functions_accept_arrays_lists_and_scalars() -> None:
    for value in (np.array([-1.0, 2.0], dtype=np.float32), [-1.0, 2.0], (-1.0, 2.0)):
        out = F.relu(value)
        assert isinstance(out, st.Tensor) and not out.requires_grad
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.data, [0.0, 2.0])
    scalar = F.sigmoid(0.0)
    assert scalar.shape == () and scalar.dtype == np.float32 and scalar.item() == 0.5
    assert F.relu(np.array([-3, 4])).data.tolist() == [0, 4]  # ints keep their dtype


def test_binary_ops_turn_lists_into_arrays() -> None:
    # A list must not be treated as a Python object: [1, 2] + [3, 4] is not concatenation
    # and [1.0, 2.0] * 3 is not repetition.
    np.testing.assert_array_equal(ops.add([1.0, 2.0], [3.0, 4.0]).data, [4.0, 6.0])
    np.testing.assert_array_equal(ops.mul([1.0, 2.0], 3).data, [3.0, 6.0])
    t = st.tensor([1.0, 2.0], requires_grad=True)
    plus = t + [0.5, 0.5]  # noqa: RUF005 (t is a Tensor: this is addition)
    for result in (t * [1, 2], [1, 2] * t, plus, [3.0, 4.0] - t, t / (2, 4)):
        assert isinstance(result, st.Tensor) and result.requires_grad
        assert result.dtype == np.float32  # numbers in a list do not upcast, like scalars
    (t * [3, 4]).sum().backward()
    np.testing.assert_allclose(t.grad, [3.0, 4.0])
    with pytest.raises(ShapeError, match=r"add: operands could not be broadcast together: "
                                         r"shapes \(2,\) and \(3,\)"):
        t + [1.0, 2.0, 3.0]  # noqa: RUF005 (t is a Tensor: this is addition)


def test_function_call_accepts_lists() -> None:
    class Scale(st.Function):
        def forward(self, x, y):
            self.y = y
            assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
            return x * y

        def backward(self, grad):
            return grad * self.y, None

    x = st.tensor([2.0, 3.0], requires_grad=True)
    out = Scale()(x, [5.0, 7.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 7.0])
    joined = st.concatenate([[1.0, 2.0], np.array([3.0], dtype=np.float32)])
    np.testing.assert_array_equal(joined.data, [1.0, 2.0, 3.0])
