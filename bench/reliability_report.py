"""bench/RELIABILITY.md from the figures the reliability tests wrote.

    CHATLAKE_RELIABILITY_OUT=build/reliability.json ./spark-submit.sh test tests/test_fuzz_ingest.py \\
        tests/test_landing_files.py tests/test_crash.py tests/test_erasure.py tests/test_order.py \\
        tests/test_retention.py tests/test_ingest.py
    .venv/bin/python bench/reliability_report.py build/reliability.json

The tests write through tests/reliability.py: one JSON object per section,
`{"rows": [{column: value}], "totals": {name: value}}`. A section this script knows gets its
title and explanation; any other is printed the same way under its own name. The crash and
rerun tests write "crashes" and "reruns": rows such as `{"step": "ingest", "crash_point":
"after ingest.dimensions", "tables_compared": 21, "equal": true}` and totals `crashes_injected`,
`reruns_compared`, `rows_lost`.
Nothing here is typed by hand: every figure comes from the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parent / "RELIABILITY.md"

# section -> (title, what it shows); in report order.
KNOWN_SECTIONS: dict[str, tuple[str, str]] = {
    "fuzz_ingest": (
        "Bad input, fuzzed",
        "tests/test_fuzz_ingest.py: hypothesis mutates valid lines of every event type (derandomized "
        "and without an example database, so no input is there because an earlier run failed; the "
        "inputs drawn still differ with what ran before in the session: 599 lines when the test runs "
        "alone, about 750 in the whole suite) and the parser (`parse_events`, then ingest's dedup "
        "`repeated_lines`) must accept each line exactly, every parsed field equal to the line's, or "
        "quarantine it with a reason and without its text. One row per mutation kind; a `duplicate` is "
        "a line delivered again.",
    ),
    "fuzz_ingest_gaps": (
        "Bad input: hand-made hard cases",
        "Inputs that once went wrong (long texts, bytes that are not UTF-8, JSON null objects, trailing "
        "tabs), each a test in tests/test_fuzz_ingest.py. `observed` is what a user gets.",
    ),
    "landing_files": (
        "Landing files and folders",
        "tests/test_landing_files.py: awkward files in one landing day through a whole ingest, an empty "
        "and a missing dt= folder, and gzip files with bytes after their end. Status `gap`: the "
        "expectation did not hold when the report was made.",
    ),
    "landing_files_reasons": (
        "Corrupt gzip: the reason a user reads",
        "The quarantine reason of each corrupt gzip, as the quarantine table holds it.",
    ),
    "crashes": (
        "Crashes injected",
        "tests/test_crash.py and tests/test_erasure.py: a run killed right after a named step (some of "
        "its commits made, the rest not), then run again; every table is compared with a clean run.",
    ),
    "reruns": (
        "Reruns compared",
        "A command run twice, or the example's days run newest first, compared table by table with a "
        "single in-order run (tests/test_ingest.py, test_order.py, test_retention.py, test_erasure.py).",
    ),
}
PLACEHOLDERS = {
    "crashes": "Not measured yet: the crash tests (issue 9 item 3) will add one row per step killed "
    "mid-write, rerun and compared with a clean run.",
    "reruns": "Not measured yet: the rerun and order tests (issue 9 item 4) will add one row per "
    "command run twice or days run out of order, compared with a single in-order run.",
}
FIRST_COLUMNS = (
    "mutation", "case", "step", "lines", "accepted", "duplicate", "quarantined", "expected", "observed", "status",
)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(rows: list[dict[str, Any]]) -> list[str]:
    columns = [c for c in FIRST_COLUMNS if any(c in row for row in rows)]
    columns += sorted({c for row in rows for c in row} - set(columns))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return lines


def _section(name: str, entry: dict[str, Any] | None) -> list[str]:
    title, explanation = KNOWN_SECTIONS.get(name, (name, ""))
    lines = [f"## {title}", ""]
    if entry is None:
        return [*lines, f"_{PLACEHOLDERS[name]}_", ""]
    if explanation:
        lines += [explanation, ""]
    totals = entry.get("totals", {})
    lines += [f"- {key.replace('_', ' ')}: **{_cell(value)}**" for key, value in sorted(totals.items())]
    if totals:
        lines.append("")
    if entry.get("rows"):
        lines += [*_table(entry["rows"]), ""]
    return lines


def render(results: dict[str, Any], source: str) -> str:
    fuzz = results.get("fuzz_ingest", {}).get("totals", {})
    files = results.get("landing_files", {}).get("rows", [])
    lost = {name: entry["totals"]["rows_lost"] for name, entry in results.items()
            if "rows_lost" in entry.get("totals", {})}
    crashes = results.get("crashes", {}).get("totals", {}).get("crashes_injected")
    reruns = results.get("reruns", {}).get("totals", {}).get("reruns_compared")
    gaps = sorted({row.get("case", "") for entry in results.values() for row in entry.get("rows", [])
                   if row.get("status") == "gap"})
    summary = [
        f"- Inputs tried: **{_cell(fuzz.get('lines_read', 0))}** fuzzed lines in "
        f"{_cell(fuzz.get('examples', 0))} batches; **{len(files)}** landing file and folder cases.",
        f"- Crashes injected: **{_cell(crashes) if crashes is not None else 'not measured yet'}**.",
        f"- Reruns compared: **{_cell(reruns) if reruns is not None else 'not measured yet'}**.",
        "- Rows lost (must be 0): "
        + (f"**{_cell(sum(lost.values()))}** (" + ", ".join(f"{k}: {_cell(v)}" for k, v in sorted(lost.items())) + ")"
           if lost else "**not measured**") + ".",
        f"- Known gaps (expectation not met): **{len(gaps)}** cases"
        + (", listed below with status `gap`." if gaps else "."),
    ]
    lines = [
        "# Reliability: bad input, crashes and reruns",
        "",
        f"Generated by bench/reliability_report.py from `{source}`, which the tests write when "
        "CHATLAKE_RELIABILITY_OUT names it. Do not edit by hand: rerun the tests and this script.",
        "",
        *summary,
        "",
    ]
    names = [*KNOWN_SECTIONS, *sorted(set(results) - set(KNOWN_SECTIONS))]
    for name in names:
        if name in results or name in PLACEHOLDERS:
            lines += _section(name, results.get(name))
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the JSON the tests wrote")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    if not args.results.is_file():
        print(f"reliability_report: no results file {args.results}", file=sys.stderr)
        return 2
    results = json.loads(args.results.read_text(encoding="utf-8"))
    args.out.write_text(render(results, args.results.name), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
