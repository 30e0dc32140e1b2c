"""Ingest's writes touch only their dates: each MERGE into a date-partitioned table carries a
literal date predicate (its commit in the table's history says so), and a MERGE with such a
predicate reads only the files of those partitions (Spark's own scan metrics, "number of files
read", compared with the files in the table)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import ingest, storage
from jobs.config import Config, parse_config

pytestmark = pytest.mark.slow

FILES_READ = "number of files read"
KEYS = {"fact_message_events": ["message_event_id"], "message_status_events": ["event_id"],
        "ingested_events": ["date_key", "event_hash"]}

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
    """The new day's MERGE commit of a table: its predicate."""
    history = storage.delta_table(spark, config, name).history().where(F.col("operation") == "MERGE")
    return [{"predicate": r["operationParameters"]["predicate"]}
            for r in history.orderBy(F.col("version").desc()).limit(1).collect()]


def _most_files_read(spark: SparkSession, action: Callable[[], None]) -> int:
    """Run `action` and return the most files any one of the SQL executions it started read
    (Spark's "number of files read" scan metric, kept in its status store with the UI off)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    as_java = jvm.scala.jdk.javaapi.CollectionConverters.asJava
    store = spark._jsparkSession.sharedState().statusStore()
    seen = {e.executionId() for e in as_java(store.executionsList())}
    action()
    most = 0
    for execution in as_java(store.executionsList()):
        if execution.executionId() in seen:
            continue
        values = store.executionMetrics(execution.executionId())
        for accumulator in {m.accumulatorId() for m in as_java(execution.metrics()) if m.name() == FILES_READ}:
            value = values.get(accumulator)
            if value.isDefined():
                most = max(most, int(str(value.get()).replace(",", "")))
    return most


def test_the_message_merge_reads_only_the_dates_it_changes(spark: SparkSession, new_day: dict) -> None:
    before = new_day["files_before"]["fact_message_events"]
    (merge,) = _merges(spark, new_day["config"], "fact_message_events")
    # The old message's date, and the new message's (which had no file yet).
    assert re.search(rf"date_key#\d+ IN \({OLD_DATE},20261105\)", merge["predicate"]), merge["predicate"]
    assert _count(before) > len(before[OLD_DATE])
    read = (storage.read(spark, new_day["config"], "fact_message_events")
            .where(F.col("message_id").isin(OLD_MESSAGE, "m_new_1"))
            .select("message_id", "date_key").orderBy("message_id").collect())
    assert [tuple(r) for r in read] == [(OLD_MESSAGE, OLD_DATE), ("m_new_1", 20261105)]


@pytest.mark.parametrize("name", ["message_status_events", "ingested_events"])
def test_ledger_inserts_read_only_the_new_days_partitions(spark: SparkSession, new_day: dict, name: str) -> None:
    (merge,) = _merges(spark, new_day["config"], name)
    # Spark writes a one-value IN as an equality.
    assert re.search(r"date_key#\d+ (IN \(20261105\)|= 20261105)", merge["predicate"]), merge["predicate"]


def test_a_status_without_its_message_waits(spark: SparkSession, new_day: dict) -> None:
    pending = storage.read(spark, new_day["config"], "pending_message_status").where(F.col("event_id") == "e-new-3")
    assert pending.count() == 1


def test_other_dates_keep_their_files(spark: SparkSession, new_day: dict) -> None:
    now = _files_by_date(spark, new_day["config"], "fact_message_events")
    before = new_day["files_before"]["fact_message_events"]
    untouched = {k: v for k, v in before.items() if k != OLD_DATE}
    assert untouched and {k: now[k] for k in untouched} == untouched


@pytest.mark.parametrize("name", ["fact_message_events", "message_status_events", "ingested_events"])
def test_a_merge_on_its_dates_reads_only_their_files(
    spark: SparkSession, example_run: dict, tmp_path: Path, name: str
) -> None:
    """The same insert-only MERGE of one day's rows, once limited to that day as ingest writes
    it and once allowed every date: files read against the files in the table."""
    shutil.copytree(example_run["config"].warehouse_path, tmp_path / "warehouse")
    config = parse_config({"landing_path": str(tmp_path / "landing"), "warehouse_path": str(tmp_path / "warehouse"),
                           "spark": {"shuffle_partitions": 2}}, environ={})
    files = _files_by_date(spark, config, name)
    day_rows = storage.read(spark, config, name).where(F.col("date_key") == OLD_DATE)
    keys = KEYS[name]

    pruned = _most_files_read(spark, lambda: storage.insert_new(spark, config, name, day_rows, keys, [OLD_DATE]))
    # Files scanned against files in the table. (A MERGE without the literal dates is not a
    # fair contrast here: Delta's dynamic file pruning sometimes narrows it too, sometimes not.)
    assert 0 < pruned < _count(files), (pruned, files)
