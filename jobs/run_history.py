"""The `pipeline_runs` table: one row per command run, failed runs included.

The row is appended when the command ends, with the figures of every step it ran (seconds,
rows read, written and quarantined). Appends are blind inserts, which Delta never reports as
a conflict, so two commands running at once can both record themselves.

No row names a user: the command line is stored redacted (`--user-ids <3 ids>`), the ids a
run named are kept as keyed hashes in `user_id_hashes` (as `erasure_log` keeps them), and a
delete-users run's `run_id` is its request id in `erasure_log`. `repair` rewrites rows that
older versions of chatlake stored with the ids in plain text; `purge` runs it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import storage
from jobs.config import Config
from jobs.progress import LOGGER, StepReport
from jobs.redaction import USER_IDS_OPTION, redact_arguments, scrub
from jobs.tombstones import user_id_hash_text

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
    user_id_hashes: list[str] = field(default_factory=list)


@runtime_checkable
class NamesUsers(Protocol):
    """What a job returns when the users it acted on were not on its command line
    (`delete-users --requests FILE`): their keyed hashes."""

    user_id_hashes: list[str]


def record(
    spark: SparkSession,
    config: Config,
    run: Run,
    steps: Sequence[StepReport],
    error: str | None = None,
    outcome: object = None,
) -> None:
    """Append the run's row; a failure to record is logged, never raised over the run's own outcome."""
    hashes = outcome.user_id_hashes if isinstance(outcome, NamesUsers) else run.user_id_hashes
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
        sorted(set(hashes)) or None,
    )
    try:
        frame = spark.createDataFrame([row], storage.spec_of("pipeline_runs").schema)
        storage.append(frame, config, "pipeline_runs")
    except Exception as failure:  # the run's own result matters more than its history row
        LOGGER.warning("could not record the run in pipeline_runs: %s", str(failure).splitlines()[0])


def repair(spark: SparkSession, config: Config) -> int:
    """Rewrite rows that name users in plain text (written before the command line was
    redacted): the ids leave `arguments` and `error_message` and become keyed hashes.
    Returns how many rows were rewritten; a second call finds none."""
    table = storage.read(spark, config, "pipeline_runs")
    # Only a command line that still spells ids out: a redacted value starts with "<".
    naming = table.where(F.col("arguments").rlike(f"{USER_IDS_OPTION}(=|\\s+)[^<\\s]"))
    repaired = []
    for row in naming.collect():
        arguments = redact_arguments(row["arguments"].split())
        hashes = {*(row["user_id_hashes"] or ()), *(user_id_hash_text(config, i) for i in arguments.user_ids)}
        error = scrub(row["error_message"], arguments.user_ids) if row["error_message"] else None
        repaired.append((row["run_id"], row["started_at"], arguments.text, error, sorted(hashes)))
    if not repaired:
        return 0
    fixes = spark.createDataFrame(
        repaired, "run_id string, started_at timestamp, arguments string, error_message string, "
        "user_id_hashes array<string>",
    )
    storage.update_matching(
        spark, config, "pipeline_runs", fixes, ["run_id", "started_at"],
        ["arguments", "error_message", "user_id_hashes"],
    )
    LOGGER.info("pipeline_runs: %d run(s) that named users in plain text now name them by keyed hash",
                len(repaired))
    return len(repaired)
