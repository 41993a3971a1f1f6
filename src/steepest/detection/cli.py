"""The detection side of the ``steepest`` command.

* :func:`train_detector`: the body of ``steepest train --data shapes --model yolo``
  once the run folder is claimed: trains a :class:`GridDetector` with the same
  loop, resume points, signal handling and run.json states as every other run,
  then reports mAP@0.5, mAP@[.5:.95] and per-class AP and saves the model.
* ``steepest detect RUN image.png --out detections.png`` (:func:`add_detect_parser`,
  :func:`command_detect`): draws the detections with class and score and writes
  them as JSON beside the picture; existing files are never overwritten.
"""

from __future__ import annotations

import argparse
import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .._files import write_json
from .._runs import end_interrupted_run, report_stop
from ..data.readers import IMAGE_SUFFIXES, read_input_file
from ..io.serialization import load, read_config, save
from ..nn.regularization import L2
from ..optim import OPTIMIZERS, InverseTimeDecay
from ..train import Callback, EarlyStopping, Trainer
from ..train.history import write_learning_curves
from ..train.trainer import forward_in_batches
from .data import SHAPES_CLASSES, SHAPES_DETECTION, box_sizes, shapes_detection_splits
from .draw import draw_detections, figure_png
from .evaluation import COCO_IOU_THRESHOLDS, mean_average_precision
from .yolo import GridDetector, kmeans_anchors

__all__ = ["DETECTOR_DEFAULTS", "DETECTOR_MODELS", "DetectionCommandError", "add_detect_parser",
           "command_detect", "evaluate_detector", "train_detector"]

DETECTOR_MODELS = ("yolo",)
# Per model, as the command's DEFAULTS: learning rate, decay, epochs, batch size, augmentation.
DETECTOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "yolo": {"lr": 3e-3, "decay": 0.1, "epochs": 20, "batch_size": 32, "augment": False},
}
GRID_SIZE = 6          # 48 / 6 = 8 pixels per cell: three 2x2 pools
NUM_ANCHORS = 3
WIDTH = 8              # channels of the first block (benchmarks/bench_detection.py)
SPLIT_SIZES = {"train": 2000, "dev": 250, "test": 500}


class DetectionCommandError(ValueError):
    """A problem the user can fix; the command prints it as one line."""


def evaluate_detector(model: GridDetector, images: np.ndarray, targets: dict[str, np.ndarray],
                      class_names: list[str]) -> dict[str, Any]:
    """mAP@0.5, mAP@[.5:.95] and per-class AP@0.5 (by class name) on one split.

    Example:
        >>> splits = shapes_detection_splits(train=8, dev=2, test=2)
        >>> net = GridDetector(3, [[12, 12]], image_size=48, grid_size=6, rng=0)
        >>> sorted(evaluate_detector(net, *splits["test"], SHAPES_CLASSES))
        ['ap50', 'map', 'map50']
    """
    task = model.default_task()
    outputs = forward_in_batches(model, images)
    found = task.predict(outputs)
    truth = task.ground_truth(task.encode_targets(targets))
    map50, per_class = mean_average_precision(found, truth, 0.5, per_class=True)
    return {"map50": map50, "map": mean_average_precision(found, truth, COCO_IOU_THRESHOLDS),
            "ap50": {class_names[k]: v for k, v in per_class.items()}}


