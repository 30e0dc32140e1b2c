"""docs/tables.md is what `python -m schemas.docs --write` makes of schemas/tables.py."""

from __future__ import annotations

from pyspark.sql import types as T

from schemas import docs
from schemas.tables import ALL_TABLES, TableSpec


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
