"""The ``steepest`` command: train, evaluate and predict from the shell.

``steepest train`` with no arguments trains a LeNet-5 on the 5,000 embedded MNIST
digits with a stratified train/dev/test split, shows its progress, prints the dev
and test metrics and the bias/variance diagnosis, and writes the model, its history
and its learning curves to a new folder under ``runs/``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import math
import os
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import __version__
from ._files import ModelFileError, atomic_write, read_json, write_json
from ._runs import end_interrupted_run, report_stop
from ._validation import NonFiniteError, ShapeError
from .data.augment import RandomCrop, Reshape
from .data.datasets import (
    DatasetError,
    load_breast_cancer,
    load_digits,
    load_mnist,
    load_mnist_sample,
    make_planar,
    make_shapes,
)
from .data.preprocess import Standardizer
from .data.readers import IMAGE_SUFFIXES, read_input_file
from .data.split import Splits, recommend_split, train_dev_test_split
from .detection.cli import DETECTOR_DEFAULTS, DETECTOR_MODELS, add_detect_parser, train_detector
from .export_cli import add_export_parser
from .io.serialization import load, read_config, save
from .metrics import confusion_matrix
from .models import MLP, LeNet5, LogisticRegression
from .nn.module import Module
from .nn.regularization import L2
from .optim import OPTIMIZERS, InverseTimeDecay
from .strategy import diagnose
from .tasks import Task, resolve_task
from .train import Callback, EarlyStopping, TensorBoard, Trainer, evaluate, predict
from .train.history import write_learning_curves
from .train.trainer import forward_in_batches
from .tune.cli import add_tune_parser, apply_params

DATASETS = ("mnist-sample", "mnist", "digits", "breast-cancer", "planar", "shapes")
MODELS = ("lenet5", "mlp", "logistic", *DETECTOR_MODELS)


class CommandError(Exception):
    """A problem the user can fix; printed as one line."""


# ---------------------------------------------------------------- data
@dataclass
class Dataset:
    """Raw examples, labels, and how they look."""

    name: str
    X: np.ndarray
    y: np.ndarray
    kind: str  # "images" (m, C, H, W) with pixel scale, or "features" (m, n)
    classes: list[str]
    scale: float = 1.0  # images: divide by this to get [0, 1]
    test: tuple[np.ndarray, np.ndarray] | None = None  # an official test set, if any


def load_dataset(name: str, seed: int) -> Dataset:
    """The data set named on the command line."""
    if name == "mnist-sample":
        images, labels = load_mnist_sample()
        return Dataset(name, images[:, None], labels, "images", [str(d) for d in range(10)],
                       255.0)
    if name == "mnist":
        (train_x, train_y), (test_x, test_y) = load_mnist()
        return Dataset(name, train_x[:, None], train_y, "images", [str(d) for d in range(10)],
                       255.0, (test_x[:, None], test_y))
    if name == "digits":
        images, labels = load_digits()
        return Dataset(name, images[:, None], labels, "images", [str(d) for d in range(10)], 16.0)
    if name == "breast-cancer":
        X, y = load_breast_cancer()
        return Dataset(name, X, y, "features", ["malignant", "benign"])
    if name == "planar":
        X, y = make_planar(800, rng=seed)
        return Dataset(name, X, y, "features", ["red", "blue"])
    images, labels, _ = make_shapes(3000, image_size=32, rng=seed)
    return Dataset(name, images, labels[:, 0], "images", ["circle", "square", "triangle"], 1.0)


def prepare(X: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """Raw examples in the form the model eats, with preprocessing fitted on training data."""
    if preprocessing["type"] == "scale":
        X = X.astype(np.float32) / np.float32(preprocessing["divisor"])
        return X.reshape(len(X), -1) if preprocessing["flatten"] else X
    scaler = Standardizer.from_state_dict({"per": "feature", "mean": preprocessing["mean"],
                                           "std": preprocessing["std"]})
    return scaler.transform(X)


def fit_preprocessing(data: Dataset, model: str, X_train: np.ndarray) -> dict[str, Any]:
    """How to turn raw examples into model inputs, learned from the training set (I9)."""
    if data.kind == "images":
        return {"type": "scale", "divisor": data.scale, "flatten": model != "lenet5",
                "image_shape": list(data.X.shape[1:])}
    scaler = Standardizer().fit(X_train)
    state = scaler.state_dict()
    return {"type": "standardize", "mean": state["mean"].tolist(), "std": state["std"].tolist()}


def split_data(data: Dataset, seed: int) -> Splits:
    """Stratified train/dev/test (or train/dev plus the official test set)."""
    if data.test is not None:
        part = train_dev_test_split(data.X, data.y, sizes=recommend_split(len(data.X), test=False),
                                    stratify=data.y, rng=seed)
        return Splits(train=part.train, dev=part.dev, test=data.test)
    return train_dev_test_split(data.X, data.y, sizes=recommend_split(len(data.X)),
                                stratify=data.y, rng=seed)


# ---------------------------------------------------------------- models
def build_model(args: argparse.Namespace, data: Dataset, n_inputs: int) -> Module:
    num_classes = len(data.classes)
    if args.model == "logistic":
        if num_classes != 2:
            raise CommandError(f"--model logistic is binary, but --data {data.name} has "
                               f"{num_classes} classes; use --model mlp or lenet5, or "
                               "--data breast-cancer / planar")
        return LogisticRegression(n_inputs, rng=args.seed)
    if args.model == "lenet5":
        if data.kind != "images" or data.X.shape[2:] not in ((28, 28), (32, 32)):
            shape = "x".join(str(s) for s in data.X.shape[2:]) if data.kind == "images" else \
                "tabular features"
            raise CommandError(f"--model lenet5 needs 28x28 or 32x32 images; --data {data.name} "
                               f"has {shape}; use --model mlp")
        return LeNet5(num_classes, in_channels=data.X.shape[1], input_size=data.X.shape[2],
                      rng=args.seed)
    hidden = [int(h) for h in args.hidden.split(",") if h.strip()] if args.hidden else []
    sizes = [n_inputs, *hidden, num_classes if num_classes > 2 else 1]
    _check_memory(sum((a + 1) * b for a, b in itertools.pairwise(sizes)), "--hidden")
    return MLP([n_inputs, *hidden, num_classes if num_classes > 2 else 1],
               activation=args.activation,
               output="softmax" if num_classes > 2 else "sigmoid",
               keep_prob=args.keep_prob, rng=args.seed)


def _check_memory(parameters: int, flag: str) -> None:
    """Refuse a network whose training state cannot fit in this machine's memory."""
    # float32 weights, gradients and Adam's two moments: 16 bytes per parameter.
    needed = 16 * parameters
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not every platform says
        return
    if needed > available:
        raise CommandError(f"{flag}: the network would have {parameters:,} parameters, "
                           f"{needed / 2**30:,.1f} GiB for weights, gradients and Adam's "
                           f"moments, more than this machine's {available / 2**30:,.1f} GiB; "
                           "choose smaller layers")


