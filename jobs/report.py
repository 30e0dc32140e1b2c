"""`report --date D --days N`: the design's analytical reports over the N days ending on D.

Each report is a parameterized SQL file in jobs/sql/ run against temp views named as the
tables; `reports` returns them as DataFrames for tests and notebooks, `run` prints them.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from jobs import storage
from jobs.config import Config

REPORTS: tuple[str, ...] = (
    "daily_active_messengers",
    "top_topics",
    "top_topics_weighted",
    "delivery_performance",
    "wau_mau_stickiness",
    "hourly_volume",
    "delivery_hourly",
    "activity_trends",
)
REPORT_TABLES: tuple[str, ...] = (
    "fact_message_events",
    "fact_message_derived_topics",
    "fact_user_metrics",
    "fact_conversation_metrics",
    "fact_hourly_activity",
    "fact_activity_rollups",
    "dim_dates",
    "dim_time",
    "dim_devices",
    "dim_topics",
    "dim_users",
    "dim_conversations",
)
MAX_PRINTED_ROWS = 1_000
# Reports whose counts over dates older than history_sampling.full_days are estimates.
HISTORY_WEIGHTED = {
    "top_topics": "history_weighted_messages weights each row by 1/history_sample_rate",
    "top_topics_weighted": "estimates weight each row by 1/(sample_rate * history_sample_rate)",
}
PARAMETER = re.compile(r":(start_date|end_date)\b")


def report_sql(name: str) -> str:
    if name not in REPORTS:
        raise ValueError(f"unknown report '{name}' (one of {', '.join(REPORTS)})")
    return resources.files("jobs").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def bind_dates(sql: str, start: dt.date, end: dt.date) -> str:
    """The SQL with :start_date / :end_date as DATE literals.

    Passing Python dates as spark.sql(args=...) failed with UNBOUND_SQL_PARAMETER here; the
    values are `date` objects, so their ISO form is a safe literal."""
    values = {"start_date": start, "end_date": end}
    return PARAMETER.sub(lambda match: f"DATE'{values[match.group(1)].isoformat()}'", sql)


def register_views(spark: SparkSession, config: Config) -> None:
    """Temp views named as the tables, so the SQL reads like the design's queries."""
    for name in REPORT_TABLES:
        storage.read(spark, config, name).createOrReplaceTempView(name)


def date_range(end_date: dt.date, days: int) -> tuple[dt.date, dt.date]:
    if days < 1:
        raise ValueError(f"days must be 1 or more, got {days}")
    return end_date - dt.timedelta(days=days - 1), end_date


def reports(
    spark: SparkSession, config: Config, end_date: dt.date, days: int = 1
) -> dict[str, DataFrame]:
    """Every report over the `days` dates ending on `end_date`, by name (lazy frames)."""
    register_views(spark, config)
    start, end = date_range(end_date, days)
    return {name: spark.sql(bind_dates(report_sql(name), start, end)) for name in REPORTS}


def run(spark: SparkSession, config: Config, args: Any) -> None:
    start, end = date_range(args.date, args.days)
    for name, frame in reports(spark, config, args.date, args.days).items():
        print(f"\n== {name}  {start} .. {end}")
        if config.history_sampling is not None and name in HISTORY_WEIGHTED:
            oldest_full = end - dt.timedelta(days=config.history_sampling.full_days)
            if start < oldest_full:
                print(f"   dates before {oldest_full} are a {config.history_sampling.conversation_rate:g} sample of"
                      f" conversations: {HISTORY_WEIGHTED[name]}")
        frame.show(n=MAX_PRINTED_ROWS, truncate=False)
