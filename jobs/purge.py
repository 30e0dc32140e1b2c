"""`purge`: make deletions physical in every table.

Deletes with deletion vectors only mark rows; for each table, purge
1. rewrites the files that carry deletion vectors (`REORG TABLE ... APPLY (PURGE)`),
2. removes the files no version within the retention needs (`VACUUM ... RETAIN n HOURS`),
3. sets the history retention from `purge_retain_hours` (`delta.deletedFileRetentionDuration`
   and `delta.logRetentionDuration`) in a commit that writes a checkpoint,
4. with `purge_retain_hours: 0`, also removes the log entries before the newest checkpoint.
   Delta's own log clean-up only removes entries older than a whole day, and the old commit
   files carry the column statistics (minimum and maximum values) of files that held the
   deleted rows: they must go too. Time travel to any older version is then gone, and the
   run says so.
With a retention above zero, the deleted rows stay in files that older versions need until
those versions are older than the retention; a purge after that removes them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pyspark.sql import SparkSession

from jobs import run_history, storage
from jobs.config import Config
from jobs.progress import LOGGER, step
from schemas.tables import ALL_TABLES

PARALLEL_TABLES = 4
CHECKPOINT_INTERVAL = "delta.checkpointInterval"


def run(spark: SparkSession, config: Config, args: Any) -> None:
    del args
    purge(spark, config)


def purge(spark: SparkSession, config: Config) -> dict[str, int]:
    hours = config.purge_retain_hours
    if hours == 0:
        LOGGER.warning(
            "purge: purge_retain_hours is 0: every older version of every table is removed now; "
            "time travel to versions before this purge is gone"
        )
    # Rows that older versions wrote with user ids in plain text are rewritten first, so that
    # the purge of pipeline_runs below removes the files and log entries that held them.
    with step("purge.repair_run_history") as report:
        report.rows_out = run_history.repair(spark, config)
    # The tables are independent and each statement is mostly metadata work, so a few run at once.
    with ThreadPoolExecutor(max_workers=PARALLEL_TABLES) as pool:
        removed = dict(pool.map(lambda spec: (spec.name, _purge_table(spark, config, spec.name)), ALL_TABLES))
    LOGGER.info("purge: %d tables purged with %d hours of history kept", len(ALL_TABLES), hours)
    return removed


def _purge_table(spark: SparkSession, config: Config, name: str) -> int:
    """Returns how many log files went (0 unless the retention is 0)."""
    hours = config.purge_retain_hours
    with step(f"purge.{name}") as report:
        storage.purge_deleted_rows(spark, config, name)
        storage.vacuum(spark, config, name, hours)
        # Setting the retention also commits, and with an interval of 1 that commit writes a
        # checkpoint of the purged state: from it on, no older log entry is needed.
        storage.set_properties(spark, config, name, {**storage.history_properties(config), CHECKPOINT_INTERVAL: "1"})
        storage.unset_properties(spark, config, name, [CHECKPOINT_INTERVAL])
        dropped = storage.drop_log_before_checkpoint(spark, config, name) if hours == 0 else 0
        report.details = {"log_files_dropped": dropped}
    return dropped
