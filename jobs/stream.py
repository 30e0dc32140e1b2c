"""`stream [--available-now]`: minute counters for operations, current within a minute.

Spark Structured Streaming reads new landing files (or Kafka records, `stream.source: kafka`),
one landing line per row, and hands each micro-batch to `process_batch`, which:

1. parses and validates the lines with ingest's own parser (`parse_events`; the landing day of
   a line is its `dt=` folder), counts bad lines, and drops the text at once;
2. keeps the events it has not seen (by `event_id`, against `ops_stream_events`, the stream's
   state) and marks those behind the watermark as late: the watermark is the newest
   `server_ts` of the earlier batches minus `stream.watermark_minutes`;
3. recomputes every minute the batch touched (including the minute an earlier retry of one
   of its messages had placed the message in) from the state and MERGEs it into
   `ops_minute_metrics`;
4. writes the batch's row into `ops_stream_batches` last.

Exactly once: Spark's checkpoint replays a batch that did not finish with the same files, and
every write above is keyed (events by id, minutes by minute, the batch by its id) and computed
only from the state as the earlier batches left it, so a replay writes the same rows again.
A batch whose row exists is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import filesystem, storage
from jobs.config import Config
from jobs.landing import without_bom_or_cr
from jobs.progress import LOGGER, InjectedCrash, crash_point
from jobs.transforms import events as ev
from jobs.transforms import ops_metrics
from jobs.transforms.parsing import parse_events
from schemas.tables import DATE_PARTITION, date_key

LANDING_DAY_IN_PATH = r"/dt=(\d{4}-\d{2}-\d{2})/"
LANDING_FILE_NAMES = "*.{json,json.gz}"
# How often the driver looks whether it was asked to stop.
STOP_POLL_SECONDS = 1.0
# After SIGTERM, how long a running micro-batch may take to finish before the query is stopped
# under it (a batch stopped midway is replayed on the next start: nothing is lost).
STOP_GRACE_SECONDS = 120.0
BATCHES, EVENTS, MINUTES = "ops_stream_batches", "ops_stream_events", "ops_minute_metrics"
QUERY_NAME = "chatlake_stream"
# One line per micro-batch (bench/stream_latency.py reads it back): lag is now minus the newest
# server_ts seen, the last figure the batch's own seconds.
PROGRESS_LINE = "stream batch %d: files %d  lines %s  bad %s  late %s  events %s  minutes %d  lag %.0fs  %.1fs"


def run(spark: SparkSession, config: Config, args: Any) -> dict[str, int]:
    stop = StopRequest()
    previous = stop.install()
    try:
        query = start(spark, config, available_now=args.available_now)
        LOGGER.info(
            "stream: %s source, watermark %d min, checkpoint %s%s",
            config.stream.source, config.stream.watermark_minutes, config.stream_checkpoint_path,
            " (available-now: stops when caught up)" if args.available_now else "",
        )
        wait_for(query, stop)
    finally:
        stop.uninstall(previous)
    return {"stopped_by_signal": int(stop.is_set())}


class StopRequest:
    """Set by SIGTERM / SIGINT; the driver then lets the running batch finish and stops."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self, signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        LOGGER.info("stream: signal %d received, stopping after the running micro-batch", signum)
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def install(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {sig: signal.signal(sig, self.set) for sig in (signal.SIGTERM, signal.SIGINT)}

    def uninstall(self, previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Query(Protocol):
    """The part of a StreamingQuery that `wait_for` uses."""

    def awaitTermination(self, timeout: int | None = None) -> bool | None: ...  # noqa: N802
    def stop(self) -> None: ...
    @property
    def status(self) -> dict[str, Any]: ...


def wait_for(query: Query, stop: StopRequest, clock: Callable[[], float] = time.monotonic) -> None:
    """Wait until the query ends by itself (available-now; a failure is raised) or a stop is
    requested; then wait for a running batch to finish (at most STOP_GRACE_SECONDS) and stop."""
    while not stop.is_set():
        if query.awaitTermination(STOP_POLL_SECONDS):  # type: ignore[arg-type]
            return
    deadline = clock() + STOP_GRACE_SECONDS
    while query.status.get("isTriggerActive") and clock() < deadline:
        if query.awaitTermination(STOP_POLL_SECONDS):  # type: ignore[arg-type]
            return
    query.stop()
    LOGGER.info("stream: stopped")


def start(spark: SparkSession, config: Config, *, available_now: bool) -> Any:
    """Start the query (resuming from its checkpoint); returns the StreamingQuery."""
    writer = (
        read_lines(spark, config)
        .writeStream.queryName(QUERY_NAME)
        .option("checkpointLocation", config.stream_checkpoint_path)
        .foreachBatch(_batch_function(spark, config))
    )
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{config.stream.trigger_seconds} seconds")
    return writer.start()


def _batch_function(spark: SparkSession, config: Config) -> Callable[[DataFrame, int], None]:
    def call(batch: DataFrame, batch_id: int) -> None:
        try:
            process_batch(spark, config, batch, batch_id)
        except InjectedCrash as crash:
            # A BaseException ends py4j's callback thread, and the query would wait for its
            # answer forever: an injected crash fails the query instead, as a real error does.
            raise RuntimeError(f"injected crash after step {crash}") from None

    return call


def read_lines(spark: SparkSession, config: Config) -> DataFrame:
    """The stream's rows: `value` (one landing line), `source_file`, `landing_day`, and for
    Kafka the record's `partition` and `offset`."""
    if config.stream.source == "kafka":
        records = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", config.stream.kafka_bootstrap_servers)
            .option("subscribe", config.stream.kafka_topic)
            .option("startingOffsets", "earliest")
            .load()
        )
        return records.select(
            without_bom_or_cr(F.col("value").cast("string")).alias("value"),
            F.lit(None).cast("string").alias("source_file"),
            # A record has no folder: the day the broker received it plays the landing day.
            F.to_date("timestamp").alias("landing_day"),
            "partition",
            "offset",
        )
    landing = config.landing_path.rstrip("/")
    lines = (
        spark.readStream.format("text")
        .option("pathGlobFilter", LANDING_FILE_NAMES)
        # A gzip cut short would fail every restart on the same file; ingest quarantines it.
        .option("ignoreCorruptFiles", "true")
        .load(f"{landing}/dt=*")
    )
    source_file = F.col("_metadata.file_path")
    return lines.select(
        without_bom_or_cr(F.col("value")).alias("value"),
        source_file.alias("source_file"),
        F.to_date(F.regexp_extract(source_file, LANDING_DAY_IN_PATH, 1)).alias("landing_day"),
        F.lit(None).cast("int").alias("partition"),
        F.lit(None).cast("long").alias("offset"),
    )


def query_id(spark: SparkSession, config: Config) -> str:
    """The id of the query the checkpoint belongs to (Spark writes it before the first batch):
    batch ids start again at 0 with a new checkpoint."""
    metadata = filesystem.read_text(spark, f"{config.stream_checkpoint_path.rstrip('/')}/metadata")
    if metadata is None:
        raise RuntimeError(f"no query metadata in the checkpoint {config.stream_checkpoint_path}")
    return str(json.loads(metadata.splitlines()[0])["id"])


def process_batch(spark: SparkSession, config: Config, lines: DataFrame, batch_id: int) -> None:
    # The batch's frame belongs to the query's own session (a clone): every frame it meets
    # must come from that session too.
    spark = lines.sparkSession
    started = _utc_now()
    clock = time.perf_counter()
    query = query_id(spark, config)
    batches = storage.read(spark, config, BATCHES)
    if not batches.where((F.col("query_id") == query) & (F.col("batch_id") == batch_id)).isEmpty():
        LOGGER.info("stream batch %d: already done (a replay after a restart), skipped", batch_id)
        return
    # Everything the earlier batches left: the same on a replay of this batch.
    earlier = ~((F.col("query_id") == query) & (F.col("batch_id") >= batch_id))
    newest_before = batches.where(earlier).agg(F.max("max_server_ts")).first()
    newest = newest_before[0] if newest_before else None
    watermark = newest - dt.timedelta(minutes=config.stream.watermark_minutes) if newest else None

    parsed = (
        lines.withColumn("line_number", F.lit(None).cast(T.LongType()))
        .transform(parse_events(F.col("landing_day"), config.future_tolerance_hours))
        .select("source_file", "reject_reason", "event_id", "event_type", "message_id", "status",
                "server_ts", "client_ts")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    totals = parsed.agg(
        F.count(F.lit(1)).alias("lines"),
        F.count("reject_reason").alias("bad"),
        F.count_distinct("source_file").alias("files"),
        F.max(F.when(F.col("reject_reason").isNull(), F.col("server_ts"))).alias("newest"),
    ).first()
    assert totals is not None
    valid = ev.first_row(parsed.where(F.col("reject_reason").isNull()), "event_id", "server_ts")
    seen = storage.read(spark, config, EVENTS).where(earlier).select("event_id")
    fresh = (
        valid.join(seen, on="event_id", how="left_anti")
        .transform(ops_metrics.ledger_rows(watermark))
        .withColumns({"query_id": F.lit(query), "batch_id": F.lit(batch_id).cast("bigint")})
        .localCheckpoint()
    )
    fresh_counts = fresh.agg(F.count_if(~F.col("late")).alias("events"), F.count_if("late").alias("late")).first()
    assert fresh_counts is not None
    storage.insert_new(spark, config, EVENTS, fresh, ["event_id"])
    crash_point("stream.events")
    minutes = _merge_minutes(spark, config, fresh.where(~F.col("late")), batch_id)
    parsed.unpersist()
    crash_point("stream.minutes")

    newest_now = max((t for t in (newest, totals["newest"]) if t is not None), default=None)
    row = {
        "batch_id": batch_id, "started_at": started, "seconds": time.perf_counter() - clock,
        "files": int(totals["files"]), "lines": int(totals["lines"]), "bad_lines": int(totals["bad"]),
        "late_events": int(fresh_counts["late"]), "events": int(fresh_counts["events"]), "query_id": query,
        "offsets": _offsets(lines) if config.stream.source == "kafka" else None,
        "max_server_ts": newest_now, "watermark": watermark,
    }
    storage.insert_new(
        spark, config, BATCHES, spark.createDataFrame([row], storage.spec_of(BATCHES).schema),
        ["query_id", "batch_id"],
    )
    _prune_state(spark, config, newest_now)
    lag = (_utc_now() - newest_now).total_seconds() if newest_now else 0.0
    LOGGER.info(
        PROGRESS_LINE, batch_id, row["files"], f"{row['lines']:,}", f"{row['bad_lines']:,}", f"{row['late_events']:,}",
        f"{row['events']:,}", minutes, lag, time.perf_counter() - clock,
    )


def _merge_minutes(spark: SparkSession, config: Config, counted: DataFrame, batch_id: int) -> int:
    """Recompute and MERGE every minute the batch's counted events touch, and the minutes that
    earlier retries of its messages had placed them in. Returns how many minutes."""
    state = storage.read(spark, config, EVENTS).where(~F.col("late"))
    new_messages = counted.where(F.col("event_type") == ops_metrics.MESSAGE_SENT).select("message_hash").distinct()
    retries = state.where(F.col("event_type") == ops_metrics.MESSAGE_SENT).join(
        new_messages, on="message_hash", how="left_semi"
    )
    touched = counted.select("minute_start").unionByName(retries.select("minute_start")).distinct()
    touched_rows = [(r["minute_start"]) for r in touched.collect()]
    if not touched_rows:
        return 0
    in_touched = state.join(F.broadcast(touched), on="minute_start", how="left_semi").localCheckpoint()
    sent_there = in_touched.where(F.col("event_type") == ops_metrics.MESSAGE_SENT).select("message_hash").distinct()
    all_retries = state.where(F.col("event_type") == ops_metrics.MESSAGE_SENT).join(
        sent_there, on="message_hash", how="left_semi"
    )
    now = _utc_now()
    metrics = ops_metrics.minute_metrics(in_touched, all_retries).withColumns(
        {"updated_at": F.lit(now), "batch_id": F.lit(batch_id).cast("bigint")}
    )
    spec_columns = storage.spec_of(MINUTES).column_names
    dates = sorted({date_key(m.date()) for m in touched_rows})
    storage.merge(
        spark, config, MINUTES, metrics, ["minute_start"], date_keys=dates,
        update={c: f"s.{c}" for c in spec_columns}, insert_all=True,
    )
    return len(touched_rows)


def _prune_state(spark: SparkSession, config: Config, newest: dt.datetime | None) -> None:
    """Forget events of dates more than `late_data_days` before the watermark's date: a
    duplicate or retry that old is no longer recognised (contract: within the watermark)."""
    if newest is None:
        return
    watermark = newest - dt.timedelta(minutes=config.stream.watermark_minutes)
    horizon = date_key(watermark.date() - dt.timedelta(days=config.late_data_days))
    storage.delete_where(spark, config, EVENTS, f"{DATE_PARTITION} < {horizon}")


def _offsets(lines: DataFrame) -> str:
    """{partition: [first, last]} of a Kafka batch, as JSON."""
    ranges = lines.groupBy("partition").agg(F.min("offset").alias("first"), F.max("offset").alias("last"))
    return json.dumps({str(r["partition"]): [int(r["first"]), int(r["last"])] for r in ranges.collect()},
                      sort_keys=True)


def _utc_now() -> dt.datetime:
    """Now in UTC, naive, as Spark's UTC session reads timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
