"""The stream with `stream.source: kafka`, against a real single-node KRaft broker started here.

Every line of the worked example's landing zone is sent as one record value, as a messenger's
backend would hand it over; one `--available-now` run with a long watermark then holds the
counts the example's expected events, bad records and messages (tests/data/contract_example).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import storage, stream
from jobs.config import StreamConfig
from tests.conftest import EXAMPLES, install_warehouse, make_config
from tests.kafka_broker import kafka_broker
from tests.test_stream import EXPECTED_COUNTS, LONG_WATERMARK_MINUTES

pytestmark = pytest.mark.slow
TOPIC = "chatlake-events"


def test_kafka_records_count_as_the_landing_files_do(
    spark: SparkSession, tmp_path: Path, warehouse_template: Path,
) -> None:
    with kafka_broker(tmp_path) as servers:
        lines = spark.read.option("ignoreCorruptFiles", "true").text(
            [str(p) for p in sorted((EXAMPLES / "landing").glob("dt=*"))]
        )
        lines.write.format("kafka").option("kafka.bootstrap.servers", servers).option("topic", TOPIC).save()

        config = install_warehouse(warehouse_template, make_config(tmp_path))
        config = dataclasses.replace(config, stream=StreamConfig(
            source="kafka", watermark_minutes=LONG_WATERMARK_MINUTES,
            kafka_bootstrap_servers=servers, kafka_topic=TOPIC,
        ))
        stream.start(spark, config, available_now=True).awaitTermination()

    (batch,) = storage.read(spark, config, "ops_stream_batches").collect()
    assert (batch["events"], batch["bad_lines"], batch["late_events"], batch["files"]) == (
        EXPECTED_COUNTS["distinct_valid_events"], EXPECTED_COUNTS["bad_records"], 0, 0
    )
    assert batch["lines"] == lines.where("trim(value) != ''").count()
    assert batch["offsets"] and batch["offsets"].startswith("{")
    minutes = storage.read(spark, config, "ops_minute_metrics")
    assert minutes.agg(F.sum("messages")).first()[0] == EXPECTED_COUNTS["messages"]
