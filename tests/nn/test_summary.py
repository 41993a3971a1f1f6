"""st.summary: output shapes, parameter counts and multiplications, against the seed and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import steepest as st
from helpers import torch_models
from steepest import nn
from steepest.nn.summary import Summary, SummaryRow, summary


def test_the_seeds_inception_figures() -> None:
    # K6: a 5x5 same convolution from 28x28x192 to 32 channels costs 120 million
    # multiplications; a 16-channel 1x1 bottleneck first cuts that to 12.4 million.
    direct = summary(nn.Conv2d(192, 32, 5, padding="same"), (192, 28, 28))
    assert direct.total_multiplies == 120_422_400
    assert direct.rows[0].output_shape == (1, 32, 28, 28)
    bottleneck = summary(nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding=2)),
                         (192, 28, 28))
    assert bottleneck.total_multiplies == 12_443_648
    assert [row.multiplies for row in bottleneck.rows] == [28 * 28 * 16 * 192,
                                                           28 * 28 * 32 * 16 * 25]


def torch_output_shapes(network: torch.nn.Module, x: torch.Tensor) -> list[tuple[int, ...]]:
    """Every leaf module's output shape in call order, by torch's own forward hooks."""
    shapes: list[tuple[int, ...]] = []
    leaves = [m for m in network.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
               for m in leaves]
    with torch.no_grad():
        network(x)
    for handle in handles:
        handle.remove()
    return shapes


def test_lenet5_against_the_same_network_in_torch() -> None:
    ours = summary(st.models.LeNet5(rng=0), (1, 28, 28))
    theirs = torch_models.lenet5()
    x = torch.zeros(1, 1, 28, 28)
    assert ours.total_params == sum(p.numel() for p in theirs.parameters()) == 61_706
    assert ours.trainable_params == ours.total_params
    assert [row.output_shape for row in ours.rows] == torch_output_shapes(theirs, x)
    assert [row.layer_type for row in ours.rows] == [type(m).__name__ for m in theirs
                                                     if not list(m.children())]
    with FlopCounterMode(display=False) as counter:  # torch counts 2 FLOPs per multiply-add
        theirs(x)
    assert 2 * ours.total_multiplies == counter.get_total_flops() == 833_040
    assert [row.params for row in ours.rows if row.params] == [156, 2416, 48120, 10164, 850]
    assert ours.rows[0].name == "features.0" and ours.rows[-1].name == "classifier.5"
    assert ours.input_shape == (1, 1, 28, 28) and ours.output_shape == (1, 10)


def test_multiplies_are_per_example_whatever_the_batch() -> None:
    net = st.models.LeNet5(rng=0)
    one = summary(net, (1, 28, 28))
    four = summary(net, (4, 1, 28, 28), batch_size=None)
    also_four = summary(net, (1, 28, 28), batch_size=4)
    assert four.input_shape == also_four.input_shape == (4, 1, 28, 28)
    assert four.rows[-1].output_shape == (4, 10)
    assert one.total_multiplies == four.total_multiplies == also_four.total_multiplies == 416_520


def test_the_table_prints() -> None:
    result = summary(st.models.LeNet5(rng=0), (1, 28, 28))
    text = str(result)
    lines = text.splitlines()
    assert lines[0] == "LeNet5: input (1, 1, 28, 28) -> output (1, 10)"
    assert lines[1].split() == ["Layer", "(type)", "Output", "shape", "Params", "Multiplies"]
    assert "features.0 (Conv2d)" in text and "(1, 6, 28, 28)" in text
    assert "117,600" in text and "48,120" in text
    assert lines[-2] == "Total params: 61,706 (trainable: 61,706)"
    assert lines[-1] == "Total multiplies: 416,520 per example"
    assert len(lines) == 2 + 1 + len(result.rows) + 1 + 2
    assert repr(result) == text  # what a notebook shows
    widths = {len(line) for line in lines[2:-2]}
    assert max(widths) == len(lines[2])  # the rules are as wide as the widest row


class TwoHeads(nn.Module):
    """A shared trunk and two heads, returned as a tuple or as a dict."""

    def __init__(self, as_dict: bool) -> None:
        super().__init__()
        self.as_dict = as_dict
        self.trunk = nn.Linear(6, 8, rng=0)
        self.boxes = nn.Linear(8, 4, rng=0)
        self.classes = nn.Linear(8, 3, rng=0)
        self.unused = nn.Linear(8, 2, rng=0)

    def forward(self, x):
        h = self.trunk(x)
        if self.as_dict:
            return {"boxes": self.boxes(h), "classes": self.classes(h)}
        return self.boxes(h), self.classes(h)


@pytest.mark.parametrize("as_dict", [False, True])
def test_several_outputs_and_an_uncalled_layer(as_dict: bool) -> None:
    model = TwoHeads(as_dict)
    result = summary(model, (6,))
    expected = {"boxes": (1, 4), "classes": (1, 3)}
    assert result.output_shape == (expected if as_dict else tuple(expected.values()))
    assert [(row.name, row.output_shape) for row in result.rows] == [
        ("trunk", (1, 8)), ("boxes", (1, 4)), ("classes", (1, 3)), ("unused", None)]
    assert result.total_params == model.num_parameters() == 56 + 36 + 27 + 18
    assert result.total_multiplies == 48 + 32 + 24
    assert "(not called)" in str(result)
    assert ("{boxes: (1, 4), classes: (1, 3)}" if as_dict else "[(1, 4), (1, 3)]") in str(result)


def test_a_layer_called_twice_gets_two_rows_and_counts_once() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.Linear(5, 5, rng=0)

        def forward(self, x):
            return self.layer(self.layer(x))

    model = Twice()
    result = summary(model, (5,))
    assert [row.params for row in result.rows] == [30, 0]
    assert result.total_params == model.num_parameters() == 30
    assert result.total_multiplies == 2 * 25


def test_the_model_is_left_as_it_was() -> None:
    model = nn.Sequential(nn.Conv2d(2, 4, 3, rng=0), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Dropout(keep_prob=0.5), nn.Flatten(), nn.Linear(4 * 4 * 4, 3, rng=0))
    model.train()
    model[1].eval()  # a mixed state must come back as it was
    before = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    summary(model, (2, 6, 6))
    assert [m.training for m in model.modules()] == [True, True, False, True, True, True, True]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    assert all("forward" not in vars(m) for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(st.ShapeError):  # a wrong input shape: the layer's own message
        summary(model, (3, 6, 6))
    assert all("forward" not in vars(m) for m in model.modules())
    assert model.training and not model[1].training


def test_rows_and_summary_are_frozen() -> None:
    result = summary(nn.Linear(3, 2), (3,))
    assert isinstance(result, Summary) and isinstance(result.rows[0], SummaryRow)
    assert result.rows[0].name == "Linear"  # the model is itself the one layer
    with pytest.raises(AttributeError):
        result.total_params = 0  # type: ignore[misc]


@pytest.mark.parametrize("arguments,error,message", [
    ((np.zeros(3), (3,)), TypeError, r"summary: `model` must be a steepest\.nn\.Module; got "
                                     r"ndarray"),
    ((nn.Linear(3, 2), "3"), TypeError, r"`input_shape` must be a sequence of positive ints"),
    ((nn.Linear(3, 2), (0,)), ValueError, r"summary: `input_shape` must be a positive int; "
                                          r"got 0"),
    ((nn.Linear(3, 2), (3.0,)), TypeError, r"`input_shape` must be a positive int; got 3\.0"),
])
def test_bad_input(arguments, error, message) -> None:
    with pytest.raises(error, match=message):
        summary(*arguments)
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive int; got 0"):
        summary(nn.Linear(3, 2), (3,), batch_size=0)
    with pytest.raises(ValueError, match="there is no batch to run"):
        summary(nn.Linear(3, 2), (), batch_size=None)
