"""The history sample's rules on frames built here: whole conversations, nested rates, reruns."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms import history_sampling as hs

CONVERSATIONS = 2_000


def conversations(spark: SparkSession) -> DataFrame:
    return spark.range(CONVERSATIONS).select(F.col("id").alias("conversation_key"))


def sampled_at(spark: SparkSession, rate: float) -> set[int]:
    rows = conversations(spark).where(hs.conversation_position(F.col("conversation_key")) < rate).collect()
    return {r["conversation_key"] for r in rows}


def test_the_sample_is_nested_and_close_to_its_rate(spark: SparkSession) -> None:
    tenth, half = sampled_at(spark, 0.1), sampled_at(spark, 0.5)
    assert tenth < half
    # Binomial(2000, p): 5 standard deviations either side.
    assert abs(len(tenth) - 200) < 5 * (2000 * 0.1 * 0.9) ** 0.5
    assert abs(len(half) - 1000) < 5 * (2000 * 0.5 * 0.5) ** 0.5


def test_reduce_keeps_whole_conversations_marks_the_rate_and_reruns_change_nothing(spark: SparkSession) -> None:
    half = sampled_at(spark, 0.5)
    rows = [
        (key, day, rate)
        for key in range(40)
        for day, rate in ((20260101, None), (20260102, 1.0), (20260103, 0.2))
    ]
    frame = spark.createDataFrame(rows, "conversation_key long, date_key int, history_sample_rate double")
    reduced = frame.transform(hs.reduce_to(0.5))
    expected = spark.createDataFrame(
        [(key, day, 0.5) for key, day, rate in rows if rate != 0.2 and key in half]
        + [(key, day, 0.2) for key, day, rate in rows if rate == 0.2],  # already lower: untouched
        "conversation_key long, date_key int, history_sample_rate double",
    )
    assert_df_equality(reduced, expected, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(reduced.transform(hs.reduce_to(0.5)), reduced, ignore_row_order=True, ignore_nullable=True)
    assert reduced.where(hs.needs_sampling(0.5)).count() == 0
    assert frame.where(hs.needs_sampling(0.5)).count() == 80  # the null and the 1.0 rows
