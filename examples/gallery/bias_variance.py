"""Bias and variance (concepts I2, I3, M6-M8, F3): learning curves of a small and a large model.

Both models learn the planar flower (noise 0.3) from 25 to 400 training points and
are tested on the same 600 dev points (``steepest.strategy.learning_curve``):

* too small: logistic regression (2 -> 1), a straight line through a flower. Its
  training and dev errors meet high and stay there as the data grows: high bias,
  which more data does not cure;
* too large: a 2-100-100-1 ReLU network. On little data it fits every training
  point and misses a quarter of the dev points: high variance, which shrinks as
  the data grows.

``steepest.strategy.diagnose`` reads each pair of errors the seed's way (Bayes
error taken as 0, no human-level figure being known) and says what to try.

Run: ``python examples/gallery/bias_variance.py [--quick] [--out bias_variance.png]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _gallery import main, pyplot, save

import steepest as st

MODELS = {
    "too small: logistic regression": lambda: st.models.MLP([2, 1], output="sigmoid", rng=0),
    "too large: 2-100-100-1 ReLU": lambda: st.models.MLP([2, 100, 100, 1], output="sigmoid",
                                                         rng=0),
}
READ_AT = 100  # the training-set size at which both models are diagnosed


def run(quick: bool = False, out: Path | None = None) -> dict[str, Any]:
    """Learning curves of both models and the diagnosis of each."""
    sizes = (25, READ_AT, 400) if quick else (25, 50, READ_AT, 200, 400)
    epochs = 120 if quick else 200
    X, y = st.data.datasets.make_planar(1000, noise=0.3, rng=0)
    parts = st.data.train_dev_test_split(X, y, sizes=(400, 600), stratify=y, rng=0)
    # fit builds Adam with its default rate for each new model; the scheduler sets 0.01
    rate = st.train.LearningRateScheduler(lambda epoch, lr: 0.01)
    results: dict[str, Any] = {"sizes": sizes}
    print(f"planar flower (noise 0.3), dev set of 600; Adam lr 0.01 on the full batch, "
          f"{epochs} epochs")
    for name, make in MODELS.items():
        curve = st.strategy.learning_curve(make, *parts.train, parts.dev, sizes=sizes, rng=0,
                                           epochs=epochs, batch_size=None, callbacks=[rate])
        at = sizes.index(READ_AT)
        diagnosis = st.strategy.diagnose(float(curve.train_error[at]),
                                         float(curve.dev_error[at]))
        largest = st.strategy.diagnose(float(curve.train_error[-1]), float(curve.dev_error[-1]))
        results[name] = {"curve": curve, "diagnosis": diagnosis, "diagnosis_largest": largest}
        print(f"\n{name}")
        print("  training examples  " + " ".join(f"{n:6d}" for n in curve.x))
        print("  training error     " + " ".join(f"{e:6.1%}" for e in curve.train_error))
        print("  dev error          " + " ".join(f"{e:6.1%}" for e in curve.dev_error))
        print(f"  diagnosis at {READ_AT} examples:")
        print("    " + diagnosis.report().replace("\n", "\n    "))
        print(f"  at {curve.x[-1]} examples the largest gap is "
              f"{(largest.dominant or 'none').replace('_', ' ')}")
    if out is not None:
        plot(results, out)
    return results


def plot(results: dict[str, Any], out: Path) -> None:
    """The two learning curves side by side, with the diagnosis in each title."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    for axis, name in zip(axes, MODELS):
        curve, diagnosis = results[name]["curve"], results[name]["diagnosis"]
        axis.plot(curve.x, 100 * curve.train_error, "o-", label="training error")
        axis.plot(curve.x, 100 * curve.dev_error, "s--", label="dev error")
        axis.axvline(READ_AT, color="gray", linestyle=":", label=f"diagnosed at m = {READ_AT}")
        axis.set_xscale("log")
        axis.set_xticks(curve.x, [str(n) for n in curve.x])
        axis.minorticks_off()
        axis.set_xlabel("training examples m (log scale)")
        axis.set_ylabel("error (%)")
        axis.set_title(f"{name}\nat m = {READ_AT}: avoidable bias "
                       f"{diagnosis.avoidable_bias:.0%}, variance {diagnosis.variance:.0%} -> "
                       f"{(diagnosis.dominant or 'none').replace('_', ' ')}", fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle("The too-small model's errors meet high (bias: more data does not help); the "
                    "too-large model's gap closes as data grows (variance)", fontsize=11)
    save(figure, out)


if __name__ == "__main__":
    main(run, __doc__, "bias_variance.png")
