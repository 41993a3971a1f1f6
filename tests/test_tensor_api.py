"""What a PyTorch user tries first: factories, as_tensor, NumPy interop, Tensor methods.

Values of the deterministic factories and of the methods are checked against PyTorch
in the op table (tests/ops/test_optable.py); here: the random factories (steepest
only: dtype, shape, range, determinism), conversion rules and error messages.
"""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import ShapeError

# ------------------------------------------------------------------ random factories


@pytest.mark.parametrize("factory", [st.rand, st.randn])
def test_random_factories_dtype_shape_and_determinism(factory) -> None:
    a = factory(3, 4, rng=123)
    assert a.shape == (3, 4) and a.dtype == np.float32 and a.is_leaf and not a.requires_grad
    np.testing.assert_array_equal(a.data, factory((3, 4), rng=123).data)  # same seed
    assert not np.array_equal(a.data, factory(3, 4, rng=124).data)
    generator = np.random.default_rng(5)
    first = factory(6, rng=generator)
    second = factory(6, rng=generator)  # a Generator advances
    assert not np.array_equal(first.data, second.data)
    assert factory(2, dtype="float64").dtype == np.float64
    assert factory(2, dtype=np.float16).dtype == np.float16
    grad = factory(2, requires_grad=True)
    assert grad.requires_grad and grad.is_leaf


@pytest.mark.parametrize("factory", [st.rand, st.randn])
def test_random_factories_follow_steepest_seed(factory) -> None:
    st.seed(7)
    a = factory(5)
    st.seed(7)
    b = factory(5)
    np.testing.assert_array_equal(a.data, b.data)


def test_rand_is_uniform_in_unit_interval() -> None:
    x = st.rand(20000, rng=0).data
    assert x.min() >= 0.0 and x.max() < 1.0
    assert abs(x.mean() - 0.5) < 0.01
    assert abs(x.var() - 1 / 12) < 0.005


def test_randn_is_standard_normal() -> None:
    x = st.randn(20000, rng=0, dtype="float64").data
    assert abs(x.mean()) < 0.03 and abs(x.std() - 1.0) < 0.03
    assert x.min() < -3 and x.max() > 3  # not a bounded distribution


def test_random_factories_follow_the_default_dtype() -> None:
    st.set_default_dtype("float64")
    try:
        assert st.rand(2).dtype == np.float64
        assert st.randn(2).dtype == np.float64
        assert st.zeros(2).dtype == np.float64
        assert st.full(2, 1.5).dtype == np.float64
        assert st.arange(0.0, 2.0).dtype == np.float64
    finally:
        st.set_default_dtype("float32")


# ------------------------------------------------------------------ factory errors
def test_factories_reject_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"zeros: `shape` must be non-negative ints; "
                                         r"got \(2, -1\)"):
        st.zeros(2, -1)
    with pytest.raises(TypeError, match=r"ones: `shape` must be non-negative ints, given as "
                                        r"ones\(2, 3\) or ones\(\(2, 3\)\); got \(2.5,\)"):
        st.ones(2.5)
    with pytest.raises(TypeError, match=r"rand: `shape`.*got \(True,\)"):
        st.rand(True)
    with pytest.raises(ValueError, match=r"eye: `n` must be a non-negative int; got -2"):
        st.eye(-2)
    with pytest.raises(TypeError, match=r"eye: `m` must be a non-negative int; got 1.5"):
        st.eye(2, 1.5)


def test_factories_reject_bad_dtypes_and_integer_gradients() -> None:
    with pytest.raises(TypeError, match=r"rand: `dtype` must be a floating dtype .*; got int64"):
        st.rand(2, dtype="int64")
    with pytest.raises(TypeError, match=r"randn: `dtype` must be a floating dtype"):
        st.randn(2, dtype=bool)
    with pytest.raises(TypeError, match=r"zeros: `dtype` must be a NumPy dtype or its name"):
        st.zeros(2, dtype="floaty")
    with pytest.raises(TypeError, match=r"full: only floating-point tensors can require "
                                        r"gradients; got dtype int64"):
        st.full((2,), 3, requires_grad=True)
    with pytest.raises(TypeError, match=r"arange: only floating-point.*Pass dtype='float32'"):
        st.arange(3, requires_grad=True)
    with pytest.raises(TypeError, match=r"full: `fill_value` must be a real number or a bool; "
                                        r"got 'a'"):
        st.full(2, "a")
    with pytest.raises(TypeError, match=r"`rng` must be a numpy.random.Generator"):
        st.rand(2, rng="seed")
    with pytest.raises(ValueError, match=r"`device` must be 'cpu' or 'gpu'; got 'tpu'"):
        st.ones(2, device="tpu")


