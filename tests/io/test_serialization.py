"""Saving and loading: round trips, JSON + safetensors only, clear errors on bad files."""

from __future__ import annotations

import hashlib
import json
import sys
import tracemalloc

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


# ------------------------------------------------- edited or damaged files: one line each


def _edit_config(folder, change) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def _saved(tmp_path, sizes=(3, 4, 2)):
    st.save(st.models.MLP(list(sizes), rng=0), tmp_path / "m")
    return tmp_path / "m"


def _set(config, keys, value) -> None:
    for key in keys[:-1]:
        config = config[key]
    config[keys[-1]] = value


@pytest.mark.parametrize("keys, value, message", [
    (("model", "class"), 7, r"config.json: the model \"class\" must be a class name \(a "
                            r"string\); got 7"),
    (("model",), [1, 2], r"config.json: \"model\" must be a JSON object describing the model"),
    (("model", "config"), "x", r"config.json: the \"config\" of steepest.models.mlp.MLP must be "
                               r"a JSON object; got str"),
    (("model", "config", "layer_sizes"), "abc",
     r"config.json: cannot rebuild steepest.models.mlp.MLP from its saved arguments"),
    (("model", "class"), "steepest.nowhere.Net", r"the model class 'steepest.nowhere.Net' is "
                                                 r"unknown"),
    (("weights",), None, r"config.json: \"weights\" must be a JSON object; got None"),
    (("weights", "sha256"), None, r"\"weights.sha256\" must be the 64-digit hex SHA-256 of the "
                                  r"weights file; got None. The hash cannot be switched off"),
    (("weights", "sha256"), "abc", r"\"weights.sha256\" must be the 64-digit hex"),
    (("weights", "file"), "../model.safetensors", r"\"weights.file\" must be a plain file name "
                                                  r"inside the folder; got '../model.safetensors'"),
    (("weights", "file"), "/etc/passwd", r"plain file name inside the folder; got '/etc/passwd'"),
    (("weights", "file"), "sub/model.safetensors", r"plain file name inside the folder"),
    (("weights", "file"), 3, r"plain file name inside the folder; got 3"),
    (("weights", "tensors", "layers.0.weight", "shape"), [4, 4],
     r"config.json records other tensors than .*model.safetensors holds \(differences: "
     r"layers.0.weight\); the files are from different saves"),
    (("model", "config", "rng"), 3, r"steepest.models.mlp.MLP has a saved `rng` \(3\); "
                                    r"steepest.save never writes one"),
], ids=["class-int", "model-list", "config-str", "bad-arguments", "unknown-steepest-class",
        "weights-null", "sha256-null", "sha256-short", "file-parent", "file-absolute",
        "file-subfolder", "file-int", "recorded-shape", "saved-rng"])
def test_edited_config_is_one_clear_error(tmp_path, keys, value, message) -> None:
    folder = _saved(tmp_path)
    _edit_config(folder, lambda config: _set(config, keys, value))
    with pytest.raises(ModelFileError, match=r"^steepest.load: .*" + message):
        st.load(folder)


@pytest.mark.parametrize("content, message", [
    (b"[" * 100_000 + b"]" * 100_000, r"config.json is nested too deeply to read"),
    (b"\xff\xfe\x00garbage", r"config.json is not valid JSON \(not UTF-8 text"),
    (None, r"config.json is not valid JSON \(Unterminated string"),
    (b"{" + b'"a": 1, ' * 3 + b'"b": 1' + b"0" * 5000 + b"}", r"config.json is not valid JSON"),
], ids=["deep", "garbage", "truncated", "huge-integer"])
def test_unreadable_config_is_one_clear_error(tmp_path, content, message) -> None:
    folder = _saved(tmp_path)
    path = folder / "config.json"
    path.write_bytes(content if content is not None else path.read_bytes()[:200])
    with pytest.raises(ModelFileError, match=r"^steepest.load: .*" + message):
        st.load(folder)


def test_deeply_nested_model_description(tmp_path) -> None:
    folder = _saved(tmp_path)
    nested: object = 1
    for _ in range(300):
        nested = [nested]
    _edit_config(folder, lambda config: _set(config, ("model", "config", "extra"), nested))
    with pytest.raises(ModelFileError, match=r"config.json: the model description is nested "
                                             r"more than 100 levels deep"):
        st.load(folder)


def _replace_weights(folder, data: bytes) -> None:
    (folder / "model.safetensors").write_bytes(data)
    _edit_config(folder, lambda config: _set(config, ("weights", "sha256"),
                                             hashlib.sha256(data).hexdigest()))


