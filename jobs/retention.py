"""`retention --as-of D`: drop what is older than D minus each entry's `retention_days`.

Fact partitions go with a partition-aligned DELETE (Delta drops whole files, no rewrite);
landing folders are removed whole; quarantine rows by their landing date. Dimensions are
kept, so no remaining fact points at a missing dimension row. An entry of 0 or absent keeps
everything.

With `history_sampling`, the partitions of fact_message_events and fact_message_derived_topics
dated before D - full_days are then reduced to the rows of a sample of whole conversations
(transforms/history_sampling.py), each partition in one atomic replace; a partition already at
the rate (or lower) is not touched, so a rerun changes nothing.

Weekly and monthly rollups are not dropped with the facts: once fact partitions of a period are
gone its rollup rows become final (`is_final`), which aggregate never recomputes, and they stay
until `retention_days.fact_activity_rollups` (periods that ended before the cutoff go).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import filesystem, storage
from jobs.config import Config
from jobs.landing import landing_days
from jobs.progress import step
from jobs.transforms import history_sampling
from schemas.tables import FACT_ACTIVITY_ROLLUPS, date_key

# Ledgers that follow a fact table's retention: they describe the same events.
FOLLOWERS = {
    "fact_message_events": ("message_status_events", "ingested_events", "activity_daily_senders"),
}
ROLLUPS = FACT_ACTIVITY_ROLLUPS.name
# The tables history sampling reduces; the metrics are computed before and never from them.
HISTORY_SAMPLED = ("fact_message_events", "fact_message_derived_topics")


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
            elif entry == ROLLUPS:
                removed[entry] = _delete(spark, config, ROLLUPS, _periods_ended_before(keep_from))
            else:
                key = date_key(keep_from)
                for table in (entry, *FOLLOWERS.get(entry, ())):
                    removed[table] = _delete(spark, config, table, f"date_key < {key}")
                if entry == "fact_message_events":
                    removed[f"{ROLLUPS}.made_final"] = _finalize_rollups(spark, config, keep_from)
        if config.history_sampling is not None:
            first_full = cutoff(as_of, config.history_sampling.full_days)
            for table in HISTORY_SAMPLED:
                removed[f"{table}.sampled_out"] = _sample_history(
                    spark, config, table, first_full, config.history_sampling.conversation_rate
                )
        report.details = {k: v for k, v in removed.items() if v}
    return removed


def _periods_ended_before(day: dt.date) -> str:
    """Rollup rows of weeks and months whose last day lies before `day`."""
    literal = f"DATE'{day.isoformat()}'"
    return (
        f"(grain = 'week' AND date_add(period_start, 6) < {literal})"
        f" OR (grain = 'month' AND last_day(period_start) < {literal})"
    )


def _finalize_rollups(spark: SparkSession, config: Config, keep_from: dt.date) -> int:
    """Mark final every rollup period that began before `keep_from`: some of its days have no
    facts any more, so a recomputation would undercount it. Returns the rows newly marked."""
    predicate = f"period_start < DATE'{keep_from.isoformat()}'"
    rows = storage.read(spark, config, ROLLUPS).where(predicate)
    newly_final = rows.where(~F.col("is_final")).count()
    if newly_final:
        storage.replace_where(rows.withColumn("is_final", F.lit(True)), config, ROLLUPS, predicate)
    return newly_final


def _sample_history(spark: SparkSession, config: Config, table: str, first_full: dt.date, rate: float) -> int:
    """Reduce `table`'s partitions dated before `first_full` to the conversation sample at
    `rate`; only partitions holding rows kept at a higher rate are rewritten. Returns rows removed."""
    older = storage.read(spark, config, table).where(F.col("date_key") < date_key(first_full))
    dates = storage.distinct_dates(older.where(history_sampling.needs_sampling(rate)))
    if not dates:
        return 0
    before = storage.read_dates(spark, config, table, dates).count()
    reduced = storage.read_dates(spark, config, table, dates).transform(history_sampling.reduce_to(rate))
    storage.replace_dates(reduced, config, table, dates)
    return before - storage.read_dates(spark, config, table, dates).count()


def _delete(spark: SparkSession, config: Config, name: str, predicate: str) -> int:
    return storage.delete_where(spark, config, name, predicate)


def _drop_landing_days(spark: SparkSession, config: Config, keep_from: dt.date) -> int:
    old_days = [day for day in landing_days(spark, config) if day < keep_from]
    for day in old_days:
        filesystem.delete(spark, config.landing_day_path(day.isoformat()))
    return len(old_days)
