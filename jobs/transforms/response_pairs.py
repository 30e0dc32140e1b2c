"""Response pairs: a message and the one right before it in its conversation (by `seq`).

(p, m) is a pair when their senders differ and 0 < m.server_ts - p.server_ts <= 86,400 s; the
pair belongs to m's date and m's sender is the responder. p may lie on the date before m's, so
the input must hold that date's messages too (pairs of that earlier date are computed and can
be dropped by the caller).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.transforms.dates import MICROS_PER_SECOND

MAX_RESPONSE_SECONDS = 86_400


def seconds_between(later: Column, earlier: Column) -> Column:
    """Exact difference of two instants in seconds (microsecond precision, as DOUBLE)."""
    return (F.unix_micros(later) - F.unix_micros(earlier)) / F.lit(MICROS_PER_SECOND)


def average_seconds(seconds: Column) -> Column:
    """The mean of a column of seconds (an aggregate), the same whatever order Spark adds the
    values in: they are summed as whole microseconds, exactly, instead of as doubles, whose sum
    changes in its last digits with the order (and so with partitioning and arrival order)."""
    micros = F.round(seconds * F.lit(MICROS_PER_SECOND)).cast("long")
    return F.try_divide(F.sum(micros), F.count(micros)) / F.lit(MICROS_PER_SECOND)


def response_pairs(messages: DataFrame) -> DataFrame:
    """Pairs of `fact_message_events` rows: one row per responding message.

    Columns: conversation_key, date_key (the responder's message date), responder_user_key,
    message_event_id (the responding message), previous_message_event_id,
    response_time_seconds.
    """
    # message_event_id breaks ties of a (malformed) repeated seq deterministically.
    conversation_order = Window.partitionBy("conversation_key").orderBy(
        "message_sequence", "server_received_timestamp", "message_event_id"
    )
    return (
        messages.select(
            "conversation_key",
            "date_key",
            "message_event_id",
            "sender_user_key",
            "server_received_timestamp",
            F.lag("sender_user_key").over(conversation_order).alias("previous_sender_user_key"),
            F.lag("server_received_timestamp").over(conversation_order).alias("previous_timestamp"),
            F.lag("message_event_id").over(conversation_order).alias("previous_message_event_id"),
        )
        .withColumn(
            "response_time_seconds",
            seconds_between(F.col("server_received_timestamp"), F.col("previous_timestamp")),
        )
        .where(
            (F.col("previous_sender_user_key") != F.col("sender_user_key"))
            & (F.col("response_time_seconds") > 0)
            & (F.col("response_time_seconds") <= MAX_RESPONSE_SECONDS)
        )
        .select(
            "conversation_key",
            "date_key",
            F.col("sender_user_key").alias("responder_user_key"),
            "message_event_id",
            "previous_message_event_id",
            "response_time_seconds",
        )
    )
