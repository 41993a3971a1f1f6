"""The code base stays clean: ruff and mypy run as part of the suite (as CI runs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.skipif(shutil.which("ruff") is None and not (ROOT / "pyproject.toml").exists(),
                    reason="ruff not installed")
def test_ruff_is_clean() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks", "examples")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # 4-5 s of type checking: CI runs it with the slow tests
def test_mypy_is_clean() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_src_never_imports_torch() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.py")
                 if any(line.strip().startswith(("import torch", "from torch"))
                        for line in p.read_text().splitlines())]
    assert offenders == []


def test_src_never_pickles() -> None:
    # Any way of running code from a file: the pickle modules, NumPy's pickle switch,
    # marshal, or eval/exec on file contents.
    use = re.compile(r"^\s*(import|from)\s+(c?pickle|dill|joblib|marshal|shelve)\b"
                     r"|allow_pickle\s*=\s*True|(?<![.\w`])(?<!def )(eval|exec)\(", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.py")
                 if use.search(p.read_text())]
    assert offenders == []
    assert use.search("import pickle\n") and use.search("np.load(f, allow_pickle=True)")
    assert use.search("exec(text)") and not use.search("model.eval()\ndef eval(self):")
