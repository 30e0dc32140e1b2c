"""`dim_experiment_assignments` and `fact_experiment_daily` against plain Python
(tests/experiment_reference.py) over the worked example: the expected messages (natural ids)
and the landing zone's conversation_created events, read without chatlake's code."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import storage
from jobs.config import Config
from schemas.tables import FACT_EXPERIMENT_DAILY
from tests import experiment_reference as ref
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow

ASSIGNMENT_COLUMNS = "conversation_id string, experiment string, variant string, assigned_timestamp timestamp"
DAILY_COLUMNS = ", ".join(
    f"{field.name} {field.dataType.simpleString()}"
    for field in FACT_EXPERIMENT_DAILY.schema.fields if field.name != "date_key"
)


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)


def is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def example_creations() -> dict[str, tuple[dt.datetime, str, object]]:
    """conversation_id -> (server_ts, event_id, metadata) of its earliest conversation_created."""
    earliest: dict[str, tuple[dt.datetime, str, object]] = {}
    for path in sorted((EXAMPLES / "landing").glob("dt=*/*.json*")):
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
        events = [json.loads(line) for line in text.splitlines() if line.strip() and is_json(line)]
        for event in events:
            if not (isinstance(event, dict) and event.get("event_type") == "conversation_created"
                    and event.get("schema_version") == 1 and isinstance(event.get("server_ts"), str)
                    and isinstance(event.get("conversation_id"), str)
                    and isinstance(event.get("metadata"), dict | None)):
                continue
            candidate = (instant(event["server_ts"]), event["event_id"], event.get("metadata"))
            known = earliest.get(event["conversation_id"])
            if known is None or candidate[:2] < known[:2]:
                earliest[event["conversation_id"]] = candidate
    return earliest


def example_messages() -> list[ref.Message]:
    with (EXAMPLES / "expected" / "messages.csv").open(encoding="utf-8", newline="") as handle:
        return [
            ref.Message(
                conversation=row["conversation_id"], sender=row["sender_user_id"],
                date=dt.date.fromisoformat(row["date"]), server_micros=ref.micros_of(instant(row["server_ts"])),
                seq=int(row["message_sequence"]), is_read=bool(row["first_read_ts"]),
            )
            for row in csv.DictReader(handle)
        ]


@pytest.fixture(scope="module")
def example(example_run: dict) -> Config:
    return example_run["config"]


def with_ids(spark: SparkSession, config: Config, frame: DataFrame) -> DataFrame:
    ids = storage.read(spark, config, "dim_conversations").select("conversation_key", "conversation_id")
    return frame.join(ids, on="conversation_key", how="inner").drop("conversation_key")


def test_assignments_match_the_example(spark: SparkSession, example: Config) -> None:
    creations = example_creations()
    rows = [
        (conversation, experiment, variant, created)
        for conversation, (created, _, metadata) in creations.items()
        for experiment, variant in ref.assignments_of(metadata)[0].items()
    ]
    assert rows, "the example assigns conversations (old form, groups_v3)"
    actual = with_ids(spark, example, storage.read(spark, example, "dim_experiment_assignments"))
    assert_df_equality(
        actual.select("conversation_id", "experiment", "variant", "assigned_timestamp"),
        spark.createDataFrame(rows, ASSIGNMENT_COLUMNS),
        ignore_row_order=True, ignore_nullable=True, ignore_metadata=True,
    )


def test_experiment_daily_matches_the_example(spark: SparkSession, example: Config) -> None:
    assigned = {conversation: ref.assignments_of(metadata)[0]
                for conversation, (_, _, metadata) in example_creations().items()}
    expected_rows = ref.experiment_daily(example_messages(), assigned)
    assert len(expected_rows) >= 2, "the example's groups_v3 conversations talk on several dates"
    actual = storage.read(spark, example, "fact_experiment_daily")
    dates = storage.read(spark, example, "dim_dates").select("date_key", F.col("full_date").alias("date"))
    assert_df_equality(
        actual.join(dates, on="date_key", how="inner").select("date", *DAILY_COLUMNS_NAMES),
        spark.createDataFrame(expected_rows, f"date date, {DAILY_COLUMNS}"),
        ignore_row_order=True, ignore_nullable=True, ignore_metadata=True,
    )


DAILY_COLUMNS_NAMES = [f.name for f in FACT_EXPERIMENT_DAILY.schema.fields if f.name != "date_key"]
