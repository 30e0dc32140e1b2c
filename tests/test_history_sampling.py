"""History sampling in retention, on a copy of the worked example: older partitions keep whole
conversations of a deterministic sample with `history_sample_rate`; a rerun changes nothing; a
lower rate later keeps a subset; the metrics stay as aggregate computed them; an erased user
leaves no trace in a sampled partition after purge."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import struct
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import erasure, purge, retention, storage
from jobs.config import Config, HistorySampling, parse_config
from tests.conftest import EXAMPLES
from tests.frames import table_rows

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 11, 6)
FULL_DAYS = 4  # dates before Nov 2 are sampled: Nov 1 (and any earlier date)
FIRST_FULL_KEY = 20261102
RATE, LOWER_RATE = 0.5, 0.2
SAMPLED = ("fact_message_events", "fact_message_derived_topics")
# Computed by aggregate before sampling, never from a sampled partition: unchanged by it.
METRICS = ("fact_conversation_metrics", "fact_user_metrics", "fact_hourly_activity",
           "fact_activity_rollups", "activity_daily_senders")


def with_rate(config: Config, rate: float) -> Config:
    return dataclasses.replace(config, history_sampling=HistorySampling(FULL_DAYS, rate))


def old(frame: DataFrame) -> DataFrame:
    return frame.where(F.col("date_key") < FIRST_FULL_KEY)


def rows(frame: DataFrame) -> list[tuple]:
    return sorted(map(tuple, frame.collect()), key=repr)


def versions(spark: SparkSession, config: Config) -> dict[str, int]:
    return {name: storage.delta_table(spark, config, name).history(1).first()["version"] for name in SAMPLED}


@pytest.fixture(scope="module")
def runs(spark: SparkSession, example_run: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("history")
    shutil.copytree(example_run["config"].warehouse_path, root / "warehouse")
    shutil.copytree(EXAMPLES / "landing", root / "landing")
    config = parse_config(
        {"landing_path": str(root / "landing"), "warehouse_path": str(root / "warehouse"),
         "purge_retain_hours": 0, "spark": {"shuffle_partitions": 2},
         "history_sampling": {"full_days": FULL_DAYS, "conversation_rate": RATE}},
        environ={},
    )
    spark.conf.set("spark.sql.parquet.compression.codec", "uncompressed")  # the byte scan below
    try:
        before = {name: storage.read(spark, config, name).localCheckpoint() for name in (*SAMPLED, *METRICS)}
        first = retention.run_as_of(spark, config, AS_OF)
        sampled = {name: storage.read(spark, config, name).localCheckpoint() for name in SAMPLED}
        versions_once = versions(spark, config)
        tables_once = table_rows(spark, config)
        again = retention.run_as_of(spark, config, AS_OF)
        rerun = {"removed": again, "versions": versions(spark, config), "tables": table_rows(spark, config)}
        lower = retention.run_as_of(spark, with_rate(config, LOWER_RATE), AS_OF)
        lowered = {name: storage.read(spark, config, name).localCheckpoint() for name in SAMPLED}
    finally:
        spark.conf.set("spark.sql.parquet.compression.codec", "snappy")
    return {"config": config, "root": root, "before": before, "first": first, "sampled": sampled,
            "versions_once": versions_once, "tables_once": tables_once, "rerun": rerun,
            "lower": lower, "lowered": lowered}


def kept_conversations(frame: DataFrame) -> set[int]:
    return {r["conversation_key"] for r in old(frame).select("conversation_key").distinct().collect()}


def test_old_partitions_keep_whole_conversations_of_the_sample(spark: SparkSession, runs: dict) -> None:
    messages_before = runs["before"]["fact_message_events"]
    everyone = kept_conversations(messages_before)
    kept = kept_conversations(runs["sampled"]["fact_message_events"])
    assert 0 < len(kept) < len(everyone)
    assert runs["first"]["fact_message_events.sampled_out"] > 0
    for name in SAMPLED:
        before, after = runs["before"][name], runs["sampled"][name]
        # Every old row of a kept conversation is there, unchanged but for the rate; no other row.
        expected = (old(before).where(F.col("conversation_key").isin(list(kept)))
                    .withColumn("history_sample_rate", F.lit(RATE)))
        assert rows(old(after)) == rows(expected), name
        # Recent dates are kept in full, at rate 1.0 on every row.
        recent = after.where(F.col("date_key") >= FIRST_FULL_KEY)
        assert rows(recent) == rows(before.where(F.col("date_key") >= FIRST_FULL_KEY)), name
        assert recent.where(F.col("history_sample_rate") != 1.0).count() == 0, name
        assert recent.count() > 0, name


def test_the_metrics_are_not_recomputed_from_the_sample(spark: SparkSession, runs: dict) -> None:
    for name in METRICS:
        assert rows(storage.read(spark, runs["config"], name)) == rows(runs["before"][name]), name


def test_the_weighted_count_estimates_the_full_count(spark: SparkSession, runs: dict) -> None:
    """Σ 1 / history_sample_rate over a sampled date, against the true count that aggregate kept
    in fact_hourly_activity: a 50% sample of ~60 conversations lands well within a factor of 2."""
    sampled = old(runs["sampled"]["fact_message_events"]).agg(F.sum(1.0 / F.col("history_sample_rate"))).first()[0]
    true_count = old(runs["before"]["fact_hourly_activity"]).agg(F.sum("messages")).first()[0]
    assert true_count / 2 < sampled < true_count * 2


def test_a_rerun_changes_nothing(runs: dict) -> None:
    assert all(count == 0 for count in runs["rerun"]["removed"].values()), runs["rerun"]["removed"]
    assert runs["rerun"]["versions"] == runs["versions_once"]  # not even an empty commit
    assert runs["rerun"]["tables"] == runs["tables_once"]


def test_a_lower_rate_keeps_a_subset(runs: dict) -> None:
    kept = kept_conversations(runs["sampled"]["fact_message_events"])
    fewer = kept_conversations(runs["lowered"]["fact_message_events"])
    assert fewer < kept and fewer
    for name in SAMPLED:
        expected = (old(runs["sampled"][name]).where(F.col("conversation_key").isin(list(fewer)))
                    .withColumn("history_sample_rate", F.lit(LOWER_RATE)))
        assert rows(old(runs["lowered"][name])) == rows(expected), name


def test_an_erased_user_leaves_no_trace_in_a_sampled_partition(spark: SparkSession, runs: dict) -> None:
    config = runs["config"]
    sender = (old(runs["lowered"]["fact_message_events"]).select("sender_user_key").distinct()
              .join(storage.read(spark, config, "dim_users"), on=F.col("sender_user_key") == F.col("user_key"),
                    how="inner")
              .orderBy("user_id").first())
    assert sender is not None
    key = int(sender["user_key"])
    spark.conf.set("spark.sql.parquet.compression.codec", "uncompressed")
    try:
        erasure.erase_users(spark, config, [sender["user_id"]])
        purge.purge(spark, config)
    finally:
        spark.conf.set("spark.sql.parquet.compression.codec", "snappy")
    for name in (*SAMPLED, "activity_daily_senders"):
        assert storage.read(spark, config, name).where(F.col("sender_user_key") == key).count() == 0, name
        needles = (struct.pack("<q", key), str(key).encode())
        files = [p for p in (Path(config.warehouse_path) / name).rglob("*") if p.is_file()]
        assert files, name
        leaks = [str(p) for p in files if any(needle in p.read_bytes() for needle in needles)]
        assert leaks == [], name
