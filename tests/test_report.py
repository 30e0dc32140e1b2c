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
from jobs.transforms import static_dimensions
from schemas.tables import TABLES_BY_NAME, TableSpec
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
            device: int | None) -> dict[str, Any]:
    server_ts = at(server)
    assert server_ts is not None
    return {
        "message_event_id": mid, "conversation_key": conv, "sender_user_key": sender,
        "date_key": int(server_ts.strftime("%Y%m%d")),
        "time_key": server_ts.hour * 100 + server_ts.minute, "device_key": device,
        "server_received_timestamp": server_ts, "message_timestamp": at(client),
        "media_count": 1, "message_id": f"m{mid}",
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
        message(1, 10, 1, "2026-11-01T10:00:01", "2026-11-01T10:00:00", PHONE),
        message(2, 10, 2, "2026-11-01T10:05:02", "2026-11-01T10:05:00", PHONE),
        message(3, 20, 1, "2026-11-01T10:59:03", "2026-11-01T10:59:00", PHONE),
        message(4, 20, 1, "2026-11-01T11:00:00", None, PHONE),  # counted, no latency
        message(5, 20, 2, "2026-11-01T11:30:00", "2026-11-01T11:30:00.500", WEB),  # skewed
        message(6, 20, 2, "2026-11-01T11:31:00", "2026-11-01T11:30:59", None),  # no device
        message(7, 10, 1, "2026-11-02T09:00:00", "2026-11-02T09:00:00", WEB),
    ])
    write(spark, config, "dim_topics", [
        {"topic_key": 1, "topic_name": "music", "topic_category": "leisure"},
        {"topic_key": 2, "topic_name": "travel", "topic_category": "leisure"},
    ])
    write(spark, config, "fact_message_derived_topics", [
        {"topic_assignment_id": mid * 10 + topic, "message_event_id": mid, "topic_key": topic,
         "topic_confidence": confidence, "date_key": 20261101, "sample_rate": 0.25}
        for mid, topic, confidence in ((1, 1, 0.9), (3, 1, 0.7), (2, 2, 0.8), (5, 2, 0.69))
    ])
    write(spark, config, "fact_user_metrics", [
        {"user_metric_id": user * 100 + day, "user_key": user, "date_key": 20261100 + day,
         "messages_sent": sent, "messaging_pattern_json": "{}"}
        for user, day, sent in ((1, 1, 3), (2, 1, 3), (3, 1, 0), (1, 2, 1), (4, 5, 1))
    ])
    return config


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
    assert_approx_df_equality(result, expected, 1e-9, ignore_nullable=True)


# Joins between two facts or two derived sets, not with a dimension, may shuffle.
SHUFFLED_JOINS_ALLOWED = {"top_topics": 1, "top_topics_weighted": 1, "wau_mau_stickiness": 1}


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
        [("music", "leisure", 2, 2, 2), ("travel", "leisure", 1, 1, 1)],
        "topic_name string, topic_category string, message_count long, unique_messages long, "
        "unique_conversations long",
    )
    assert_df_equality(result, expected, ignore_nullable=True)


def test_stickiness_and_hourly_volume(spark: SparkSession, warehouse: Config) -> None:
    frames = reports(spark, warehouse, NOV_2, 2)
    stickiness = spark.createDataFrame(
        [(NOV_1, 2, 2, 2, 1.0, 1.0), (NOV_2, 1, 2, 2, 0.5, 1.0)],
        "date date, dau long, wau long, mau long, dau_mau_stickiness double, wau_mau_ratio double",
    )
    assert_df_equality(frames["wau_mau_stickiness"], stickiness, ignore_nullable=True)
    volume = spark.createDataFrame(
        [(NOV_1, 10, 3, 2, 2, 3), (NOV_1, 11, 3, 2, 1, 3), (NOV_2, 9, 1, 1, 1, 1)],
        "date date, hour_utc int, message_count long, active_senders long, "
        "active_conversations long, media_items long",
    )
    assert_df_equality(frames["hourly_volume"], volume, ignore_nullable=True)


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
