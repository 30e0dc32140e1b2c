"""Response pairs: previous message by seq, senders differ, 0 < gap <= 86,400 s."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms.response_pairs import average_seconds, response_pairs

UTC = dt.UTC
MESSAGES = (
    "message_event_id long, conversation_key long, sender_user_key long, date_key int, "
    "message_sequence int, server_received_timestamp timestamp"
)
PAIRS = (
    "conversation_key long, date_key int, responder_user_key long, message_event_id long, "
    "previous_message_event_id long, response_time_seconds double"
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def messages(spark: SparkSession, rows: list[tuple[int, int, int, int, int, str]]) -> DataFrame:
    return spark.createDataFrame(
        [(mid, conv, sender, day, seq, at(ts)) for mid, conv, sender, day, seq, ts in rows],
        MESSAGES,
    )


def test_reply_after_midnight_pairs_across_dates(spark: SparkSession) -> None:
    frame = messages(spark, [
        (1, 10, 100, 20261101, 1, "2026-11-01T23:50:00.250"),
        (2, 10, 200, 20261102, 2, "2026-11-02T00:10:00"),
    ])
    expected = spark.createDataFrame([(10, 20261102, 200, 2, 1, 1199.75)], PAIRS)
    assert_df_equality(response_pairs(frame), expected, ignore_row_order=True, ignore_nullable=True)


def test_pair_only_when_senders_differ_and_gap_in_range(spark: SparkSession) -> None:
    frame = messages(spark, [
        # same sender twice: no pair
        (1, 10, 100, 20261101, 1, "2026-11-01T08:00:00"),
        (2, 10, 100, 20261101, 2, "2026-11-01T08:00:05"),
        # exactly 86,400 s: a pair
        (3, 10, 200, 20261102, 3, "2026-11-02T08:00:05"),
        # one microsecond more than a day after its predecessor: none
        (4, 10, 100, 20261103, 4, "2026-11-03T08:00:05.000001"),
        # same instant (gap 0): none
        (5, 10, 200, 20261103, 5, "2026-11-03T08:00:05.000001"),
        # earlier server time than its predecessor by seq (gap < 0): none
        (6, 10, 100, 20261103, 6, "2026-11-03T08:00:00"),
        # ordered by seq, not by arrival: 8 answers 7 although it arrived first
        (8, 20, 300, 20261101, 2, "2026-11-01T09:00:10"),
        (7, 20, 400, 20261101, 1, "2026-11-01T09:00:00"),
        # another conversation's message is never a predecessor
        (9, 30, 500, 20261101, 1, "2026-11-01T09:00:11"),
    ])
    expected = spark.createDataFrame(
        [(10, 20261102, 200, 3, 2, 86_400.0), (20, 20261101, 300, 8, 7, 10.0)], PAIRS
    )
    assert_df_equality(response_pairs(frame), expected, ignore_row_order=True, ignore_nullable=True)


def test_average_seconds_does_not_depend_on_the_order_of_the_values(spark: SparkSession) -> None:
    # As doubles, (0.1 + 0.2) + 0.3 and 0.1 + (0.2 + 0.3) differ in the last digit.
    assert (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3)
    for order in ([0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.2, None, 0.1, 0.3]):
        values = spark.createDataFrame([(v,) for v in order], "seconds double").coalesce(1)
        assert values.agg(average_seconds(F.col("seconds")).alias("mean")).first()["mean"] == 0.2
    nothing = spark.createDataFrame([(None,)], "seconds double")
    assert nothing.agg(average_seconds(F.col("seconds")).alias("mean")).first()["mean"] is None
