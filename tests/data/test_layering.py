"""The data layer stands on the backend alone: importing it loads no nn, optim or io.

``import steepest.data`` runs ``steepest/__init__.py`` first, which imports every
package, so checking ``sys.modules`` after a plain import proves nothing. The test
instead installs an empty stand-in for the ``steepest`` package (same search path,
no ``__init__`` code run) in a fresh interpreter and imports ``steepest.data``
through it: only what the data package's own files import gets loaded. Before the
file helpers moved to ``steepest._files``, ``data/datasets/mnist.py`` imported
``steepest.io.files``, whose package imports nn and optim, and this test failed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LOAD_WITHOUT_PACKAGE_INIT = """
import importlib.util, json, sys, types
spec = importlib.util.find_spec("steepest")
stand_in = types.ModuleType("steepest")
stand_in.__path__ = list(spec.submodule_search_locations)
sys.modules["steepest"] = stand_in
import {module}
print(json.dumps(sorted(name for name in sys.modules if name.startswith("steepest."))))
"""

# Layers above data (DESIGN.md) and the device-side layers data has no use for.
FORBIDDEN = ("steepest.autograd", "steepest.ops", "steepest.functional", "steepest.nn",
             "steepest.optim", "steepest.io", "steepest.train", "steepest.models",
             "steepest.strategy", "steepest.cli")


def loaded_by(module: str) -> list[str]:
    """The steepest modules a fresh interpreter holds after importing ``module`` alone."""
    result = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_PACKAGE_INIT.format(
        module=module)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_the_stand_in_package_runs_no_init_code() -> None:
    # The probe itself must be able to see an upward import: through io it does.
    loaded = loaded_by("steepest.io")
    assert "steepest.nn" in loaded and "steepest.optim" in loaded


@pytest.mark.parametrize("module", ["steepest.data", "steepest._files"])
def test_data_imports_neither_nn_nor_optim(module: str) -> None:
    loaded = loaded_by(module)
    upward = [name for name in loaded if name.startswith(FORBIDDEN)]
    assert not upward, f"importing {module} alone loads {upward}"
