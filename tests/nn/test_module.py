"""Module: registration, traversal, modes, state dicts, dtype and repr."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import nn


class Block(nn.Module):
    def __init__(self, n: int, scale: float = 1.0) -> None:
        super().__init__()
        self.first = nn.Linear(n, n)
        self.second = nn.Linear(n, 1)
        self.register_buffer("count", np.zeros(1, dtype=np.float32))
        self.scale = scale

    def forward(self, x):
        return self.second(st.functional.relu(self.first(x))) * self.scale


def test_registration_and_names() -> None:
    block = Block(3)
    assert [n for n, _ in block.named_parameters()] == [
        "first.weight", "first.bias", "second.weight", "second.bias"]
    assert list(block.state_dict()) == [
        "count", "first.weight", "first.bias", "second.weight", "second.bias"]
    assert [n for n, _ in block.named_modules()] == ["", "first", "second"]
    assert len(list(block.children())) == 2
    assert block.num_parameters() == 3 * 3 + 3 + 3 + 1


def test_shared_parameter_listed_once() -> None:
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, shared)
    assert len(list(net.parameters())) == 2


def test_train_eval_propagate() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    net.eval()
    assert not net.training and not net[1].training
    net.train()
    assert all(m.training for m in net.modules())


def test_requires_grad_freezes() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    net[0].requires_grad_(False)
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    assert net.num_parameters(trainable_only=True) == 3


def test_load_state_dict_reports_every_problem_at_once() -> None:
    block = Block(3)
    state = {k: v.copy() for k, v in block.state_dict().items()}
    del state["second.bias"]
    state["extra.weight"] = np.zeros(2)
    state["first.weight"] = np.zeros((4, 3))
    before = block.first.weight.data.copy()
    with pytest.raises(KeyError) as error:
        block.load_state_dict(state)
    message = str(error.value)
    assert "missing keys: second.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert "first.weight: expected (3, 3), got (4, 3)" in message
    np.testing.assert_array_equal(block.first.weight.data, before)  # nothing changed


def test_load_state_dict_copies_and_casts() -> None:
    source, target = nn.Linear(2, 2), nn.Linear(2, 2)
    state = {k: v.astype(np.float64) for k, v in source.state_dict().items()}
    target.load_state_dict(state)
    assert target.weight.dtype == np.float32
    np.testing.assert_allclose(target.weight.data, source.weight.data)
    state["weight"][0, 0] = 99
    assert target.weight.data[0, 0] != 99


def test_non_strict_load() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    partial = {"0.weight": np.ones((2, 2))}
    net.load_state_dict(partial, strict=False)
    np.testing.assert_array_equal(net[0].weight.data, np.ones((2, 2)))


def test_to_dtype() -> None:
    block = Block(2).to(dtype="float64")
    assert all(p.dtype == np.float64 for p in block.parameters())
    assert block.count.dtype == np.float64
    assert block.dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        block.to(dtype="int32")


def test_config_is_recorded() -> None:
    assert Block(4, scale=2.0).get_config() == {"n": 4, "scale": 2.0}
    assert nn.Linear(3, 2, bias=False).get_config() == {
        "in_features": 3, "out_features": 2, "bias": False}


def test_repr() -> None:
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert text == ("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
                    "  (1): ReLU()\n)")


def test_forgetting_super_init_is_explained() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Linear(2, 2)

    with pytest.raises(RuntimeError, match=r"call super\(\).__init__\(\)"):
        Broken()


def test_parameter_slot_type_checks() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign ndarray to parameter 'weight'"):
        layer.weight = np.zeros((2, 2))
