"""delete-users and purge on a copy of the worked example: nothing of the erased users is left
in any file, every other user's rows and landing lines are as they were, reruns change nothing,
and their late events cannot bring them back."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import erasure, ingest, purge, storage
from jobs.config import Config, parse_config
from jobs.landing_erasure import without_lines
from jobs.progress import CRASH_AFTER_STEP_ENV, InjectedCrash
from jobs.transforms import keys
from tests.conftest import EXAMPLES, make_config
from tests.frames import table_rows
from tests.reliability import record

ERASED = ("u_000014", "u_000050")  # the busiest sender, and a conversation's creator
NEVER_SEEN = "u_999999"
LATE_DAY = dt.date(2026, 11, 5)

MAX_FILE_SIZE = "spark.databricks.delta.optimize.maxFileSize"
SMALL_FILE_BYTES = 6 << 10

pytestmark = pytest.mark.slow


def _landing_lines(root: Path) -> dict[str, list[bytes]]:
    """Every landing file's lines (decompressed), ends kept, by path relative to `root`."""
    files = {}
    for path in sorted(root.rglob("*.json*")):
        if path.name.startswith("."):  # Hadoop's checksum side files (.name.crc), not landing data
            continue
        content = path.read_bytes()
        if path.suffix == ".gz":
            content = gzip.decompress(content)
        files[str(path.relative_to(root))] = content.splitlines(keepends=True)
    return files


def _user_of(line: bytes) -> str | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event.get("user_id") if isinstance(event, dict) else None


def _their_texts() -> set[bytes]:
    texts = set()
    for lines in _landing_lines(EXAMPLES / "landing").values():
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("user_id") in ERASED and len(event.get("text") or "") >= 12:
                texts.add(event["text"].encode("utf-8"))
    return texts


def _user_keys(spark: SparkSession) -> dict[str, int]:
    rows = (
        spark.createDataFrame([(u,) for u in ERASED], "user_id string")
        .select("user_id", keys.surrogate_key(keys.USER, "user_id").alias("user_key"))
        .collect()
    )
    return {r["user_id"]: int(r["user_key"]) for r in rows}


def _files_whose_range_holds(spark: SparkSession, config: Config, user_keys: list[int]) -> int:
    """Files of fact_message_events whose min/max `sender_user_key` statistics include a key."""
    files = spark.read.json(f"{config.table_path('fact_message_events')}/_delta_log/*.json")
    live_names = [path.rsplit("/", 1)[-1] for path in storage.read(spark, config, "fact_message_events").inputFiles()]
    live = spark.createDataFrame([(n,) for n in live_names], "name string")
    stats = (
        files.where(F.col("add").isNotNull())
        .select(F.element_at(F.split("add.path", "/"), -1).alias("name"),
                F.from_json("add.stats", "minValues struct<sender_user_key:bigint>, "
                            "maxValues struct<sender_user_key:bigint>").alias("stats"))
        .join(live, on="name", how="inner")
    )
    holds = F.lit(False)
    for key in user_keys:
        low, high = F.col("stats.minValues.sender_user_key"), F.col("stats.maxValues.sender_user_key")
        holds = holds | ((low <= key) & (high >= key))
    return stats.where(holds).select("name").distinct().count()


