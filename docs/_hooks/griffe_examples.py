"""griffe extension: read steepest's Google-style docstrings the way they are written.

Two idioms of steepest's docstrings that griffe's Google parser reads differently:

- the singular ``Example:`` header: griffe reads only the plural ``Examples:`` as
  doctest examples (the singular becomes an admonition whose ``>>>`` lines and outputs
  render as Markdown), so the header is renamed;
- one ``Args:`` entry for several parameters (``X, y: the data set.``): griffe looks for
  a parameter named "X, y", so the entry is repeated for each name.

Both rewrites happen before griffe parses the docstring.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADER = re.compile(r"^(\s*)Example:\s*$", re.M)
_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters):\s*$")
_SHARED = re.compile(r"^(\s+)(\w+(?:\s*,\s*\w+)+)\s*:\s*(.*)$")


def _split_shared_entries(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i, section_indent = 0, None
    while i < len(lines):
        line = lines[i]
        header = _SECTION.match(line)
        if header:
            section_indent = len(header.group(1))
            out.append(line)
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        if section_indent is not None and line.strip() and indent <= section_indent:
            section_indent = None  # the Args section ended
        entry = _SHARED.match(line) if section_indent is not None else None
        if entry is None:
            out.append(line)
            i += 1
            continue
        continuation = []
        i += 1
        while i < len(lines) and lines[i].strip() and \
                len(lines[i]) - len(lines[i].lstrip()) > len(entry.group(1)):
            continuation.append(lines[i])
            i += 1
        for name in re.split(r"\s*,\s*", entry.group(2)):
            out.append(f"{entry.group(1)}{name}: {entry.group(3)}")
            out.extend(continuation)
    return "\n".join(out)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` to ``Examples:`` and split shared ``Args:`` entries."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            value = _HEADER.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = _split_shared_entries(value)
