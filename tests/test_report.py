"""The design's reports over a tiny warehouse: DAU, topics, delivery, stickiness, volume."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from jobs import report, storage
from jobs.config import Config
from jobs.transforms import activity, static_dimensions
from schemas.tables import TABLES_BY_NAME, TableSpec, date_key
from tests.conftest import make_config

UTC = dt.UTC
NOV_1, NOV_2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
PHONE, WEB = 7, 8
_DEFAULTS: dict[type, Any] = {
    T.LongType: 0, T.IntegerType: 1, T.StringType: "", T.BooleanType: False, T.DoubleType: 0.0,
    T.TimestampType: dt.datetime(2026, 1, 1, tzinfo=UTC),
}


def at(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


def write(spark: SparkSession, config: Config, name: str, rows: list[dict[str, Any]]) -> None:
    spec: TableSpec = TABLES_BY_NAME[name]

    def value(field: T.StructField, row: dict[str, Any]) -> Any:
        if field.name in row:
            return row[field.name]
        return None if field.nullable else _DEFAULTS[type(field.dataType)]

    frame = spark.createDataFrame(
        [tuple(value(f, row) for f in spec.schema.fields) for row in rows], spec.schema
    )
    storage.append(frame, config, name)


def message(mid: int, conv: int, sender: int, server: str, client: str | None,
            device: int | None, language: str | None = None) -> dict[str, Any]:
    server_ts = at(server)
    assert server_ts is not None
    return {
        "message_event_id": mid, "conversation_key": conv, "sender_user_key": sender,
        "date_key": date_key(server_ts),
        "time_key": server_ts.hour * 100 + server_ts.minute, "device_key": device,
        "server_received_timestamp": server_ts, "message_timestamp": at(client),
        "media_count": 1, "message_id": f"m{mid}", "language_code": language,
    }


@pytest.fixture(scope="module")
def warehouse(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Config:
    config = make_config(tmp_path_factory.mktemp("report"))
    for name in report.REPORT_TABLES:
        storage.ensure_table(spark, config, TABLES_BY_NAME[name])
    storage.append(static_dimensions.dates(spark, "2026-09-01", "2026-11-30"), config, "dim_dates")
    storage.append(static_dimensions.times(spark), config, "dim_time")
    write(spark, config, "dim_devices", [
        {"device_key": PHONE, "device_id": "d1", "device_type": "phone", "network_type": "wifi"},
        {"device_key": WEB, "device_id": "d2", "device_type": "web", "network_type": "ethernet"},
    ])
    write(spark, config, "fact_message_events", [
        message(1, 10, 1, "2026-11-01T10:00:01", "2026-11-01T10:00:00", PHONE, "en"),
        message(2, 10, 2, "2026-11-01T10:05:02", "2026-11-01T10:05:00", PHONE, "es"),
        message(3, 20, 1, "2026-11-01T10:59:03", "2026-11-01T10:59:00", PHONE, "en"),
        message(4, 20, 1, "2026-11-01T11:00:00", None, PHONE),  # counted, no latency; no text
        message(5, 20, 2, "2026-11-01T11:30:00", "2026-11-01T11:30:00.500", WEB, "und"),  # skewed
        message(6, 20, 2, "2026-11-01T11:31:00", "2026-11-01T11:30:59", None, "en"),  # no device
        message(7, 10, 1, "2026-11-02T09:00:00", "2026-11-02T09:00:00", WEB, "de"),
    ])
    # The hourly table as aggregate writes it from these messages (no conversation type known).
    no_types = spark.createDataFrame([], "conversation_key long, conversation_type string")
    storage.append(
        activity.hourly_activity([20261101, 20261102], storage.read(spark, config, "fact_message_events"),
                                 no_types, storage.read(spark, config, "dim_devices")),
        config, "fact_hourly_activity",
    )
    write(spark, config, "fact_activity_rollups", [
        {"grain": grain, "period_start": dt.date.fromisoformat(start), "conversation_type": kind,
         "messages": messages, "active_senders": senders, "avg_messages_per_sender": messages / senders,
         "days_with_messages": 1}
        for grain, start, kind, messages, senders in (
            ("week", "2026-10-26", "all", 6, 2), ("week", "2026-10-26", "direct", 5, 1),
            ("week", "2026-11-02", "all", 1, 1), ("month", "2026-10-01", "all", 9, 3),
            ("month", "2026-11-01", "all", 7, 2),
        )
    ])
    write(spark, config, "dim_topics", [
        {"topic_key": 1, "topic_name": "music", "topic_category": "leisure"},
        {"topic_key": 2, "topic_name": "travel", "topic_category": "leisure"},
    ])
    write(spark, config, "fact_message_derived_topics", [
        {"topic_assignment_id": mid * 10 + topic, "message_event_id": mid, "topic_key": topic,
         "topic_confidence": confidence, "date_key": 20261101, "sample_rate": 0.25, "language_code": language}
        for mid, topic, confidence, language in (
            (1, 1, 0.9, "en"), (3, 1, 0.7, "en"), (2, 2, 0.8, "es"), (5, 2, 0.69, "und"))
    ])
    write(spark, config, "fact_user_metrics", [
        {"user_metric_id": user * 100 + day, "user_key": user, "date_key": 20261100 + day,
         "messages_sent": sent, "messaging_pattern_json": "{}"}
        for user, day, sent in ((1, 1, 3), (2, 1, 3), (3, 1, 0), (1, 2, 1), (4, 5, 1))
    ])
    return config


def same_nullability(expected: DataFrame, actual: DataFrame) -> DataFrame:
    """`expected` with the nullability of `actual`'s columns (assert_approx_df_equality compares it)."""
    return expected.sparkSession.createDataFrame(expected.rdd, actual.schema)


