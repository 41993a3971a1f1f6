"""The documentation site builds in strict mode: no broken link, every docstring renders."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ["steepest", "steepest.autograd", "steepest.functional", "steepest.nn", "steepest.optim",
          "steepest.data", "steepest.tasks", "steepest.train", "steepest.metrics",
          "steepest.strategy", "steepest.models", "steepest.gradcheck", "steepest.io",
          "steepest.backend", "steepest.onnx", "steepest.sklearn", "steepest.transfer",
          "steepest.tune", "steepest.detection"]

_spec = importlib.util.spec_from_file_location("steepest_docs_hooks",
                                               ROOT / "docs" / "_hooks" / "readme.py")
assert _spec is not None and _spec.loader is not None
_hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_hooks)
readme_for_site, unlisted_guides = _hooks.readme_for_site, _hooks.unlisted_guides


def site_config(tmp_path: Path) -> Path:
    """mkdocs.yml with absolute paths, written beside the temporary site. Two things that
    cannot break a link or a docstring are left out to halve the build time: the search
    index and Pygments' syntax colouring."""
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["docs_dir"] = str(ROOT / "docs")
    config["hooks"] = [str(ROOT / hook) for hook in config["hooks"]]
    config["plugins"] = [p for p in config["plugins"] if p != "search"]
    config["markdown_extensions"] = [
        {"pymdownx.highlight": {"use_pygments": False}} if e == "pymdownx.highlight" else e
        for e in config["markdown_extensions"]]
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            python = plugin["mkdocstrings"]["handlers"]["python"]
            python["paths"] = [str(ROOT / p) for p in python["paths"]]
            python["options"]["extensions"] = [str(ROOT / e) for e in
                                               python["options"]["extensions"]]
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_site_builds_in_strict_mode(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mkdocstrings")
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")  # mkdocs-material's banner about its future
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort

    config = load_config(str(site_config(tmp_path)), site_dir=str(tmp_path / "site"),
                         strict=True)
    with caplog.at_level(logging.WARNING, logger="mkdocs"):
        try:
            build(config)
        except Abort:
            pass
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []
    site = tmp_path / "site"
    home = (site / "index.html").read_text()
    assert "Logistic regression in 15 lines" in home and 'href="concepts/"' in home
    api = (site / "api" / "onnx" / "index.html").read_text()
    assert "to_onnx" in api and "dynamic batch size" in api
    assert (site / "deploy" / "index.html").is_file()


def test_readme_links_are_rewritten_for_the_site() -> None:
    text = readme_for_site("# steepest\n[guide](docs/training.md), [code](examples/x.py), "
                           "[`tests/a.py`](tests/a.py), [web](https://x.org), ![img](docs/a.png)")
    assert text == ("[guide](training.md), `code`, `tests/a.py`, [web](https://x.org), "
                    "![img](docs/a.png)")


def test_a_guide_missing_from_the_nav_is_added(tmp_path: Path) -> None:
    (tmp_path / "listed.md").write_text("# Listed\n")
    (tmp_path / "new.md").write_text("text\n# A new guide\n")
    (tmp_path / "bare.md").write_text("no heading\n")
    nav = [{"Home": "index.md"}, {"Guides": [{"Listed": "listed.md"}]}]
    assert unlisted_guides(tmp_path, nav) == [{"bare": "bare.md"}, {"A new guide": "new.md"}]


@pytest.mark.parametrize("index", range(3))
def test_deploy_guide_examples_run(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("sklearn")
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "deploy.md").read_text(), re.S)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)  # the examples write files
    exec(compile(blocks[index], f"docs/deploy.md block {index}", "exec"), {})
    out = capsys.readouterr().out
    assert out.strip()
    if index == 0:
        assert float(out) < 1e-4  # onnxruntime agrees with steepest


@pytest.mark.parametrize("module", PUBLIC)
def test_every_public_name_has_a_docstring(module: str) -> None:
    imported = importlib.import_module(module)
    missing = []
    for name in getattr(imported, "__all__", []):
        value = getattr(imported, name)
        if (inspect.isclass(value) or inspect.isfunction(value) or inspect.ismodule(value)) \
                and not (inspect.getdoc(value) or "").strip():
            missing.append(name)
    assert missing == [], f"{module}: no docstring for {missing}"
