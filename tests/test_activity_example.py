"""fact_hourly_activity and fact_activity_rollups on the contract's worked example (the session's
`example_run`), against rows computed here in plain Python from the example's expected messages
(expected/messages.csv) and the conversation_created lines of its landing zone."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import aggregate, storage
from jobs.config import Config
from tests.conftest import EXAMPLES, landing_events, percentile_cont

pytestmark = pytest.mark.slow

PRECISION = 1e-6  # the example's README: floats exact to 1e-6
CONVERSATION_TYPES = {"direct", "group", "channel"}
HOURLY_KEYS = ["date_key", "hour", "conversation_type", "device_type", "network_type"]
ROLLUP_KEYS = ["grain", "period_start", "conversation_type"]


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def expected_messages() -> list[dict[str, str]]:
    with open(EXAMPLES / "expected" / "messages.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def created_conversations() -> dict[str, tuple[str, dt.date]]:
    """conversation_id -> (type, date) of its earliest well-formed conversation_created."""
    earliest: dict[str, tuple[dt.datetime, str]] = {}
    for event in landing_events(EXAMPLES / "landing"):
        kind, conversation = event.get("conversation_type"), event.get("conversation_id")
        if (event.get("event_type") != "conversation_created" or kind not in CONVERSATION_TYPES
                or not isinstance(conversation, str) or not isinstance(event.get("server_ts"), str)):
            continue
        when = instant(event["server_ts"])
        if conversation not in earliest or when < earliest[conversation][0]:
            earliest[conversation] = (when, kind)
    return {conversation: (kind, when.date()) for conversation, (when, kind) in earliest.items()}


def expected_hourly(types: dict[str, str]) -> list[tuple]:
    groups: dict[tuple, list[dict[str, str]]] = defaultdict(list)
    for row in expected_messages():
        server = instant(row["server_ts"])
        key = (int(row["date"].replace("-", "")), server.hour, types.get(row["conversation_id"], "unknown"),
               row["device_type"] or "none", row["network_type"] or "none")
        groups[key].append(row)
    result = []
    for key, rows in groups.items():
        latencies = [(instant(r["server_ts"]) - instant(r["client_ts"])).total_seconds()
                     for r in rows if r["client_ts"]]
        result.append((
            *key, len(rows), len({r["sender_user_id"] for r in rows}), len(latencies),
            sum(latencies) / len(latencies) if latencies else None,
            percentile_cont(latencies, 0.95) if latencies else None,
            sum(1 for r in rows if r["first_delivered_ts"]), sum(1 for r in rows if r["first_read_ts"]),
            sum(1 for r in rows if r["status"] == "failed"),
        ))
    return result


def period_of(grain: str, day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)


def expected_rollups(created: dict[str, tuple[str, dt.date]]) -> list[tuple]:
    types = {conversation: kind for conversation, (kind, _) in created.items()}
    active: dict[tuple, list[dict[str, str]]] = defaultdict(list)
    births: dict[tuple, int] = defaultdict(int)
    for grain in ("week", "month"):
        for row in expected_messages():
            start = period_of(grain, dt.date.fromisoformat(row["date"]))
            for kind in (types.get(row["conversation_id"], "unknown"), "all"):
                active[(grain, start, kind)].append(row)
        for kind, day in created.values():
            for each in (kind, "all"):
                births[(grain, period_of(grain, day), each)] += 1
    result = []
    for key in set(active) | set(births):
        rows = active.get(key, [])
        senders = len({r["sender_user_id"] for r in rows})
        result.append((
            *key, len(rows), senders, len({r["conversation_id"] for r in rows}), births.get(key, 0),
            len(rows) / senders if senders else None, len({r["date"] for r in rows}),
        ))
    return result


@pytest.fixture(scope="module")
def example(example_run: dict) -> Config:
    return example_run["config"]


def frame_like(spark: SparkSession, rows: list[tuple], actual: DataFrame) -> DataFrame:
    return spark.createDataFrame(rows, actual.schema)


def test_hourly_activity_matches_the_example(spark: SparkSession, example: Config) -> None:
    types = {conversation: kind for conversation, (kind, _) in created_conversations().items()}
    actual = storage.read(spark, example, "fact_hourly_activity").orderBy(*HOURLY_KEYS)
    wanted = frame_like(spark, expected_hourly(types), actual).orderBy(*HOURLY_KEYS)
    assert_approx_df_equality(actual, wanted, PRECISION)


def test_a_late_read_receipt_changes_an_hours_read_messages(spark: SparkSession, example_run: dict) -> None:
    """After the first landing day only, some hour of Nov 1 had fewer reads than in the end: the
    receipts that arrived later were counted when aggregate recomputed the date."""
    def reads(config: Config) -> DataFrame:
        return storage.read(spark, config, "fact_hourly_activity").where("date_key = 20261101").select(
            *HOURLY_KEYS, "read_messages"
        )

    final, day_one = reads(example_run["config"]), reads(example_run["day_one"])
    raised = final.alias("f").join(day_one.alias("o"), on=HOURLY_KEYS, how="inner").where(
        F.col("f.read_messages") > F.col("o.read_messages")
    )
    assert raised.count() > 0


def test_rollups_match_the_example(spark: SparkSession, example: Config) -> None:
    actual = storage.read(spark, example, "fact_activity_rollups")
    assert actual.where(F.col("is_final")).count() == 0
    actual = actual.drop("is_final")
    message_periods = {(g, period_of(g, dt.date.fromisoformat(r["date"])))
                       for r in expected_messages() for g in ("week", "month")}
    computed = {(row["grain"], row["period_start"]) for row in actual.select("grain", "period_start").collect()}
    assert message_periods <= computed
    wanted = [row for row in expected_rollups(created_conversations()) if (row[0], row[1]) in computed]
    assert_approx_df_equality(actual.orderBy(*ROLLUP_KEYS),
                              frame_like(spark, wanted, actual).orderBy(*ROLLUP_KEYS), PRECISION)


def test_rerunning_aggregate_changes_no_hourly_or_rollup_row(
    spark: SparkSession, example: Config, tmp_path: Path
) -> None:
    copy = dataclasses.replace(example, warehouse_path=str(tmp_path / "warehouse"))
    shutil.copytree(example.warehouse_path, copy.warehouse_path)
    tables = ("fact_hourly_activity", "fact_activity_rollups", "activity_daily_senders")
    before = {name: sorted(storage.read(spark, copy, name).collect()) for name in tables}
    aggregate.run_day(spark, copy, dt.date(2026, 11, 2))
    for name in tables:
        assert sorted(storage.read(spark, copy, name).collect()) == before[name], name
