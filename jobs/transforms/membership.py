"""Who is a participant of a conversation at the end of a day, from membership spells.

A spell of `dim_conversation_participants` covers [joined_timestamp, left_timestamp): a user
is a participant at instant t iff some spell has joined <= t and (left is null or left > t).
A join and a leave at the same instant make an empty spell, so the leave wins. Spells of one
user may overlap; a user counts once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.transforms.dates import MICROS_PER_DAY, date_of_key


def end_of_day(date_key: Column) -> Column:
    """23:59:59.999999 UTC of the date, computed without the session time zone."""
    next_midnight_micros = (F.unix_date(date_of_key(date_key)).cast("long") + 1) * MICROS_PER_DAY
    return F.timestamp_micros(next_midnight_micros - 1)


def participants_at_end_of_day(date_keys: Sequence[int]) -> Callable[[DataFrame], DataFrame]:
    """Spells -> distinct (date_key, conversation_key, user_key) participants at each end of day."""

    def transform(spells: DataFrame) -> DataFrame:
        if not date_keys:
            return spells.select(
                F.lit(None).cast("int").alias("date_key"), "conversation_key", "user_key"
            ).where(F.lit(False))
        days = F.explode(F.array(*[F.lit(int(key)) for key in sorted(set(date_keys))]))
        return (
            spells.select("conversation_key", "user_key", "joined_timestamp", "left_timestamp")
            .withColumn("date_key", days)
            .withColumn("day_end", end_of_day(F.col("date_key")))
            .where(
                (F.col("joined_timestamp") <= F.col("day_end"))
                & (F.col("left_timestamp").isNull() | (F.col("left_timestamp") > F.col("day_end")))
            )
            .select("date_key", "conversation_key", "user_key")
            .distinct()
        )

    return transform
