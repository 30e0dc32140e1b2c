"""Daily conversation and user metrics on hand-built frames in the tables' schemas.

The scenario (ids are keys): conversation 10 has user 1's message late on Oct 31 and three
messages on Nov 1 (2, 2, 1 as senders), conversation 20 two of user 1's messages 10 minutes
apart after a 38-minute pause, conversation 30 a single message of user 4. User 3 is a silent
member of conversation 10 who reads two days late; user 5 only creates a conversation.
"""

from __future__ import annotations

from typing import Any

from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import storage
from jobs.transforms import keys
from jobs.transforms.metrics import conversation_metrics, user_metrics
from jobs.transforms.response_pairs import response_pairs
from schemas.tables import (
    DIM_CONVERSATIONS,
    DIM_TOPICS,
    FACT_CONVERSATION_METRICS,
    FACT_MESSAGE_DERIVED_TOPICS,
    FACT_MESSAGE_EVENTS,
    FACT_USER_METRICS,
    MESSAGE_STATUS_EVENTS,
    date_key,
)
from tests.frames import at, table_frame

NOV_1, NOV_2, NOV_3 = 20261101, 20261102, 20261103
PRECISION = 1e-9
PARTICIPANTS = "date_key int, conversation_key long, user_key long"


def message(mid: int, conversation: int, sender: int, seq: int, server: str, client: str | None,
            offset: int | None, characters: int = 0, media: int = 0,
            read: str | None = None) -> dict[str, Any]:
    server_ts = at(server)
    assert server_ts is not None
    return {
        "message_event_id": mid, "conversation_key": conversation, "sender_user_key": sender,
        "date_key": date_key(server_ts), "message_sequence": seq,
        "server_received_timestamp": server_ts, "message_timestamp": at(client),
        "client_utc_offset_minutes": offset, "character_count": characters,
        "media_count": media, "first_read_timestamp": at(read), "message_id": f"m{mid}",
    }


def messages(spark: SparkSession) -> DataFrame:
    return table_frame(spark, FACT_MESSAGE_EVENTS, [
        message(1, 10, 1, 1, "2026-10-31T23:59:00", "2026-10-31T23:58:59", 0, characters=5),
        message(2, 10, 2, 2, "2026-11-01T00:00:30", None, None, 10, 1, read="2026-11-01T00:00:50"),
        message(3, 10, 2, 3, "2026-11-01T00:01:00", "2026-11-01T00:00:59", 330, media=2),
        message(4, 10, 1, 4, "2026-11-01T00:02:00", "2026-11-01T00:01:59", -120, 7,
                read="2026-11-01T00:02:40"),
        message(5, 20, 1, 1, "2026-11-01T00:40:00", "2026-11-01T00:40:00", 0, characters=3),
        message(6, 20, 1, 2, "2026-11-01T00:50:00", "2026-11-01T00:50:00", 0, characters=4),
        message(7, 30, 4, 1, "2026-11-01T12:00:00", "2026-11-01T12:00:00", 60),
    ])


def participants(spark: SparkSession) -> DataFrame:
    members = [(10, 1), (10, 2), (10, 3), (30, 4)]
    return spark.createDataFrame(
        [(day, conv, user) for day in (NOV_1, NOV_3) for conv, user in members], PARTICIPANTS
    )


def test_conversation_metrics(spark: SparkSession) -> None:
    names = {1: "music", 2: "travel", 3: "sports", 4: "art", 5: "zzz"}
    topics = table_frame(spark, DIM_TOPICS, [
        {"topic_key": key, "topic_name": name} for key, name in names.items()
    ])
    assignments = table_frame(spark, FACT_MESSAGE_DERIVED_TOPICS, [
        {"message_event_id": mid, "topic_key": topic, "topic_confidence": confidence}
        for mid, topic, confidence in (
            (1, 5, 0.99),  # Oct 31's message: not Nov 1's topic
            (2, 1, 0.9), (2, 2, 0.8), (3, 1, 0.75), (3, 3, 0.95),
            (4, 2, 0.7), (4, 4, 0.9), (4, 5, 0.69),  # below the threshold
        )
    ])
    frame = messages(spark)
    result = conversation_metrics(
        [NOV_1], frame, response_pairs(frame), participants(spark), assignments, topics
    )
    top = ('[{"topic": "music", "messages": 2}, {"topic": "travel", "messages": 2}, '
           '{"topic": "art", "messages": 1}]')
    expected = spark.createDataFrame(
        [
            # 3 messages, 3 members, pairs of 90 s and 60 s, reads after 20 s and 40 s
            (0, 10, NOV_1, 3, 3, 2, 17, 3, 75.0, 30.0, 0.9242, top, 1),
            # no member left at the end of the day: engagement divides by the active sender
            (0, 20, NOV_1, 2, 0, 1, 7, 0, None, None, 1.0986, "[]", 2),
            (0, 30, NOV_1, 1, 1, 1, 0, 0, None, None, 0.6931, "[]", 1),
        ],
        FACT_CONVERSATION_METRICS.schema,
    ).withColumn("metric_id", keys.surrogate_key(keys.CONVERSATION_METRIC, "conversation_key",
                                                 "date_key"))
    assert_approx_df_equality(
        storage.conformed(result, FACT_CONVERSATION_METRICS.name), expected, PRECISION,
        ignore_nullable=True, ignore_row_order=True,
    )


