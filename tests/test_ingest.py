"""Ingest on the contract's worked example, and its privacy, dedup and late-status rules."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import ingest, session, storage
from jobs.config import Config
from jobs.transforms import events as ev
from jobs.transforms.dates import date_of_key
from tests.conftest import EXAMPLES, landing_events
from tests.reliability import record

ISO_MICROS = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
MESSAGE_COLUMNS = (
    "message_id", "conversation_id", "sender_user_id", "date", "message_type", "server_ts", "client_ts",
    "has_text", "character_count", "message_size_bytes", "media_count", "message_sequence", "is_reply",
    "status", "first_delivered_ts", "first_read_ts", "device_id", "device_type", "platform", "app_version",
    "os_version", "network_type",
)


def messages_with_natural_ids(spark: SparkSession, config: Config) -> DataFrame:
    """fact_message_events in the shape of expected/messages.csv (strings, natural ids)."""
    def table(name: str) -> DataFrame:
        return storage.read(spark, config, name)

    def text(column: str) -> F.Column:
        return F.col(column).cast("string")

    def python_bool(column: str) -> F.Column:
        return F.when(F.col(column), "True").otherwise("False")

    return (
        table("fact_message_events")
        .join(table("dim_conversations").select("conversation_key", "conversation_id"), "conversation_key", "left")
        .join(
            table("dim_users").select(
                F.col("user_key").alias("sender_user_key"), F.col("user_id").alias("sender_user_id")
            ),
            "sender_user_key", "left",
        )
        .join(table("dim_message_types").select("message_type_key", "message_type_name"), "message_type_key", "left")
        .join(table("dim_message_status").select("message_status_key", "status_name"), "message_status_key", "left")
        .join(table("dim_devices"), "device_key", "left")
        .select(
            "message_id", "conversation_id", "sender_user_id",
            F.date_format(date_of_key("date_key"), "yyyy-MM-dd").alias("date"),
            F.col("message_type_name").alias("message_type"),
            F.date_format("server_received_timestamp", ISO_MICROS).alias("server_ts"),
            F.date_format("message_timestamp", ISO_MICROS).alias("client_ts"),
            python_bool("has_text").alias("has_text"),
            text("character_count").alias("character_count"),
            text("message_size_bytes").alias("message_size_bytes"),
            text("media_count").alias("media_count"),
            text("message_sequence").alias("message_sequence"),
            python_bool("is_reply").alias("is_reply"),
            F.col("status_name").alias("status"),
            F.date_format("first_delivered_timestamp", ISO_MICROS).alias("first_delivered_ts"),
            F.date_format("first_read_timestamp", ISO_MICROS).alias("first_read_ts"),
            "device_id", "device_type", "platform", "app_version", "os_version", "network_type",
        )
    )


def test_example_messages_match_expected(spark: SparkSession, example_run: dict) -> None:
    expected = (
        spark.read.option("header", True).csv(str(EXAMPLES / "expected" / "messages.csv"))
        .select(*MESSAGE_COLUMNS)
    )
    actual = messages_with_natural_ids(spark, example_run["config"])
    # Table columns carry comments as metadata; the CSV's do not.
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_example_counts_match_expected(example_run: dict) -> None:
    expected = json.loads((EXAMPLES / "expected" / "counts.json").read_text())
    days = example_run["ingest_counts"].values()
    assert sum(d["lines_read"] for d in days) == expected["lines_read"]
    assert sum(d["quarantined"] for d in days) == expected["bad_records"]
    assert sum(d["duplicates"] for d in days) == expected["duplicate_events"]
    assert sum(d["accepted"] for d in days) == expected["distinct_valid_events"]
    for day in days:
        assert day["lines_read"] == day["accepted"] + day["duplicates"] + day["quarantined"]


def test_quarantine_keeps_reason_and_source(spark: SparkSession, example_run: dict) -> None:
    quarantine = storage.read(spark, example_run["config"], "quarantine")
    assert quarantine.count() == 26
    first_day = quarantine.where(F.col("source_file").endswith("dt=2026-11-01/events-0.json"))
    first = first_day.orderBy("line_number").first()
    assert (first["line_number"], first["reason"]) == (322, "invalid_json")
    assert first["record_json"] is None and first["line_length"] == 30


def test_no_text_anywhere_in_the_warehouse(example_run: dict) -> None:
    """Every message text of the example (20+ characters) is looked for in every file."""
    texts: set[bytes] = set()
    for event in landing_events(EXAMPLES / "landing"):
        if isinstance(event.get("text"), str) and len(event["text"]) >= 20:
            texts.add(event["text"].encode("utf-8"))
    assert len(texts) > 300
    warehouse_root = Path(example_run["config"].warehouse_path)
    files = [p for p in warehouse_root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    leaks = [(p.name, t[:20]) for p in files for t in texts if t in p.read_bytes()]
    assert leaks == []


def write_landing(config: Config, day: str, events: list[dict]) -> None:
    folder = Path(config.landing_day_path(day))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events-0.json").write_text("".join(json.dumps(e) + "\n" for e in events))


def event(event_id: str, event_type: str, ts: str, user: str, **fields: object) -> dict:
    return {"schema_version": 1, "event_id": event_id, "event_type": event_type, "server_ts": ts,
            "client_ts": None, "user_id": user, "device": None, **fields}


def message(event_id: str, ts: str, user: str, message_id: str) -> dict:
    return event(event_id, "message_sent", ts, user, message_id=message_id, conversation_id="c1",
                 message_type="text", text="hello there", media_count=0, size_bytes=10, seq=1)


def status(event_id: str, ts: str, user: str, message_id: str, value: str) -> dict:
    return event(event_id, "message_status", ts, user, message_id=message_id, conversation_id="c1", status=value)


def test_late_status_waits_for_its_message_and_duplicates_across_days(spark: SparkSession, prepared: Config) -> None:
    config = prepared
    write_landing(config, "2026-11-01", [
        status("e1", "2026-11-01T10:00:05Z", "u2", "m1", "read"),
        status("e2", "2026-11-01T10:00:06Z", "u1", "m1", "read"),  # the sender's own: ignored
    ])
    write_landing(config, "2026-11-02", [
        message("e3", "2026-11-01T10:00:00Z", "u1", "m1"),
        status("e1", "2026-11-01T10:00:05Z", "u2", "m1", "read"),  # a duplicate from the day before
    ])
    first = ingest.run_day(spark, config, dt.date(2026, 11, 1))
    assert storage.read(spark, config, "pending_message_status").count() == 2
    second = ingest.run_day(spark, config, dt.date(2026, 11, 2))
    assert (first["accepted"], second["accepted"], second["duplicates"]) == (2, 1, 1)
    fact = storage.read(spark, config, "fact_message_events").select("message_id", "first_read_timestamp")
    assert fact.collect() == [("m1", dt.datetime(2026, 11, 1, 10, 0, 5))]
    assert storage.read(spark, config, "pending_message_status").count() == 0

    before = storage.read(spark, config, "fact_message_events").collect()
    again = ingest.run_day(spark, config, dt.date(2026, 11, 2))
    assert again == second
    assert storage.read(spark, config, "fact_message_events").collect() == before


def test_retry_keeps_the_earliest_even_when_it_lands_later(spark: SparkSession, prepared: Config) -> None:
    config = prepared
    write_landing(config, "2026-11-01", [message("e2", "2026-11-01T10:00:09Z", "u1", "m1")])
    write_landing(config, "2026-11-02", [message("e1", "2026-11-01T10:00:01Z", "u1", "m1")])
    ingest.run_day(spark, config, dt.date(2026, 11, 1))
    ingest.run_day(spark, config, dt.date(2026, 11, 2))
    rows = storage.read(spark, config, "fact_message_events").select("source_event_id", "server_received_timestamp")
    assert rows.collect() == [("e1", dt.datetime(2026, 11, 1, 10, 0, 1))]


def test_dedup_drops_repeats_and_other_days_events_without_shuffling_the_events(
    spark: SparkSession, prepared: Config
) -> None:
    config = prepared
    write_landing(config, "2026-11-01", [message("e1", "2026-11-01T09:00:00Z", "u1", "m1")])
    ingest.run_day(spark, config, dt.date(2026, 11, 1))
    lines = [  # (event_id, file, line) of 2026-11-02's valid lines
        ("e1", "b.json", 1),  # brought by 2026-11-01
        ("e2", "b.json", 2),
        ("e2", "b.json", 3),  # logged twice: the first line stays
        ("e3", "b.json", 4),
        ("e3", "a.json", 7),  # files before lines: this one is first
    ]
    fields = ("message_id", "conversation_id", *ev.DEVICE_PROFILE)
    valid = ev.with_event_keys(
        spark.createDataFrame(
            [(event_id, source, line, dt.datetime(2026, 11, 1, 9), "u1", *[None] * len(fields))
             for event_id, source, line in lines],
            "event_id string, source_file string, line_number long, server_ts timestamp, user_id string, "
            + ", ".join(f"{name} string" for name in fields),
        )
    )

    accepted = ingest._not_seen_before(spark, config, dt.date(2026, 11, 2), valid, [20261101])

    assert_df_equality(
        accepted.select("event_id", "source_file", "line_number"),
        spark.createDataFrame([("e2", "b.json", 2), ("e3", "a.json", 7)], "event_id string, source_file string, "
                              "line_number long"),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    plan = accepted._jdf.queryExecution().executedPlan().toString()
    assert "BroadcastHashJoin" in plan and "LeftAnti" in plan
    assert "Exchange hashpartitioning" not in plan, "the events themselves are shuffled"


def test_corrupt_gzip_is_quarantined_whole(spark: SparkSession, prepared: Config) -> None:
    config = prepared
    folder = Path(config.landing_day_path("2026-11-01"))
    folder.mkdir(parents=True)
    good = gzip.compress(((json.dumps(message("e1", "2026-11-01T10:00:00Z", "u1", "m1")) + "\n") * 50).encode())
    (folder / "events-1.json.gz").write_bytes(good[: len(good) // 2])
    counts = ingest.run_day(spark, config, dt.date(2026, 11, 1))
    assert counts["corrupt_files"] == 1 and counts["lines_read"] == 0
    row = storage.read(spark, config, "quarantine").first()
    assert row["source_file"].endswith("events-1.json.gz") and row["reason"].startswith("corrupt_gzip")
    assert row["line_number"] is None


def test_surrogate_keys_do_not_collide(spark: SparkSession, example_run: dict) -> None:
    config = example_run["config"]
    for table, key, natural in (
        ("dim_users", "user_key", ["user_id"]),
        ("dim_conversations", "conversation_key", ["conversation_id"]),
        ("fact_message_events", "message_event_id", ["message_id"]),
        ("dim_devices", "device_key", ["device_id", "device_type", "platform", "app_version", "os_version",
                                       "network_type"]),
    ):
        rows = storage.read(spark, config, table)
        assert rows.select(key).distinct().count() == rows.select(*natural).distinct().count() == rows.count()


def test_rerunning_a_day_changes_no_row(spark: SparkSession, example_run: dict) -> None:
    config = example_run["config"]
    tables = ("fact_message_events", "dim_users", "dim_conversations", "dim_conversation_participants",
              "dim_devices", "quarantine", "message_status_events", "ingest_affected_dates")
    before = {name: storage.read(spark, config, name).collect() for name in tables}
    counts = ingest.run_day(spark, config, dt.date(2026, 11, 2))
    assert counts == example_run["ingest_counts"]["2026-11-02"]
    for name in tables:
        after = storage.read(spark, config, name).collect()
        assert sorted(map(tuple, after), key=repr) == sorted(map(tuple, before[name]), key=repr), name
    record("reruns", [{"step": "ingest, same day again", "tables_compared": len(tables), "equal": True}],
           count_as="reruns_compared")


def test_a_big_day_gets_more_shuffle_partitions_and_the_same_result(
    spark: SparkSession, prepared: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = prepared
    write_landing(config, "2026-11-02", [
        message("e1", "2026-11-02T10:00:00Z", "u1", "m1"),
        message("e2", "2026-11-02T10:00:01Z", "u2", "m2"),
        message("e1", "2026-11-02T10:00:00Z", "u1", "m1"),  # logged twice
    ])
    # One partition per line: the three lines stand for a day too big for the configured two.
    monkeypatch.setattr(session, "ROWS_PER_SHUFFLE_PARTITION", 1)
    partitions_during_dedup = []
    not_seen_before = ingest._not_seen_before

    def recording(*args: object) -> DataFrame:
        partitions_during_dedup.append(spark.conf.get(session.SHUFFLE_PARTITIONS))
        return not_seen_before(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "_not_seen_before", recording)
    counts = ingest.run_day(spark, config, dt.date(2026, 11, 2))

    assert partitions_during_dedup == ["3"]
    assert spark.conf.get(session.SHUFFLE_PARTITIONS) == "2"
    assert (counts["accepted"], counts["duplicates"], counts["messages"]) == (2, 1, 2)
    fact = storage.read(spark, config, "fact_message_events").select("message_id").orderBy("message_id")
    assert [row["message_id"] for row in fact.collect()] == ["m1", "m2"]


def test_shuffle_partitions_are_restored_when_the_block_fails(spark: SparkSession) -> None:
    with pytest.raises(RuntimeError), session.shuffle_partitions_for(spark, 10 * session.ROWS_PER_SHUFFLE_PARTITION):
        assert spark.conf.get(session.SHUFFLE_PARTITIONS) == "10"
        raise RuntimeError("a step failed")
    assert spark.conf.get(session.SHUFFLE_PARTITIONS) == "2"
    with session.shuffle_partitions_for(spark, 3) as small_day:
        assert small_day == 2