def test_arange_rules() -> None:
    with pytest.raises(ValueError, match=r"arange: `step` must be nonzero; got 0"):
        st.arange(0, 3, 0)
    with pytest.raises(ValueError, match=r"arange: `end` must be finite; got inf"):
        st.arange(0, float("inf"))
    with pytest.raises(TypeError, match=r"arange: `start` must be a number; got '0'"):
        st.arange("0", 3)
    with pytest.raises(TypeError, match=r"arange: `end` must be a number; got '3'"):
        st.arange("3")  # one argument is the end, as in PyTorch
    assert st.arange(3, 1).shape == (0,)  # NumPy's rule: an empty range, not an error
    # start + i * step: no drift over many float steps
    values = st.arange(0, 100, 0.1, dtype="float64").data
    assert values.shape == (1000,)
    np.testing.assert_allclose(values, np.arange(1000) * 0.1, rtol=0, atol=1e-12)


def test_cat_is_concatenate() -> None:
    assert st.cat is st.concatenate
    a = st.tensor([1.0], requires_grad=True)
    st.cat([a, st.tensor([2.0, 3.0])]).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0])


# ------------------------------------------------------------------- as_tensor
def test_as_tensor_passes_tensors_through_and_wraps_the_rest() -> None:
    t = st.tensor([1.0, 2.0], requires_grad=True)
    assert st.as_tensor(t) is t
    assert st.as_tensor(t, dtype="float32") is t
    cast = st.as_tensor(t, dtype="float64")
    assert cast.dtype == np.float64 and cast.requires_grad  # a differentiable cast
    (cast * cast).sum().backward()
    np.testing.assert_allclose(t.grad, [2.0, 4.0])
    array = np.arange(3, dtype=np.float32)
    wrapped = st.as_tensor(array)
    assert wrapped.data is array and not wrapped.requires_grad  # no copy
    assert st.as_tensor([1.0, 2.0]).dtype == np.float32  # Python floats: default dtype
    assert st.as_tensor([1, 2]).dtype == np.int64
    assert st.as_tensor(np.zeros(2)).dtype == np.float64  # arrays keep their dtype
    assert st.as_tensor(3.5).shape == () and st.as_tensor(3.5).dtype == np.float32
    assert st.as_tensor([1, 2], dtype="float16").dtype == np.float16


# ------------------------------------------------------------------ NumPy interop
def test_numpy_conversions_give_the_data() -> None:
    t = st.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    as_array = np.asarray(t)
    assert as_array is t.data  # no copy, not an object array of tensors
    copied = np.array(t)
    assert copied.dtype == np.float32 and copied is not t.data
    np.testing.assert_array_equal(copied, [[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    stacked = np.asarray([st.tensor([1.0, 2.0]), st.tensor([3.0, 4.0])])
    assert stacked.dtype == np.float32 and stacked.shape == (2, 2)
    with pytest.raises(ValueError, match=r"Tensor.__array__: copy=False .*\(to dtype float64\)"):
        np.asarray(t, dtype=np.float64, copy=False)
    assert np.asarray(t, copy=False) is t.data


def test_ndarray_with_tensor_still_gives_a_tensor() -> None:
    t = st.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([10.0, 20.0], dtype=np.float32)
    for result in (a + t, a * t, a - t, a / t, a @ t):
        assert isinstance(result, st.Tensor) and result.requires_grad
    np.testing.assert_array_equal((a + t).data, [11.0, 22.0])


def test_tolist() -> None:
    assert st.tensor([[1.0, 2.5]]).tolist() == [[1.0, 2.5]]
    assert st.tensor(3.0).tolist() == 3.0
    assert isinstance(st.tensor([1, 2]).tolist()[0], int)


# -------------------------------------------------------------------- methods
def test_argmax_argmin_are_integer_and_not_differentiable() -> None:
    x = st.tensor([[1.0, 7.0, 7.0], [9.0, 0.0, 2.0]], requires_grad=True)
    index = x.argmax(axis=1)
    assert index.dtype == np.int64 and not index.requires_grad and index.is_leaf
    assert index.tolist() == [1, 0]  # ties: the first index
    assert x.argmax().item() == 3
    assert x.argmin().item() == 4
    assert x.argmin(axis=0, keepdims=True).tolist() == [[0, 1, 1]]
    assert st.tensor(5.0).argmax().item() == 0


def test_argmax_errors() -> None:
    x = st.tensor(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"Tensor.argmax: axis 2 is out of range for a tensor "
                                         r"with 2 dimension\(s\)"):
        x.argmax(axis=2)
    with pytest.raises(TypeError, match=r"Tensor.argmin: `axis` must be an int or None; "
                                        r"got \(0, 1\)"):
        x.argmin(axis=(0, 1))
    with pytest.raises(ShapeError, match=r"Tensor.argmax: no values to choose from in a tensor "
                                         r"of shape \(0, 3\)"):
        st.zeros(0, 3).argmax(axis=0)


def test_view_and_activation_methods_keep_the_graph() -> None:
    x = st.tensor([[-1.0, 2.0], [0.5, -3.0]], requires_grad=True)
    y = x.view(4).relu().sum() + x.sigmoid().sum() + x.tanh().sum() + x.softmax(axis=0)[0, 0]
    assert y.requires_grad
    y.backward()
    assert x.grad is not None and x.grad.shape == (2, 2)
    with pytest.raises(ShapeError, match=r"cannot reshape a tensor of shape \(2, 2\)"):
        x.view(3)
