"""The gallery (examples/gallery/, docs/gallery.md) shows what each entry claims.

Every entry's ``run(quick=True)`` is run once and the finding its figure title states
is checked from the numbers it returns, not only that it ran. Quick mode shrinks
the data and the number of steps, so the thresholds are those quick mode meets.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "examples" / "gallery"


def _load(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def helpers() -> ModuleType:
    """The scripts' shared helper, importable as ``_gallery`` (what they import)."""
    return sys.modules.get("_gallery") or _load("_gallery", GALLERY / "_gallery.py")


class Entry:
    """A gallery script whose ``run`` uses one BLAS thread, as the scripts' command line does.

    The entries multiply small matrices; on a busy machine, waking a second BLAS
    thread for each product can cost more than the product (seen: 0.2 s of CPU
    taking 20 s of wall time), and one thread changes no number the tests read.
    """

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def run(self, quick: bool = True, out: Path | None = None) -> dict[str, Any]:
        with helpers().one_blas_thread():
            return self.module.run(quick=quick, out=out)


def entry(name: str) -> Any:
    """examples/gallery/<name>.py, loaded as ``gallery_<name>`` (sys.path is left alone)."""
    helpers()
    module_name = f"gallery_{name}"
    return Entry(sys.modules.get(module_name) or _load(module_name, GALLERY / f"{name}.py"))


def test_zero_or_constant_weights_keep_hidden_units_identical() -> None:
    results = entry("why_not_zeros").run(quick=True)
    zeros, constant = results["zeros"], results["constant 0.5"]
    small, large = results["randn * 0.01"], results["randn * 30"]
    assert zeros["row_spread"] <= 1e-6 and constant["row_spread"] <= 1e-6
    assert abs(constant["W1"]).min() > 0.1                    # identical, yet not zero
    assert zeros["final_cost"] == pytest.approx(math.log(2), abs=1e-4)   # never learns
    assert small["row_spread"] > 0.1                          # random init breaks symmetry
    assert small["accuracy"] > 0.85 > 0.75 > constant["accuracy"]
    # randn * 30 saturates tanh and learns far more slowly
    assert large["saturated"] > 0.9 and large["mean_slope"] < 0.05
    assert small["epochs_to_target"] is not None
    assert (large["epochs_to_target"] or math.inf) > 3 * small["epochs_to_target"]


def test_gradients_vanish_explode_or_keep_their_size() -> None:
    results = entry("vanishing_gradients").run(quick=True)
    assert results["randn * 0.01, ReLU"]["ratio"] < 1e-20
    assert results["randn * 1, ReLU"]["ratio"] > 1e20
    assert 0.3 < results["He, ReLU"]["ratio"] < 3
    assert 1e-2 < results["Xavier, tanh"]["ratio"] < 3
    assert results["Xavier, ReLU"]["ratio"] < 1e-3           # Xavier is for tanh


def test_adam_leaves_the_plateau_and_ewma_behaves_as_the_seed_says() -> None:
    results = entry("optimizers").run(quick=True)
    surface = results["surface"]
    steps = len(surface["Adam"]["cost"])
    adam = surface["Adam"]["steps_to_low"]
    assert adam is not None and adam < steps / 5
    for slow in ("gradient descent", "momentum (beta 0.9)"):
        assert (surface[slow]["steps_to_low"] or math.inf) > 5 * adam
        assert surface["Adam"]["final_cost"] < 0.01 < surface[slow]["final_cost"]
    assert surface["RMSprop (beta 0.9)"]["steps_to_low"] is not None
    for run in results["mnist"].values():                     # every optimiser learns
        assert run["epoch_loss"][-1] < run["epoch_loss"][0]
    ewma = results["ewma"]
    assert ewma[0.5]["roughness"] > ewma[0.9]["roughness"] > ewma[0.98]["roughness"]
    assert ewma[0.5]["lag"] < ewma[0.9]["lag"] < ewma[0.98]["lag"]
    week = ewma["first_week"]
    assert week["raw"] < 0.2 * week["data"]                   # v_0 = 0 drags the start down
    assert week["corrected"] == pytest.approx(week["data"], abs=1.5)


