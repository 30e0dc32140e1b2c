"""End to end over the contract's worked example: the nightly steps for every landing day
in order (the session's `example_run`), and compare the metric tables and two reports with
the expected CSVs (natural ids)."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import report, storage
from jobs.config import Config
from tests.conftest import EXAMPLES

EXPECTED = EXAMPLES / "expected"
LANDING_DAYS = [dt.date(2026, 11, day) for day in (1, 2, 3, 4)]
PRECISION = 1e-6  # tests/data/contract_example/README.md: floats exact to 1e-6
CONVERSATION_COLUMNS = (
    "conversation_id string, date date, total_messages int, total_participants int, "
    "active_participants int, total_characters int, total_media int, "
    "avg_response_time_seconds double, avg_read_receipt_time_seconds double, "
    "messages_per_participant int, engagement_score double"
)
USER_COLUMNS = (
    "user_id string, date date, messages_sent int, conversations_participated int, "
    "new_conversations_started int, total_recipients int, avg_messaging_session_length double, "
    "total_active_conversations int, read_receipts_sent int, avg_response_time_seconds double, "
    "messaging_pattern_json string"
)
DAU_COLUMNS = "date date, daily_active_messengers long"
DELIVERY_COLUMNS = (
    "date date, device_type string, network_type string, message_count long, "
    "avg_delivery_latency double, p95_latency double"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def example(example_run: dict) -> Config:
    """The session's run of the example: ingest, topics and aggregate per landing day, in order."""
    return example_run["config"]


def expected(spark: SparkSession, name: str, schema: str) -> DataFrame:
    return spark.read.csv(str(EXPECTED / name), header=True, schema=schema, escape='"')


def with_dates(spark: SparkSession, config: Config, frame: DataFrame) -> DataFrame:
    dates = storage.read(spark, config, "dim_dates").select("date_key", F.col("full_date").alias("date"))
    return frame.join(dates, on="date_key", how="inner")


def test_conversation_metrics_match_the_example(spark: SparkSession, example: Config) -> None:
    conversations = storage.read(spark, example, "dim_conversations").select(
        "conversation_key", "conversation_id"
    )
    actual = with_dates(
        spark, example,
        storage.read(spark, example, "fact_conversation_metrics")
        .join(conversations, on="conversation_key", how="inner"),
    )
    wanted = expected(spark, "conversation_metrics.csv", CONVERSATION_COLUMNS)
    assert_approx_df_equality(
        actual.select(*wanted.columns), wanted, PRECISION,
        ignore_row_order=True, ignore_nullable=True,
    )


def test_user_metrics_match_the_example(spark: SparkSession, example: Config) -> None:
    users = storage.read(spark, example, "dim_users").select("user_key", "user_id")
    actual = with_dates(
        spark, example,
        storage.read(spark, example, "fact_user_metrics").join(users, on="user_key", how="inner"),
    )
    wanted = expected(spark, "user_metrics.csv", USER_COLUMNS)
    assert_approx_df_equality(
        actual.select(*wanted.columns), wanted, PRECISION,
        ignore_row_order=True, ignore_nullable=True,
    )


def test_dau_and_delivery_reports_match_the_example(spark: SparkSession, example: Config) -> None:
    frames = report.reports(spark, example, dt.date(2026, 11, 2), days=2)
    assert_approx_df_equality(
        frames["daily_active_messengers"], expected(spark, "dau.csv", DAU_COLUMNS), PRECISION,
        ignore_row_order=True, ignore_nullable=True,
    )
    expected_delivery = expected(spark, "delivery.csv", DELIVERY_COLUMNS)
    # chispa's approximate comparison checks nullability even when told not to; the report's
    # keys are never null (they come from fact_hourly_activity), the CSV's may be.
    delivery = spark.createDataFrame(frames["delivery_performance"].collect(), expected_delivery.schema)
    assert_approx_df_equality(delivery, expected_delivery, PRECISION, ignore_row_order=True, ignore_nullable=True)
