"""Module: registration, traversal, modes, state dicts, dtype and repr."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import steepest as st
from steepest import ShapeError, nn


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
    state["second.weight"] = np.zeros((1, 2))
    before = block.first.weight.data.copy()
    with pytest.raises(ShapeError) as error:
        block.load_state_dict(state)
    assert isinstance(error.value, ValueError)  # not a KeyError
    message = str(error.value)
    assert message.startswith("Block.load_state_dict: ")
    assert "missing keys: second.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert ("shape mismatches: first.weight: expected (3, 3), got (4, 3); "
            "second.weight: expected (1, 3), got (1, 2)") in message
    assert "different architecture" in message
    np.testing.assert_array_equal(block.first.weight.data, before)  # nothing changed


def test_load_state_dict_key_problems_are_a_value_error_with_the_fix() -> None:
    net = nn.Linear(2, 1)
    state = {"weight": np.ones((1, 2)), "scale": np.ones(1)}
    with pytest.raises(ValueError, match=r"^Linear.load_state_dict: missing keys: bias. "
                                         r"unexpected keys: scale \(pass strict=False") as error:
        net.load_state_dict(state)
    assert not isinstance(error.value, (ShapeError, KeyError))
    assert not np.array_equal(net.weight.data, np.ones((1, 2)))  # nothing loaded


def test_non_strict_load_returns_the_incompatible_keys() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    result = net.load_state_dict({"0.weight": np.ones((2, 2)), "head.weight": np.ones(3)},
                                 strict=False)
    assert isinstance(result, nn.IncompatibleKeys)
    assert result == (["0.bias", "1.weight", "1.bias"], ["head.weight"])
    assert result.missing_keys == ["0.bias", "1.weight", "1.bias"]
    assert result.unexpected_keys == ["head.weight"]
    np.testing.assert_array_equal(net[0].weight.data, np.ones((2, 2)))
    assert net.load_state_dict(net.state_dict()) == nn.IncompatibleKeys([], [])


def test_non_strict_load_still_refuses_a_shape_mismatch() -> None:
    net = nn.Linear(2, 1)
    with pytest.raises(ShapeError, match=r"weight: expected \(1, 2\), got \(2, 2\)"):
        net.load_state_dict({"weight": np.ones((2, 2))}, strict=False)


def test_load_state_dict_copies_and_casts() -> None:
    source, target = nn.Linear(2, 2), nn.Linear(2, 2)
    state = {k: v.astype(np.float64) for k, v in source.state_dict().items()}
    target.load_state_dict(state)
    assert target.weight.dtype == np.float32
    np.testing.assert_allclose(target.weight.data, source.weight.data)
    state["weight"][0, 0] = 99
    assert target.weight.data[0, 0] != 99


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


def test_parameter_regularize_flag_defaults_and_survives_moves_and_loads() -> None:
    layer = nn.Linear(3, 2)
    assert layer.weight.regularize is True and layer.bias.regularize is False
    norm = nn.BatchNorm1d(2)
    assert norm.gamma.regularize is False and norm.beta.regularize is False
    conv = nn.Conv2d(1, 2, 3)
    assert conv.weight.regularize is True and conv.bias.regularize is False
    weight, bias = layer.weight, layer.bias
    layer.to(dtype="float64")
    layer.load_state_dict({k: v * 2 for k, v in layer.state_dict().items()})
    layer.requires_grad_(False).requires_grad_(True)
    assert layer.weight is weight and layer.bias is bias  # the same Parameter objects
    assert (layer.weight.regularize, layer.bias.regularize) == (True, False)
    assert layer.weight.dtype == np.float64
    assert all(isinstance(v, np.ndarray) for v in layer.state_dict().values())  # arrays only
    clone = copy.deepcopy(layer)
    assert (clone.weight.regularize, clone.bias.regularize) == (True, False)
    rebuilt = nn.Linear(**layer.get_config())  # what steepest.load does: the constructor
    assert (rebuilt.weight.regularize, rebuilt.bias.regularize) == (True, False)


def test_parameter_repr_shows_an_exemption() -> None:
    assert repr(nn.Parameter(np.zeros(1, np.float32))).startswith("Parameter containing:\n")
    assert repr(nn.Parameter(np.zeros(1, np.float32), regularize=False)).startswith(
        "Parameter containing (regularize=False):\n")


def test_config_of_a_layer_that_inherits_its_constructor() -> None:
    # MaxPool2d has no __init__ of its own; its arguments must still be recorded.
    assert nn.MaxPool2d(3, stride=2).get_config() == {"kernel_size": 3, "stride": 2}
    assert nn.CrossEntropyLoss("sum").get_config() == {"reduction": "sum"}
