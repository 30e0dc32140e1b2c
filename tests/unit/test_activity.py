"""Hourly activity and weekly / monthly rollups on frames built here: a conversation without a
`conversation_created`, a message without a device, an ISO week that spans two months."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms import activity, keys, rules
from schemas.tables import FACT_ACTIVITY_ROLLUPS, FACT_HOURLY_ACTIVITY, FACT_MESSAGE_EVENTS
from tests.frames import at, table_frame

PHONE, WEB = 7, 8
DIRECT, GROUP = 10, 20
UNTYPED = 30  # no conversation_created ingested
HOURLY_COLUMNS = FACT_HOURLY_ACTIVITY.column_names
PRECISION = 1e-9
ROLLUP_COLUMNS = [c for c in FACT_ACTIVITY_ROLLUPS.column_names if c != "is_final"]


def message(mid: int, conversation: int, sender: int, server: str, client: str | None = None,
            device: int | None = PHONE, delivered: str | None = None, read: str | None = None,
            status: str = rules.STATUS_SENT) -> dict[str, Any]:
    return {
        "message_event_id": mid, "conversation_key": conversation, "sender_user_key": sender,
        "date_key": int(server[:10].replace("-", "")), "server_received_timestamp": at(server),
        "message_timestamp": at(client), "device_key": device, "first_delivered_timestamp": at(delivered),
        "first_read_timestamp": at(read), "message_id": status,  # status name, keyed below
    }


def messages_frame(spark: SparkSession, rows: list[dict[str, Any]]) -> DataFrame:
    """The rows with `message_status_key` the key of the status name each carries in message_id."""
    return table_frame(spark, FACT_MESSAGE_EVENTS, rows).withColumn(
        "message_status_key", keys.surrogate_key(keys.MESSAGE_STATUS, F.col("message_id"))
    )


def typed(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([(DIRECT, "direct"), (GROUP, "group")],
                                 "conversation_key long, conversation_type string")


def devices(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [(PHONE, "phone", "wifi"), (WEB, "web", "ethernet")],
        "device_key long, device_type string, network_type string",
    )


def test_hourly_activity_counts_per_hour_type_and_device(spark: SparkSession) -> None:
    rows = [
        # 10:xx direct on the phone: latencies 1, 2 and 4 s (and one without a client time)
        message(1, DIRECT, 1, "2026-11-01T10:00:01", "2026-11-01T10:00:00",
                delivered="2026-11-01T10:00:02", read="2026-11-01T10:05:00", status=rules.STATUS_READ),
        message(2, DIRECT, 2, "2026-11-01T10:10:02", "2026-11-01T10:10:00",
                delivered="2026-11-01T10:10:03", status=rules.STATUS_DELIVERED),
        message(3, DIRECT, 1, "2026-11-01T10:59:59", "2026-11-01T10:59:55", status=rules.STATUS_FAILED),
        message(4, DIRECT, 1, "2026-11-01T10:30:00"),
        # the same hour without a device, and in a conversation of unknown type on the web
        message(5, DIRECT, 2, "2026-11-01T10:20:00", "2026-11-01T10:20:00.500", device=None),
        message(6, UNTYPED, 3, "2026-11-01T23:59:59.999", device=WEB),
        # another date, not asked for
        message(7, GROUP, 1, "2026-11-02T00:00:00", device=WEB),
    ]
    actual = activity.hourly_activity(
        [20261101], messages_frame(spark, rows), typed(spark), devices(spark)
    ).select(*HOURLY_COLUMNS)
    # p95 of (1, 2, 4) by linear interpolation: rank 0.95 * 2 = 1.9, so 2 + 0.9 * (4 - 2) = 3.8
    expected = spark.createDataFrame(
        [
            (20261101, 10, "direct", "phone", "wifi", 4, 2, 3, 7 / 3, 3.8, 2, 1, 1),
            (20261101, 10, "direct", "none", "none", 1, 1, 1, -0.5, -0.5, 0, 0, 0),
            (20261101, 23, "unknown", "web", "ethernet", 1, 1, 0, None, None, 0, 0, 0),
        ],
        actual.schema,
    )
    assert_approx_df_equality(actual, expected, PRECISION, ignore_row_order=True,
                       ignore_nullable=True)


def test_periods_of_an_iso_week_across_two_months() -> None:
    # Monday 2026-11-30 starts a week that ends on Sunday 2026-12-06.
    assert activity.periods_of([20261201]) == {
        ("week", dt.date(2026, 11, 30)), ("month", dt.date(2026, 12, 1))
    }
    assert activity.period_dates({("week", dt.date(2026, 11, 30))}) == [
        20261130, 20261201, 20261202, 20261203, 20261204, 20261205, 20261206
    ]
    assert activity.period_dates({("month", dt.date(2026, 2, 1))})[-1] == 20260228


def test_rollups_count_distinct_over_the_whole_period(spark: SparkSession) -> None:
    senders = spark.createDataFrame(
        [
            # Nov 30 (Monday) and Dec 1 lie in the same ISO week but in two months.
            (20261130, "direct", DIRECT, 1, 2),
            (20261201, "direct", DIRECT, 1, 1),
            (20261201, "direct", DIRECT, 2, 3),
            (20261201, "group", GROUP, 1, 1),
            (20261202, "unknown", UNTYPED, 3, 4),
        ],
        "date_key int, conversation_type string, conversation_key long, sender_user_key long, messages long",
    )
    created = spark.createDataFrame(
        [(DIRECT, "direct", dt.date(2026, 11, 30)), (GROUP, "group", dt.date(2026, 12, 3)),
         (40, "channel", dt.date(2026, 12, 6))],  # a conversation without messages yet
        "conversation_key long, conversation_type string, created_date date",
    )
    periods = {("week", dt.date(2026, 11, 30)), ("month", dt.date(2026, 11, 1)), ("month", dt.date(2026, 12, 1))}
    actual = activity.activity_rollups(periods, senders, created)
    week, nov, dec = dt.date(2026, 11, 30), dt.date(2026, 11, 1), dt.date(2026, 12, 1)
    expected = spark.createDataFrame(
        [
            ("week", week, "direct", 6, 2, 1, 1, 3.0, 2),
            ("week", week, "group", 1, 1, 1, 1, 1.0, 1),
            ("week", week, "unknown", 4, 1, 1, 0, 4.0, 1),
            ("week", week, "channel", 0, 0, 0, 1, None, 0),
            ("week", week, "all", 11, 3, 3, 3, 11 / 3, 3),
            ("month", nov, "direct", 2, 1, 1, 1, 2.0, 1),
            ("month", nov, "all", 2, 1, 1, 1, 2.0, 1),
            ("month", dec, "direct", 4, 2, 1, 0, 2.0, 1),
            ("month", dec, "group", 1, 1, 1, 1, 1.0, 1),
            ("month", dec, "unknown", 4, 1, 1, 0, 4.0, 1),
            ("month", dec, "channel", 0, 0, 0, 1, None, 0),
            ("month", dec, "all", 9, 3, 3, 2, 3.0, 2),
        ],
        ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in FACT_ACTIVITY_ROLLUPS.schema.fields
                  if f.name in ROLLUP_COLUMNS),
    )
    assert_approx_df_equality(actual.select(*ROLLUP_COLUMNS), expected, PRECISION, ignore_row_order=True,
                       ignore_nullable=True)
