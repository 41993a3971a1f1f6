"""Detection benchmarks: localisation IoU, sliding-window speed-up, grid detector mAP.

Run from the repository root (each part prints its figures and, with --json,
appends them to a JSON file; docs/detection.md quotes them)::

    python benchmarks/bench_detection.py sliding
    python benchmarks/bench_detection.py localization
    python benchmarks/bench_detection.py detection --picture docs/detection_shapes.png

Times are wall-clock and process CPU seconds (all threads) at the thread count
of STEEPEST_BENCH_THREADS (default 2).
"""

from __future__ import annotations

import argparse
import json
import os
import time

THREADS = os.environ.get("STEEPEST_BENCH_THREADS", "2")
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, THREADS)

import numpy as np  # noqa: E402

import steepest as st  # noqa: E402
from steepest.data.datasets import make_shapes  # noqa: E402
from steepest.detection import (  # noqa: E402
    GridDetector,
    Localization,
    Localizer,
    kmeans_anchors,
    localization_targets,
    sliding_windows,
    to_fully_convolutional,
)
from steepest.detection.cli import GRID_SIZE, NUM_ANCHORS, evaluate_detector  # noqa: E402
from steepest.detection.data import (  # noqa: E402
    SHAPES_CLASSES,
    box_sizes,
    shapes_detection_splits,
)
from steepest.train import Callback, Trainer  # noqa: E402


class Clock(Callback):
    """Wall and CPU seconds at the end of each epoch."""

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.rows: list[dict[str, float]] = []

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        row = {"epoch": epoch, "wall_s": round(time.perf_counter() - self.wall0, 1),
               "cpu_s": round(time.process_time() - self.cpu0, 1)}
        row.update({k: round(float(v), 4) for k, v in logs.items()})
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def bench_sliding(repeats: int = 5) -> dict[str, float]:
    """Crop-by-crop windows against one fully convolutional pass: 64x64, 28x28, stride 4."""
    net = st.nn.Sequential(st.nn.Conv2d(3, 16, 5, rng=0), st.nn.ReLU(), st.nn.MaxPool2d(2),
                           st.nn.Conv2d(16, 32, 5, rng=0), st.nn.ReLU(), st.nn.MaxPool2d(2),
                           st.nn.Flatten(), st.nn.Linear(32 * 4 * 4, 128, rng=0), st.nn.ReLU(),
                           st.nn.Linear(128, 4, rng=0))
    net.eval()
    fcn = to_fully_convolutional(net, (3, 28, 28))
    fcn.eval()
    images = np.random.default_rng(0).uniform(size=(1, 3, 64, 64)).astype(np.float32)

    def best(function: object) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            function()  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return min(times)

    with st.no_grad():
        crops = sliding_windows(net, images, 28, 4)
        one_pass = fcn(images).numpy()
        crop_s = best(lambda: sliding_windows(net, images, 28, 4))
        pass_s = best(lambda: fcn(images))
    equal = bool(np.allclose(one_pass, crops, rtol=1e-5, atol=1e-6))
    result = {"equal_rtol_1e-5": equal, "max_abs_difference": float(np.abs(crops - one_pass).max()),
              "windows": int(crops.shape[2] * crops.shape[3]), "crop_by_crop_ms": crop_s * 1e3,
              "one_pass_ms": pass_s * 1e3, "speedup": crop_s / pass_s}
    print(json.dumps(result), flush=True)
    return result