def train_detector(out: Path, args: argparse.Namespace, resuming: bool, signals: Callback,
                   write_status: Callable[..., None]) -> int:
    """The body of ``steepest train --model yolo`` once its folder is claimed.

    Args:
        out: the claimed run folder.
        args: the parsed ``steepest train`` arguments, defaults filled in from
            :data:`DETECTOR_DEFAULTS`.
        resuming: continue from ``out/checkpoint``.
        signals: the command's SIGINT/SIGTERM callback (it must have ``received``).
        write_status: the command's ``_write_status(folder, status, args, **extra)``.

    Returns:
        The exit status: 0, or 128 + the signal number after an interruption.
    """
    if args.data != "shapes":
        raise DetectionCommandError(f"--model yolo detects objects in --data shapes (images "
                                    f"with several shapes and boxes); --data {args.data} has "
                                    "no boxes")
    splits = shapes_detection_splits(args.seed, **SPLIT_SIZES)
    X_train, y_train = splits["train"]
    anchors = kmeans_anchors(box_sizes(y_train), NUM_ANCHORS, rng=args.seed)
    model = GridDetector(len(SHAPES_CLASSES), anchors.round(2).tolist(),
                         image_size=SHAPES_DETECTION["image_size"], grid_size=GRID_SIZE,
                         width=WIDTH, rng=args.seed)
    lr: Any = InverseTimeDecay(args.lr, args.decay) if args.decay else args.lr
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    sizes = ", ".join(f"{name} {len(X):,}" for name, (X, _) in splits.items())
    print(f"steepest {__version__}: yolo ({GRID_SIZE}x{GRID_SIZE} grid, {NUM_ANCHORS} "
          f"anchors {anchors.round(1).tolist()}) on shapes ({sizes}); "
          f"{model.num_parameters():,} parameters", flush=True)
    callbacks: list[Callback] = []
    stopper = None
    if args.early_stopping:
        stopper = EarlyStopping("dev_loss", patience=max(3, args.epochs // 3))
        callbacks.append(stopper)
    checkpoint = out / "checkpoint"
    trainer = Trainer(model, optimizer=optimizer, callbacks=[*callbacks, signals],
                      metrics=["map50"], regularization=L2(args.l2) if args.l2 else None,
                      verbose=0 if args.quiet else 1)
    trainer.keep_resume_point = True
    started = datetime.datetime.now()
    history = trainer.fit(X_train, y_train, dev=splits["dev"], epochs=args.epochs,
                          batch_size=args.batch_size or None, rng=args.seed,
                          resume=checkpoint if resuming and checkpoint.is_dir() else None)
    received = getattr(signals, "received", None)
    if received is not None:
        return end_interrupted_run(trainer, history, received, out, args, write_status)
    seconds = (datetime.datetime.now() - started).total_seconds()
    report_stop(history, stopper)
    results = {name: evaluate_detector(model, X, y, SHAPES_CLASSES)
               for name, (X, y) in splits.items()}
    print()
    for name in ("train", "dev", "test"):
        r = results[name]
        per = "  ".join(f"{k} {v:.3f}" for k, v in r["ap50"].items())
        print(f"{name:5s} mAP@0.5 {r['map50']:.4f}   mAP@[.5:.95] {r['map']:.4f}   AP@0.5: {per}")
    metadata = {"data": args.data, "model": args.model, "task": "detection",
                "classes": SHAPES_CLASSES, "seed": args.seed,
                "image_size": SHAPES_DETECTION["image_size"],
                "preprocessing": {"type": "scale", "divisor": 1.0, "flatten": False,
                                  "image_shape": [3, SHAPES_DETECTION["image_size"],
                                                  SHAPES_DETECTION["image_size"]]},
                "input_range": [0.0, 1.0], "input_mean": float(X_train.mean()),
                "arguments": {k: v for k, v in vars(args).items() if k != "handler"}}
    save(model, out / "model", metadata=metadata)
    history.save(out / "history.json")
    write_json(out / "metrics.json", {"results": results, "training_seconds": seconds})
    written = ["model/", "history.json", "metrics.json"]
    write_learning_curves(history, out, written)
    write_status(out, "complete", args)
    print(f"\nwrote {out}/: {', '.join(written)}")
    return 0


# ---------------------------------------------------------------- steepest detect
def add_detect_parser(commands: Any) -> None:
    """Add ``steepest detect`` to the command's sub-parsers."""
    detect = commands.add_parser(
        "detect", help="find and draw objects in an image with a trained detector",
        description="Run a detector trained by `steepest train --model yolo` on an image: "
        "draw each detection's box, class and score, and write the detections as JSON "
        "beside the picture (same name, .json). Existing files are never overwritten.")
    detect.add_argument("run", help="the run folder (or its model/ folder)")
    detect.add_argument("image", help="a .png/.jpg image, or a .npy array (3, H, W) or "
                        "(H, W, 3) with values in [0, 1]")
    detect.add_argument("--out", help="the picture to write (default: IMAGE-detections.png "
                        "beside the image)")
    detect.add_argument("--score-threshold", type=float, default=0.3, dest="score_threshold",
                        help="drop detections scoring below this (default 0.3)")
    detect.add_argument("--iou-threshold", type=float, default=0.5, dest="iou_threshold",
                        help="non-max suppression: drop boxes overlapping a better one of the "
                        "same class by more than this IoU (default 0.5)")
    detect.set_defaults(handler=command_detect)


def _load_detector(run: str) -> tuple[GridDetector, dict[str, Any]]:
    path = Path(run)
    folder = path / "model" if (path / "model").is_dir() else path
    if not (folder / "config.json").is_file():
        raise DetectionCommandError(f"{run} holds no model (no config.json); give the folder "
                                    "of a finished `steepest train --model yolo` run")
    config = read_config(folder, "steepest detect")
    metadata = config.get("metadata", {}) if isinstance(config, dict) else {}
    model = load(folder)
    if not isinstance(model, GridDetector):
        raise DetectionCommandError(f"{run} holds a {type(model).__name__}, not a detector; "
                                    "train one with: steepest train --data shapes --model yolo")
    classes = metadata.get("classes") if isinstance(metadata, dict) else None
    if not isinstance(classes, list) or len(classes) != model.num_classes or \
            not all(isinstance(c, str) for c in classes):
        classes = [str(k) for k in range(model.num_classes)]
    return model, {"classes": classes}


def _read_picture(item: str) -> np.ndarray:
    """The image as float32 (3, H, W) in [0, 1]."""
    raw = read_input_file(item, what=f"image {item}", suffixes=(".npy", *IMAGE_SUFFIXES))
    picture = raw.astype(np.float32)
    if Path(item).suffix.lower() in IMAGE_SUFFIXES and raw.dtype == np.uint8:
        picture /= 255.0  # JPEG bytes; PNGs already come in [0, 1]
    if picture.ndim == 2:
        picture = np.repeat(picture[None], 3, axis=0)
    elif picture.ndim == 3 and picture.shape[2] in (3, 4) and picture.shape[0] not in (1, 3):
        picture = picture[..., :3].transpose(2, 0, 1)
    elif picture.ndim == 3 and picture.shape[0] == 1:
        picture = np.repeat(picture, 3, axis=0)
    if picture.ndim != 3 or picture.shape[0] != 3:
        raise DetectionCommandError(f"image {item} has shape {picture.shape}; expected a "
                                    "colour or grey image")
    if not np.all(np.isfinite(picture)) or picture.min() < 0 or picture.max() > 1:
        raise DetectionCommandError(f"image {item} must hold values in [0, 1] (got "
                                    f"{np.nanmin(picture):g} to {np.nanmax(picture):g})")
    return picture


def command_detect(args: argparse.Namespace) -> int:
    """``steepest detect RUN IMAGE [--out PICTURE]``."""
    for name in ("score_threshold", "iou_threshold"):
        value = getattr(args, name)
        if not 0 <= value <= 1:
            raise DetectionCommandError(f"--{name.replace('_', '-')} must be in [0, 1]; got "
                                        f"{value}")
    model, metadata = _load_detector(args.run)
    picture = _read_picture(args.image)
    out = Path(args.out) if args.out else Path(args.image).with_name(
        Path(args.image).stem + "-detections.png")
    if out.suffix.lower() != ".png":
        raise DetectionCommandError(f"--out {out}: the picture is written as PNG; name it .png")
    report = out.with_suffix(".json")
    for target in (out, report):
        if target.exists():
            raise DetectionCommandError(f"{target} exists; steepest detect never overwrites, "
                                        "choose another --out")
    # The detector sees images of its training size: resample (nearest pixel), then
    # scale the boxes back to the picture's pixels.
    size = model.image_size
    height, width = picture.shape[1:]
    rows = np.minimum((np.arange(size) + 0.5) * height / size, height - 1).astype(int)
    columns = np.minimum((np.arange(size) + 0.5) * width / size, width - 1).astype(int)
    sample = picture[:, rows][:, :, columns]
    task = model.default_task()
    task.iou_threshold = args.iou_threshold
    found = task.predict(forward_in_batches(model, sample[None]), args.score_threshold)[0]
    boxes = found["boxes"] * np.array([width / size, height / size] * 2)
    detections = {"boxes": boxes, "scores": found["scores"], "labels": found["labels"]}
    classes = metadata["classes"]
    from ..plotting import pyplot

    figure, axis = pyplot().subplots(figsize=(4, 4 * height / width))
    draw_detections(picture, detections, classes, axis)
    png = figure_png(figure)
    listed = [{"class": classes[int(label)], "label": int(label), "score": round(float(s), 4),
               "box_xyxy": [round(float(v), 2) for v in box]}
              for box, s, label in zip(boxes, found["scores"], found["labels"])]
    text = json.dumps({"image": str(args.image), "run": str(args.run),
                       "image_size": [int(height), int(width)],
                       "score_threshold": args.score_threshold,
                       "iou_threshold": args.iou_threshold, "box_format": "xyxy pixels",
                       "detections": listed}, indent=2) + "\n"
    # Exclusive creation: a file that appeared meanwhile is still not overwritten.
    try:
        with open(out, "xb") as handle:
            handle.write(png)
        with open(report, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError as error:
        raise DetectionCommandError(f"{error.filename} exists; steepest detect never "
                                    "overwrites, choose another --out") from None
    for item in listed:
        print(f"{item['class']:10s} {item['score']:.2f}  box (x1, y1, x2, y2) "
              f"{item['box_xyxy']}")
    print(f"wrote {out} and {report} ({len(listed)} detections)")
    return 0
