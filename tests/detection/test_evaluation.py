"""mean_average_precision against pycocotools' COCOeval on the same detections."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from steepest._validation import ShapeError
from steepest.detection import COCO_IOU_THRESHOLDS, average_precision, mean_average_precision


def make_case(rng: np.random.Generator, images: int = 30, classes: int = 3
              ) -> tuple[list[dict], list[dict]]:
    """Ground truth with jittered, missed and spurious detections (some empty images)."""
    truth, found = [], []
    for _ in range(images):
        n = int(rng.integers(0, 5))
        corner = rng.uniform(0, 80, (n, 2))
        boxes = np.concatenate([corner, corner + rng.uniform(5, 30, (n, 2))], axis=1)
        labels = rng.integers(0, classes, n)
        truth.append({"boxes": boxes, "labels": labels})
        keep = rng.uniform(size=n) < 0.8
        jitter = boxes[keep] + rng.normal(0, 1.0, (int(keep.sum()), 4))
        jitter[:, 2:] = np.maximum(jitter[:, 2:], jitter[:, :2] + 1)
        spurious = int(rng.integers(0, 3))
        corner = rng.uniform(0, 80, (spurious, 2))
        extra = np.concatenate([corner, corner + rng.uniform(5, 30, (spurious, 2))], axis=1)
        wrong = labels[keep].copy()
        flip = rng.uniform(size=wrong.size) < 0.1
        wrong[flip] = (wrong[flip] + 1) % classes
        found.append({"boxes": np.concatenate([jitter, extra]),
                      "scores": rng.uniform(size=int(keep.sum()) + spurious),
                      "labels": np.concatenate([wrong, rng.integers(0, classes, spurious)])})
    return found, truth


def coco_eval(found: list[dict], truth: list[dict], classes: int, folder: Path) -> COCOeval:
    """Both sides written as COCO JSON, evaluated by pycocotools."""
    annotations, results = [], []
    for image, (t, d) in enumerate(zip(truth, found)):
        for box, label in zip(t["boxes"], t["labels"]):
            w, h = box[2] - box[0], box[3] - box[1]
            annotations.append({"id": len(annotations) + 1, "image_id": image,
                                "category_id": int(label), "bbox": [*map(float, box[:2]), w, h],
                                "area": float(w * h), "iscrowd": 0})
        for box, score, label in zip(d["boxes"], d["scores"], d["labels"]):
            results.append({"image_id": image, "category_id": int(label), "score": float(score),
                            "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]),
                                     float(box[3] - box[1])]})
    dataset = {"images": [{"id": i, "width": 120, "height": 120} for i in range(len(truth))],
               "categories": [{"id": c, "name": str(c)} for c in range(classes)],
               "annotations": annotations}
    (folder / "gt.json").write_text(json.dumps(dataset))
    (folder / "dt.json").write_text(json.dumps(results))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(folder / "gt.json"))
        evaluation = COCOeval(gt, gt.loadRes(str(folder / "dt.json")), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


def test_map_equals_cocoeval(tmp_path: Path) -> None:
    found, truth = make_case(np.random.default_rng(3))
    evaluation = coco_eval(found, truth, 3, tmp_path)
    ours_5095, per_class = mean_average_precision(found, truth, COCO_IOU_THRESHOLDS,
                                                  per_class=True)
    assert ours_5095 == pytest.approx(evaluation.stats[0], abs=1e-6)
    assert mean_average_precision(found, truth, 0.5) == pytest.approx(evaluation.stats[1],
                                                                        abs=1e-6)
    assert mean_average_precision(found, truth, 0.75) == pytest.approx(evaluation.stats[2],
                                                                         abs=1e-6)
    precision = evaluation.eval["precision"][:, :, :, 0, 2]  # (T, R, K), all areas, 100 dets
    for k in range(3):
        assert per_class[k] == pytest.approx(precision[:, :, k].mean(), abs=1e-6)
    assert 0.2 < ours_5095 < 0.9  # a case with real misses and hits, not a trivial one


def test_classes_absent_from_the_ground_truth_do_not_count() -> None:
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    found = [{"boxes": [[0, 0, 10, 10], [0, 0, 10, 10]], "scores": [0.9, 0.95],
              "labels": [0, 2]}]
    value, per_class = mean_average_precision(found, truth, per_class=True)
    assert list(per_class) == [0] and value == pytest.approx(1.0)
    assert np.isnan(average_precision(found, truth, label=2))


def test_map_bad_input() -> None:
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    found = [{"boxes": [[0, 0, 10, 10]], "scores": [0.9], "labels": [0]}]
    with pytest.raises(ValueError, match="`detections` has 2 images but `ground_truth` has 1"):
        mean_average_precision(found * 2, truth)
    with pytest.raises(ValueError, match=r"`detections\[0\]` lacks \['scores'\]"):
        mean_average_precision([{"boxes": [[0, 0, 1, 1]], "labels": [0]}], truth)
    with pytest.raises(ShapeError, match="has 1 boxes but 2 labels"):
        mean_average_precision(found, [{"boxes": [[0, 0, 1, 1]], "labels": [0, 1]}])
    with pytest.raises(ValueError, match=r"`iou_threshold` must be in \[0, 1\]; got 1.2"):
        mean_average_precision(found, truth, iou_threshold=1.2)
    with pytest.raises(ValueError, match="x2 >= x1"):
        mean_average_precision([{"boxes": [[5, 0, 1, 1]], "scores": [1], "labels": [0]}], truth)


def test_an_iou_equal_to_the_threshold_is_a_match() -> None:
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    found = [{"boxes": [[0, 0, 10, 5]], "scores": [0.9], "labels": [0]}]   # IoU exactly 0.5
    assert mean_average_precision(found, truth, 0.5) == pytest.approx(1.0)
    assert mean_average_precision(found, truth, 0.55) == 0.0