@pytest.fixture(scope="module")
def erased(spark: SparkSession, example_run: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The example's warehouse and landing zone copied, then delete-users, purge (0 hours),
    the same request again, and a late landing day that repeats the erased users' events."""
    before: Config = example_run["config"]
    root = tmp_path_factory.mktemp("erasure")
    shutil.copytree(before.warehouse_path, root / "warehouse")
    shutil.copytree(EXAMPLES / "landing", root / "landing")
    config = parse_config(
        {"landing_path": str(root / "landing"), "warehouse_path": str(root / "warehouse"),
         "purge_retain_hours": 0, "spark": {"shuffle_partitions": 2}},
        environ={},
    )
    spark.conf.set("spark.sql.parquet.compression.codec", "uncompressed")  # so that a byte scan can see values
    # Many small files sorted by sender, as a big day's partition is: erasure should skip most.
    file_size = spark.conf.get(MAX_FILE_SIZE)
    spark.conf.set(MAX_FILE_SIZE, str(SMALL_FILE_BYTES))
    spark.sql(f"OPTIMIZE delta.`{config.table_path('fact_message_events')}` ZORDER BY (sender_user_key)")
    spark.conf.set(MAX_FILE_SIZE, file_size)
    version_before = storage.delta_table(spark, config, "fact_message_events").history(1).first()["version"]
    files_that_can_hold_them = _files_whose_range_holds(spark, config, list(_user_keys(spark).values()))
    try:
        first = erasure.erase_users(spark, config, [*ERASED, NEVER_SEEN])
        purge.purge(spark, config)
        snapshot = table_rows(spark, config)
        again = erasure.erase_users(spark, config, list(ERASED))
        # Their old events land again, late, in a new folder: the tombstones must hold.
        late_folder = root / "landing" / f"dt={LATE_DAY.isoformat()}"
        late_folder.mkdir()
        shutil.copy(EXAMPLES / "landing" / "dt=2026-11-01" / "events-0.json", late_folder / "events-0.json")
        late_counts = ingest.run_day(spark, config, LATE_DAY)
        yield {
            "config": config, "before": before, "root": root, "first": first, "again": again,
            "snapshot": snapshot, "late_counts": late_counts, "version_before": version_before,
            "files_that_can_hold_them": files_that_can_hold_them,
        }
    finally:
        spark.conf.set("spark.sql.parquet.compression.codec", "snappy")


def test_no_trace_in_any_file(spark: SparkSession, erased: dict) -> None:
    traces = {u.encode(): u for u in ERASED}
    for user, key in _user_keys(spark).items():
        traces[str(key).encode()] = f"{user}'s key as text"
        traces[struct.pack("<q", key)] = f"{user}'s key as bytes"
    texts = _their_texts()
    assert len(texts) >= 10
    traces.update({t: "a text of theirs" for t in texts})
    leaks = []
    late_folder = Path(erased["root"]) / "landing" / f"dt={LATE_DAY.isoformat()}"
    for path in Path(erased["root"]).rglob("*"):
        # The late folder landed after the request, on purpose with their lines in it.
        if not path.is_file() or late_folder in path.parents:
            continue
        content = path.read_bytes()
        if path.suffix == ".gz":
            content = gzip.decompress(content)
        leaks += [(str(path.relative_to(erased["root"])), what) for needle, what in traces.items() if needle in content]
    assert leaks == []


def test_other_landing_lines_are_byte_for_byte_intact(erased: dict) -> None:
    original = _landing_lines(EXAMPLES / "landing")
    now = _landing_lines(Path(erased["root"]) / "landing")
    late = f"dt={LATE_DAY.isoformat()}/events-0.json"
    assert set(now) == set(original) | {late}
    removed = 0
    for name, lines in original.items():
        theirs = {n for n, line in enumerate(lines, start=1) if _user_of(line) in ERASED}
        removed += len(theirs)
        assert now[name] == without_lines(b"".join(lines), theirs).splitlines(keepends=True), name
    assert removed == erased["first"].landing_lines_removed > 0


def _without(frame: DataFrame, column: str, values: list[int]) -> DataFrame:
    return frame.where(~F.col(column).isin(values))


def test_every_other_users_rows_are_unchanged(spark: SparkSession, erased: dict) -> None:
    before, after = erased["before"], erased["config"]
    user_keys = list(_user_keys(spark).values())
    for table, column in (
        ("dim_users", "user_key"),
        ("fact_user_metrics", "user_key"),
        ("fact_message_derived_topics", "sender_user_key"),
        ("dim_conversation_participants", "user_key"),
        ("membership_events", "user_key"),
        ("pending_message_status", "user_key"),
        ("activity_daily_senders", "sender_user_key"),
    ):
        expected = _without(storage.read(spark, before, table), column, user_keys)
        assert_df_equality(storage.read(spark, after, table), expected, ignore_row_order=True,
                           ignore_nullable=True, ignore_metadata=True)
    assert_df_equality(storage.read(spark, after, "fact_conversation_metrics"),
                       storage.read(spark, before, "fact_conversation_metrics"),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    # The late day's quarantine rows came after the request (test_rerun_and_late_events_change_nothing).
    assert_df_equality(storage.read(spark, after, "quarantine").where(F.col("landing_date") != F.lit(LATE_DAY)),
                       storage.read(spark, before, "quarantine").where(
                           ~F.coalesce(F.col("user_id").isin(*ERASED), F.lit(False))),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_references_to_their_messages_are_cut_not_deleted(spark: SparkSession, erased: dict) -> None:
    before, after = erased["before"], erased["config"]
    user_keys = list(_user_keys(spark).values())
    old_messages = storage.read(spark, before, "fact_message_events")
    their_ids = [r[0] for r in old_messages.where(F.col("sender_user_key").isin(user_keys))
                 .select("message_event_id").collect()]
    # Other users' messages: unchanged, except that a reply to theirs no longer names it.
    expected = _without(old_messages, "sender_user_key", user_keys).withColumn(
        "replied_to_message_id",
        F.when(F.col("replied_to_message_id").isin(their_ids), F.lit(None)).otherwise(F.col("replied_to_message_id")),
    )
    assert_df_equality(storage.read(spark, after, "fact_message_events"), expected, ignore_row_order=True,
                       ignore_nullable=True, ignore_metadata=True)
    assert expected.where(F.col("is_reply") & F.col("replied_to_message_id").isNull()).count() > 0
    # Other users' receipts of their messages stay, under a key that names no message of theirs.
    old_receipts = _without(storage.read(spark, before, "message_status_events"), "user_key", user_keys)
    new_receipts = storage.read(spark, after, "message_status_events")
    assert new_receipts.where(F.col("message_event_id").isin(their_ids)).count() == 0
    assert_df_equality(new_receipts.drop("message_event_id"), old_receipts.drop("message_event_id"),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    conversations = storage.read(spark, after, "dim_conversations")
    assert conversations.where(F.col("creator_user_key").isin(user_keys)).count() == 0
    assert conversations.count() == storage.read(spark, before, "dim_conversations").count()
    # Dimensions stay consistent: every device a message points at still exists.
    devices = storage.read(spark, after, "dim_devices").select("device_key")
    dangling = storage.read(spark, after, "fact_message_events").where(F.col("device_key").isNotNull()).join(
        devices, on="device_key", how="left_anti")
    assert dangling.count() == 0


def test_erasure_touches_only_files_whose_statistics_can_hold_them(spark: SparkSession, erased: dict) -> None:
    touched, files = erased["first"].files_touched["fact_message_events"]
    assert files >= 10
    assert 0 < touched <= files // 2
    # No more than the files whose sender range, by Delta's statistics, includes one of them.
    assert touched <= erased["files_that_can_hold_them"]


def test_result_and_log(spark: SparkSession, erased: dict) -> None:
    first, again = erased["first"], erased["again"]
    assert first.unknown_user_ids == [NEVER_SEEN]
    with open(EXAMPLES / "expected" / "messages.csv", newline="") as expected:
        their_messages = sum(row["sender_user_id"] in ERASED for row in csv.DictReader(expected))
    assert first.rows_removed["fact_message_events"] == their_messages
    assert first.rows_removed["dim_users"] == 2
    assert not first.nothing_left
    assert again.nothing_left and again.landing_files_rewritten == 0
    assert sorted(again.unknown_user_ids) == sorted(ERASED)
    log = storage.read(spark, erased["config"], "erasure_log").orderBy("requested_at").collect()
    assert [row["nothing_left"] for row in log] == [False, True]
    assert len(log[0]["user_id_hashes"]) == 3 and log[0]["unknown_user_id_hashes"] != []
    assert all(u not in json.dumps([r.asDict() for r in log], default=str) for u in ERASED)


def test_rerun_and_late_events_change_nothing(spark: SparkSession, erased: dict) -> None:
    now = table_rows(spark, erased["config"])
    # The late day adds its own bookkeeping: its affected dates and its quarantine rows.
    assert [name for name, rows in erased["snapshot"].items()
            if now[name] != rows and name not in ("ingest_affected_dates", "quarantine")] == []
    record("reruns", [{"step": "delete-users, same request again", "tables_compared": len(now), "equal": True}],
           count_as="reruns_compared")
    late_quarantine = [row for row in now["quarantine"] if row not in erased["snapshot"]["quarantine"]]
    assert all(str(LATE_DAY) in repr(row) for row in late_quarantine)
    counts = erased["late_counts"]
    assert counts["erased"] > 0
    assert counts["lines_read"] == counts["accepted"] + counts["duplicates"] + counts["quarantined"] + counts[
        "erased"]


def test_time_travel_before_the_purge_is_gone(spark: SparkSession, erased: dict) -> None:
    path = erased["config"].table_path("fact_message_events")
    with pytest.raises(Exception, match=r"(?i)time travel|version|not (be )?reconstruct|DELTA_"):
        spark.read.format("delta").option("versionAsOf", erased["version_before"]).load(path).collect()


def test_killed_midway_then_rerun_equals_a_clean_run(
    spark: SparkSession, example_run: dict, erased: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """delete-users killed after fixing references, then after deleting rows but before the
    landing zone; purge killed after one table: the reruns end where the clean run did."""
    shutil.copytree(example_run["config"].warehouse_path, tmp_path / "warehouse")
    shutil.copytree(EXAMPLES / "landing", tmp_path / "landing")
    config = make_config(tmp_path, purge_retain_hours=0)
    for step in ("erasure.references", "erasure.tables"):
        monkeypatch.setenv(CRASH_AFTER_STEP_ENV, step)
        with pytest.raises(InjectedCrash):
            erasure.erase_users(spark, config, list(ERASED))
    monkeypatch.setenv(CRASH_AFTER_STEP_ENV, "purge.fact_message_events")
    with pytest.raises(InjectedCrash):
        purge.purge(spark, config)
    monkeypatch.delenv(CRASH_AFTER_STEP_ENV)
    erasure.erase_users(spark, config, list(ERASED))
    purge.purge(spark, config)

    assert table_rows(spark, config) == erased["snapshot"]
    clean_landing = _landing_lines(Path(erased["root"]) / "landing")
    for name, lines in _landing_lines(tmp_path / "landing").items():
        assert lines == clean_landing[name], name
    record("crashes", [
        {"step": step, "crash_point": f"after {point}", "killed_by": "InjectedCrash in the driver",
         "tables_compared": len(erased["snapshot"]), "equal": True, "rows_lost": 0}
        for step, point in (("delete-users", "erasure.references"), ("delete-users (2)", "erasure.tables"),
                            ("purge", "purge.fact_message_events"))
    ], count_as="crashes_injected", rows_lost=0)
