"""`retention --as-of D`: drop what is older than D minus each entry's `retention_days`.

Fact partitions go with a partition-aligned DELETE (Delta drops whole files, no rewrite);
landing folders are removed whole; quarantine rows by their landing date. Dimensions are
kept, so no remaining fact points at a missing dimension row. An entry of 0 or absent keeps
everything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import SparkSession

from jobs import filesystem, storage
from jobs.config import Config
from jobs.landing import landing_days
from jobs.progress import step

# Ledgers that follow a fact table's retention: they describe the same events.
FOLLOWERS = {
    "fact_message_events": ("message_status_events", "ingested_events"),
}


def cutoff(as_of: dt.date, days: int) -> dt.date:
    """The first date that is kept."""
    return as_of - dt.timedelta(days=days)


def run(spark: SparkSession, config: Config, args: Any) -> None:
    run_as_of(spark, config, args.as_of)


def run_as_of(spark: SparkSession, config: Config, as_of: dt.date) -> dict[str, int]:
    removed: dict[str, int] = {}
    with step("retention") as report:
        for entry, days in sorted(config.retention_days.items()):
            if days <= 0:
                continue
            keep_from = cutoff(as_of, days)
            if entry == "landing":
                removed[entry] = _drop_landing_days(spark, config, keep_from)
            elif entry == "quarantine":
                removed[entry] = _delete(spark, config, "quarantine", f"landing_date < DATE'{keep_from.isoformat()}'")
            else:
                key = int(keep_from.strftime("%Y%m%d"))
                for table in (entry, *FOLLOWERS.get(entry, ())):
                    removed[table] = _delete(spark, config, table, f"date_key < {key}")
        report.details = {k: v for k, v in removed.items() if v}
    return removed


def _delete(spark: SparkSession, config: Config, name: str, predicate: str) -> int:
    return storage.delete_where(spark, config, name, predicate)


def _drop_landing_days(spark: SparkSession, config: Config, keep_from: dt.date) -> int:
    old_days = [day for day in landing_days(spark, config) if day < keep_from]
    for day in old_days:
        filesystem.delete(spark, config.landing_day_path(day.isoformat()))
    return len(old_days)