DEFAULTS = {  # per model: learning rate, decay rate, epochs, batch size, augmentation
    "lenet5": {"lr": 3e-3, "decay": 0.3, "epochs": 10, "batch_size": 64, "augment": True},
    "mlp": {"lr": 2e-3, "decay": 0.1, "epochs": 10, "batch_size": 128, "augment": False},
    "logistic": {"lr": 0.5, "decay": 0.0, "epochs": 50, "batch_size": 0, "augment": False},
}
DEFAULTS.update(DETECTOR_DEFAULTS)


# ---------------------------------------------------------------- commands
def _percent(value: float) -> str:
    return f"{100 * value:.2f}%"


RUN_FILE = "run.json"  # the run's status: running, interrupted, complete


def _claim(folder: Path, overwrite: bool) -> None:
    """Take the folder for this run: exclusive creation of its run.json.

    Two runs started at once can never share a folder: only one creates the file.
    Creating it also proves the folder is writable, before any training.
    """
    marker = folder / RUN_FILE
    if overwrite:
        marker.unlink(missing_ok=True)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        raise CommandError(f"{folder} is already used by another run (it has {RUN_FILE}); "
                           "choose another --out") from None
    except OSError as error:
        raise CommandError(f"cannot write to {folder}: {error.strerror}; choose another "
                           "--out") from None


