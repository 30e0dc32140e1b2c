"""The real-time stream reconciles with the batch (operations.md "The real-time stream").

The worked example's landing days arrive one folder at a time; the stream runs with
`--available-now` after each, so it is stopped and started again between folders. With a
watermark longer than the data's span its minutes equal the same counts taken from the batch
tables of the session's example run; with the default watermark every valid event is counted
either in a minute or as late, once. A run killed between its writes and started again ends
with the same tables. `./spark-submit.sh stream` run as a user runs it stops on SIGTERM with
exit code 0, and a restart counts nothing twice.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import storage, stream
from jobs.config import Config, StreamConfig
from jobs.progress import CRASH_AFTER_STEP_ENV
from jobs.transforms.response_pairs import seconds_between
from tests.conftest import EXAMPLE_DAYS, EXAMPLES, REPO, install_warehouse, make_config

pytestmark = pytest.mark.slow
# Longer than the example's four days: nothing is late.
LONG_WATERMARK_MINUTES = 7 * 24 * 60
EXPECTED_COUNTS = json.loads((EXAMPLES / "expected" / "counts.json").read_text(encoding="utf-8"))
# Means and percentiles of the same values, summed in another order.
PRECISION = 1e-9
COUNTS = ("messages", "status_delivered", "status_read", "status_failed", "latency_messages")
# A JVM's start, the warehouse check and a first micro-batch, on a machine other test runs share.
FIRST_BATCH_TIMEOUT_SECONDS = 900
# After SIGTERM: the running batch's grace, then the query's and the JVM's shutdown.
STOP_TIMEOUT_SECONDS = stream.STOP_GRACE_SECONDS + 60


def run_available_now(spark: SparkSession, config: Config) -> None:
    stream.start(spark, config, available_now=True).awaitTermination()


def arrive(config: Config, day: str) -> None:
    shutil.copytree(EXAMPLES / "landing" / f"dt={day}", Path(config.landing_path) / f"dt={day}")


def arrive_whole(config: Config, day: str, staging: Path) -> None:
    """The day's folder copied aside, then renamed into the landing zone: a running stream
    never lists a half-copied file."""
    shutil.copytree(EXAMPLES / "landing" / f"dt={day}", staging / f"dt={day}")
    (staging / f"dt={day}").rename(Path(config.landing_path) / f"dt={day}")


def wait_until(condition: Callable[[], bool], process: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the stream exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f}s"
        time.sleep(0.5)


def stream_config(root: Path, template: Path, watermark_minutes: int) -> Config:
    """A fresh landing zone and warehouse under `root` for the stream."""
    config = make_config(root)
    config = dataclasses.replace(config, stream=StreamConfig(watermark_minutes=watermark_minutes))
    Path(config.landing_path).mkdir(parents=True)
    return install_warehouse(template, config)


def batch_minutes(spark: SparkSession, config: Config) -> DataFrame:
    """The stream's counters, taken from the batch tables instead."""
    minute = F.date_trunc("minute", "server_received_timestamp").alias("minute_start")
    latency = seconds_between(F.col("server_received_timestamp"), F.col("message_timestamp"))
    messages = storage.read(spark, config, "fact_message_events").groupBy(minute).agg(
        F.count(F.lit(1)).alias("messages"),
        F.count(latency).alias("latency_messages"),
        F.avg(latency).alias("avg_latency_seconds"),
        F.percentile(latency, F.lit(0.95)).alias("p95_latency_seconds"),
    )
    statuses = (
        storage.read(spark, config, "message_status_events")
        .groupBy(F.date_trunc("minute", "status_timestamp").alias("minute_start"))
        .agg(*[F.count_if(F.col("status") == s).alias(f"status_{s}") for s in ("delivered", "read", "failed")])
    )
    both = messages.join(statuses, on="minute_start", how="full")
    return both.select(
        "minute_start",
        *[F.coalesce(F.col(c), F.lit(0)).cast("bigint").alias(c) for c in COUNTS],
        "avg_latency_seconds", "p95_latency_seconds",
    ).where(sum((F.col(c) for c in COUNTS[:4]), F.lit(0)) > 0)