def pattern(hours: dict[int, int]) -> str:
    counts = [hours.get(hour, 0) for hour in range(24)]
    return '{"local_hour": [' + ", ".join(str(c) for c in counts) + "]}"


def test_user_metrics(spark: SparkSession) -> None:
    statuses = table_frame(spark, MESSAGE_STATUS_EVENTS, [
        {"event_id": f"s{index}", "message_event_id": mid, "user_key": user, "status": status,
         "status_timestamp": at(ts), "date_key": int(ts[:10].replace("-", ""))}
        for index, (mid, user, status, ts) in enumerate([
            (2, 1, "read", "2026-11-01T00:00:50"),
            (2, 1, "read", "2026-11-01T00:05:00"),  # the same message again counts once
            (4, 2, "delivered", "2026-11-01T00:02:01"),
            (4, 2, "read", "2026-11-01T00:02:40"),
            (6, 2, "read", "2026-11-02T08:00:00"),  # Nov 2 is not being computed
            (2, 3, "read", "2026-11-03T09:00:00"),  # two days late
            (999, 3, "read", "2026-11-03T09:00:01"),  # a message we never saw still counts
        ])
    ])
    conversations = table_frame(spark, DIM_CONVERSATIONS, [
        {"conversation_key": conv, "conversation_id": f"c{conv}", "creator_user_key": creator,
         "created_timestamp": at(created)}
        for conv, creator, created in (
            (10, 1, "2026-10-30T09:00:00"), (20, 1, "2026-11-01T00:39:00"),
            (30, 4, "2026-10-01T00:00:00"), (40, 5, "2026-11-03T23:59:59.999999"),
        )
    ])
    frame = messages(spark)
    result = user_metrics(
        [NOV_1, NOV_3], frame, response_pairs(frame), participants(spark), statuses, conversations
    )
    expected = spark.createDataFrame(
        [
            # sessions {00:02} and {00:40, 00:50}; local hours 22 (UTC-2) and 0, 0
            (0, 1, NOV_1, 3, 2, 1, 2, 300.0, 1, 1, 60.0, pattern({22: 1, 0: 2})),
            # the message without client time is not in the pattern; 05:30 at UTC+5:30
            (0, 2, NOV_1, 2, 1, 0, 2, 30.0, 1, 1, 90.0, pattern({5: 1})),
            # a single-message session lasts 0 s; the only member has no recipients
            (0, 4, NOV_1, 1, 1, 0, 0, 0.0, 1, 0, None, pattern({13: 1})),
            (0, 3, NOV_3, 0, 0, 0, 0, None, 0, 2, None, pattern({})),
            (0, 5, NOV_3, 0, 0, 1, 0, None, 0, 0, None, pattern({})),
        ],
        FACT_USER_METRICS.schema,
    ).withColumn("user_metric_id", keys.surrogate_key(keys.USER_METRIC, "user_key", "date_key"))
    assert_approx_df_equality(
        storage.conformed(result, FACT_USER_METRICS.name), expected, PRECISION,
        ignore_nullable=True, ignore_row_order=True,
    )


def test_pattern_json_is_exactly_the_contract_format(spark: SparkSession) -> None:
    frame = messages(spark).where(F.col("message_event_id") == 7)
    empty = spark.createDataFrame([], PARTICIPANTS)
    row = user_metrics(
        [NOV_1], frame, response_pairs(frame), empty,
        table_frame(spark, MESSAGE_STATUS_EVENTS, []), table_frame(spark, DIM_CONVERSATIONS, []),
    ).first()
    assert row is not None
    assert row["messaging_pattern_json"] == (
        '{"local_hour": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}'
    )