def bench_localization(train: int, epochs: int, lr: float, width: int, hidden: int,
                       blocks: int, decay: float) -> dict[str, object]:
    """The OD1 localiser on 32x32 shapes (10% empty, 4 landmarks): mean IoU on 1,000 test."""
    images, labels, boxes, points = make_shapes(train + 1000, image_size=32, empty=0.1,
                                                landmarks=True, rng=0)
    y = localization_targets(labels, boxes, 32, 3, points)
    net = Localizer(3, num_landmarks=4, image_size=32, width=width, hidden=hidden,
                    blocks=blocks, rng=0)
    print(f"{net.num_parameters():,} parameters", flush=True)
    clock = Clock()
    optimizer = st.optim.Adam(net.parameters(), lr=st.optim.InverseTimeDecay(lr, decay))
    trainer = Trainer(net, optimizer=optimizer, callbacks=[clock], verbose=0,
                      task=Localization(3, num_landmarks=4),
                      metrics=["iou", "class_accuracy"])
    trainer.fit(images[:train], y[:train], dev=(images[train:], y[train:]), epochs=epochs,
                batch_size=64, rng=0)
    result = st.train.evaluate(net, images[train:], y[train:], task=trainer.task,
                               metrics=["iou", "presence_accuracy", "class_accuracy",
                                        "landmark_error"])
    print(json.dumps(result), flush=True)
    return {"test": result, "curve": clock.rows}


def bench_detection(epochs: int, lr: float, width: int, picture: str | None
                    ) -> dict[str, object]:
    """The grid detector on the default shapes detection data (steepest train --model yolo)."""
    splits = shapes_detection_splits(0)
    X_train, y_train = splits["train"]
    anchors = kmeans_anchors(box_sizes(y_train), NUM_ANCHORS, rng=0)
    net = GridDetector(3, anchors.round(2), image_size=48, grid_size=GRID_SIZE, width=width,
                       rng=0)
    print(f"anchors {anchors.round(1).tolist()}, {net.num_parameters():,} parameters",
          flush=True)
    clock = Clock()
    optimizer = st.optim.Adam(net.parameters(), lr=st.optim.InverseTimeDecay(lr, 0.1))
    trainer = Trainer(net, optimizer=optimizer, callbacks=[clock], verbose=0,
                      metrics=["map50"])
    trainer.fit(X_train, y_train, dev=splits["dev"], epochs=epochs, batch_size=32, rng=0)
    test = evaluate_detector(net, *splits["test"], SHAPES_CLASSES)
    print(json.dumps(test), flush=True)
    if picture:
        from steepest.detection.draw import draw_detections, figure_png
        from steepest.plotting import pyplot

        figure, axes = pyplot().subplots(2, 4, figsize=(8, 4.2))
        images, _ = splits["test"]
        found = net.default_task().predict(st.train.trainer.forward_in_batches(net, images[:8]),
                                           score_threshold=0.3)
        for axis, image, detections in zip(axes.ravel(), images[:8], found):
            draw_detections(image, detections, SHAPES_CLASSES, axis)
        with open(picture, "wb") as handle:
            handle.write(figure_png(figure))
    return {"test": test, "curve": clock.rows, "anchors": anchors.round(2).tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=("sliding", "localization", "detection"))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--train", type=int, default=4000, help="localization: training images")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--width", type=int, help="first block's channels (detection 8, "
                        "localization 16)")
    parser.add_argument("--hidden", type=int, default=256, help="localization: FC units")
    parser.add_argument("--blocks", type=int, default=3, help="localization: conv-pool blocks")
    parser.add_argument("--decay", type=float, default=0.05,
                        help="localization: lr = lr0 / (1 + decay * epoch)")
    parser.add_argument("--picture", help="detection: write 8 test images with detections here")
    parser.add_argument("--json", help="append the results to this JSON-lines file")
    args = parser.parse_args()
    print(f"steepest {st.__version__}, {THREADS} threads, part {args.part}", flush=True)
    if args.part == "sliding":
        result: object = bench_sliding()
    elif args.part == "localization":
        result = bench_localization(args.train, args.epochs or 40, args.lr, args.width or 16,
                                    args.hidden, args.blocks, args.decay)
    else:
        result = bench_detection(args.epochs or 12, args.lr, args.width or 8, args.picture)
    if args.json:
        with open(args.json, "a") as handle:
            handle.write(json.dumps({"part": args.part, "arguments": vars(args),
                                     "result": result}) + "\n")


if __name__ == "__main__":
    main()
