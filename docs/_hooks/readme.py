"""mkdocs hooks: the README as the home page, and every guide in the navigation.

The README lives at the repository root and links ``docs/training.md`` and files
such as ``examples/...``. On the site, ``docs/X.md`` becomes ``X.md``; links to
files outside ``docs/`` (which the site does not publish) become plain code text
instead of broken links. ``docs/index.md`` holds the marker this hook replaces.

A guide added to ``docs/`` without an entry in ``mkdocs.yml``'s ``nav`` is appended to
the "Guides" section (titled by its first heading), so a new page is never orphaned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MARKER = "<!-- README -->"
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")


def _site_link(match: re.Match[str]) -> str:
    text, target = match.group(1), match.group(2)
    if re.match(r"^[a-z]+://|^#|^mailto:", target):
        return match.group(0)
    if target.startswith("docs/"):
        return f"[{text}]({target.removeprefix('docs/')})"
    return text if text.startswith("`") else f"`{text}`"  # a repository file: plain text


def readme_for_site(text: str) -> str:
    """The README with its first heading dropped and its links rewritten for the site."""
    text = re.sub(r"\A# .*\n", "", text)
    return _LINK.sub(_site_link, text)


def _nav_files(nav: Any) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_nav_files(item) for item in nav)) if nav else set()
    if isinstance(nav, dict):
        return set().union(*(_nav_files(item) for item in nav.values())) if nav else set()
    return set()


def unlisted_guides(docs_dir: Path, nav: Any) -> list[dict[str, str]]:
    """Nav entries ``{title: file}`` for top-level pages of docs_dir that nav lacks."""
    listed = _nav_files(nav)
    entries = []
    for page in sorted(docs_dir.glob("*.md")):
        if page.name not in listed:
            heading = re.search(r"^# (.+)$", page.read_text(encoding="utf-8"), re.M)
            entries.append({heading.group(1).strip() if heading else page.stem: page.name})
    return entries


def on_config(config: Any) -> Any:
    nav = config.get("nav")
    if not nav:
        return config
    extra = unlisted_guides(Path(config["docs_dir"]), nav)
    for section in nav:
        if isinstance(section, dict) and "Guides" in section:
            section["Guides"].extend(extra)
            break
    else:
        nav.extend(extra)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    readme = Path(config["docs_dir"]).parent / "README.md"
    return markdown.replace(MARKER, readme_for_site(readme.read_text(encoding="utf-8")))
