"""The aggregate step over tiny Delta tables: which dates it recomputes, reruns, pruning."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from jobs import aggregate, storage
from jobs.config import Config
from schemas.tables import (
    ACTIVITY_DAILY_SENDERS,
    DIM_CONVERSATION_PARTICIPANTS,
    DIM_CONVERSATION_TYPES,
    DIM_CONVERSATIONS,
    DIM_DEVICES,
    DIM_TOPICS,
    FACT_ACTIVITY_ROLLUPS,
    FACT_CONVERSATION_METRICS,
    FACT_HOURLY_ACTIVITY,
    FACT_MESSAGE_DERIVED_TOPICS,
    FACT_MESSAGE_EVENTS,
    FACT_USER_METRICS,
    INGEST_AFFECTED_DATES,
    MESSAGE_STATUS_EVENTS,
    TableSpec,
)
from tests import frames
from tests.conftest import make_config
from tests.frames import NEUTRAL, at

SPECS = (
    FACT_MESSAGE_EVENTS, FACT_MESSAGE_DERIVED_TOPICS, FACT_CONVERSATION_METRICS,
    FACT_USER_METRICS, DIM_CONVERSATION_PARTICIPANTS, DIM_CONVERSATIONS, DIM_TOPICS,
    MESSAGE_STATUS_EVENTS, INGEST_AFFECTED_DATES, DIM_DEVICES, DIM_CONVERSATION_TYPES,
    FACT_HOURLY_ACTIVITY, FACT_ACTIVITY_ROLLUPS, ACTIVITY_DAILY_SENDERS,
)
# Delta's CHECK constraints want positive sequences.
STORED_DEFAULTS = {**NEUTRAL, T.IntegerType: 1}
SUMMARY = "conversation_key long, date_key int, total_messages int, avg_response double"
NO_EXPERIMENTS = {"fact_experiment_daily": 0, "dim_experiment_assignments": 0, "malformed_assignment_entries": 0}


def table_frame(spark: SparkSession, spec: TableSpec, rows: list[dict[str, Any]]) -> DataFrame:
    return frames.table_frame(spark, spec, rows, STORED_DEFAULTS)


def message(mid: int, conversation: int, sender: int, seq: int, server: str) -> dict[str, Any]:
    return {
        "message_event_id": mid, "conversation_key": conversation, "sender_user_key": sender,
        "date_key": int(server[:10].replace("-", "")), "message_sequence": seq,
        "server_received_timestamp": at(server), "message_id": f"m{mid}",
    }


@pytest.fixture(scope="module")
def warehouse(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Config:
    """One warehouse for the module (creating tables is slow); tests use disjoint dates."""
    config = make_config(tmp_path_factory.mktemp("aggregate"))
    for spec in SPECS:
        storage.ensure_table(spark, config, spec)
    return config


def write_messages(spark: SparkSession, config: Config, rows: list[dict[str, Any]]) -> None:
    storage.append(table_frame(spark, FACT_MESSAGE_EVENTS, rows), config, "fact_message_events")


def write_affected(spark: SparkSession, config: Config, rows: list[tuple[str, int]]) -> None:
    frame = spark.createDataFrame(
        [(dt.date.fromisoformat(day), key) for day, key in rows], INGEST_AFFECTED_DATES.schema
    )
    storage.append(frame, config, "ingest_affected_dates")


def summary(spark: SparkSession, config: Config) -> DataFrame:
    return storage.read(spark, config, "fact_conversation_metrics").selectExpr(
        "conversation_key", "date_key", "total_messages",
        "avg_response_time_seconds AS avg_response",
    )


def test_recomputes_affected_dates_in_the_late_window_and_reruns_replace(
    spark: SparkSession, warehouse: Config
) -> None:
    config = warehouse
    write_messages(spark, config, [
        message(1, 10, 1, 1, "2026-10-20T10:00:00"),
        message(2, 10, 1, 2, "2026-10-31T23:59:00"),
        message(3, 10, 2, 3, "2026-11-01T00:00:30"),  # answers message 2 across midnight
        message(4, 20, 3, 1, "2026-11-03T08:00:00"),
    ])
    # Landing day Nov 3 touched Oct 20 (too late for late_data_days=3), Nov 1 and Nov 3.
    write_affected(spark, config, [
        ("2026-11-03", 20261020), ("2026-11-03", 20261101), ("2026-11-03", 20261103),
        ("2026-11-02", 20261031),  # another landing day's dates are not this run's
    ])
    stale = spark.createDataFrame(
        [(1, 99, 20261101, 5, 0, 5, 0, 0, None, None, 0.0, "[]", 1),  # no longer has messages
         (2, 10, 20261020, 7, 0, 1, 0, 0, None, None, 0.0, "[]", 7)],  # outside the window
        FACT_CONVERSATION_METRICS.schema,
    )
    storage.append(stale, config, "fact_conversation_metrics")

    counts = aggregate.run_day(spark, config, dt.date(2026, 11, 3))

    # Nov 1 (a Sunday) and Nov 3 lie in weeks from Oct 26 and Nov 2 and both in November; each
    # period has a row for the unknown type and one for all.
    assert counts == {"dates": 2, "fact_conversation_metrics": 2, "fact_user_metrics": 2,
                      "fact_hourly_activity": 2, "activity_daily_senders": 2, "fact_activity_rollups": 6,
                      # No conversation here names an experiment.
                      **NO_EXPERIMENTS}
    expected = spark.createDataFrame(
        [(10, 20261020, 7, None), (10, 20261101, 1, 90.0), (20, 20261103, 1, None)], SUMMARY
    )
    assert_df_equality(summary(spark, config), expected, ignore_row_order=True,
                       ignore_nullable=True)
    users_before = storage.read(spark, config, "fact_user_metrics")
    assert sorted((r["user_key"], r["date_key"]) for r in users_before.collect()) == [
        (2, 20261101), (3, 20261103)
    ]

    first = {name: storage.read(spark, config, name).collect()
             for name in ("fact_conversation_metrics", "fact_user_metrics", "fact_hourly_activity",
                 "activity_daily_senders", "fact_activity_rollups")}
    assert aggregate.run_day(spark, config, dt.date(2026, 11, 3)) == counts
    for name, rows in first.items():
        assert sorted(storage.read(spark, config, name).collect()) == sorted(rows)


def test_no_affected_dates_writes_nothing(spark: SparkSession, warehouse: Config) -> None:
    metrics_table = storage.table_path(warehouse, "fact_conversation_metrics")
    version = DeltaTable.forPath(spark, metrics_table).history(1).first()
    counts = aggregate.run_day(spark, warehouse, dt.date(2026, 12, 24))
    assert counts == {"dates": 0, "fact_conversation_metrics": 0, "fact_user_metrics": 0,
                      "fact_hourly_activity": 0, "activity_daily_senders": 0, "fact_activity_rollups": 0,
                      **NO_EXPERIMENTS}
    assert DeltaTable.forPath(spark, metrics_table).history(1).first() == version


def partitions_read(frame: DataFrame, table: str) -> set[str]:
    return {
        match.group(1)
        for path in frame.inputFiles()
        if f"/{table}/" in path and (match := re.search(r"(date_key=\d+)", path))
    }


def test_one_date_reads_only_its_own_and_the_previous_partitions(
    spark: SparkSession, warehouse: Config
) -> None:
    config = warehouse
    write_messages(spark, config, [
        message(100 + day, 50, day % 2, day, f"2026-09-{day}T12:00:00") for day in (27, 28, 29, 30)
    ] + [message(131, 50, 1, 31, "2026-10-01T12:00:00")])
    statuses = table_frame(spark, MESSAGE_STATUS_EVENTS, [
        {"event_id": f"s{day}", "message_event_id": 100 + day, "user_key": 3, "status": "read",
         "status_timestamp": at(f"2026-09-{day}T13:00:00"), "date_key": 20260900 + day}
        for day in (28, 29, 30)
    ])
    storage.append(statuses, config, "message_status_events")

    metrics = aggregate.daily_metrics(spark, config, [20260930])
    metrics.release()  # look through the caches at the files the plans really read

    for frame in (metrics.conversations, metrics.users):
        assert partitions_read(frame, "fact_message_events") == {
            "date_key=20260929", "date_key=20260930"
        }
    assert partitions_read(metrics.users, "message_status_events") == {"date_key=20260930"}
    plan = metrics.conversations._jdf.queryExecution().executedPlan().toString()
    assert re.search(r"PartitionFilters: \[[^\]]*date_key[^\]]*20260929", plan), plan
