"""Hand-built rows of a table for tests: name the columns a test cares about, the rest get a
neutral value (or null where the column allows it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from schemas.tables import TableSpec

UTC = dt.UTC
NEUTRAL: dict[type, Any] = {
    T.LongType: 0, T.IntegerType: 0, T.StringType: "", T.BooleanType: False, T.DoubleType: 0.0,
    T.TimestampType: dt.datetime(2026, 1, 1, tzinfo=UTC),
}


def at(text: str | None) -> dt.datetime | None:
    """An ISO timestamp as a UTC datetime (None stays None)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


def table_frame(
    spark: SparkSession, spec: TableSpec, rows: list[dict[str, Any]], defaults: dict[type, Any] = NEUTRAL
) -> DataFrame:
    """Rows of a table: given columns as given, other non-null columns a neutral value."""

    def value(field: T.StructField, row: dict[str, Any]) -> Any:
        if field.name in row:
            return row[field.name]
        return None if field.nullable else defaults[type(field.dataType)]

    return spark.createDataFrame([tuple(value(f, row) for f in spec.schema.fields) for row in rows], spec.schema)


# Columns that record when a run happened (and the prevalence, which the contract lets move).
RUN_TIME_COLUMNS = ("processed_timestamp", "topic_prevalence")
# Logs of runs, not results: a crashed or repeated run leaves its own trace there by design.
RUN_LOGS = ("pipeline_runs", "erasure_log")


def table_rows(spark: SparkSession, config: Any) -> dict[str, list[tuple]]:
    """Every result table's rows, sorted, without run-time columns: equal dicts mean equal
    warehouses as far as a user can tell."""
    from jobs import storage
    from schemas.tables import ALL_TABLES

    tables = {}
    for spec in ALL_TABLES:
        if spec.name in RUN_LOGS:
            continue
        frame = storage.read(spark, config, spec.name)
        frame = frame.drop(*[c for c in RUN_TIME_COLUMNS if c in frame.columns])
        tables[spec.name] = sorted(map(tuple, frame.collect()), key=repr)
    return tables
