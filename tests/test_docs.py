"""The documentation points at things that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONCEPTS = (ROOT / "docs" / "concepts.md").read_text()
# The seed's checklist lives beside the repository (../shared from its root), never at
# an absolute path, so the test runs in any checkout laid out the same way.
SEED_CHECKLIST = ROOT.parent / "shared" / "CONCEPTS.md"


def test_every_concept_of_the_seed_has_a_row() -> None:
    assert SEED_CHECKLIST.is_file(), (
        f"the seed's concept checklist is missing: expected {SEED_CHECKLIST} (../shared/"
        "CONCEPTS.md from the repository root); docs/concepts.md cannot be checked without it")
    seed_ids = re.findall(r"^- ([A-Z]{1,2}\d+) ", SEED_CHECKLIST.read_text(), re.M)
    ids = re.findall(r"^\| ([A-Z]{1,2}\d+) \|", CONCEPTS, re.M)
    assert len(ids) == len(set(ids)) == 92
    assert ids == seed_ids


def test_referenced_tests_exist() -> None:
    for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+\*?)`", CONCEPTS):
        source = (ROOT / path).read_text()
        prefix = name.rstrip("*")
        pattern = rf"def {re.escape(prefix)}" + ("" if name.endswith("*") else r"\(")
        assert re.search(pattern, source), f"{path}::{name}"
    for path in re.findall(r"`((?:tests|examples|benchmarks)/[\w/]+\.py)`", CONCEPTS):
        assert (ROOT / path).exists(), path
