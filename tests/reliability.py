"""Figures of the reliability tests, for bench/reliability_report.py.

When CHATLAKE_RELIABILITY_OUT names a JSON file, a test adds what it actually observed there,
one section per test theme: `rows` (one dict per input or case tried) and `totals`. Without
the variable nothing is written, so ordinary test runs leave no file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OUT_ENV = "CHATLAKE_RELIABILITY_OUT"
# A row's status: the expectation held, or it did not (a known gap, pinned by a strict xfail).
OK, GAP = "ok", "gap"


def _path() -> Path | None:
    target = os.environ.get(OUT_ENV)
    return Path(target) if target else None


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


IDENTITY_COLUMNS = ("case", "mutation", "step")


def _identity(row: dict[str, Any]) -> str:
    return next((str(row[c]) for c in IDENTITY_COLUMNS if c in row), json.dumps(row, sort_keys=True))


def record(section: str, rows: list[dict[str, Any]] | None = None, count_as: str | None = None, **totals: Any) -> None:
    """Add rows to a section and set its totals. A row whose case (or mutation, or step) is
    already there replaces it, and so does a total: running a test again does not count twice.
    `count_as` names a total that is the section's number of rows (several tests add to it)."""
    path = _path()
    if path is None:
        return
    results = _load(path)
    entry = results.setdefault(section, {"rows": [], "totals": {}})
    new = {_identity(row): row for row in rows or []}
    entry["rows"] = [row for row in entry["rows"] if _identity(row) not in new] + list(new.values())
    entry["totals"].update(totals)
    if count_as:
        entry["totals"][count_as] = len(entry["rows"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@contextmanager
def observed(section: str, case: str, expected: str) -> Iterator[None]:
    """Record one case's outcome as it happened: `as expected`, or the failure's first line.

    Used around cases that a known gap makes fail (strict xfail), so the report shows what a
    user gets today rather than what the test hoped for."""
    try:
        yield
    except BaseException as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        record(section, [{"case": case, "expected": expected, "observed": f"{type(error).__name__}: {first}"[:160],
                          "status": GAP}])
        raise
    record(section, [{"case": case, "expected": expected, "observed": "as expected", "status": OK}])
