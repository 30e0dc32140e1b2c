"""Topic sampling: deterministic by message id, at each conversation type's rate."""

from __future__ import annotations

import math

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms import sampling

IDS = 20_000
Z_999 = 3.2905  # two-sided 99.9% normal quantile


def _messages(spark: SparkSession, types: tuple[str | None, ...] = ("direct",)) -> DataFrame:
    type_name = F.element_at(
        F.array(*[F.lit(t).cast("string") for t in types]),
        (F.col("id") % len(types) + 1).cast("int"),
    )
    return spark.range(IDS).select(
        F.format_string("m_%012x", F.col("id") * 7919).alias("message_id"),
        type_name.alias("type_name"),
    )


def _within_binomial(sampled: int, n: int, rate: float) -> bool:
    half_width = Z_999 * math.sqrt(n * rate * (1 - rate))
    return abs(sampled - n * rate) <= half_width


def test_position_is_fixed_by_message_id_alone(spark: SparkSession) -> None:
    # Golden values: xxhash64 with Spark's fixed seed gives the same position on every run and
    # machine; a change here would silently move messages in or out of every past sample.
    golden = {
        "m_19beb62a20ae": 0.5745140246948073,
        "m_f9376707b949": 0.5463460833286127,
        "x": 0.4742372234481057,
    }
    ids = spark.createDataFrame([(i,) for i in golden], "message_id string").repartition(3)
    positions = ids.select("message_id", sampling.sample_position("message_id").alias("p"))
    assert {r["message_id"]: r["p"] for r in positions.collect()} == golden


def test_sample_is_deterministic_across_runs_and_partitionings(spark: SparkSession) -> None:
    messages = _messages(spark)
    first = messages.transform(sampling.with_sample({}, 0.25))
    second = messages.repartition(5).transform(sampling.with_sample({}, 0.25))
    assert_df_equality(first, second, ignore_row_order=True, ignore_nullable=True)


def test_share_sampled_is_the_rate(spark: SparkSession) -> None:
    for rate in (0.05, 0.25, 0.6):
        sampled = (
            _messages(spark).transform(sampling.with_sample({}, rate)).where("in_sample").count()
        )
        assert _within_binomial(sampled, IDS, rate), (rate, sampled)


def test_lower_rate_sample_is_inside_higher_rate_sample(spark: SparkSession) -> None:
    small = _messages(spark).transform(sampling.with_sample({}, 0.1)).where("in_sample")
    large = _messages(spark).transform(sampling.with_sample({}, 0.3)).where("in_sample")
    assert small.join(large, on="message_id", how="left_anti").count() == 0


def test_each_conversation_type_is_sampled_at_its_rate(spark: SparkSession) -> None:
    rates = {"direct": 0.1, "group": 0.5}
    default = 0.25
    sampled = _messages(spark, ("direct", "group", "channel", None)).transform(
        sampling.with_sample(rates, default)
    )
    per_type = {
        r["type_name"]: (r["n"], r["sampled"], r["rates"])
        for r in sampled.groupBy("type_name")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count(F.when(F.col("in_sample"), 1)).alias("sampled"),
            F.collect_set("sample_rate").alias("rates"),
        )
        .collect()
    }
    expected = {"direct": 0.1, "group": 0.5, "channel": default, None: default}
    assert set(per_type) == set(expected)
    for type_name, rate in expected.items():
        n, count, rates = per_type[type_name]
        assert rates == [rate], type_name
        assert _within_binomial(count, n, rate), (type_name, count, n)
