"""Participants at the end of a day (23:59:59.999999 UTC) from membership spells."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms.dates import utc_date_key
from jobs.transforms.membership import end_of_day, participants_at_end_of_day
from schemas.tables import DIM_CONVERSATION_PARTICIPANTS

UTC = dt.UTC
END_OF_NOV_1 = "2026-11-01T23:59:59.999999"
PARTICIPANTS = "date_key int, conversation_key long, user_key long"


def at(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


def spells(spark: SparkSession, rows: list[tuple[int, int, str, str | None]]) -> DataFrame:
    """(conversation, user, joined, left) rows in the dim_conversation_participants schema."""
    return spark.createDataFrame(
        [
            (index, conv, user, at(joined), None, "member", None, left is None, at(left))
            for index, (conv, user, joined, left) in enumerate(rows)
        ],
        DIM_CONVERSATION_PARTICIPANTS.schema,
    )


def test_leave_rejoin_same_instant_and_overlaps(spark: SparkSession) -> None:
    frame = spells(spark, [
        # user 1: member, leaves on Nov 2, rejoins on Nov 3
        (10, 1, "2026-10-30T10:00:00", "2026-11-02T12:00:00"),
        (10, 1, "2026-11-03T08:00:00", None),
        # user 2: joins and leaves at the very end of Nov 1: the leave wins
        (10, 2, END_OF_NOV_1, END_OF_NOV_1),
        # user 3: joins at the very end of Nov 1 (counts), leaves at the end of Nov 2 (does not)
        (10, 3, END_OF_NOV_1, "2026-11-02T23:59:59.999999"),
        # user 4: two overlapping spells count once
        (10, 4, "2026-11-01T01:00:00", None),
        (10, 4, "2026-11-01T02:00:00", "2026-11-03T00:00:00"),
        # user 5: joins after the end of Nov 1
        (20, 5, "2026-11-02T00:00:00", None),
    ])
    result = frame.transform(participants_at_end_of_day([20261101, 20261102, 20261103]))
    expected = spark.createDataFrame(
        [
            (20261101, 10, 1), (20261101, 10, 3), (20261101, 10, 4),
            (20261102, 10, 4), (20261102, 20, 5),
            (20261103, 10, 1), (20261103, 10, 4), (20261103, 20, 5),
        ],
        PARTICIPANTS,
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_no_dates_gives_no_participants(spark: SparkSession) -> None:
    frame = spells(spark, [(10, 1, "2026-10-30T10:00:00", None)])
    assert frame.transform(participants_at_end_of_day([])).count() == 0


def test_day_boundaries_ignore_session_time_zone(spark: SparkSession) -> None:
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        row = (
            spark.createDataFrame([(20261101, at("2026-11-01T23:30:00"))], "d int, t timestamp")
            .select(
                F.unix_micros(end_of_day(F.col("d"))).alias("end_micros"),
                utc_date_key(F.col("t")).alias("key"),
            )
            .first()
        )
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous or "UTC")
    assert row is not None
    end = at(END_OF_NOV_1)
    assert end is not None
    assert row["end_micros"] == int(end.timestamp()) * 1_000_000 + end.microsecond
    assert row["key"] == 20261101