def test_batch_norm_trains_faster_at_the_large_rate_and_steadies_the_hidden_input() -> None:
    module = entry("batch_norm")
    results = module.run(quick=True)
    high = module.HIGH_LR
    plain = results["curves"][high, False]["epochs_to_target"]
    normed = results["curves"][high, True]["epochs_to_target"]
    assert normed < plain
    assert results["drift", True] < results["drift", False] / 10
    modes = results["modes"]
    assert modes["eval_batch_dependence"] == 0.0 < 0.01 < modes["train_batch_dependence"]


def test_regularisers_trade_training_error_for_a_smaller_gap() -> None:
    results = entry("regularization").run(quick=True)
    none = results["none"]
    assert none["train_error"] <= 0.02 and none["gap"] > 0.1  # it fits the noise
    for name in results["names"][1:]:
        assert results[name]["gap"] < none["gap"] - 0.05
        assert results[name]["train_error"] > none["train_error"]
    assert results["L2 lambda 2"]["weight_norm"] < none["weight_norm"] / 10
    assert results["dropout keep_prob 0.5"]["dev_error"] < none["dev_error"]


def test_learning_curves_show_bias_for_the_small_model_and_variance_for_the_large() -> None:
    module = entry("bias_variance")
    results = module.run(quick=True)
    small, large = (results[name] for name in module.MODELS)
    assert small["diagnosis"].dominant == "avoidable_bias"
    assert small["curve"].train_error[-1] > 0.25              # more data does not help
    assert large["diagnosis"].dominant == "variance"
    gaps = large["curve"].dev_error - large["curve"].train_error
    assert large["curve"].train_error[0] == 0 and gaps[0] > 0.15 and gaps[-1] < gaps[0] / 2


def test_softmax_regression_regions_are_convex_and_a_hidden_layer_bends_them() -> None:
    results = entry("softmax").run(quick=True)
    linear = results["softmax regression (no hidden layer)"]
    net = results["network, 50 hidden ReLU units"]
    assert linear["non_convex"] == 0 and net["non_convex"] > 0.05
    assert net["accuracy"] > 0.95 and linear["accuracy"] < 0.7
    assert linear["row_sum_error"] < 1e-5 and net["row_sum_error"] < 1e-5


def test_lenet_filters_learned_from_a_near_zero_start_are_smooth() -> None:
    results = entry("lenet_filters").run(quick=True)
    he, small = results["He init"], results["first layer x0.05"]
    assert small["change"] > 0.5 > he["change"]               # mostly learned vs mostly init
    assert small["smoothness"] > small["smoothness_start"] + 0.05
    assert small["smoothness"] > he["smoothness"]
    assert [m.shape for m in small["maps"]] == [(6, 28, 28), (16, 10, 10)]


def test_batch_size_trades_noise_for_time_per_epoch() -> None:
    results = entry("batch_size").run(quick=True)
    batch, mini, sgd = (results[name] for name in ("batch (m)", "mini-batch (64)",
                                                   "stochastic (1)"))
    assert batch["steps_per_epoch"] == 1 and batch["went_up"] == 0
    assert sgd["went_up"] > mini["went_up"] > 0               # noisier with smaller batches
    assert sgd["steps_per_epoch"] == results["m"]
    # one example per step: slower per epoch (about 20x; only the order is asserted,
    # wall times on a loaded machine being noisy)
    assert sgd["seconds_per_epoch"] > mini["seconds_per_epoch"]
    assert sgd["dev_loss"][0] < batch["dev_loss"][0]          # but more progress per epoch


def test_vectorised_code_agrees_with_the_loops_and_is_much_faster() -> None:
    results = entry("vectorization").run(quick=True)
    dot, logistic = results["dot"], results["logistic"]
    assert dot["relative_difference"] < 1e-10
    assert logistic["max_gradient_difference"] < 1e-10
    # the notes quote 300-500x; a loaded machine is noisy, so only a clear margin is asserted
    assert dot["speedup_best"] > 20 and logistic["speedup"] > 20


def test_an_entry_writes_a_small_png(tmp_path) -> None:
    # One figure end to end (the shared saving code); the others are made for docs/gallery/.
    entry("vectorization").run(quick=True, out=tmp_path / "figure.png")
    data = (tmp_path / "figure.png").read_bytes()
    assert data.startswith(b"\x89PNG") and 5_000 < len(data) < 150_000