@pytest.mark.parametrize("make, message", [
    (lambda data: b"\x07", r"1 bytes, shorter than the 8-byte header length"),
    (lambda data: (10**9).to_bytes(8, "little") + data[8:],
     r"the header announces 1000000000 bytes"),
    (lambda data: data[:-5], r"the tensors hold \d+ bytes; the file has \d+"),
    (lambda data: (5).to_bytes(8, "little") + b"\xff" * 40, r"the header is not JSON"),
    (lambda data: _header({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}, 8),
     r"tensor 'w' of shape \(2, 2\) has 8 bytes"),
    (lambda data: _header({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, 4),
     r"tensor 'w' has shape \[-1\]"),
    (lambda data: _header({"w": {"dtype": "X9", "shape": [1], "data_offsets": [0, 4]}}, 4),
     r"tensor 'w' has no dtype numpy can read"),
    (lambda data: _header({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
                           "b": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]}}, 3),
     r"the tensors. byte ranges overlap or leave gaps"),
], ids=["short", "header-too-long", "truncated", "header-garbage", "bytes-vs-shape",
        "negative-shape", "unknown-dtype", "overlap"])
def test_damaged_weights_with_a_matching_hash(tmp_path, make, message) -> None:
    # Even with the hash updated to match, the header is checked before anything else.
    folder = _saved(tmp_path)
    _replace_weights(folder, make((folder / "model.safetensors").read_bytes()))
    with pytest.raises(ModelFileError, match=r"^steepest.load: .*model.safetensors is not a "
                                             r"valid safetensors file \(" + message):
        st.load(folder)


def _header(entries: dict, data_bytes: int) -> bytes:
    header = json.dumps(entries).encode()
    return len(header).to_bytes(8, "little") + header + b"\x00" * data_bytes


def test_an_edited_size_is_refused_before_anything_is_allocated(tmp_path) -> None:
    folder = _saved(tmp_path)
    _edit_config(folder, lambda config: (
        _set(config, ("model", "config", "layer_sizes"), [3, 200_000, 2]),
        _set(config, ("weights", "tensors"), None)))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"config.json: `model.config.layer_sizes\[1\]` "
                                                 r"is 200000, larger than any dimension of the "
                                                 r"saved weights \(the largest is 4\)"):
            st.load(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_an_edited_block_count_is_refused_before_its_weights_are_drawn(tmp_path) -> None:
    # 1000 blocks passes the integer rule (at most 1024), but rebuilding them would
    # draw far more initial weights than the file holds: refused at the first
    # draws past the budget, long before 1000 blocks exist.
    net = st.models.ResNet(blocks=(1, 1), num_classes=3, in_channels=1, stem="cifar", width=4)
    st.save(net, tmp_path / "r")
    _edit_config(tmp_path / "r", lambda config: _set(config, ("model", "config", "blocks"),
                                                     [1000, 1000]))
    with pytest.raises(ModelFileError, match=r"config.json: rebuilding the model draws more "
                                             r"initial weights than the weights file holds"):
        st.load(tmp_path / "r")


def test_loading_does_not_move_the_default_random_stream(tmp_path) -> None:
    folder = _saved(tmp_path)
    st.seed(5)
    expected = st.backend.default_rng().random(3)
    st.seed(5)
    st.load(folder)
    np.testing.assert_array_equal(st.backend.default_rng().random(3), expected)


def test_the_on_disk_format_is_unchanged(tmp_path) -> None:
    # A folder laid out exactly as steepest 0.x wrote it (format 1) still loads.
    model = st.models.MLP([3, 4, 2], rng=0)
    state = {k: np.array(v) for k, v in model.state_dict().items()}
    from safetensors.numpy import save as save_safetensors

    data = save_safetensors(state, metadata={"format": "steepest"})
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model.safetensors").write_bytes(data)
    (tmp_path / "old" / "config.json").write_text(json.dumps({
        "format": "steepest-model", "version": 1,
        "model": {"class": "steepest.models.mlp.MLP", "config": {
            "layer_sizes": [3, 4, 2], "activation": "relu", "output": "softmax",
            "keep_prob": 1.0, "init": "he", "dtype": None}},
        "weights": {"file": "model.safetensors", "sha256": hashlib.sha256(data).hexdigest(),
                    "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype)}
                                for k, v in state.items()}},
        "metadata": {}}))
    clone = st.load(tmp_path / "old")
    for name, value in state.items():
        np.testing.assert_array_equal(clone.state_dict()[name], value)


def test_a_class_name_never_imports_a_private_module(tmp_path) -> None:
    # Class names from config.json may make load import steepest's public modules
    # only: never steepest.__main__ (the command line) or another private module.
    folder = _saved(tmp_path)
    _edit_config(folder, lambda config: _set(config, ("model", "class"),
                                             "steepest.__main__.Command"))
    sys.modules.pop("steepest.__main__", None)
    with pytest.raises(ModelFileError, match=r"the model class 'steepest.__main__.Command' is "
                                             r"unknown"):
        st.load(folder)
    assert "steepest.__main__" not in sys.modules
