"""A run killed between its writes, then run again, ends exactly like a clean run.

The kill is injected after a named step (`CHATLAKE_CRASH_AFTER_STEP`), i.e. after some of a
command's commits and before the rest: in-process as an `InjectedCrash` that nothing of ours
catches, and once for real, a spark-submit process that exits mid-ingest with code 137 and no
clean-up. (delete-users and purge are killed the same way in test_erasure.py.)
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from jobs import aggregate, ingest, topics
from jobs.config import Config, parse_config
from jobs.progress import CRASH_AFTER_STEP_ENV, CRASH_MODE_ENV, KILLED_EXIT_CODE, InjectedCrash
from tests.conftest import EXAMPLE_DAYS, EXAMPLES, REPO, install_warehouse
from tests.frames import table_rows
from tests.reliability import record

pytestmark = pytest.mark.slow
DAY = dt.date.fromisoformat(EXAMPLE_DAYS[0])


def crash_after(monkeypatch: pytest.MonkeyPatch, step: str, run: Callable[[], object]) -> None:
    """Run `run()` with a kill injected right after `step`; the kill must happen."""
    monkeypatch.setenv(CRASH_AFTER_STEP_ENV, step)
    with pytest.raises(InjectedCrash):
        run()
    monkeypatch.delenv(CRASH_AFTER_STEP_ENV)


def example_config(root: Path, template: Path) -> Config:
    config = parse_config(
        {"landing_path": str(EXAMPLES / "landing"), "warehouse_path": str(root / "warehouse"),
         "spark": {"shuffle_partitions": 2}},
        environ={},
    )
    return install_warehouse(template, config)


def test_steps_killed_midway_then_rerun_equal_a_clean_run(
    spark: SparkSession, tmp_path: Path, warehouse_template: Path, example_run: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    killed = example_config(tmp_path / "killed", warehouse_template)
    crash_after(monkeypatch, "ingest.dimensions", lambda: ingest.run_day(spark, killed, DAY))

    # For real: the spark-submit process dies after ingest has written its messages.
    conf = tmp_path / "killed.yaml"
    conf.write_text(f"landing_path: {killed.landing_path}\nwarehouse_path: {killed.warehouse_path}\n"
                    "spark:\n  shuffle_partitions: 2\n")
    result = subprocess.run(
        [str(REPO / "spark-submit.sh"), "ingest", "--date", DAY.isoformat(), "--conf", str(conf),
         "--driver-memory", "1g"],
        cwd=REPO, env={**os.environ, CRASH_AFTER_STEP_ENV: "ingest.messages", CRASH_MODE_ENV: "exit"},
        capture_output=True, text=True, timeout=600, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == KILLED_EXIT_CODE, output[-3000:]
    assert "injected crash after step ingest.messages" in output

    ingest.run_day(spark, killed, DAY)
    crash_after(monkeypatch, "topics.write", lambda: topics.run_day(spark, killed, DAY))
    topics.run_day(spark, killed, DAY)
    crash_after(monkeypatch, "fact_conversation_metrics", lambda: aggregate.run_day(spark, killed, DAY))
    aggregate.run_day(spark, killed, DAY)

    # The clean run: the session's example run, as it stood after the same day.
    expected = table_rows(spark, example_run["day_one"])
    actual = table_rows(spark, killed)
    assert [name for name in expected if actual[name] != expected[name]] == []
    assert min(len(expected[t]) for t in ("fact_message_events", "fact_user_metrics", "quarantine")) > 0
    record("crashes", [
        {"step": step, "crash_point": f"after {point}", "killed_by": how, "tables_compared": len(expected),
         "equal": True, "rows_lost": 0}
        for step, point, how in (
            ("ingest", "ingest.dimensions", "InjectedCrash in the driver"),
            ("ingest (spark-submit)", "ingest.messages", "process exit 137"),
            ("topics", "topics.write", "InjectedCrash in the driver"),
            ("aggregate", "fact_conversation_metrics", "InjectedCrash in the driver"),
        )
    ], count_as="crashes_injected", rows_lost=0)
