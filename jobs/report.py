"""`report --date D --days N`: the design's analytical reports over the N days ending on D.

Each report is a parameterized SQL file in jobs/sql/ run against temp views named as the
tables; `reports` returns them as DataFrames for tests and notebooks, `run` prints them.
`report experiments [--experiment E]` and `report versions` (analytics.md) print one report
each: `versions` is SQL alone; `experiments` sums fact_experiment_daily in SQL and adds the
intervals and tests in Python (jobs/statistics.py), one row per experiment and variant.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import types as T

from jobs import statistics, storage
from jobs.config import Config
from jobs.transforms.experiments import CONTROL_VARIANT

REPORTS: tuple[str, ...] = (
    "daily_active_messengers",
    "top_topics",
    "top_topics_weighted",
    "delivery_performance",
    "wau_mau_stickiness",
    "hourly_volume",
    "delivery_hourly",
    "activity_trends",
    "messages_by_language",
    "top_topics_by_language",
)
# Named reports run one at a time (`report experiments`, `report versions`).
EXPERIMENTS, VERSIONS, ACCESS = "experiments", "versions", "access"
NAMED_REPORTS: tuple[str, ...] = (EXPERIMENTS, VERSIONS, ACCESS)
EXPERIMENT_TOTALS = "experiment_totals"
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
    "dim_message_status",
    "dim_experiment_assignments",
    "fact_experiment_daily",
)
MAX_PRINTED_ROWS = 1_000
# Reports whose counts over dates older than history_sampling.full_days are estimates.
HISTORY_WEIGHTED = {
    "top_topics": "history_weighted_messages weights each row by 1/history_sample_rate",
    "top_topics_weighted": "estimates weight each row by 1/(sample_rate * history_sample_rate)",
    "messages_by_language": "history_weighted_messages weights each row by 1/history_sample_rate",
    "top_topics_by_language": "history_weighted_messages weights each row by 1/history_sample_rate",
}
PARAMETER = re.compile(r":(start_date|end_date)\b")


def report_sql(name: str) -> str:
    if name not in (*REPORTS, VERSIONS, EXPERIMENT_TOTALS):
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


def _sql_report(spark: SparkSession, config: Config, name: str, end_date: dt.date, days: int) -> DataFrame:
    register_views(spark, config)
    start, end = date_range(end_date, days)
    return spark.sql(bind_dates(report_sql(name), start, end))


def versions(spark: SparkSession, config: Config, end_date: dt.date, days: int = 1) -> DataFrame:
    """Per app version, newest first: messages, senders, delivery latency, failure and read rates."""
    return _sql_report(spark, config, VERSIONS, end_date, days)


EXPERIMENT_REPORT_SCHEMA = T.StructType(
    [T.StructField("experiment", T.StringType()), T.StructField("variant", T.StringType()),
     T.StructField("conversations", T.LongType()), T.StructField("conversation_days", T.LongType()),
     T.StructField("messages", T.LongType())]
    + [T.StructField(f"{metric}{suffix}", T.DoubleType())
       for metric in ("messages_per_conversation", "read_rate", "mean_response_seconds")
       for suffix in ("", "_ci_low", "_ci_high", "_diff", "_p_value")]
    + [T.StructField("response_pairs", T.LongType())]
)


def _difference(value: float | None, control: float | None) -> float | None:
    return None if value is None or control is None else value - control


def experiment_rows(totals: list[Row]) -> list[tuple[Any, ...]]:
    """The report's rows from the per-variant sums (experiment_totals.sql): each metric, its
    95% interval, and its difference to the experiment's `control` with the test's p-value
    (none for control itself or an experiment without a control). Control first, then the
    other variants by name."""
    rows = []
    by_experiment: dict[str, list[Row]] = {}
    for total in totals:
        by_experiment.setdefault(total["experiment"], []).append(total)
    for experiment in sorted(by_experiment):
        variants = sorted(by_experiment[experiment], key=lambda r: (r["variant"] != CONTROL_VARIANT, r["variant"]))
        control = next((r for r in variants if r["variant"] == CONTROL_VARIANT), None)
        for total in variants:
            rows.append(_experiment_row(total, None if total is control else control))
    return rows


def _samples(total: Row) -> tuple[statistics.Sample, statistics.ClusteredSample]:
    """Messages per conversation-day, and response times clustered by conversation-day: the
    conversation-day is the unit of both (a conversation is what an experiment assigns)."""
    per_conversation = statistics.Sample(
        int(total["conversation_days"]), int(total["messages"]), int(total["sum_squared_conversation_messages"])
    )
    responses = statistics.ClusteredSample(
        int(total["conversation_days"]), int(total["response_pairs"]), total["sum_response_seconds"],
        int(total["sum_squared_conversation_pairs"]), total["sum_conversation_pairs_response_seconds"],
        total["sum_squared_conversation_response_seconds"],
    )
    return per_conversation, responses


def _experiment_row(total: Row, control: Row | None) -> tuple[Any, ...]:
    per_conversation, responses = _samples(total)
    reads, messages = int(total["read_messages"]), int(total["messages"])
    read_rate = reads / messages if messages else None
    figures: list[tuple[float | None, ...]] = []
    samples: tuple[statistics.Sample | statistics.ClusteredSample, ...] = (per_conversation, responses)
    for index, sample in enumerate(samples):
        low, high = statistics.mean_interval(sample)
        diff = p_value = None
        if control is not None:
            control_sample = _samples(control)[index]
            diff = _difference(sample.mean, control_sample.mean)
            p_value = statistics.welch_p_value(sample, control_sample)
        figures.append((sample.mean, low, high, diff, p_value))
    low, high = statistics.rate_interval(reads, messages)
    diff = p_value = None
    if control is not None:
        control_reads, control_messages = int(control["read_messages"]), int(control["messages"])
        control_rate = control_reads / control_messages if control_messages else None
        diff = _difference(read_rate, control_rate)
        p_value = statistics.two_proportion_p_value(reads, messages, control_reads, control_messages)
    per_conversation_figures, response_figures = figures
    return (
        total["experiment"], total["variant"], int(total["conversations"]), int(total["conversation_days"]),
        messages, *per_conversation_figures, read_rate, low, high, diff, p_value, *response_figures,
        int(total["response_pairs"]),
    )


def experiments(
    spark: SparkSession, config: Config, end_date: dt.date, days: int = 1, experiment: str | None = None
) -> DataFrame:
    """Per experiment and variant over the days: conversations, messages per active
    conversation(-day), read rate and mean response time, each with a 95% interval and its
    difference to `control` with a p-value (Welch's t-test for means, the two-proportion
    z-test for the read rate)."""
    totals = _sql_report(spark, config, EXPERIMENT_TOTALS, end_date, days)
    if experiment is not None:
        totals = totals.where(totals["experiment"] == experiment)
    return spark.createDataFrame(experiment_rows(totals.collect()), EXPERIMENT_REPORT_SCHEMA)


def run(spark: SparkSession, config: Config, args: Any) -> None:
    start, end = date_range(args.date, args.days)
    name = getattr(args, "name", None)
    if name is not None:
        if name == EXPERIMENTS:
            frame = experiments(spark, config, args.date, args.days, getattr(args, "experiment", None))
        elif name == ACCESS:
            from jobs.access_audit import access_report

            print(f"\n== access on {args.date} (SQL endpoint queries; denied attempts first)")
            access_report(spark, config, args.date).show(n=MAX_PRINTED_ROWS, truncate=False)
            return
        else:
            frame = versions(spark, config, args.date, args.days)
        print(f"\n== {name}  {start} .. {end}")
        frame.show(n=MAX_PRINTED_ROWS, truncate=False)
        return
    for name, frame in reports(spark, config, args.date, args.days).items():
        print(f"\n== {name}  {start} .. {end}")
        if config.history_sampling is not None and name in HISTORY_WEIGHTED:
            oldest_full = end - dt.timedelta(days=config.history_sampling.full_days)
            if start < oldest_full:
                print(f"   dates before {oldest_full} are a {config.history_sampling.conversation_rate:g} sample of"
                      f" conversations: {HISTORY_WEIGHTED[name]}")
        frame.show(n=MAX_PRINTED_ROWS, truncate=False)
