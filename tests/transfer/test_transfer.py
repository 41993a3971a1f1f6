"""Transfer learning: freezing, new heads, cached features, weights from PyTorch, and the
shipped LeNet-5 beating training from scratch on a small set of new digits."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import steepest as st
from helpers import torch_models
from steepest.transfer import (
    freeze,
    load_torch_weights,
    precompute_features,
    replace_head,
    unfreeze,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transfer_digits.py"


def _trainable(net) -> int:
    return net.num_parameters(trainable_only=True)


# ---------------------------------------------------------------- freeze / unfreeze
def test_freeze_by_name_count_and_from_the_end() -> None:
    net = st.models.LeNet5(rng=0)
    assert _trainable(freeze(net)) == 0
    assert _trainable(unfreeze(net)) == 61706
    assert _trainable(freeze(unfreeze(net), until=-1)) == 84 * 10 + 10
    assert _trainable(freeze(unfreeze(net), until=1)) == 61706 - 156
    assert _trainable(freeze(unfreeze(net), until="classifier.1")) == 120 * 84 + 84 + 850
    assert _trainable(freeze(unfreeze(net), until="features.2")) == 61706 - 156  # a pool


def test_frozen_layers_get_no_gradient_and_do_not_move() -> None:
    net = freeze(st.models.LeNet5(rng=0), until="features")
    before = net.features[0].weight.data.copy()
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    st.train.fit(net, x, np.array([0, 1, 2, 3]), epochs=2, verbose=0)
    assert net.features[0].weight.grad is None
    np.testing.assert_array_equal(net.features[0].weight.data, before)
    assert not np.allclose(net.classifier[1].weight.grad, 0)


def test_freeze_rejects_bad_arguments() -> None:
    net = st.models.LeNet5()
    with pytest.raises(ValueError, match=r"`until` is 'body'.*top-level modules are"):
        freeze(net, until="body")
    with pytest.raises(TypeError, match="`until` must be a layer name"):
        freeze(net, until=1.5)
    with pytest.raises(TypeError, match="`model` must be a steepest Module"):
        freeze(object())


# ---------------------------------------------------------------- replace_head
def test_replace_head_gives_a_fresh_trainable_layer_and_the_task_follows(tmp_path) -> None:
    net = freeze(st.models.LeNet5(rng=0))
    old = net.classifier[-1]
    assert replace_head(net, 3, rng=0) is net
    new = net.classifier[-1]
    assert new is not old and new.weight.shape == (3, 84) and new.weight.requires_grad
    assert repr(net.default_task()) == "Classification(num_classes=3)"
    assert net(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 3)
    st.save(net, tmp_path / "net")
    again = st.load(tmp_path / "net")
    assert again.num_classes == 3
    np.testing.assert_array_equal(again.classifier[-1].weight.data, new.weight.data)


def test_replace_head_replaces_the_side_classifiers_too() -> None:
    net = st.models.GoogLeNet(num_classes=10, input_size=32, width=1 / 16, init="zeros")
    replace_head(net, 4, rng=0)
    assert net.fc.out_features == net.aux1.layers[-1].out_features == 4
    assert net.aux2.layers[-1].out_features == 4
    mlp = replace_head(st.models.MLP([4, 8, 3]), 5)
    assert mlp.layer_sizes == [4, 8, 5] and mlp.default_task().num_classes == 5
    with pytest.raises(ValueError, match="no Linear layer"):
        replace_head(st.nn.Sequential(st.nn.ReLU()), 2)
    with pytest.raises(ValueError, match="num_classes"):
        replace_head(st.models.LeNet5(), 0)


# ---------------------------------------------------------------- cached features
def test_precompute_features_in_memory_and_memory_mapped(tmp_path) -> None:
    net = st.models.LeNet5(rng=0).train()
    body = st.nn.Sequential(net.features, *net.classifier[:-1])
    x = np.random.default_rng(0).random((7, 1, 28, 28)).astype(np.float32)
    expected = body.eval()(x).data
    body.train()
    in_memory = precompute_features(body, x, batch_size=3)
    np.testing.assert_allclose(in_memory, expected, rtol=1e-5, atol=1e-5)  # batch sizes differ
    assert body.training  # the mode is given back
    mapped = precompute_features(body, x, batch_size=4, path=tmp_path / "features.npy")
    assert isinstance(mapped, np.memmap) and mapped.shape == (7, 84)
    np.testing.assert_array_equal(np.load(tmp_path / "features.npy"), mapped)
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(st.ShapeError, match="no examples"):
        precompute_features(body, x[:0])

    class Breaks(st.nn.Module):
        def forward(self, batch):
            if batch.shape[0] < 4:
                raise RuntimeError("disk full")
            return body(batch)

    with pytest.raises(RuntimeError, match="disk full"):
        precompute_features(Breaks(), x, batch_size=4, path=tmp_path / "broken.npy")
    assert not (tmp_path / "broken.npy").exists() and not list(tmp_path.glob("*.part"))


def test_training_the_head_on_cached_features_equals_training_behind_the_frozen_net() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((40, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 3, 40)

    def build():
        return freeze(replace_head(st.models.LeNet5(rng=0), 3, rng=1), until=-1)

    behind, cached = build(), build()
    st.train.fit(behind, x, y, optimizer=st.optim.Adam(behind.parameters(), lr=1e-2), epochs=3,
                 batch_size=16, rng=5, verbose=0)
    features = precompute_features(st.nn.Sequential(cached.features,
                                                    *cached.classifier[:-1]), x)
    head = cached.classifier[-1]
    st.train.fit(head, features, y, task="classification", epochs=3, batch_size=16, rng=5,
                 optimizer=st.optim.Adam(head.parameters(), lr=1e-2), verbose=0)
    moved = np.abs(head.weight.data - build().classifier[-1].weight.data).max()
    assert moved > 1e-3
    for a, b in zip(behind.state_dict().values(), cached.state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- weights from PyTorch
LENET_NAMES = {"0": "features.0", "3": "features.3", "7": "classifier.1",
               "9": "classifier.3", "11": "classifier.5"}


def _lenet_rename(name: str) -> str:
    index, _, leaf = name.partition(".")
    return f"{LENET_NAMES[index]}.{leaf}"


def test_torch_lenet5_from_a_safetensors_file(tmp_path) -> None:
    torch.manual_seed(0)
    theirs = torch_models.lenet5()
    save_file(theirs.state_dict(), str(tmp_path / "lenet.safetensors"))
    ours = load_torch_weights(st.models.LeNet5(), tmp_path / "lenet.safetensors",
                              rename=_lenet_rename)
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-4, atol=1e-5)


def test_torch_resnet18_cifar_with_batch_norm_statistics() -> None:
    torch.manual_seed(0)
    theirs = torch_models.resnet18_cifar(num_classes=10)
    torch_models.randomize_batch_norm(theirs)
    theirs.eval()

    def rename(name: str) -> str | None:  # nn.Sequential indices -> steepest's names
        index, _, rest = name.partition(".")
        i = int(index)
        return f"stem.{i}.{rest}" if i < 3 else (f"stages.{i - 3}.{rest}" if i < 11
                                                else f"fc.{rest}")

    ours = load_torch_weights(st.models.resnet18(num_classes=10, stem="cifar", init="zeros"),
                              theirs.state_dict(), rename=rename).eval()
    np.testing.assert_array_equal(ours.stem[1].running_var,
                                  theirs[1].running_var.numpy())
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-4, atol=1e-4)


def test_load_torch_weights_reports_every_problem_at_once() -> None:
    state = torch_models.state_to_numpy(torch_models.lenet5())
    state["0.weight"] = state["0.weight"][:3]  # mis-shaped
    del state["9.bias"]                        # missing
    state["12.weight"] = np.zeros(3)           # unexpected
    net = st.models.LeNet5(rng=0)
    before = net.features[0].weight.data.copy()
    with pytest.raises(st.ShapeError) as error:
        load_torch_weights(net, state, rename=lambda name: (
            "extra.weight" if name == "12.weight" else _lenet_rename(name)))
    message = str(error.value)
    assert "1 missing: classifier.3.bias" in message
    assert "1 unexpected: 12.weight" in message
    assert ("1 mis-shaped: features.0.weight: the model has (6, 1, 5, 5), the source "
            "(3, 1, 5, 5)") in message
    np.testing.assert_array_equal(net.features[0].weight.data, before)  # unchanged
    with pytest.raises(ValueError, match="pass rename="):
        load_torch_weights(net, {"conv.weight": np.zeros((6, 1, 5, 5))})
    with pytest.raises(FileNotFoundError, match="no file"):
        load_torch_weights(net, "missing.safetensors")
    with pytest.raises(TypeError, match="`source` must be a path"):
        load_torch_weights(net, [1, 2])
    with pytest.raises(ValueError, match="both map to"):
        load_torch_weights(net, state, rename=lambda name: "features.0.bias")
    # A rename dict, and None from a function drops a tensor.
    state = torch_models.state_to_numpy(torch_models.lenet5())
    names = {key: _lenet_rename(key) for key in state}
    load_torch_weights(net, {**state, "extra": np.zeros(1)},
                       rename=lambda name: names.get(name))
    load_torch_weights(net, state, rename=names)
    np.testing.assert_array_equal(net.features[0].weight.data, state["0.weight"])


# ---------------------------------------------------------------- the shipped LeNet-5
def test_pretrained_lenet5_knows_mnist() -> None:
    net = st.transfer.pretrained_lenet5()
    images, labels = st.data.datasets.load_mnist_sample()
    rows = np.arange(0, 5000, 10)
    accuracy = (net.predict(images[rows, None] / 255.0) == labels[rows]).mean()
    assert accuracy > 0.97


@pytest.mark.slow  # about 2 s of learning: runs with `pytest -m slow` (CI runs both)
def test_transfer_beats_scratch_with_10_labels_per_class() -> None:
    # The example's setting at 10 labelled digits per class (seed 0, the full 500 test
    # digits), 60 epochs instead of 100 to keep the test fast: the frozen pre-trained
    # network with a new head, and its last layers retrained, both beat the same network
    # trained from scratch for as many updates (93.2% and 92.6% vs 89.6%).
    example = runpy.run_path(str(EXAMPLE))
    X, y, X_test, y_test = example["split"](10, seed=0)
    scores = {regime: float((example["train"](regime, X, y, seed=0, epochs=60).predict(X_test)
                             == y_test).mean()) for regime in ("head", "last layers", "scratch")}
    assert scores["head"] > scores["scratch"] + 0.02, scores
    assert scores["last layers"] > scores["scratch"] + 0.02, scores
