"""The ``steepest`` command: train, evaluate and predict from the shell.

``steepest train`` with no arguments trains a LeNet-5 on the 5,000 embedded MNIST
digits with a stratified train/dev/test split, shows its progress, prints the dev
and test metrics and the bias/variance diagnosis, and writes the model, its history
and its learning curves to a new folder under ``runs/``.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import __version__
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
from .data.split import Splits, recommend_split, train_dev_test_split
from .io.files import ModelFileError, write_json
from .io.serialization import load, read_config, save
from .metrics import confusion_matrix
from .models import MLP, LeNet5, LogisticRegression
from .nn.module import Module
from .nn.regularization import L2
from .optim import OPTIMIZERS, InverseTimeDecay
from .strategy import diagnose
from .train import EarlyStopping, evaluate, fit, predict, predict_proba

DATASETS = ("mnist-sample", "mnist", "digits", "breast-cancer", "planar", "shapes")
MODELS = ("lenet5", "mlp", "logistic")


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
                                    stratify=data.y, seed=seed)
        return Splits(train=part.train, dev=part.dev, test=data.test)
    return train_dev_test_split(data.X, data.y, sizes=recommend_split(len(data.X)),
                                stratify=data.y, seed=seed)


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
    return MLP([n_inputs, *hidden, num_classes if num_classes > 2 else 1],
               activation=args.activation,
               output="softmax" if num_classes > 2 else "sigmoid",
               keep_prob=args.keep_prob, rng=args.seed)


DEFAULTS = {  # per model: learning rate, decay rate, epochs, batch size, augmentation
    "lenet5": {"lr": 3e-3, "decay": 0.3, "epochs": 10, "batch_size": 64, "augment": True},
    "mlp": {"lr": 2e-3, "decay": 0.1, "epochs": 10, "batch_size": 128, "augment": False},
    "logistic": {"lr": 0.5, "decay": 0.0, "epochs": 50, "batch_size": 0, "augment": False},
}


# ---------------------------------------------------------------- commands
def _percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def _out_folder(args: argparse.Namespace) -> Path:
    if args.out:
        folder = Path(args.out)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())) \
                and not args.overwrite:
            raise CommandError(f"{folder} exists and is not empty; choose another --out or pass "
                               "--overwrite")
        return folder
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path("runs") / f"{args.model}-{args.data}-{stamp}"
    suffix = 1
    while folder.exists():
        folder = folder.with_name(f"{args.model}-{args.data}-{stamp}-{suffix}")
        suffix += 1
    return folder


def command_train(args: argparse.Namespace) -> int:
    defaults = DEFAULTS[args.model]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.human_error is not None and not 0 <= args.human_error <= 1:
        raise CommandError(f"--human-error must be an error rate in [0, 1]; got "
                           f"{args.human_error}")
    out = _out_folder(args)
    data = load_dataset(args.data, args.seed)
    splits = split_data(data, args.seed)
    preprocessing = fit_preprocessing(data, args.model, splits.train[0])
    parts = {name: (prepare(X, preprocessing), y)
             for name, (X, y) in splits.parts().items()}
    X_train, y_train = parts["train"]
    model = build_model(args, data, int(np.prod(X_train.shape[1:])))
    optimizer_class = OPTIMIZERS[args.optimizer]
    lr: Any = InverseTimeDecay(args.lr, args.decay) if args.decay else args.lr
    optimizer = optimizer_class(model.parameters(), lr=lr)
    augment = None
    if args.augment and data.kind == "images":
        crop = RandomCrop(data.X.shape[2:], padding=2)
        augment = crop if args.model == "lenet5" else Reshape(tuple(data.X.shape[1:]), crop)
    sizes = ", ".join(f"{name} {len(y):,}" for name, (_, y) in parts.items())
    print(f"steepest {__version__}: {args.model} on {args.data} ({sizes}); "
          f"{model.num_parameters():,} parameters", flush=True)
    history = fit(model, X_train, y_train, dev=parts["dev"], optimizer=optimizer,
                  epochs=args.epochs, batch_size=args.batch_size or None,
                  regularization=L2(args.l2) if args.l2 else None, augment=augment,
                  seed=args.seed, verbose=0 if args.quiet else 1,
                  callbacks=[EarlyStopping("dev_loss", patience=max(3, args.epochs // 3))])
    if history.stop_reason:
        print(f"note: {history.stop_reason}")

    results = {name: evaluate(model, X, y, metrics=["accuracy", "f1"])
               for name, (X, y) in parts.items()}
    print()
    for name in ("train", "dev", "test"):
        r = results[name]
        print(f"{name:5s} accuracy {_percent(r['accuracy']):>7s}   "
              f"F1 ({'macro' if len(data.classes) > 2 else 'binary'}) {r['f1']:.4f}   "
              f"loss {r['loss']:.4f}")
    diagnosis = diagnose(1 - results["train"]["accuracy"], 1 - results["dev"]["accuracy"],
                         test_error=1 - results["test"]["accuracy"],
                         human_error=args.human_error)
    print()
    print(diagnosis.report())

    out.mkdir(parents=True, exist_ok=True)
    metadata = {"data": args.data, "model": args.model, "classes": data.classes,
                "preprocessing": preprocessing, "seed": args.seed,
                "arguments": {k: v for k, v in vars(args).items() if k != "handler"}}
    save(model, out / "model", metadata=metadata)
    history.save(out / "history.json")
    write_json(out / "metrics.json", {"results": results, "diagnosis": diagnosis.as_dict()})
    dev_x, dev_y = parts["dev"]
    predictions = predict(model, dev_x)
    matrix = confusion_matrix(np.asarray(dev_y).ravel(), np.asarray(predictions).ravel(),
                              labels=list(range(len(data.classes))))
    (out / "report.txt").write_text(diagnosis.report() + "\n\nDev confusion matrix (rows: true, "
                                    "columns: predicted)\n" + np.array2string(matrix) + "\n")
    written = ["model/", "history.json", "metrics.json", "report.txt"]
    try:
        history.plot(out / "learning_curves.png")
        written.append("learning_curves.png")
    except ImportError:
        print("note: learning_curves.png skipped (pip install steepest[plot] for plots)")
    print(f"\nwrote {out}/: {', '.join(written)}")
    return 0


def _load_run(folder: str) -> tuple[Module, dict[str, Any]]:
    path = Path(folder)
    model_folder = path / "model" if (path / "model").is_dir() else path
    config = read_config(model_folder)
    model = load(model_folder)
    metadata = config.get("metadata", {})
    if "preprocessing" not in metadata or "data" not in metadata:
        raise CommandError(f"{model_folder} was not written by `steepest train` (no "
                           "preprocessing recorded); load it with steepest.load instead")
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


def _read_inputs(paths: Sequence[str], metadata: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    names: list[str] = []
    arrays = []
    for item in paths:
        path = Path(item)
        if not path.is_file():
            raise CommandError(f"input {item} does not exist")
        if path.suffix == ".npy":
            array = np.load(path)
        elif path.suffix == ".npz":
            with np.load(path) as archive:
                if not archive.files:
                    raise CommandError(f"{item} holds no arrays")
                array = archive[archive.files[0]]
        elif path.suffix.lower() in (".png", ".jpg", ".jpeg"):
            try:
                from matplotlib import image as mpimage
            except ImportError:
                raise CommandError("reading images needs matplotlib: pip install "
                                   "steepest[plot]") from None
            picture = np.asarray(mpimage.imread(path), dtype=np.float32)
            if picture.ndim == 3:  # colour: average to grey for one-channel models
                picture = picture[..., :3].mean(axis=2)
            if picture.max() <= 1.0:
                picture = picture * metadata["preprocessing"].get("divisor", 1.0)
            array = picture[None]
        else:
            raise CommandError(f"input {item}: use .npy, .npz, .png or .jpg files")
        array = _as_batch(item, np.asarray(array), metadata["preprocessing"])
        arrays.append(array)
        names.extend(f"{item}[{i}]" if len(array) > 1 else item for i in range(len(array)))
    try:
        return names, np.concatenate(arrays)
    except ValueError:
        raise CommandError("the inputs have different shapes") from None


def command_predict(args: argparse.Namespace) -> int:
    model, metadata = _load_run(args.folder)
    names, raw = _read_inputs(args.inputs, metadata)
    probabilities = predict_proba(model, prepare(raw, metadata["preprocessing"]))
    classes = metadata["classes"]
    lines = ["input,prediction,probability"]
    for name, p in zip(names, probabilities):
        if p.shape[0] == 1:  # sigmoid: probability of class 1
            label, confidence = (1, p[0]) if p[0] > 0.5 else (0, 1 - p[0])
        else:
            label, confidence = int(p.argmax()), p.max()
        lines.append(f"{name},{classes[label]},{confidence:.4f}")
    text = "\n".join(lines) + "\n"
    if args.output:
        Path(args.output).write_text(text)
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
                       "network) or logistic (logistic regression, binary data only)")
    train.add_argument("--hidden", default="128",
                       help="mlp: hidden layer sizes, comma-separated (default 128)")
    train.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "leaky_relu"),
                       default="relu", help="mlp: hidden activation g (default relu)")
    train.add_argument("--epochs", type=_positive_int,
                       help="passes over the training set (default 10; logistic 50)")
    train.add_argument("--batch-size", type=_batch_size, dest="batch_size",
                       help="mini-batch size: a power of two such as 64 or 128, 1 for "
                       "stochastic gradient descent, or 'full' for batch gradient descent")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                       help="update rule: adam (momentum + RMSprop with bias correction, "
                       "default), momentum, rmsprop, or gd (plain gradient descent)")
    train.add_argument("--lr", type=_rate(0.0, 10.0, low_open=True),
                       help="learning rate alpha0, the first hyperparameter to tune")
    train.add_argument("--decay", type=_rate(0.0, 100.0),
                       help="learning-rate decay: alpha = alpha0 / (1 + decay * epoch); 0 keeps "
                       "alpha fixed")
    train.add_argument("--keep-prob", type=_rate(0.0, 1.0, low_open=True), default=1.0,
                       dest="keep_prob",
                       help="mlp: inverted-dropout keep probability of the hidden units (1.0 "
                       "= no dropout)")
    train.add_argument("--l2", type=_rate(0.0, 1e6), default=0.0,
                       help="L2 regularisation lambda: adds lambda/(2m) * sum ||W||^2 to the "
                       "cost (default 0)")
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                       help="image data augmentation: random shifts of up to 2 pixels "
                       "(default on for lenet5)")
    train.add_argument("--human-error", type=float, dest="human_error",
                       help="human-level error, the proxy for the Bayes error in the diagnosis "
                       "(default: assume 0)")
    train.add_argument("--seed", type=int, default=0,
                       help="seed of the split, the initial weights and the shuffling")
    train.add_argument("--out", help="output folder (default: a new folder under runs/)")
    train.add_argument("--overwrite", action="store_true",
                       help="allow writing into a non-empty --out folder")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(handler=command_train)

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
    predict_parser.add_argument("--output", help="write the predictions as CSV here")
    predict_parser.set_defaults(handler=command_predict)
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
