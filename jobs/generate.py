"""`generate`: synthetic raw events in the landing zone, in the format of raw-events.md.

The world (users, devices, conversations, messages) starts on --start; every folder
dt=D of the generated range holds the lines the collector received on D: that day's events,
late lines and duplicates of the days before, about 1% bad records. The same arguments give
byte-identical files. Spark builds and writes the lines (nothing is held in the driver), and
the part files are then moved to stable names `events-<n>.json` / `events-<n>.json.gz`.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs import filesystem
from jobs.config import Config
from jobs.generator.corruptions import BAD_KINDS, corrupt, land
from jobs.generator.events import (
    churn_events,
    conversation_events,
    message_events,
    messages,
    user_events,
    with_lines,
)
from jobs.generator.world import MAX_DAYS, World
from jobs.progress import LOGGER, step

TEMP_FOLDER = "_generate_tmp"
# Every third file of a day is gzip-compressed: events-1.json.gz, events-4.json.gz, ...
GZIP_EVERY = 3
GZIP_REMAINDER = 1
MESSAGES_PER_RANGE_PARTITION = 250_000
COPY_BUFFER_BYTES = 1 << 16
DEFAULT_BAD_RATE = 0.01
SESSION_SETTINGS = {"spark.sql.session.timeZone": "UTC", "spark.sql.codegen.wholeStage": "false"}


def run(spark: SparkSession, config: Config, args: argparse.Namespace) -> None:
    with step("generate") as report:
        counts = generate(spark, config.landing_path, args.start, args.days,
                          args.messages_per_day, args.seed)
        report.rows_out = counts["lines"]
        report.details.update({key: counts[key] for key in (
            "messages", "bad_lines", "duplicate_lines", "late_lines", "message_retries")})
    LOGGER.info("generate: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))


def generate(spark: SparkSession, landing_path: str, start: dt.date, days: int,
             messages_per_day: int, seed: int, *, bad_rate: float = DEFAULT_BAD_RATE
             ) -> dict[str, int]:
    """Write landing/dt=<start>..dt=<start+days-1> (each replaced) and return what was written:
    lines, message_sent/status lines, planned bad lines (in total and per kind), duplicate copies,
    late lines (landing after their server_ts date) and client retries."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"--days must be between 1 and {MAX_DAYS}, got {days}")
    if messages_per_day < 1:
        raise ValueError(f"--messages-per-day must be 1 or more, got {messages_per_day}")
    world = World(seed=seed, start=start, days=days, messages_per_day=messages_per_day,
                  bad_rate=bad_rate)
    base = landing_path.rstrip("/")
    temp = f"{base}/{TEMP_FOLDER}"
    # date_format renders in the session time zone; the contract's strings are UTC-based.
    # The event expressions are too large for one whole-stage method (64 KB): compiling them
    # per operator avoids a failed compile and its fallback.
    previous: dict[str, str | None] = {key: spark.conf.get(key) for key in SESSION_SETTINGS}
    for key, setting in SESSION_SETTINGS.items():
        spark.conf.set(key, setting)
    try:
        lines = _lines(spark, world)
        observation = Observation("generate")
        observed = lines.observe(observation, *_metrics())
        (
            observed
            # one task per (day, file) writes its single part file, sorted like a log
            .repartition(days * world.files_per_day, "dt", "file")
            .sortWithinPartitions("dt", "file", "arrival_ms", "event_id", "copy")
            .select("dt", "file", "line")
            .write.mode("overwrite").partitionBy("dt", "file").text(temp)
        )
        metrics = {key: int(value or 0) for key, value in observation.get.items()}
    finally:
        for key, old in previous.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)
    if metrics.pop("unchanged_bad_lines"):
        raise RuntimeError("generate: a planned bad record came out unchanged (generator bug)")
    _publish(spark, temp, base, [start + dt.timedelta(days=n) for n in range(days)])
    return {"days": days, "messages": days * messages_per_day, **metrics}


def _lines(spark: SparkSession, world: World) -> DataFrame:
    message_partitions = max(2, world.days * world.messages_per_day
                             // MESSAGES_PER_RANGE_PARTITION)
    events = (
        spark.range(world.total_users + world.days * world.updates_per_day)
        .transform(user_events(world))
        .unionByName(spark.range(world.total_conversations).transform(conversation_events(world)))
        .unionByName(spark.range(world.days * world.churn_per_day).transform(churn_events(world)))
        .unionByName(
            spark.range(0, world.days * world.messages_per_day, 1, message_partitions)
            .transform(messages(world))
            .transform(message_events(world))
        )
    )
    return events.transform(with_lines(world)).transform(land(world)).transform(corrupt(world))


def _metrics() -> list[Any]:
    def count_if(condition: Any, name: str) -> Any:
        return F.sum(F.when(condition, 1).otherwise(0)).alias(name)

    return [
        F.count(F.lit(1)).alias("lines"),
        count_if(F.col("event_type") == "message_sent", "message_sent_lines"),
        count_if(F.col("event_type") == "message_status", "message_status_lines"),
        count_if(F.col("bad_kind").isNotNull(), "bad_lines"),
        *(count_if(F.col("bad_kind") == kind, f"bad_{kind}") for kind in BAD_KINDS),
        count_if(F.col("unchanged_bad"), "unchanged_bad_lines"),
        count_if(F.col("copy") == 1, "duplicate_lines"),
        count_if(F.col("delay") > 0, "late_lines"),
        count_if(F.col("is_retry"), "message_retries"),
    ]


def _raw_fs(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """The Hadoop FileSystem of `path` without client-side .crc files on a local disk."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    fs, hadoop_path = filesystem.hadoop_fs(spark, path)
    if str(fs.getScheme()) == "file":
        fs = jvm.org.apache.hadoop.fs.FileSystem.getLocal(spark.sparkContext._jsc.hadoopConfiguration()).getRaw()
    return fs, hadoop_path


def _publish(spark: SparkSession, temp: str, base: str, days: list[dt.date]) -> None:
    """Replace each day's folder with the written part files under stable names."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    fs, temp_path = _raw_fs(spark, temp)
    hadoop_path = jvm.org.apache.hadoop.fs.Path
    for day in days:
        folder = f"dt={day.isoformat()}"
        target = hadoop_path(f"{base}/{folder}")
        fs.delete(target, True)
        fs.mkdirs(target)
        source = hadoop_path(temp_path, folder)
        if not fs.exists(source):
            continue
        for file_dir in fs.listStatus(source):
            name = str(file_dir.getPath().getName())
            if not file_dir.isDirectory() or not name.startswith("file="):
                continue
            number = int(name.removeprefix("file="))
            parts = [s.getPath() for s in fs.listStatus(file_dir.getPath())
                     if str(s.getPath().getName()).startswith("part-")]
            if len(parts) != 1:
                raise RuntimeError(f"generate: expected one part file in {folder}/{name}, "
                                   f"found {len(parts)}")
            if number % GZIP_EVERY == GZIP_REMAINDER:
                # java.util.zip writes a fixed header (no time stamp): same bytes every run.
                out = jvm.java.util.zip.GZIPOutputStream(
                    fs.create(hadoop_path(target, f"events-{number}.json.gz"), True), COPY_BUFFER_BYTES)
                jvm.org.apache.hadoop.io.IOUtils.copyBytes(fs.open(parts[0]), out,
                                                           COPY_BUFFER_BYTES, True)
            else:
                fs.rename(parts[0], hadoop_path(target, f"events-{number}.json"))
    fs.delete(temp_path, True)