def reports(spark: SparkSession, config: Config, end: dt.date, days: int) -> dict[str, DataFrame]:
    return report.reports(spark, config, end, days)


def test_daily_active_messengers(spark: SparkSession, warehouse: Config) -> None:
    result = reports(spark, warehouse, NOV_2, 2)["daily_active_messengers"]
    expected = spark.createDataFrame(
        [(NOV_1, 2), (NOV_2, 1)], "date date, daily_active_messengers long"
    )
    assert_df_equality(result, expected, ignore_nullable=True)


def test_delivery_performance(spark: SparkSession, warehouse: Config) -> None:
    result = reports(spark, warehouse, NOV_1, 1)["delivery_performance"]
    expected = spark.createDataFrame(
        [
            # latencies 1, 2, 3 s: p95 interpolates 2 + 0.9 * (3 - 2)
            (NOV_1, "phone", "wifi", 4, 2.0, 2.9),
            (NOV_1, "web", "ethernet", 1, -0.5, -0.5),
        ],
        "date date, device_type string, network_type string, message_count long, "
        "avg_delivery_latency double, p95_latency double",
    )
    assert_approx_df_equality(result, same_nullability(expected, result), 1e-9, ignore_nullable=True)


# Joins between two facts or two derived sets, not with a dimension, may shuffle.
SHUFFLED_JOINS_ALLOWED = {
    "top_topics": 1, "top_topics_weighted": 1, "wau_mau_stickiness": 1, "delivery_performance": 1,
}


def test_dimension_joins_are_broadcast(spark: SparkSession, warehouse: Config) -> None:
    """Every report joins its small dimensions by broadcast, even with automatic broadcasting
    switched off: the hints decide, not the size estimate."""
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    try:
        for name, frame in reports(spark, warehouse, NOV_2, 2).items():
            plan = frame._jdf.queryExecution().executedPlan().toString()
            assert plan.count("BroadcastHashJoin") >= 1, (name, plan)
            assert plan.count("SortMergeJoin") <= SHUFFLED_JOINS_ALLOWED.get(name, 0), (name, plan)
    finally:
        spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")


def test_top_topics(spark: SparkSession, warehouse: Config) -> None:
    result = reports(spark, warehouse, NOV_2, 2)["top_topics"]
    expected = spark.createDataFrame(
        [("music", "leisure", 2, 2, 2, 2.0), ("travel", "leisure", 1, 1, 1, 1.0)],
        "topic_name string, topic_category string, message_count long, unique_messages long, "
        "unique_conversations long, history_weighted_messages double",
    )
    assert_df_equality(result, expected, ignore_nullable=True)


