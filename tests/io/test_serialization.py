"""Saving and loading: round trips, JSON + safetensors only, clear errors on bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import steepest as st
from steepest.io import ModelFileError, load_weights, save_weights


@pytest.mark.parametrize("make", [
    lambda: st.models.MLP([4, 6, 3], activation="tanh", keep_prob=[0.8], rng=0),
    lambda: st.models.LogisticRegression(4),
    lambda: st.nn.Sequential(st.nn.Linear(4, 2, bias=False), st.nn.LeakyReLU(0.2)),
], ids=["mlp", "logistic", "sequential"])
def test_round_trip(tmp_path, make) -> None:
    model = make()
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    model.eval()
    expected = model(x).data
    st.save(model, tmp_path / "model", metadata={"note": "test"})
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert files == ["config.json", "model.safetensors"]
    clone = st.load(tmp_path / "model")
    clone.eval()
    assert type(clone) is type(model)
    np.testing.assert_array_equal(clone(x).data, expected)
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["metadata"] == {"note": "test"}


def test_saved_architecture_is_readable_json(tmp_path) -> None:
    st.save(st.models.MLP([3, 5, 2], output="softmax"), tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["model"]["class"] == "steepest.models.mlp.MLP"
    assert config["model"]["config"]["layer_sizes"] == [3, 5, 2]
    assert config["weights"]["tensors"]["layers.0.weight"] == {"shape": [5, 3],
                                                               "dtype": "float32"}


def test_custom_module_round_trip(tmp_path) -> None:
    class Tiny(st.nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.layer = st.nn.Linear(2, width)

        def forward(self, x):
            return self.layer(x)

    model = Tiny(3)
    st.save(model, tmp_path / "t")
    clone = st.load(tmp_path / "t")
    np.testing.assert_array_equal(clone.layer.weight.data, model.layer.weight.data)


def test_truncated_weights(tmp_path) -> None:
    st.save(st.models.MLP([3, 4, 2]), tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-20])
    with pytest.raises(ModelFileError, match=r"does not match the SHA-256.*corrupt, truncated"):
        st.load(tmp_path / "m")


def test_corrupt_config(tmp_path) -> None:
    st.save(st.models.MLP([3, 4, 2]), tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="is not valid JSON"):
        st.load(tmp_path / "m")


def test_missing_folder_and_files(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="no saved model at"):
        st.load(tmp_path / "nowhere")
    st.save(st.models.MLP([3, 4, 2]), tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(ModelFileError, match=r"model.safetensors does not exist"):
        st.load(tmp_path / "m")


def test_weights_that_do_not_fit_the_architecture(tmp_path) -> None:
    st.save(st.models.MLP([3, 4, 2]), tmp_path / "m")
    config_path = tmp_path / "m" / "config.json"
    config = json.loads(config_path.read_text())
    config["model"]["config"]["layer_sizes"] = [3, 5, 2]
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=r"do not fit the architecture.*expected \(5, 3\)"):
        st.load(tmp_path / "m")


def test_unknown_class(tmp_path) -> None:
    st.save(st.models.MLP([3, 4, 2]), tmp_path / "m")
    config_path = tmp_path / "m" / "config.json"
    config = json.loads(config_path.read_text())
    config["model"]["class"] = "somewhere.Else"
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=r"class 'somewhere.Else' is unknown"):
        st.load(tmp_path / "m")


def test_unsaveable_argument_writes_nothing(tmp_path) -> None:
    class Holder(st.nn.Module):
        def __init__(self, thing) -> None:
            super().__init__()
            self.thing = thing

    with pytest.raises(TypeError, match=r"cannot write argument `Holder.thing` \(object\)"):
        st.save(Holder(object()), tmp_path / "h")
    assert not (tmp_path / "h").exists()


def test_save_then_overwrite_keeps_a_consistent_pair(tmp_path) -> None:
    first, second = st.models.MLP([3, 4, 2], rng=0), st.models.MLP([3, 4, 2], rng=1)
    st.save(first, tmp_path / "m")
    st.save(second, tmp_path / "m")
    np.testing.assert_array_equal(st.load(tmp_path / "m").layers[0].weight.data,
                                  second.layers[0].weight.data)
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.startswith(".")]


def test_weights_only(tmp_path) -> None:
    model = st.models.MLP([3, 4, 2], rng=0)
    save_weights(model, tmp_path / "w.safetensors")
    other = st.models.MLP([3, 4, 2], rng=1)
    load_weights(other, tmp_path / "w.safetensors")
    np.testing.assert_array_equal(other.layers[2].weight.data, model.layers[2].weight.data)
    with pytest.raises(ModelFileError, match="missing keys"):
        load_weights(st.models.MLP([3, 4, 4, 2]), tmp_path / "w.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 5)
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_weights(model, tmp_path / "bad.safetensors")