def _claim_run_folder(args: argparse.Namespace) -> Path:
    """A new run folder, claimed atomically (``--out``, or a fresh one under runs/)."""
    if args.out:
        folder = Path(args.out)
        if folder.exists() and not folder.is_dir():
            raise CommandError(f"--out {folder} is a file, not a folder; choose another --out")
        if folder.is_dir() and any(folder.iterdir()) and not args.overwrite:
            raise CommandError(f"{folder} exists and is not empty; choose another --out or "
                               "pass --overwrite")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"cannot create --out {folder}: {error.strerror}") from None
        _claim(folder, args.overwrite)
        return folder
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{args.model}-{args.data}-{stamp}"
    try:
        base.parent.mkdir(exist_ok=True)
    except OSError as error:
        raise CommandError(f"cannot create runs/: {error.strerror}; pass --out") from None
    for suffix in itertools.count():
        folder = base if suffix == 0 else base.with_name(f"{base.name}-{suffix}")
        try:
            folder.mkdir()  # exclusive: a concurrent run takes the next name
        except FileExistsError:
            continue
        except OSError as error:
            raise CommandError(f"cannot create {folder}: {error.strerror}; pass --out") from None
        _claim(folder, False)
        return folder
    raise AssertionError("unreachable")


def _write_status(folder: Path, status: str, args: argparse.Namespace, **extra: Any) -> None:
    write_json(folder / RUN_FILE, {
        "status": status, "pid": os.getpid(), "host": socket.gethostname(),
        "time": datetime.datetime.now().isoformat(timespec="seconds"),
        "arguments": {k: v for k, v in vars(args).items() if k not in ("handler", "resume")},
        **extra})


class _Signals(Callback):
    """Turn SIGINT and SIGTERM into a stop after the current mini-batch."""

    name = "signals"

    def __init__(self) -> None:
        self.received: int | None = None
        self.trainer: Trainer | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, number: int, frame: Any) -> None:
        if self.received is None:
            self.received = number
            if self.trainer is not None:
                self.trainer.interrupt(f"interrupted by {signal.Signals(number).name}")

    def __enter__(self) -> _Signals:
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def on_train_begin(self, trainer: Trainer) -> None:
        self.trainer = trainer
        if self.received is not None:
            trainer.interrupt(f"interrupted by {signal.Signals(self.received).name}")


def command_train(args: argparse.Namespace) -> int:
    resume_folder = None
    if args.resume:
        resume_folder, args = _resumable_run(args.resume)
    elif args.params:
        applied = apply_params(args, args.params)
        print(f"note: --params {args.params}: {args.model} on {args.data} with "
              f"{', '.join(applied)}")
    defaults = DEFAULTS[args.model]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.human_error is not None and not 0 <= args.human_error <= 1:
        raise CommandError(f"--human-error must be an error rate in [0, 1]; got "
                           f"{args.human_error}")
    out = resume_folder or _claim_run_folder(args)
    # From here on Ctrl-C and SIGTERM stop the run cleanly: during training after the
    # current mini-batch, before it without training at all.
    with _Signals() as signals:
        _write_status(out, "running", args)
        if args.model in DETECTOR_MODELS:
            return train_detector(out, args, resume_folder is not None, signals, _write_status)
        return _train_in(out, args, resume_folder is not None, signals)