def stream_minutes(spark: SparkSession, config: Config) -> DataFrame:
    rows = storage.read(spark, config, "ops_minute_metrics")
    return rows.select("minute_start", *COUNTS, "avg_latency_seconds", "p95_latency_seconds").where(
        sum((F.col(c) for c in COUNTS[:4]), F.lit(0)) > 0
    )


def plain(frame: DataFrame) -> DataFrame:
    """The rows without the table's column comments and nullability, which the comparison is not about."""
    schema = T.StructType([T.StructField(f.name, f.dataType, True) for f in frame.schema.fields])
    return frame.sparkSession.createDataFrame(frame.collect(), schema)


def batches(spark: SparkSession, config: Config) -> list[dict]:
    rows = storage.read(spark, config, "ops_stream_batches").orderBy("batch_id").collect()
    return [r.asDict() for r in rows]


@pytest.fixture(scope="module")
def long_watermark_run(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory, warehouse_template: Path,
) -> Config:
    """The example's folders arriving one by one, the stream run after each: its config."""
    config = stream_config(tmp_path_factory.mktemp("stream"), warehouse_template, LONG_WATERMARK_MINUTES)
    for day in EXAMPLE_DAYS:
        arrive(config, day)
        run_available_now(spark, config)
    run_available_now(spark, config)  # nothing new: no batch, no change
    return config


def test_folders_arriving_one_by_one_equal_the_batch_with_a_long_watermark(
    spark: SparkSession, long_watermark_run: Config, example_run: dict,
) -> None:
    config = long_watermark_run
    batch = batch_minutes(spark, example_run["config"])
    assert batch.count() > 0
    assert_approx_df_equality(
        plain(stream_minutes(spark, config)), plain(batch), PRECISION, ignore_row_order=True,
    )
    done = batches(spark, config)
    assert [b["batch_id"] for b in done] == list(range(len(EXAMPLE_DAYS)))
    assert sum(b["late_events"] for b in done) == 0
    accepted = sum(int(c["accepted"]) for c in example_run["ingest_counts"].values())
    quarantined = sum(int(c["quarantined"]) for c in example_run["ingest_counts"].values())
    assert sum(b["events"] for b in done) == accepted
    assert sum(b["bad_lines"] for b in done) == quarantined
    assert [b["files"] for b in done] == [len(list((EXAMPLES / "landing" / f"dt={d}").iterdir())) for d in EXAMPLE_DAYS]


