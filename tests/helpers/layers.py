"""The layer conformance helper (after Keras's run_layer_test).

For any layer: the output shape, a gradient for every parameter (and the input),
a state_dict round trip into a fresh copy, the same output for a Tensor, an ndarray
and a list, and train/eval behaviour.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import steepest as st


def check_layer(make: Callable[[], st.nn.Module], input_shape: tuple[int, ...],
                expected_shape: tuple[int, ...], *, train_eval_differ: bool = False,
                input_grad: bool = True, rng_seed: int = 0) -> st.nn.Module:
    rng = np.random.default_rng(rng_seed)
    layer = make()
    x = st.tensor(rng.standard_normal(input_shape).astype(np.float32), requires_grad=input_grad)
    out = layer(x)
    assert isinstance(out, st.Tensor)
    assert out.shape == expected_shape, f"{layer}: output {out.shape} != {expected_shape}"
    assert out.dtype == np.float32
    (out * st.tensor(rng.standard_normal(out.shape).astype(np.float32))).sum().backward()
    for name, param in layer.named_parameters():
        assert param.grad is not None, f"{layer}: parameter {name} got no gradient"
        assert param.grad.shape == param.shape
        assert np.isfinite(param.grad).all()
    if input_grad:
        assert x.grad is not None and x.grad.shape == x.shape

    clone = make()
    clone.load_state_dict({k: v.copy() for k, v in layer.state_dict().items()})
    layer.eval()
    clone.eval()
    np.testing.assert_array_equal(layer(x).data, clone(x).data)
    for same in (x.data, x.data.tolist()):  # one coercion point: arrays and lists alike
        out = layer(same)
        assert isinstance(out, st.Tensor), f"{layer}: returned {type(out).__name__}"
        np.testing.assert_array_equal(out.data, layer(x).data)

    if train_eval_differ:
        layer.train()
        trained = layer(x).data
        layer.eval()
        assert not np.array_equal(trained, layer(x).data), f"{layer}: train == eval output"
    repr(layer)
    return layer
