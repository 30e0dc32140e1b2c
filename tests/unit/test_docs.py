"""docs/tables.md is what `python -m schemas.docs --write` makes of schemas/tables.py."""

from __future__ import annotations

import re
from pathlib import Path

from pyspark.sql import types as T

from schemas import docs
from schemas.tables import ALL_TABLES, TableSpec

# The README says what chatlake is, how to start and where to read on; prose goes to docs/.
README_MAX_BYTES = 8_192


def test_every_table_has_a_description() -> None:
    missing = [spec.name for spec in ALL_TABLES if not spec.description.strip()]
    assert missing == [], f"TableSpecs without description=: {missing}"


def test_the_tables_page_is_up_to_date() -> None:
    assert docs.TABLES_PAGE.exists(), f"{docs.TABLES_PAGE} is missing: run `{docs.WRITE_COMMAND}`"
    stale = docs.TABLES_PAGE.read_text(encoding="utf-8") != docs.tables_page()
    assert not stale, f"{docs.TABLES_PAGE} is out of date with schemas/tables.py: run `{docs.WRITE_COMMAND}`"


def test_check_fails_on_a_stale_page_and_passes_on_a_fresh_one(tmp_path, monkeypatch, capsys) -> None:
    page = tmp_path / "tables.md"
    monkeypatch.setattr(docs, "TABLES_PAGE", page)
    assert docs.main(["--check"]) == 1  # no page at all
    assert docs.main(["--write"]) == 0
    assert docs.main(["--check"]) == 0
    page.write_text(page.read_text(encoding="utf-8").replace("`fact_user_metrics`", "`fact_users`"), encoding="utf-8")
    assert docs.main(["--check"]) == 1
    assert "run `python -m schemas.docs --write`" in capsys.readouterr().err


def test_a_table_section_lists_description_partitioning_constraints_and_every_column() -> None:
    spec = TableSpec(
        "demo_table",
        T.StructType(
            [
                T.StructField("id", T.LongType(), False, {"comment": "the key"}),
                T.StructField("date_key", T.IntegerType(), False),
                T.StructField("tags", T.ArrayType(T.StringType()), True, {"comment": "a | b"}),
            ]
        ),
        partition_by=("date_key",),
        constraints={"positive": "id > 0"},
        description="one row per thing",
    )
    assert docs.table_section(spec) == (
        "## `demo_table`\n"
        "\n"
        "One row per thing.\n"
        "\n"
        "Partitioned by `date_key`.\n"
        "\n"
        "- CHECK `positive`: `id > 0`\n"
        "\n"
        "| column | type | nullable | meaning |\n"
        "|---|---|---|---|\n"
        "| `id` | `bigint` | no | the key |\n"
        "| `date_key` | `int` | no |  |\n"
        "| `tags` | `array<string>` | yes | a \\| b |\n"
    )


def test_the_page_names_every_table_and_column() -> None:
    page = docs.tables_page()
    for spec in ALL_TABLES:
        assert f"## `{spec.name}`" in page
        section = page.split(f"## `{spec.name}`", 1)[1].split("\n## ", 1)[0]
        for column in spec.column_names:
            assert f"| `{column}` |" in section, (spec.name, column)


REPO = Path(__file__).resolve().parents[2]
PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of the page's headings (outside code fences)."""
    anchors, in_fence = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return anchors


def test_every_link_of_the_readme_and_the_docs_leads_to_a_file_and_heading_that_exist() -> None:
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert broken == []


def test_the_readme_stays_a_front_door() -> None:
    assert len((REPO / "README.md").read_bytes()) <= README_MAX_BYTES