def test_default_watermark_counts_each_late_event_once_and_a_killed_batch_replays(
    spark: SparkSession, tmp_path: Path, warehouse_template: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = stream_config(tmp_path, warehouse_template, StreamConfig.watermark_minutes)
    for position, day in enumerate(EXAMPLE_DAYS):
        arrive(config, day)
        if position == 1:
            # Killed after the batch's minutes were written, before its row: the restart
            # replays the batch from the checkpoint.
            monkeypatch.setenv(CRASH_AFTER_STEP_ENV, "stream.minutes")
            with pytest.raises(Exception, match=r"stream\.minutes"):
                run_available_now(spark, config)
            monkeypatch.delenv(CRASH_AFTER_STEP_ENV)
            assert len(batches(spark, config)) == 1
        run_available_now(spark, config)

    done = batches(spark, config)
    assert [b["batch_id"] for b in done] == list(range(len(EXAMPLE_DAYS)))
    late = sum(b["late_events"] for b in done)
    assert late > 0, "the example's late logs arrive days after their events"
    accepted = EXPECTED_COUNTS["distinct_valid_events"]
    assert sum(b["events"] for b in done) + late == accepted
    assert sum(b["bad_lines"] for b in done) == EXPECTED_COUNTS["bad_records"]

    # Every valid event once: counted in its minute, or late; the late ones are in no minute.
    state = storage.read(spark, config, "ops_stream_events")
    assert state.count() == accepted and state.select("event_id").distinct().count() == accepted
    counted_statuses = state.where(~F.col("late") & (F.col("event_type") == "message_status"))
    stream_totals = storage.read(spark, config, "ops_minute_metrics").agg(
        *[F.sum(f"status_{s}").alias(s) for s in ("delivered", "read", "failed")]
    ).first()
    for status in ("delivered", "read", "failed"):
        assert stream_totals[status] == counted_statuses.where(F.col("status") == status).count()
    # A minute that only late events fall in has no row.
    late_minutes = state.where(F.col("late")).select("minute_start").distinct()
    only_late = late_minutes.join(state.where(~F.col("late")), on="minute_start", how="left_anti")
    assert only_late.join(storage.read(spark, config, "ops_minute_metrics"), on="minute_start",
                          how="left_semi").isEmpty()


def test_operations_notebook_shows_the_streams_minutes_and_batches(long_watermark_run: Config, tmp_path: Path) -> None:
    from tests.test_notebooks import cell, drew_an_image, kernel_config, run_notebook, shown_rows

    notebook = run_notebook("operations.ipynb", kernel_config(tmp_path, long_watermark_run))
    (summary,) = shown_rows(cell(notebook, "minutes-table"))
    assert int(summary["minutes"]) > 0
    shown_batches = shown_rows(cell(notebook, "batches-table"))
    assert [int(b["batch_id"]) for b in shown_batches] == list(range(len(EXAMPLE_DAYS)))
    assert [int(b["late_events"]) for b in shown_batches] == [0] * len(EXAMPLE_DAYS)
    for tag in ("minutes-plot", "batches-plot"):
        assert drew_an_image(cell(notebook, tag)), tag


def test_sigterm_stops_the_stream_with_exit_0_and_a_restart_counts_nothing_twice(
    spark: SparkSession, tmp_path: Path, warehouse_template: Path, long_watermark_run: Config,
) -> None:
    config = stream_config(tmp_path, warehouse_template, LONG_WATERMARK_MINUTES)
    conf = tmp_path / "stream.yaml"
    conf.write_text(yaml.safe_dump({
        "landing_path": config.landing_path, "warehouse_path": config.warehouse_path,
        "spark": {"shuffle_partitions": 2},
        "stream": {"trigger_seconds": 1, "watermark_minutes": LONG_WATERMARK_MINUTES},
    }))
    staging = tmp_path / "staging"
    staging.mkdir()
    log = tmp_path / "stream.log"
    arrive(config, EXAMPLE_DAYS[0])
    with log.open("w") as output:
        # Its own session: the clean-up below can end the JVM and the driver with it.
        process = subprocess.Popen(
            [str(REPO / "spark-submit.sh"), "stream", "--conf", str(conf), "--driver-memory", "1g"],
            cwd=REPO, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until(lambda: "stream batch 0:" in log.read_text(), process, FIRST_BATCH_TIMEOUT_SECONDS,
                   "first micro-batch")
        arrive_whole(config, EXAMPLE_DAYS[1], staging)
        # Spark writes a batch's offsets when it starts the batch: the signal comes mid-batch.
        started = Path(config.stream_checkpoint_path) / "offsets" / "1"
        wait_until(started.exists, process, FIRST_BATCH_TIMEOUT_SECONDS, "second micro-batch")
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=STOP_TIMEOUT_SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output_text = log.read_text()
    assert exit_code == 0, output_text[-3000:]
    assert "stream: signal 15 received, stopping after the running micro-batch" in output_text
    assert "stream: stopped" in output_text and "stream done in" in output_text, output_text[-3000:]

    # The rest lands while it is stopped; the restart resumes from the checkpoint.
    for day in EXAMPLE_DAYS[2:]:
        arrive(config, day)
    run_available_now(spark, config)

    assert_approx_df_equality(
        plain(stream_minutes(spark, config)), plain(stream_minutes(spark, long_watermark_run)),
        PRECISION, ignore_row_order=True,
    )
    done = batches(spark, config)
    assert [b["batch_id"] for b in done] == list(range(len(done)))
    assert sum(b["events"] for b in done) == EXPECTED_COUNTS["distinct_valid_events"]
    assert sum(b["bad_lines"] for b in done) == EXPECTED_COUNTS["bad_records"]
