"""docs/tables.md, generated from schemas/tables.py so that the page cannot drift from the tables.

    python -m schemas.docs --write    # rewrite docs/tables.md
    python -m schemas.docs --check    # exit 1 when docs/tables.md differs from what --write would write

The page lists every TableSpec of `ALL_TABLES` in declaration order: its description, partitioning,
CHECK constraints and every column with its type, nullability and comment. tests/unit/test_docs.py
fails when the page is stale or a table has no description.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyspark.sql import types as T

from schemas.tables import ALL_TABLES, TableSpec

TABLES_PAGE = Path(__file__).resolve().parents[1] / "docs" / "tables.md"
WRITE_COMMAND = "python -m schemas.docs --write"

INTRO = f"""\
# Tables

<!-- Generated from schemas/tables.py by `{WRITE_COMMAND}`; do not edit by hand. -->

Every table is a Delta table at `<warehouse_path>/<table_name>`, declared once in
`schemas/tables.py` (columns, types, nullability, partitioning, CHECK constraints; deletion
vectors on). Fact tables are partitioned by `date_key` (the `yyyymmdd` of the event's UTC date).
Surrogate keys are 64-bit hashes (`xxhash64`) of the natural id and a domain name, so they are the
same on every run and machine; natural ids stay in the dimensions (`dim_users.user_id`, ...).

No table holds message text, in any column, statistic or file: ingest turns the text into
`character_count`, `sentiment_score` and `language_code` right after parsing and drops it; topics score the text
of sampled messages in flight. Quarantined lines keep their fields other than `text`, or, if
they are not JSON at all, only their length and a SHA-256.

`message_status_events`, `membership_events`, `pending_message_status`, `ingested_events` and
`ingest_affected_dates` are ingest's ledgers; `erasure_log` and `pipeline_runs` are the records of
`delete-users` and of every command run. How each metric column is computed:
[metrics.md](metrics.md); what erasure does to each table: [erasure.md](erasure.md).
"""


# Tables whose values docs/metrics.md defines: the section that does.
METRICS_SECTIONS = {
    "fact_message_events": "fact_message_events-the-messages",
    "fact_message_derived_topics": "topics",
    "fact_conversation_metrics": "fact_conversation_metrics",
    "fact_user_metrics": "fact_user_metrics",
    "dim_conversation_participants": "membership",
    "dim_topics": "topics",
}


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _column_row(column: T.StructField) -> str:
    comment = str(column.metadata.get("comment", ""))
    nullable = "yes" if column.nullable else "no"
    return f"| `{column.name}` | `{_cell(column.dataType.simpleString())}` | {nullable} | {_cell(comment)} |"


def table_section(spec: TableSpec) -> str:
    lines = [f"## `{spec.name}`", "", spec.description[:1].upper() + spec.description[1:] + ".", ""]
    if spec.name in METRICS_SECTIONS:
        lines += [f"How its values are computed: [metrics.md](metrics.md#{METRICS_SECTIONS[spec.name]}).", ""]
    if spec.partition_by:
        lines.append("Partitioned by " + ", ".join(f"`{c}`" for c in spec.partition_by) + ".")
    if spec.partition_by:
        lines.append("")
    lines += [f"- CHECK `{name}`: `{expression}`" for name, expression in sorted(spec.constraints.items())]
    if spec.constraints:
        lines.append("")
    lines += ["| column | type | nullable | meaning |", "|---|---|---|---|"]
    lines += [_column_row(column) for column in spec.schema.fields]
    return "\n".join(lines) + "\n"


def tables_page(specs: tuple[TableSpec, ...] = ALL_TABLES) -> str:
    """The whole page, as `--write` writes it."""
    index = ["| table | holds |", "|---|---|"]
    index += [f"| [`{s.name}`](#{s.name}) | {_cell(s.description)} |" for s in specs]
    return "\n".join([INTRO, *index, "", *(table_section(s) for s in specs)]).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.docs", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help=f"rewrite {TABLES_PAGE.name}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {TABLES_PAGE.name} is stale")
    args = parser.parse_args(argv)
    page = tables_page()
    if args.write:
        TABLES_PAGE.parent.mkdir(parents=True, exist_ok=True)
        TABLES_PAGE.write_text(page, encoding="utf-8")
        print(f"wrote {TABLES_PAGE}")
        return 0
    current = TABLES_PAGE.read_text(encoding="utf-8") if TABLES_PAGE.exists() else ""
    if current != page:
        print(f"{TABLES_PAGE} is out of date with schemas/tables.py: run `{WRITE_COMMAND}`", file=sys.stderr)
        return 1
    print(f"{TABLES_PAGE} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
