"""Messaging sessions: a user's messages of a date by server time, a new session after a gap
of more than 1,800 s. A single message is a session of length 0."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.transforms.response_pairs import average_seconds, seconds_between

SESSION_GAP_SECONDS = 1_800


def messaging_sessions(messages: DataFrame) -> DataFrame:
    """`fact_message_events` rows -> one row per (sender_user_key, date_key, session_number)
    with session_length_seconds and message_count."""
    by_user_day = Window.partitionBy("sender_user_key", "date_key").orderBy(
        "server_received_timestamp", "message_event_id"
    )
    running = by_user_day.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    gap = seconds_between(
        F.col("server_received_timestamp"), F.lag("server_received_timestamp").over(by_user_day)
    )
    starts_session = F.when(gap.isNull() | (gap > SESSION_GAP_SECONDS), 1).otherwise(0)
    return (
        messages.select(
            "sender_user_key", "date_key", "server_received_timestamp", "message_event_id"
        )
        .withColumn("starts_session", starts_session)
        .withColumn("session_number", F.sum("starts_session").over(running))
        .groupBy("sender_user_key", "date_key", "session_number")
        .agg(
            seconds_between(F.max("server_received_timestamp"), F.min("server_received_timestamp"))
            .alias("session_length_seconds"),
            F.count(F.lit(1)).alias("message_count"),
        )
    )


def average_session_length(messages: DataFrame) -> DataFrame:
    """(sender_user_key, date_key, avg_messaging_session_length) for users with messages."""
    return (
        messages.transform(messaging_sessions)
        .groupBy("sender_user_key", "date_key")
        .agg(average_seconds(F.col("session_length_seconds")).alias("avg_messaging_session_length"))
    )
