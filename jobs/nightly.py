"""`nightly --date D`: ingest, topics, aggregate and retention for landing day D, in order;
`backfill --from D1 --to D2`: nightly for every landing day in between.

Each step prints its own progress lines; nightly adds one summary line. A failing step stops
the run with the step named; every step is idempotent, so rerunning the night repairs it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from pyspark.sql import SparkSession

from jobs import aggregate, ingest, retention, topics
from jobs.config import Config
from jobs.progress import LOGGER


class StepFailedError(RuntimeError):
    """A nightly step failed; the message names it."""


def yesterday_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def steps_for(day: dt.date) -> list[tuple[str, Callable[[SparkSession, Config], dict[str, int]]]]:
    return [
        ("ingest", lambda spark, config: ingest.run_day(spark, config, day)),
        ("topics", lambda spark, config: topics.run_day(spark, config, day)),
        ("aggregate", lambda spark, config: aggregate.run_day(spark, config, day)),
        ("retention", lambda spark, config: retention.run_as_of(spark, config, day)),
    ]


def run_night(spark: SparkSession, config: Config, day: dt.date) -> dict[str, dict[str, int]]:
    started = time.perf_counter()
    results: dict[str, dict[str, int]] = {}
    for name, run_step in steps_for(day):
        try:
            results[name] = run_step(spark, config)
        except Exception as error:
            cause = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise StepFailedError(f"nightly {day}: step '{name}' failed: {cause}") from error
    ingested = results["ingest"]
    LOGGER.info(
        "nightly %s done in %.1fs: %s lines, %s messages, %s quarantined, %s duplicates; "
        "%s topic rows; %s dates aggregated",
        day, time.perf_counter() - started, f"{ingested['lines_read']:,}", f"{ingested['messages']:,}",
        f"{ingested['quarantined']:,}", f"{ingested['duplicates']:,}",
        f"{results['topics'].get('assignments', 0):,}", results["aggregate"].get("dates", 0),
    )
    return results


def run(spark: SparkSession, config: Config, args: Any) -> None:
    run_night(spark, config, args.date or yesterday_utc())


def run_backfill(spark: SparkSession, config: Config, args: Any) -> None:
    if args.end < args.start:
        raise ValueError(f"--to {args.end} is before --from {args.start}")
    day = args.start
    while day <= args.end:
        run_night(spark, config, day)
        day += dt.timedelta(days=1)
