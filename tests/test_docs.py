"""The documentation points at things that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONCEPTS = (ROOT / "docs" / "concepts.md").read_text()


def test_every_concept_of_the_seed_has_a_row() -> None:
    seed = Path("/work/shared/CONCEPTS.md")
    ids = re.findall(r"^\| ([A-Z]{1,2}\d+) \|", CONCEPTS, re.M)
    assert len(ids) == len(set(ids)) == 92
    if seed.exists():
        assert ids == re.findall(r"^- ([A-Z]{1,2}\d+) ", seed.read_text(), re.M)


def test_referenced_tests_exist() -> None:
    for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+\*?)`", CONCEPTS):
        source = (ROOT / path).read_text()
        prefix = name.rstrip("*")
        pattern = rf"def {re.escape(prefix)}" + ("" if name.endswith("*") else r"\(")
        assert re.search(pattern, source), f"{path}::{name}"
    for path in re.findall(r"`((?:tests|examples|benchmarks)/[\w/]+\.py)`", CONCEPTS):
        assert (ROOT / path).exists(), path
