"""The `pipeline_runs` table: one row per command run, failed runs included.

The row is appended when the command ends, with the figures of every step it ran (seconds,
rows read, written and quarantined). Appends are blind inserts, which Delta never reports as
a conflict, so two commands running at once can both record themselves.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from jobs import storage
from jobs.config import Config
from jobs.progress import LOGGER, StepReport

SUCCEEDED = "succeeded"
FAILED = "failed"
MAX_ERROR_CHARS = 1_000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class Run:
    command: str
    arguments: str
    dates: list[dt.date]
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: dt.datetime = field(default_factory=_now)


def record(
    spark: SparkSession,
    config: Config,
    run: Run,
    steps: Sequence[StepReport],
    error: str | None = None,
) -> None:
    """Append the run's row; a failure to record is logged, never raised over the run's own outcome."""
    row = (
        run.run_id,
        run.command,
        run.arguments,
        run.dates,
        run.started_at,
        _now(),
        FAILED if error else SUCCEEDED,
        [(s.name, round(s.seconds, 3), s.rows_in, s.rows_out, s.rows_quarantined) for s in steps],
        error[:MAX_ERROR_CHARS] if error else None,
        spark.sparkContext.master,
    )
    try:
        frame = spark.createDataFrame([row], storage.spec_of("pipeline_runs").schema)
        storage.append(frame, config, "pipeline_runs")
    except Exception as failure:  # the run's own result matters more than its history row
        LOGGER.warning("could not record the run in pipeline_runs: %s", str(failure).splitlines()[0])
