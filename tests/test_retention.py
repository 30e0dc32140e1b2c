"""retention --as-of D on a copy of the worked example: exactly what is older than each entry's
days goes, whole partitions without rewriting a file, dimensions stay, a rerun changes nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import retention, storage
from jobs.config import Config, parse_config
from tests.conftest import EXAMPLE_DAYS, EXAMPLES
from tests.frames import table_rows
from tests.reliability import record

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 11, 4)
RETENTION_DAYS = {"landing": 2, "fact_message_events": 2, "quarantine": 2, "fact_user_metrics": 0}
KEEP_FROM = dt.date(2026, 11, 2)  # AS_OF minus 2 days: the first date kept
KEEP_FROM_KEY = 20261102
NOT_A_LANDING_DAY = "dt=not-a-date"


@pytest.fixture(scope="module")
def retained(spark: SparkSession, example_run: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    before: Config = example_run["config"]
    root = tmp_path_factory.mktemp("retention")
    shutil.copytree(before.warehouse_path, root / "warehouse")
    shutil.copytree(EXAMPLES / "landing", root / "landing")
    (root / "landing" / NOT_A_LANDING_DAY).mkdir()
    config = parse_config(
        {"landing_path": str(root / "landing"), "warehouse_path": str(root / "warehouse"),
         "retention_days": RETENTION_DAYS, "spark": {"shuffle_partitions": 2}},
        environ={},
    )
    removed = retention.run_as_of(spark, config, AS_OF)
    return {"config": config, "before": before, "root": root, "removed": removed}


def test_exactly_the_old_landing_folders_go(retained: dict) -> None:
    folders = sorted(p.name for p in (Path(retained["root"]) / "landing").iterdir())
    kept_days = [d for d in EXAMPLE_DAYS if dt.date.fromisoformat(d) >= KEEP_FROM]
    assert folders == sorted([*(f"dt={d}" for d in kept_days), NOT_A_LANDING_DAY])
    assert retained["removed"]["landing"] == len(EXAMPLE_DAYS) - len(kept_days) > 0


def test_exactly_the_old_partitions_and_quarantine_rows_go(spark: SparkSession, retained: dict) -> None:
    before, after = retained["before"], retained["config"]
    for table in ("fact_message_events", "message_status_events", "ingested_events"):
        old = storage.read(spark, before, table)
        assert old.where(F.col("date_key") < KEEP_FROM_KEY).count() > 0, table  # something to drop
        assert_df_equality(storage.read(spark, after, table), old.where(f"date_key >= {KEEP_FROM_KEY}"),
                           ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    quarantine = storage.read(spark, before, "quarantine")
    assert_df_equality(storage.read(spark, after, "quarantine"),
                       quarantine.where(f"landing_date >= DATE'{KEEP_FROM.isoformat()}'"),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    # An entry of 0 keeps everything; dimensions are never dropped, so no fact points at a
    # missing dimension row.
    for table in ("fact_user_metrics", "fact_conversation_metrics", "fact_message_derived_topics", "dim_users",
                  "dim_devices", "dim_conversations"):
        assert_df_equality(storage.read(spark, after, table), storage.read(spark, before, table),
                           ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_partitions_are_dropped_without_rewriting_a_file(spark: SparkSession, retained: dict) -> None:
    last = storage.delta_table(spark, retained["config"], "fact_message_events").history(1).first()
    assert last is not None and last["operation"] == "DELETE"
    metrics = last["operationMetrics"]
    assert int(metrics["numRemovedFiles"]) > 0
    assert int(metrics.get("numAddedFiles", 0)) == 0 and int(metrics.get("numCopiedRows", 0)) == 0
    assert int(metrics.get("numDeletionVectorsAdded", 0)) == 0


def test_table_history_retention_is_configured(spark: SparkSession, retained: dict) -> None:
    detail = storage.delta_table(spark, retained["config"], "fact_message_events").detail().first()
    assert detail is not None
    assert {"delta.logRetentionDuration", "delta.deletedFileRetentionDuration"} <= set(detail["properties"])


def test_rerun_changes_nothing(spark: SparkSession, retained: dict) -> None:
    config = retained["config"]
    once = table_rows(spark, config)
    again = retention.run_as_of(spark, config, AS_OF)
    assert all(count == 0 for count in again.values()), again
    assert table_rows(spark, config) == once
    record("reruns", [{"step": "retention, same --as-of again", "tables_compared": len(once), "equal": True}],
           count_as="reruns_compared")