def test_stickiness_and_hourly_volume(spark: SparkSession, warehouse: Config) -> None:
    frames = reports(spark, warehouse, NOV_2, 2)
    stickiness = spark.createDataFrame(
        [(NOV_1, 2, 2, 2, 1.0, 1.0), (NOV_2, 1, 2, 2, 0.5, 1.0)],
        "date date, dau long, wau long, mau long, dau_mau_stickiness double, wau_mau_ratio double",
    )
    assert_df_equality(frames["wau_mau_stickiness"], stickiness, ignore_nullable=True)
    # Latencies 1, 2, 3 s at 10:00; -0.5 and 1 s at 11:00 (message 4 has no client time); 0 s.
    volume = spark.createDataFrame(
        [(NOV_1, 10, 3, 0, 0, 0, 2.0), (NOV_1, 11, 3, 0, 0, 0, 0.25), (NOV_2, 9, 1, 0, 0, 0, 0.0)],
        "date date, hour_utc int, message_count long, delivered_messages long, read_messages long, "
        "failed_messages long, avg_latency_seconds double",
    )
    actual = frames["hourly_volume"]
    assert_approx_df_equality(actual, same_nullability(volume, actual), 1e-9, ignore_nullable=True)


def test_delivery_per_hour(spark: SparkSession, warehouse: Config) -> None:
    result = reports(spark, warehouse, NOV_1, 1)["delivery_hourly"]
    expected = spark.createDataFrame(
        [
            (NOV_1, 10, "unknown", "phone", "wifi", 3, 2.0, 2.9, 0.0, 0.0, 0.0),
            (NOV_1, 11, "unknown", "phone", "wifi", 1, None, None, 0.0, 0.0, 0.0),
            (NOV_1, 11, "unknown", "web", "ethernet", 1, -0.5, -0.5, 0.0, 0.0, 0.0),
        ],
        "date date, hour_utc int, conversation_type string, device_type string, network_type string, "
        "message_count long, avg_delivery_latency double, p95_latency double, delivered_share double, "
        "read_share double, failed_share double",
    )
    assert_approx_df_equality(result, same_nullability(expected, result), 1e-9, ignore_nullable=True)


def test_activity_trends_show_the_periods_that_overlap_the_range(spark: SparkSession, warehouse: Config) -> None:
    result = reports(spark, warehouse, NOV_2, 2)["activity_trends"]
    expected = spark.createDataFrame(
        [
            ("week", dt.date(2026, 10, 26), 44, 6, 2, 3.0, 0, 0, 1),
            ("week", NOV_2, 45, 1, 1, 1.0, 0, 0, 1),
            ("month", NOV_1, 11, 7, 2, 3.5, 0, 0, 1),
        ],
        "grain string, period_start date, week_or_month int, messages long, active_senders long, "
        "messages_per_sender double, active_conversations long, new_conversations long, "
        "days_with_messages int",
    )
    assert_df_equality(result, same_nullability(expected, result))


def test_messages_by_language(spark: SparkSession, warehouse: Config) -> None:
    result = reports(spark, warehouse, NOV_2, 2)["messages_by_language"]
    expected = spark.createDataFrame(
        [("en", 3, 2, 42.86, 3.0), ("(no text)", 1, 1, 14.29, 1.0), ("de", 1, 1, 14.29, 1.0),
         ("es", 1, 1, 14.29, 1.0), ("und", 1, 1, 14.29, 1.0)],
        "language_code string, messages long, senders long, percent_of_messages double, "
        "history_weighted_messages double",
    )
    assert_approx_df_equality(result, same_nullability(expected, result), 1e-9, ignore_nullable=True)


def test_top_topics_by_language_counts_confident_assignments_in_their_language(
    spark: SparkSession, warehouse: Config
) -> None:
    result = reports(spark, warehouse, NOV_2, 2)["top_topics_by_language"]
    expected = spark.createDataFrame(
        [("en", 1, "music", 2, 2.0), ("es", 1, "travel", 1, 1.0)],
        "language_code string, topic_rank int, topic_name string, message_count long, "
        "history_weighted_messages double",
    )
    assert_approx_df_equality(result, same_nullability(expected, result), 1e-9, ignore_nullable=True)


def test_run_prints_every_report(
    spark: SparkSession, warehouse: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    class Args:
        date = NOV_2
        days = 2

    report.run(spark, warehouse, Args())
    printed = capsys.readouterr().out
    for name in report.REPORTS:
        assert f"== {name}  2026-11-01 .. 2026-11-02" in printed
    assert "|2026-11-01|2|" in printed.replace(" ", "")  # the DAU table's first row
