"""Every bad input to the command is one line on stderr and the right exit code.

2 for usage errors (argparse's convention), 1 for runtime failures; never a traceback,
and nothing overwritten. The commands run in-process (``steepest.cli.main``) to keep
the suite fast; ``test_runs.py`` covers real processes and signals.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import steepest as st
from steepest.cli import main


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-errors") / "run"
    code = main(["train", "--data", "mnist-sample", "--model", "mlp", "--hidden", "32",
                 "--epochs", "2", "--quiet", "--out", str(folder)])
    assert code == 0
    return folder


def one_line_error(capsys, argv: list[str], code: int = 1) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_unreadable_inputs_are_one_line(digits_run, tmp_path, capsys) -> None:
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    err = one_line_error(capsys, ["predict", str(digits_run), str(tmp_path / "broken.npz")])
    assert "cannot read input" in err and "broken.npz" in err
    (tmp_path / "text.png").write_text("hello, I am not a picture")
    err = one_line_error(capsys, ["predict", str(digits_run), str(tmp_path / "text.png")])
    assert "as an image" in err
    np.save(tmp_path / "nan.npy", np.full((28, 28), np.nan, np.float32))
    assert "NaN" in one_line_error(capsys, ["predict", str(digits_run),
                                            str(tmp_path / "nan.npy")])
    np.save(tmp_path / "big.npy", np.full((28, 28), 1000.0, np.float32))
    err = one_line_error(capsys, ["predict", str(digits_run), str(tmp_path / "big.npy")])
    assert "trained on 0..255" in err


def test_scaled_inputs_read_like_pngs_and_inverted_ones_warn(digits_run, tmp_path,
                                                             capsys) -> None:
    images, _ = st.data.datasets.load_mnist_sample()
    np.save(tmp_path / "raw.npy", images[:5])
    np.save(tmp_path / "scaled.npy", images[:5].astype(np.float32) / 255)
    assert main(["predict", str(digits_run), str(tmp_path / "raw.npy")]) == 0
    raw = capsys.readouterr().out.splitlines()[1:]
    assert main(["predict", str(digits_run), str(tmp_path / "scaled.npy")]) == 0
    captured = capsys.readouterr()
    assert "holds values in [0, 1]" in captured.err
    scaled = captured.out.splitlines()[1:]
    assert [line.split(",")[1:] for line in raw] == [line.split(",")[1:] for line in scaled]
    np.save(tmp_path / "inverted.npy", 255 - images[:1])
    assert main(["predict", str(digits_run), str(tmp_path / "inverted.npy")]) == 0
    assert "looks inverted" in capsys.readouterr().err


def test_usage_errors_exit_with_2(capsys) -> None:
    for argv, message in ((["train", "--seed", "-1"], "non-negative integer"),
                          (["train", "--hidden", "12,abc"], "positive layer sizes"),
                          (["train", "--epochs", "0"], "positive integer")):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_a_network_too_big_for_memory_is_refused_before_allocating(tmp_path, capsys) -> None:
    err = one_line_error(capsys, ["train", "--data", "planar", "--model", "mlp", "--hidden",
                                  "300000000,300000000", "--out", str(tmp_path / "big")])
    assert "--hidden" in err and "GiB" in err and "choose smaller layers" in err


def _edited_copy(run: Path, tmp_path: Path, edit) -> Path:
    copy = tmp_path / "edited"
    (copy / "model").mkdir(parents=True)
    for name in ("model.safetensors",):
        (copy / "model" / name).write_bytes((run / "model" / name).read_bytes())
    config = json.loads((run / "model" / "config.json").read_text())
    edit(config)
    (copy / "model" / "config.json").write_text(json.dumps(config))
    return copy


def test_edited_run_metadata_is_one_line(digits_run, tmp_path, capsys) -> None:
    np.save(tmp_path / "x.npy", np.zeros((28, 28), np.uint8))

    def fewer_classes(config):
        config["metadata"]["classes"] = ["zero"]

    run = _edited_copy(digits_run, tmp_path / "a", fewer_classes)
    err = one_line_error(capsys, ["predict", str(run), str(tmp_path / "x.npy")])
    assert "10 outputs but its metadata names 1 classes" in err

    def no_seed(config):
        del config["metadata"]["seed"]

    run = _edited_copy(digits_run, tmp_path / "b", no_seed)
    err = one_line_error(capsys, ["evaluate", str(run)])
    assert "lacks a valid 'seed'" in err


def test_edited_model_config_is_one_line(digits_run, tmp_path, capsys) -> None:
    def class_seven(config):
        config["model"]["class"] = 7

    run = _edited_copy(digits_run, tmp_path / "c", class_seven)
    err = one_line_error(capsys, ["evaluate", str(run)])
    assert "config.json" in err or "class" in err
    nested = _edited_copy(digits_run, tmp_path / "d", lambda config: None)
    (nested / "model" / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    one_line_error(capsys, ["evaluate", str(nested)])


def test_an_object_array_is_refused_without_suggesting_unsafe_loading(digits_run, tmp_path,
                                                                       capsys) -> None:
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    err = one_line_error(capsys, ["predict", str(digits_run), str(tmp_path / "objects.npy")])
    assert "Python objects, which steepest never loads" in err and "allow_pickle" not in err
