"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the examples may write files (runs/...)
    exec(compile(BLOCKS[index], f"README block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_readme_shows_both_commands() -> None:
    text = README.read_text()
    assert 'pip install ".[plot]" && steepest train' in text
    assert 'pip install -e ".[test]" && pytest' in text
