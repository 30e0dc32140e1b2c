"""Ingest's writes touch only their dates: each MERGE into a date-partitioned table carries a
literal date predicate, and Delta reads only the files of those partitions (its own metrics
say how many files the target had before and after skipping)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import ingest, storage
from jobs.config import Config, parse_config

pytestmark = pytest.mark.slow

NEW_DAY = dt.date(2026, 11, 5)
# A message of the example's first day (expected/messages.csv), read again on the new day.
OLD_MESSAGE, OLD_DATE = "m_19beb62a20ae", 20261101


def _line(event_id: str, event_type: str, server_ts: str, **fields: object) -> str:
    event = {"schema_version": 1, "event_id": event_id, "event_type": event_type, "server_ts": server_ts,
             "client_ts": None, "user_id": "u_000080", "device": None, **fields}
    return json.dumps(event) + "\n"


@pytest.fixture(scope="module")
def new_day(spark: SparkSession, example_run: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example's warehouse, then one more landing day: a new message, a late read receipt
    of an old message, and a status of a message that never arrives."""
    root = tmp_path_factory.mktemp("pruning")
    shutil.copytree(example_run["config"].warehouse_path, root / "warehouse")
    folder = root / "landing" / f"dt={NEW_DAY.isoformat()}"
    folder.mkdir(parents=True)
    (folder / "events-0.json").write_text(
        _line("e-new-1", "message_sent", "2026-11-05T09:00:00.000Z", message_id="m_new_1",
              conversation_id="c_08f608be", message_type="text", text="hello", media_count=0, size_bytes=5, seq=900)
        + _line("e-new-2", "message_status", "2026-11-05T09:01:00.000Z", message_id=OLD_MESSAGE,
                conversation_id="c_08f608be", status="read")
        + _line("e-new-3", "message_status", "2026-11-05T09:02:00.000Z", message_id="m_never",
                conversation_id="c_08f608be", status="delivered")
    )
    config = parse_config({"landing_path": str(root / "landing"), "warehouse_path": str(root / "warehouse"),
                           "spark": {"shuffle_partitions": 2}}, environ={})
    files_before = {name: _files_by_date(spark, config, name)
                    for name in ("fact_message_events", "message_status_events", "ingested_events")}
    ingest.run_day(spark, config, NEW_DAY)
    return {"config": config, "files_before": files_before}


def _files_by_date(spark: SparkSession, config: Config, name: str) -> dict[int, set[str]]:
    files = storage.read(spark, config, name).select(F.input_file_name().alias("file"), "date_key").distinct()
    by_date: dict[int, set[str]] = {}
    for row in files.collect():
        by_date.setdefault(row["date_key"], set()).add(row["file"])
    return by_date


def _count(files: dict[int, set[str]]) -> int:
    return sum(len(names) for names in files.values())


def _merges(spark: SparkSession, config: Config, name: str) -> list[dict]:
    """The new day's MERGE commits of a table: predicate and file metrics."""
    history = storage.delta_table(spark, config, name).history().where(F.col("operation") == "MERGE")
    return [
        {"predicate": r["operationParameters"]["predicate"], **{k: int(v) for k, v in r["operationMetrics"].items()
                                                                  if k.startswith("numTargetFiles")}}
        for r in history.orderBy(F.col("version").desc()).limit(1).collect()
    ]


def test_the_message_merge_reads_only_the_dates_it_changes(spark: SparkSession, new_day: dict) -> None:
    before = new_day["files_before"]["fact_message_events"]
    (merge,) = _merges(spark, new_day["config"], "fact_message_events")
    # The old message's date, and the new message's (which had no file yet).
    assert re.search(rf"date_key#\d+ IN \({OLD_DATE},20261105\)", merge["predicate"]), merge["predicate"]
    assert merge["numTargetFilesBeforeSkipping"] == _count(before) > len(before[OLD_DATE])
    assert merge["numTargetFilesAfterSkipping"] == len(before[OLD_DATE])
    read = (storage.read(spark, new_day["config"], "fact_message_events")
            .where(F.col("message_id").isin(OLD_MESSAGE, "m_new_1"))
            .select("message_id", "date_key").orderBy("message_id").collect())
    assert [tuple(r) for r in read] == [(OLD_MESSAGE, OLD_DATE), ("m_new_1", 20261105)]


@pytest.mark.parametrize("name", ["message_status_events", "ingested_events"])
def test_ledger_inserts_read_only_the_new_days_partitions(spark: SparkSession, new_day: dict, name: str) -> None:
    before = new_day["files_before"][name]
    (merge,) = _merges(spark, new_day["config"], name)
    assert re.search(r"date_key#\d+ IN \(20261105\)", merge["predicate"]), merge["predicate"]
    assert merge["numTargetFilesBeforeSkipping"] == _count(before) > 0
    assert merge["numTargetFilesAfterSkipping"] == len(before.get(20261105, set())) == 0


def test_a_status_without_its_message_waits(spark: SparkSession, new_day: dict) -> None:
    pending = storage.read(spark, new_day["config"], "pending_message_status").where(F.col("event_id") == "e-new-3")
    assert pending.count() == 1


def test_other_dates_keep_their_files(spark: SparkSession, new_day: dict) -> None:
    now = _files_by_date(spark, new_day["config"], "fact_message_events")
    before = new_day["files_before"]["fact_message_events"]
    untouched = {k: v for k, v in before.items() if k != OLD_DATE}
    assert untouched and {k: now[k] for k in untouched} == untouched
