"""The suite's copy of the contract's worked example is the contract's, byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO

CONTRACT = Path(os.environ.get("CHATLAKE_CONTRACT_DIR", REPO.parent / "shared" / "contract"))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_copy_holds_landing_days_and_expected_outputs() -> None:
    names = set(_files(EXAMPLES))
    assert {"README.md", "expected/messages.csv", "expected/counts.json"} <= names
    assert {n.split("/")[1] for n in names if n.startswith("landing/")} == {
        "dt=2026-11-01", "dt=2026-11-02", "dt=2026-11-03", "dt=2026-11-04"}


@pytest.mark.skipif(not (CONTRACT / "examples").is_dir(),
                    reason=f"no contract beside the repository ({CONTRACT}); a clone has none, CI has it")
def test_the_copy_equals_the_contracts_example() -> None:
    assert _files(EXAMPLES) == _files(CONTRACT / "examples")
