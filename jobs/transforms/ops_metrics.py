"""The stream's minute counters (operations.md "The real-time stream"), as pure transforms.

The stream keeps what it has seen as narrow rows (`ops_stream_events`: ids, type, status,
times; never text or a user); a minute's counters are recomputed from those rows whenever a
micro-batch touches the minute, so that a replayed batch writes the same row again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.transforms import dates, rules
from jobs.transforms import events as ev
from jobs.transforms.activity import P95
from jobs.transforms.response_pairs import seconds_between

MESSAGE_SENT, MESSAGE_STATUS = "message_sent", "message_status"
LEDGER_COLUMNS = (
    "event_id", "event_type", "message_hash", "status", "server_ts", "latency_seconds",
    "minute_start", "date_key", "late",
)


def minute_of(timestamp: Column) -> Column:
    return F.date_trunc("minute", timestamp)


def ledger_rows(watermark: dt.datetime | None) -> Callable[[DataFrame], DataFrame]:
    """Valid events (one row per event_id) -> ops_stream_events rows: the message's hash, the
    send latency, the minute, and whether the event is behind `watermark` (late)."""

    def transform(events: DataFrame) -> DataFrame:
        late = F.lit(False) if watermark is None else F.col("server_ts") < F.lit(watermark)
        is_message = F.col("event_type") == MESSAGE_SENT
        return events.select(
            "event_id",
            "event_type",
            F.when(F.col("message_id").isNotNull(), F.xxhash64("message_id")).alias("message_hash"),
            F.when(F.col("event_type") == MESSAGE_STATUS, F.col("status")).alias("status"),
            "server_ts",
            F.when(is_message, seconds_between(F.col("server_ts"), F.col("client_ts"))).alias("latency_seconds"),
            minute_of(F.col("server_ts")).alias("minute_start"),
            dates.date_key("server_ts").alias("date_key"),
            late.alias("late"),
        )

    return transform


def placed_messages(retries: DataFrame) -> DataFrame:
    """One row per message: its retry with the earliest server_ts (then smallest event_id),
    which places the message in its minute and gives its latency."""
    return ev.first_row(retries.where(F.col("event_type") == MESSAGE_SENT), "message_hash", "server_ts", "event_id")


def minute_metrics(counted: DataFrame, retries: DataFrame) -> DataFrame:
    """ops_minute_metrics rows for every minute of `counted` (the counted events of the minutes
    to compute, all of them); `retries` holds every counted message_sent of the messages sent
    in those minutes, wherever their other retries lie."""
    minutes = counted.select("minute_start", "date_key").distinct()
    placed = placed_messages(retries).join(minutes.select("minute_start"), on="minute_start", how="left_semi")
    messages = placed.groupBy("minute_start").agg(
        F.count(F.lit(1)).alias("messages"),
        F.count("latency_seconds").alias("latency_messages"),
        F.avg("latency_seconds").alias("avg_latency_seconds"),
        # Exact, with linear interpolation as PERCENTILE_CONT: a minute holds few messages.
        F.percentile(F.col("latency_seconds"), F.lit(P95)).alias("p95_latency_seconds"),
    )

    def with_status(status: str) -> Column:
        return F.count_if((F.col("event_type") == MESSAGE_STATUS) & (F.col("status") == status))

    statuses = counted.groupBy("minute_start").agg(
        with_status(rules.STATUS_DELIVERED).alias("status_delivered"),
        with_status(rules.STATUS_READ).alias("status_read"),
        with_status(rules.STATUS_FAILED).alias("status_failed"),
    )
    counts = ("messages", "latency_messages", "status_delivered", "status_read", "status_failed")
    return (
        minutes.join(messages, on="minute_start", how="left")
        .join(statuses, on="minute_start", how="left")
        .withColumns({c: F.coalesce(F.col(c), F.lit(0)).cast("bigint") for c in counts})
    )