def _train_in(out: Path, args: argparse.Namespace, resuming: bool, signals: _Signals) -> int:
    """The body of ``steepest train`` once its folder is claimed."""
    data = load_dataset(args.data, args.seed)
    splits = split_data(data, args.seed)
    preprocessing = fit_preprocessing(data, args.model, splits.train[0])
    parts = {name: (prepare(X, preprocessing), y)
             for name, (X, y) in splits.parts().items()}
    X_train, y_train = parts["train"]
    model = build_model(args, data, int(np.prod(X_train.shape[1:])))
    optimizer_class = OPTIMIZERS[args.optimizer]
    lr: Any = InverseTimeDecay(args.lr, args.decay) if args.decay else args.lr
    optimizer = optimizer_class(model.parameters(), lr=lr, **(args.optimizer_options or {}))
    augment = None
    if args.augment and data.kind == "images":
        crop = RandomCrop(data.X.shape[2:], padding=2)
        augment = crop if args.model == "lenet5" else Reshape(tuple(data.X.shape[1:]), crop)
    sizes = ", ".join(f"{name} {len(y):,}" for name, (_, y) in parts.items())
    print(f"steepest {__version__}: {args.model} on {args.data} ({sizes}); "
          f"{model.num_parameters():,} parameters", flush=True)
    stopper = None
    callbacks: list[Callback] = []
    if args.early_stopping:
        stopper = EarlyStopping("dev_loss", patience=max(3, args.epochs // 3))
        callbacks.append(stopper)
    if args.tensorboard:
        callbacks.append(TensorBoard(args.tensorboard))
    checkpoint = out / "checkpoint"
    trainer = Trainer(model, optimizer=optimizer, callbacks=[*callbacks, signals],
                      regularization=L2(args.l2) if args.l2 else None,
                      verbose=0 if args.quiet else 1)
    trainer.keep_resume_point = True
    history = trainer.fit(X_train, y_train, dev=parts["dev"], epochs=args.epochs,
                          batch_size=args.batch_size or None, augment=augment, rng=args.seed,
                          resume=checkpoint if resuming and checkpoint.is_dir() else None)
    if signals.received is not None:
        return end_interrupted_run(trainer, history, signals.received, out, args, _write_status)
    report_stop(history, stopper)

    task = _task_of(model)
    results = {name: evaluate(model, X, y, task=task, metrics=["accuracy", "error", "f1"])
               for name, (X, y) in parts.items()}
    print()
    for name in ("train", "dev", "test"):
        r = results[name]
        print(f"{name:5s} accuracy {_percent(r['accuracy']):>7s}   "
              f"{task.metric_label('f1')} {r['f1']:.4f}   loss {r['loss']:.4f}")
    diagnosis = diagnose(results["train"]["error"], results["dev"]["error"],
                         test_error=results["test"]["error"], human_error=args.human_error)
    print()
    print(diagnosis.report())

    raw_train = splits.train[0]
    metadata = {"data": args.data, "model": args.model, "classes": data.classes,
                "preprocessing": preprocessing, "seed": args.seed,
                "input_range": [float(raw_train.min()), float(raw_train.max())],
                "input_mean": float(raw_train.mean()),
                "arguments": {k: v for k, v in vars(args).items() if k != "handler"}}
    save(model, out / "model", metadata=metadata)
    history.save(out / "history.json")
    write_json(out / "metrics.json", {"results": results, "diagnosis": diagnosis.as_dict()})
    dev_x, dev_y = parts["dev"]
    predictions = predict(model, dev_x, task=task)
    matrix = confusion_matrix(np.asarray(dev_y).ravel(), np.asarray(predictions).ravel(),
                              labels=list(range(len(data.classes))))
    (out / "report.txt").write_text(diagnosis.report() + "\n\nDev confusion matrix (rows: true, "
                                    "columns: predicted)\n" + np.array2string(matrix) + "\n")
    written = ["model/", "history.json", "metrics.json", "report.txt"]
    write_learning_curves(history, out, written)
    _write_status(out, "complete", args)
    print(f"\nwrote {out}/: {', '.join(written)}")
    return 0


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _resumable_run(folder: str) -> tuple[Path, argparse.Namespace]:
    """The folder and the arguments of an interrupted run."""
    path = Path(folder)
    status = read_json(path / RUN_FILE, "steepest train --resume") if \
        (path / RUN_FILE).is_file() else None
    if not isinstance(status, dict) or not isinstance(status.get("arguments"), dict):
        raise CommandError(f"--resume {folder}: not a run folder of steepest train (no "
                           f"readable {RUN_FILE})")
    if status.get("status") == "complete":
        raise CommandError(f"--resume {folder}: the run is complete; nothing to resume")
    if status.get("status") == "running" and status.get("host") == socket.gethostname() \
            and _alive(status.get("pid")):
        raise CommandError(f"--resume {folder}: the run is still running (process "
                           f"{status['pid']}); stop it first (Ctrl-C or kill -TERM)")
    args = build_parser().parse_args(["train"])
    known = vars(args)
    for key, value in status["arguments"].items():
        if key in known and key not in ("handler", "resume", "command"):
            setattr(args, key, value)
    args.resume = None
    return path, args


def _task_of(model: Module) -> Task:
    task = resolve_task(None, model)
    if task is None:
        raise CommandError(f"{type(model).__name__} has no default task")
    return task


def _load_run(folder: str) -> tuple[Module, dict[str, Any]]:
    path = Path(folder)
    if (path / RUN_FILE).is_file() and not (path / "model").is_dir():
        status = read_json(path / RUN_FILE, "steepest")
        state = status.get("status") if isinstance(status, dict) else None
        if state == "interrupted":
            raise CommandError(f"{folder} holds an interrupted run with no model yet; "
                               f"continue it with: steepest train --resume {folder}")
        raise CommandError(f"{folder} holds a run that has not finished (status {state!r})")
    model_folder = path / "model" if (path / "model").is_dir() else path
    config = read_config(model_folder)
    model = load(model_folder)
    metadata = config.get("metadata", {}) if isinstance(config, dict) else {}
    if not isinstance(metadata, dict) or "preprocessing" not in metadata or \
            "data" not in metadata:
        raise CommandError(f"{model_folder} was not written by `steepest train` (no "
                           "preprocessing recorded); load it with steepest.load instead")
    expected = {"seed": int, "classes": list, "model": str, "data": str, "preprocessing": dict}
    for key, kind in expected.items():
        if not isinstance(metadata.get(key), kind) or isinstance(metadata.get(key), bool):
            raise CommandError(f"{model_folder / 'config.json'}: the run's metadata lacks a "
                               f"valid {key!r} ({kind.__name__}); the file was edited or is "
                               "damaged")
    if not all(isinstance(c, str) for c in metadata["classes"]):
        raise CommandError(f"{model_folder / 'config.json'}: the class names must be strings")
    if metadata["model"] in DETECTOR_MODELS:
        raise CommandError(f"{folder} holds a detector ({metadata['model']}): use steepest detect "
                           f"{folder} IMAGE; its test mAP is in {path / 'metrics.json'}")
    return model, metadata


def command_evaluate(args: argparse.Namespace) -> int:
    model, metadata = _load_run(args.folder)
    data_name = args.data or metadata["data"]
    data = load_dataset(data_name, metadata["seed"])
    splits = split_data(data, metadata["seed"])
    parts = splits.parts()
    if args.split not in parts:
        raise CommandError(f"--split {args.split}: the data has parts {', '.join(parts)}")
    X, y = parts[args.split]
    X = prepare(X, metadata["preprocessing"])
    result = evaluate(model, X, y, metrics=["accuracy", "precision", "recall", "f1"])
    print(f"{metadata['model']} on {data_name} ({args.split}, {len(y):,} examples)")
    for key, value in result.items():
        print(f"  {key:10s} {value:.4f}")
    return 0


def _as_batch(item: str, array: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """One example or a batch, as a batch (m, ...) of the shape the model was trained on."""
    image_shape = preprocessing.get("image_shape")
    expected = tuple(image_shape) if image_shape is not None else (len(preprocessing["mean"]),)
    if array.shape == expected:
        return array[None]
    if array.shape[1:] == expected:
        return array
    if expected[0] == 1 and len(expected) == 3:  # grayscale images given without the channel
        if array.shape == expected[1:]:
            return array[None, None]
        if array.shape[1:] == expected[1:]:
            return array[:, None]
    raise CommandError(f"input {item} has shape {array.shape}; the model takes examples of "
                       f"shape {expected} (one, or a batch of them)")


def _read_array(item: str, path: Path) -> np.ndarray:
    """One input file as raw numbers (pixels as the training data had them)."""
    array = read_input_file(path, what=f"input {item}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return array
    picture = array.astype(np.float32)
    if picture.ndim == 3:  # colour: average to grey for one-channel models
        picture = picture[..., :3].mean(axis=2)
    return picture[None]


def _in_trained_range(item: str, array: np.ndarray, metadata: dict[str, Any]) -> np.ndarray:
    """Pixels in the units the model was trained on, or one clear error.

    Images already scaled to [0, 1] (as PNG readers return them, or a user's own
    normalised arrays) are scaled back to the training units, the same rule for every
    file type. Values outside the training range are refused; an image whose
    brightness is on the other side of the range from the training images (white
    digits on black vs black on white) gets a warning.
    """
    preprocessing = metadata["preprocessing"]
    if not np.issubdtype(array.dtype, np.number) or array.dtype.kind == "c":
        raise CommandError(f"input {item} holds {array.dtype} values, not numbers")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise CommandError(f"input {item} contains NaN or Inf")
    if preprocessing["type"] != "scale" or array.size == 0:
        return array
    divisor = float(preprocessing["divisor"])
    low, high = metadata.get("input_range", [0.0, divisor])
    if divisor > 1 and high > 1 and array.min() >= 0 and 0 < array.max() <= 1:
        array = array * np.float32(divisor)
        print(f"note: input {item} holds values in [0, 1]; read as pixels scaled by 1/"
              f"{divisor:g} (the model was trained on {low:g}..{high:g})", file=sys.stderr)
    if array.min() < low - 1e-3 * (high - low) or array.max() > high * (1 + 1e-3):
        raise CommandError(f"input {item} has values from {array.min():g} to "
                           f"{array.max():g}; the model was trained on {low:g}..{high:g}")
    trained_mean = metadata.get("input_mean")
    if trained_mean is not None:
        middle = (low + high) / 2
        if (array.mean() - middle) * (trained_mean - middle) < 0 and \
                abs(array.mean() - middle) > 0.2 * (high - low):
            print(f"warning: input {item} looks inverted (mean {array.mean():.3g}, the training "
                  f"images' {trained_mean:.3g}): the model was trained on "
                  f"{'dark' if trained_mean < middle else 'light'} backgrounds; try "
                  f"{high:g} - x", file=sys.stderr)
    return array


def _read_inputs(paths: Sequence[str], metadata: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    names: list[str] = []
    arrays = []
    for item in paths:
        array = _as_batch(item, _read_array(item, Path(item)), metadata["preprocessing"])
        array = _in_trained_range(item, array, metadata)
        arrays.append(array)
        names.extend(f"{item}[{i}]" if len(array) > 1 else item for i in range(len(array)))
    try:
        return names, np.concatenate(arrays)
    except ValueError:
        raise CommandError("the inputs have different shapes") from None


def command_predict(args: argparse.Namespace) -> int:
    model, metadata = _load_run(args.folder)
    names, raw = _read_inputs(args.inputs, metadata)
    task = _task_of(model)
    outputs = forward_in_batches(model, prepare(raw, metadata["preprocessing"]))
    probabilities = task.class_probabilities(outputs)  # (m, C), binary models too
    classes = metadata["classes"]
    if probabilities.shape[1] > len(classes):
        raise CommandError(f"{args.folder}: the model has {probabilities.shape[1]} outputs but "
                           f"its metadata names {len(classes)} classes; the run folder was "
                           "edited or is damaged")
    lines = ["input,prediction,probability"]
    for name, p in zip(names, probabilities):
        label = int(p.argmax())
        lines.append(f"{name},{classes[label]},{p[label]:.4f}")
    text = "\n".join(lines) + "\n"
    if args.output:
        target = Path(args.output)
        if target.exists() and not args.overwrite:
            raise CommandError(f"--output {target} exists; choose another file or pass "
                               "--overwrite")
        atomic_write(target, text.encode())
        print(f"wrote {len(names)} predictions to {args.output}")
    else:
        print(text, end="")
    return 0


# ---------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


_positive_int.__name__ = "positive integer"


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text}")
    return value


_non_negative_int.__name__ = "non-negative integer"


def _hidden_sizes(text: str) -> str:
    sizes = [part.strip() for part in text.split(",") if part.strip()]
    for part in sizes:
        if not part.isdigit() or int(part) == 0:
            raise argparse.ArgumentTypeError(f"must be positive layer sizes separated by commas "
                                             f"(e.g. 256,128); got {text}")
    return ",".join(sizes)


_hidden_sizes.__name__ = "layer sizes"


def _batch_size(text: str) -> int:
    if text in ("full", "all", "m"):
        return 0
    return _positive_int(text)


_batch_size.__name__ = "batch size"


def _rate(low: float, high: float, low_open: bool = False) -> Any:
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"must be in {bracket}{low:g}, {high:g}]; got {text}")
        return value

    parse.__name__ = "number"
    return parse


def _defaults(key: str) -> str:
    """One default per model, for --help: 'lenet5 3e-3, mlp 2e-3, logistic 0.5'."""
    def show(value: Any) -> str:
        if isinstance(value, bool):
            return "on" if value else "off"
        if key == "batch_size" and value == 0:
            return "full"
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{model} {show(values[key])}" for model, values in DEFAULTS.items())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="steepest", description="Deep learning from the course notes: train, "
                     "evaluate and predict with steepest.")
    parser.add_argument("--version", action="version", version=f"steepest {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train a model and report its bias/variance diagnosis",
        description="Train a model, evaluate it on dev and test data, print the bias/variance "
        "diagnosis and write the model, its history and its learning curves. With no "
        "arguments: LeNet-5 on the 5,000 embedded MNIST digits.")
    train.add_argument("--data", choices=DATASETS, default="mnist-sample",
                       help="data set: the embedded 5,000 MNIST digits (default), the full "
                       "MNIST (downloaded once), scikit-learn's 8x8 digits or breast-cancer "
                       "data, the planar 'flower', or synthetic shapes")
    train.add_argument("--model", choices=MODELS, default="lenet5",
                       help="lenet5 (CONV-POOL-CONV-POOL-FC-FC-softmax), mlp (an L-layer "
                       "network), logistic (logistic regression, binary data only) or yolo (a "
                       "grid detector with anchor boxes, --data shapes only)")
    train.add_argument("--hidden", type=_hidden_sizes, default="128",
                       help="mlp: hidden layer sizes, comma-separated (default 128)")
    train.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "leaky_relu"),
                       default="relu", help="mlp: hidden activation g (default relu)")
    train.add_argument("--epochs", type=_positive_int,
                       help="passes over the training set (default: " + _defaults("epochs")
                       + ")")
    train.add_argument("--batch-size", type=_batch_size, dest="batch_size",
                       help="mini-batch size: a power of two such as 64 or 128, 1 for "
                       "stochastic gradient descent, or 'full' for batch gradient descent "
                       "(default: " + _defaults("batch_size") + ")")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                       help="update rule: adam (momentum + RMSprop with bias correction, "
                       "default), momentum, rmsprop, or gd (plain gradient descent)")
    train.add_argument("--lr", type=_rate(0.0, 10.0, low_open=True),
                       help="learning rate alpha0, the first hyperparameter to tune (default: "
                       + _defaults("lr") + ")")
    train.add_argument("--decay", type=_rate(0.0, 100.0),
                       help="learning-rate decay: alpha = alpha0 / (1 + decay * epoch), epochs "
                       "counted from 0; 0 keeps alpha fixed (default: " + _defaults("decay")
                       + ")")
    train.add_argument("--keep-prob", type=_rate(0.0, 1.0, low_open=True), default=1.0,
                       dest="keep_prob",
                       help="mlp: inverted-dropout keep probability of the hidden units (1.0 "
                       "= no dropout)")
    train.add_argument("--l2", type=_rate(0.0, 1e6), default=0.0,
                       help="L2 regularisation lambda: adds lambda/(2m) * sum ||W||^2 to the "
                       "cost (default 0)")
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                       help="image data augmentation: random shifts of up to 2 pixels "
                       "(default: " + _defaults("augment") + "; images only)")
    train.add_argument("--early-stopping", action=argparse.BooleanOptionalAction, default=True,
                       dest="early_stopping",
                       help="stop when dev_loss has not improved for max(3, epochs // 3) "
                       "epochs and restore the weights of the best epoch (default: on)")
    train.add_argument("--human-error", type=float, dest="human_error",
                       help="human-level error, the proxy for the Bayes error in the diagnosis "
                       "(default: assume 0)")
    train.add_argument("--seed", type=_non_negative_int, default=0,
                       help="seed of the split, the initial weights and the shuffling")
    train.add_argument("--out", help="output folder (default: a new folder under runs/)")
    train.add_argument("--overwrite", action="store_true",
                       help="allow writing into a non-empty --out folder")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--tensorboard", metavar="DIR",
                       help="write TensorBoard event files to DIR: every mini-batch's cost, every "
                       "epoch's costs, metrics and learning rate (pip install "
                       "steepest[tensorboard]; view with tensorboard --logdir DIR)")
    train.add_argument("--resume", metavar="RUN",
                       help="continue an interrupted run (Ctrl-C or SIGTERM) in its folder, "
                       "with its arguments; it ends exactly as an uninterrupted run would")
    train.add_argument("--params", metavar="BEST_JSON",
                       help="retrain the winner of `steepest tune`: the data set, model, "
                       "settings and hyperparameters of its best.json (they replace the "
                       "flags)")
    train.set_defaults(handler=command_train, optimizer_options=None)

    evaluate_parser = commands.add_parser(
        "evaluate", help="evaluate a saved run on its test (or dev, train) split",
        description="Load a run written by `steepest train`, rebuild the same split of its "
        "data and report accuracy, precision, recall and F1.")
    evaluate_parser.add_argument("folder", help="the run folder (or its model/ folder)")
    evaluate_parser.add_argument("--split", choices=("train", "dev", "test"), default="test",
                                 help="which part to evaluate on (default test)")
    evaluate_parser.add_argument("--data", choices=DATASETS,
                                 help="evaluate on another data set of the same shape")
    evaluate_parser.set_defaults(handler=command_evaluate)

    predict_parser = commands.add_parser(
        "predict", help="predict the classes of new examples",
        description="Predict with a saved run: inputs are .npy/.npz arrays (one example or "
        "a batch, raw like the training data, e.g. uint8 pixels) or .png/.jpg images.")
    predict_parser.add_argument("folder", help="the run folder (or its model/ folder)")
    predict_parser.add_argument("inputs", nargs="+", help="input files")
    predict_parser.add_argument("--output", help="write the predictions as CSV here (never "
                                "over an existing file unless --overwrite)")
    predict_parser.add_argument("--overwrite", action="store_true",
                                help="allow --output to replace an existing file")
    predict_parser.set_defaults(handler=command_predict)

    add_tune_parser(commands)
    add_export_parser(commands)
    add_detect_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``steepest`` command (and ``python -m steepest``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("steepest: interrupted", file=sys.stderr)
        return 130
    except (CommandError, ModelFileError, DatasetError, ShapeError, NonFiniteError, ValueError,
            TypeError, KeyError, OSError, ImportError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"steepest {args.command}: error: {message}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug of ours: still one line (STEEPEST_DEBUG=1 shows all)
        if os.environ.get("STEEPEST_DEBUG"):
            raise
        print(f"steepest {args.command}: internal error: {type(error).__name__}: {error} "
              "(please report it; STEEPEST_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
