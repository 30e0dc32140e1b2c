"""Which event wins, rule by rule, on frames built here: ties, late arrivals, missing values."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.transforms import events as ev
from jobs.transforms import keys, rules


def at(minute: int) -> dt.datetime:
    return dt.datetime(2026, 11, 1, 10, minute)


def test_comes_first_orders_by_time_then_event_id(spark: SparkSession) -> None:
    rows = [
        ("earlier", at(1), "e9", at(2), "e1", True),
        ("later", at(3), "e1", at(2), "e9", False),
        ("tie, smaller id", at(2), "e1", at(2), "e2", True),
        ("tie, larger id", at(2), "e3", at(2), "e2", False),
        ("the same event again", at(2), "e2", at(2), "e2", False),
        ("nothing stored", at(2), "e2", None, None, True),
        ("nothing incoming", None, None, at(2), "e2", False),
    ]
    frame = spark.createDataFrame(
        rows, "case string, ts timestamp, id string, other_ts timestamp, other_id string, expected boolean"
    )
    actual = frame.select(
        "case", rules.comes_first(F.col("ts"), F.col("id"), F.col("other_ts"), F.col("other_id")).alias("wins")
    )
    assert_df_equality(actual, frame.select("case", F.col("expected").alias("wins")), ignore_nullable=True)


def test_comes_last_orders_by_time_then_event_id(spark: SparkSession) -> None:
    rows = [
        ("later", at(3), "e1", at(2), "e9", True),
        ("earlier, arriving late", at(1), "e9", at(2), "e1", False),
        ("tie, larger id", at(2), "e3", at(2), "e2", True),
        ("tie, smaller id", at(2), "e1", at(2), "e2", False),
        ("nothing stored", at(2), "e2", None, None, True),
        ("nothing incoming", None, None, at(2), "e2", False),
    ]
    frame = spark.createDataFrame(
        rows, "case string, ts timestamp, id string, other_ts timestamp, other_id string, expected boolean"
    )
    actual = frame.select(
        "case", rules.comes_last(F.col("ts"), F.col("id"), F.col("other_ts"), F.col("other_id")).alias("wins")
    )
    assert_df_equality(actual, frame.select("case", F.col("expected").alias("wins")), ignore_nullable=True)


def test_first_status_times_ignore_the_senders_own_and_fall_back_to_sent(spark: SparkSession) -> None:
    sender = 1
    statuses = {
        # The sender's own read does not count; the recipient's delivery does.
        "delivered only": [(sender, "read", at(1)), (2, "delivered", at(3)), (3, "delivered", at(2))],
        "read beats failed": [(1, "failed", at(1)), (2, "read", at(5))],
        "failed without delivery": [(1, "failed", at(4)), (1, "sent", at(1))],
        "nothing yet": [(1, "sent", at(1))],
        "no statuses": [],
    }
    frame = spark.createDataFrame(
        [(case, sender, entries) for case, entries in statuses.items()],
        "case string, sender bigint, statuses array<struct<user_key:bigint,status:string,ts:timestamp>>",
    )
    firsts = frame.select(
        "case",
        rules.first_status_time(F.col("statuses"), rules.STATUS_DELIVERED, F.col("sender")).alias("delivered"),
        rules.first_status_time(F.col("statuses"), rules.STATUS_READ, F.col("sender")).alias("read"),
        rules.first_status_time(F.col("statuses"), rules.STATUS_FAILED).alias("failed"),
    )
    actual = firsts.select(
        "case", "delivered", "read", "failed", rules.status_name(F.col("read"), F.col("delivered"), F.col("failed"))
        .alias("status"),
    )
    expected = spark.createDataFrame(
        [
            ("delivered only", at(2), None, None, "delivered"),
            ("read beats failed", None, at(5), at(1), "read"),
            ("failed without delivery", None, None, at(4), "failed"),
            ("nothing yet", None, None, None, "sent"),
            ("no statuses", None, None, None, "sent"),
        ],
        "case string, delivered timestamp, read timestamp, failed timestamp, status string",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_status_key_is_the_dimensions_key_of_the_status(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(at(1), None, None)], "read timestamp, delivered timestamp, failed timestamp")
    row = frame.select(
        rules.status_key(F.col("read"), F.col("delivered"), F.col("failed")).alias("key"),
        keys.surrogate_key(keys.MESSAGE_STATUS, F.lit("read")).alias("read_key"),
    ).first()
    assert row is not None and row["key"] == row["read_key"]


def test_earliest_keeps_the_known_time(spark: SparkSession) -> None:
    frame = spark.createDataFrame(
        [(at(5), at(3)), (None, at(3)), (at(5), None), (None, None)], "stored timestamp, incoming timestamp"
    )
    actual = [r[0] for r in frame.select(rules.earliest(F.col("stored"), F.col("incoming"))).collect()]
    assert actual == [at(3), at(3), at(5), None]


def test_the_earliest_retry_is_the_message_and_ties_go_to_the_smallest_event_id(spark: SparkSession) -> None:
    retries = spark.createDataFrame(
        [
            ("m1", "e3", at(5), "message_sent"),
            ("m1", "e2", at(4), "message_sent"),  # a late log of an earlier retry wins
            ("m2", "e9", at(4), "message_sent"),
            ("m2", "e8", at(4), "message_sent"),  # tied: smallest event id
            ("m2", "e1", at(1), "message_status"),  # not a retry
        ],
        "message_id string, event_id string, server_ts timestamp, event_type string",
    )
    winners = ev.winning_messages(retries).select("message_id", "event_id")
    expected = spark.createDataFrame([("m1", "e2"), ("m2", "e8")], "message_id string, event_id string")
    assert_df_equality(winners, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_leave_at_the_joins_instant_ends_the_spell_empty(spark: SparkSession) -> None:
    ledger = spark.createDataFrame(
        [
            ("j1", 1, 10, "join", "member", at(1)),
            ("l1", 1, 10, "leave", None, at(1)),  # same instant: the leave wins
            ("j2", 1, 10, "join", "admin", at(5)),
            ("l2", 1, 10, "leave", None, at(7)),
            ("j3", 1, 10, "join", "member", at(9)),  # still a participant
            ("j4", 1, 11, "join", "owner", at(2)),
            ("l4", 1, 11, "leave", None, at(8)),
        ],
        "event_id string, conversation_key bigint, user_key bigint, change string, role string, "
        "event_timestamp timestamp",
    )
    spells = ev.membership_spells(ledger).select(
        "user_key", "joined_timestamp", "left_timestamp", "is_active", "role_in_conversation"
    )
    expected = spark.createDataFrame(
        [
            (10, at(1), at(1), False, "member"),
            (10, at(5), at(7), False, "admin"),
            (10, at(9), None, True, "member"),
            (11, at(2), at(8), False, "owner"),
        ],
        "user_key bigint, joined_timestamp timestamp, left_timestamp timestamp, is_active boolean, "
        "role_in_conversation string",
    )
    assert_df_equality(spells, expected, ignore_row_order=True, ignore_nullable=True)


def test_each_reported_device_profile_is_its_own_row(spark: SparkSession) -> None:
    events = spark.createDataFrame(
        [
            ("d1", "phone", "ios", "5.1", "17", "wifi"),
            ("d1", "phone", "ios", "5.1", "17", "wifi"),
            ("d1", "phone", "ios", "5.2", "17", "cellular_5g"),  # same device, new app and network
            (None, None, None, None, None, None),
        ],
        "device_id string, device_type string, platform string, app_version string, os_version string, "
        "network_type string",
    ).withColumn("device_key", ev.device_key())
    profiles = ev.device_rows(events).select("app_version", "network_type")
    expected = spark.createDataFrame(
        [("5.1", "wifi"), ("5.2", "cellular_5g")], "app_version string, network_type string"
    )
    assert_df_equality(profiles, expected, ignore_row_order=True, ignore_nullable=True)
