"""Run history (`pipeline_runs`) and what happens when two runs write the same tables at once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import cli, ingest, storage
from jobs.concurrency import retrying_conflicts
from jobs.config import Config
from tests.conftest import install_warehouse, make_config

DAY = "2026-03-02"


def _write_day(config: Config, day: str = DAY) -> None:
    folder = Path(config.landing_day_path(day))
    folder.mkdir(parents=True, exist_ok=True)
    events = [
        {"schema_version": 1, "event_id": f"e{n}", "event_type": "message_sent", "server_ts": f"{day}T10:00:0{n}Z",
         "client_ts": None, "user_id": f"u{n % 2}", "device": None, "message_id": f"m{n}", "conversation_id": "c1",
         "message_type": "text", "text": "hi", "media_count": 0, "size_bytes": 2, "seq": n + 1}
        for n in range(4)
    ]
    (folder / "events-0.json").write_text("".join(json.dumps(e) + "\n" for e in events) + "not json\n")


def _yaml(tmp_path: Path, config: Config) -> Path:
    path = tmp_path / "conf.yaml"
    path.write_text(f"landing_path: {config.landing_path}\nwarehouse_path: {config.warehouse_path}\n"
                    "spark:\n  shuffle_partitions: 2\n")
    return path


def test_every_run_is_recorded_failed_ones_too(spark: SparkSession, prepared: Config, tmp_path: Path) -> None:
    config = prepared
    _write_day(config)
    conf = str(_yaml(tmp_path, config))
    assert cli.main(["ingest", "--date", DAY, "--conf", conf]) == 0
    assert cli.main(["delete-users", "--requests", str(tmp_path / "missing.txt"), "--conf", conf]) == 1
    assert cli.main(["nightly", "--conf", conf]) == 0  # no --date: yesterday, UTC
    runs = storage.read(spark, config, "pipeline_runs").orderBy("started_at").collect()
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert [(r["command"], r["status"], r["dates"]) for r in runs] == [
        ("ingest", "succeeded", [dt.date(2026, 3, 2)]),
        ("delete-users", "failed", []),
        ("nightly", "succeeded", [yesterday]),
    ]
    ingest_run, failed_run, _ = runs
    steps = {s["step"]: s for s in ingest_run["steps"]}
    assert steps["ingest.read"]["rows_read"] == 5
    assert steps["ingest.quarantine"]["rows_quarantined"] == 1
    assert steps["ingest.messages"]["rows_written"] == 4
    assert ingest_run["error_message"] is None and ingest_run["finished_at"] >= ingest_run["started_at"]
    assert failed_run["error_message"].startswith("FileNotFoundError: no erasure request file")


def test_two_ingests_of_one_day_at_once_retry_and_end_as_one(
    spark: SparkSession, tmp_path: Path, warehouse_template: Path
) -> None:
    """Delta lets one of two conflicting commits through; the other run starts again on the new
    state, which is safe because ingest is idempotent. The tables end as after one run."""
    tables = ("fact_message_events", "dim_users", "quarantine", "ingested_events", "ingest_affected_dates")
    once = install_warehouse(warehouse_template, make_config(tmp_path / "once"))
    _write_day(once)
    ingest.run_day(spark, once, dt.date.fromisoformat(DAY))

    twice = install_warehouse(warehouse_template, make_config(tmp_path / "twice"))
    _write_day(twice)
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            retrying_conflicts(lambda: ingest.run_day(spark, twice, dt.date.fromisoformat(DAY)), first_pause=0.5)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert errors == []
    for name in tables:
        expected = storage.read(spark, once, name).drop("processed_timestamp")
        actual = storage.read(spark, twice, name).drop("processed_timestamp")
        if name == "quarantine":  # the source file's path differs between the two warehouses
            expected, actual = (
                frame.withColumn("source_file", F.lit("")).drop("quarantine_id") for frame in (expected, actual)
            )
        assert sorted(map(tuple, actual.collect()), key=repr) == sorted(map(tuple, expected.collect()), key=repr), name
