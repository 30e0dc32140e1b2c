"""Table creation: every table of the contract, partitioned and constrained, idempotently."""

from __future__ import annotations

import datetime as dt

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import storage, warehouse
from jobs.config import Config
from jobs.transforms import static_dimensions
from schemas.tables import ALL_TABLES, FACT_MESSAGE_DERIVED_TOPICS
from schemas.topics import TOPICS

CONTRACT_TABLES = {
    "fact_message_events", "fact_message_derived_topics", "fact_conversation_metrics", "fact_user_metrics",
    "dim_users", "dim_conversations", "dim_conversation_types", "dim_conversation_participants",
    "dim_message_types", "dim_message_status", "dim_topics", "dim_devices", "dim_dates", "dim_time",
    "quarantine", "ops_minute_metrics", "ops_stream_batches",
}


def test_every_table_created_partitioned_and_filled(spark: SparkSession, config: Config) -> None:
    warehouse.prepare(spark, config)
    names = {spec.name for spec in ALL_TABLES}
    assert names >= CONTRACT_TABLES
    for spec in ALL_TABLES:
        detail = DeltaTable.forPath(spark, config.table_path(spec.name)).detail().first()
        assert list(detail["partitionColumns"]) == list(spec.partition_by), spec.name
        assert detail["properties"].get("delta.enableDeletionVectors") == "true", spec.name
        table_schema = storage.read(spark, config, spec.name).schema
        assert [(f.name, f.dataType, f.nullable) for f in table_schema] == [
            (f.name, f.dataType, f.nullable) for f in spec.schema
        ], spec.name
    for fact in ("fact_message_events", "fact_conversation_metrics", "fact_user_metrics",
                 "fact_message_derived_topics"):
        assert storage.spec_of(fact).partition_by == ("date_key",)

    topics = storage.read(spark, config, "dim_topics")
    assert topics.where("hierarchy_level = 2").count() == len(TOPICS) == 16
    assert topics.where("hierarchy_level = 1 AND parent_topic_key IS NULL").count() == 6
    orphans = topics.alias("t").join(
        topics.alias("p"), F.col("t.parent_topic_key") == F.col("p.topic_key"), how="left_anti"
    ).where("t.parent_topic_key IS NOT NULL")
    assert orphans.count() == 0
    dates = storage.read(spark, config, "dim_dates")
    nov_first = dates.where("date_key = 20261101").first()
    assert (nov_first["full_date"], nov_first["day_of_week"], nov_first["is_weekend"]) == (
        dt.date(2026, 11, 1), 7, True
    )
    assert storage.read(spark, config, "dim_time").count() == 1440
    assert storage.read(spark, config, "dim_time").where("time_key = 2359").count() == 1
    assert storage.read(spark, config, "dim_message_status").count() == len(static_dimensions.MESSAGE_STATUSES)


def test_prepare_is_idempotent(spark: SparkSession, config: Config) -> None:
    warehouse.prepare(spark, config)
    versions = {s.name: DeltaTable.forPath(spark, config.table_path(s.name)).history(1).first()["version"]
                for s in ALL_TABLES}
    warehouse.prepare(spark, config)
    storage.ensure_table(spark, config, FACT_MESSAGE_DERIVED_TOPICS)  # also when asked directly
    after = {s.name: DeltaTable.forPath(spark, config.table_path(s.name)).history(1).first()["version"]
             for s in ALL_TABLES}
    assert after["dim_topics"] == versions["dim_topics"]
    assert storage.read(spark, config, "dim_message_types").count() == len(static_dimensions.MESSAGE_TYPES)


def test_constraints_reject_bad_rows(spark: SparkSession, config: Config) -> None:
    warehouse.prepare(spark, config)
    row = {f.name: None for f in FACT_MESSAGE_DERIVED_TOPICS.schema}
    row.update(topic_assignment_id=1, message_event_id=2, topic_key=3, topic_confidence=1.5,
               extraction_method="keywords", topic_extraction_version="v1",
               processed_timestamp=dt.datetime(2026, 11, 1), sample_rate=0.25, date_key=20261101,
               conversation_key=4, sender_user_key=5)
    bad = spark.createDataFrame([row], FACT_MESSAGE_DERIVED_TOPICS.schema)
    with pytest.raises(Exception, match="confidence_in_unit_interval"):
        storage.append(bad, config, "fact_message_derived_topics")
    missing_key = spark.createDataFrame([{**row, "topic_confidence": 0.5}], FACT_MESSAGE_DERIVED_TOPICS.schema)
    storage.append(missing_key, config, "fact_message_derived_topics")
    with pytest.raises(Exception, match="topic_assignment_id"):
        spark.sql(
            f"INSERT INTO delta.`{config.table_path('fact_message_derived_topics')}` "
            "SELECT NULL, 2, 3, 0.5, 'k', 'v', current_timestamp(), 0.25, 20261101, 4, 5, 'en', 1.0"
        )
    assert storage.read(spark, config, "fact_message_derived_topics").count() == 1
