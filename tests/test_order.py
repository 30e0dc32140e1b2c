"""The order in which landing days are ingested does not change the results: the worked
example's days run newest first, then aggregated, end as the in-order run did (late data in
both directions: a retry or a status can now arrive before the event it follows)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from jobs import aggregate, ingest, storage, topics
from jobs.config import parse_config
from tests.conftest import EXAMPLE_DAYS, EXAMPLES, install_warehouse
from tests.frames import table_rows
from tests.reliability import record

pytestmark = pytest.mark.slow

# Ledgers of which landing day brought what: they record the arrival order by design.
ARRIVAL_LEDGERS = ("ingest_affected_dates", "ingested_events")


def test_days_in_reverse_order_end_as_in_order(
    spark: SparkSession, example_run: dict, warehouse_template: Path, tmp_path: Path
) -> None:
    config = install_warehouse(warehouse_template, parse_config(
        {"landing_path": str(EXAMPLES / "landing"), "warehouse_path": str(tmp_path / "warehouse"),
         "spark": {"shuffle_partitions": 2}},
        environ={},
    ))
    days = [dt.date.fromisoformat(d) for d in reversed(EXAMPLE_DAYS)]
    for day in days:
        ingest.run_day(spark, config, day)
        topics.run_day(spark, config, day)
    for day in days:
        aggregate.run_day(spark, config, day)

    in_order, reversed_order = table_rows(spark, example_run["config"]), table_rows(spark, config)
    differing = [name for name in in_order if name not in ARRIVAL_LEDGERS and reversed_order[name] != in_order[name]]
    assert differing == []
    # The events seen are the same; only the landing day that first brought each one differs.
    seen = {name: {(r["date_key"], r["event_hash"]) for r in storage.read(spark, c, "ingested_events").collect()}
            for name, c in (("in order", example_run["config"]), ("reversed", config))}
    assert seen["in order"] == seen["reversed"]
    record("reruns", [{"step": "the example's 4 days newest first, then aggregate", "tables_compared": len(in_order),
                       "equal": True}], count_as="reruns_compared")
