"""`delete-users --user-ids U1,U2` (or `--requests FILE`): erase users everywhere, in one run.

What goes: the users' messages and their topic rows, their participations and membership
events, their user metrics, the statuses they reported (delivered and read receipts), their
pending statuses, their quarantine rows, their `dim_users` row, device profiles only their
messages used, and every landing line whose `user_id` is theirs. What stays, stripped of
their keys: other users' replies to their messages (`replied_to_message_id` becomes null),
other users' receipts of their messages (the message key is replaced by a keyed hash, so
`read_receipts_sent` keeps its count), conversations they created (`creator_user_key` and
`created_event_id` become null). Conversation metrics name no user and keep their counts.

Every delete is a Delta MERGE against a broadcast table of the requested keys; the keys are
also spelled out as a literal IN list so that Delta skips files whose statistics cannot hold
them. With deletion vectors the rows are only marked: `purge` makes it physical.

Order matters for a crash: references to the users' messages are fixed while those messages
still exist, and the messages go last, so a rerun finds whatever is left and finishes it.
The request is logged in `erasure_log` (keyed hashes, never ids) once everything is gone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import filesystem, landing_erasure, redaction, storage
from jobs.config import Config
from jobs.progress import LOGGER, step
from jobs.tombstones import user_id_hash
from jobs.transforms import keys

# Above this many keys the literal IN list stops paying for itself in planning time.
MAX_LITERAL_KEYS = 1_000
ERASED_MESSAGE_DOMAIN = "erased_message"


@dataclass
class ErasureResult:
    request_id: str
    requested: int
    unknown_user_ids: list[str]
    # Keyed hashes of the requested ids: what pipeline_runs records of the request.
    user_id_hashes: list[str] = field(default_factory=list)
    rows_removed: dict[str, int] = field(default_factory=dict)
    # per table: (files the delete changed, files the table had)
    files_touched: dict[str, tuple[int, int]] = field(default_factory=dict)
    landing_lines_removed: int = 0
    landing_files_rewritten: int = 0

    @property
    def nothing_left(self) -> bool:
        return not any(self.rows_removed.values()) and not self.landing_lines_removed


def read_requests(spark: SparkSession, path: str) -> list[str]:
    """One user id per line; blank lines and `#` comments are skipped."""
    text = filesystem.read_text(spark, path)
    if text is None:
        raise FileNotFoundError(f"no erasure request file at {path}")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def run(spark: SparkSession, config: Config, args: Any) -> ErasureResult:
    user_ids = args.user_ids if args.user_ids else read_requests(spark, args.requests)
    if not user_ids:
        raise ValueError(f"{args.requests} names no user id")
    return erase_users(spark, config, user_ids, request_id=getattr(args, "run_id", None))


def erase_users(
    spark: SparkSession, config: Config, user_ids: Sequence[str], request_id: str | None = None
) -> ErasureResult:
    """Erase `user_ids`; `request_id` names the request in erasure_log (the command line
    passes its run id, so that pipeline_runs and erasure_log name the same request)."""
    ids = sorted(set(user_ids))
    # From here on no log line or error names them (a --requests file's ids were not on the
    # command line, which protected its own).
    redaction.protect(ids)
    requested = spark.createDataFrame([(i,) for i in ids], "user_id string").select(
        "user_id",
        keys.surrogate_key(keys.USER, "user_id").alias("user_key"),
        user_id_hash(config, F.col("user_id")).alias("user_id_hash"),
    )
    requested_rows = requested.collect()
    user_keys = [int(r["user_key"]) for r in requested_rows]
    # Their surrogate keys appear in the MERGE conditions, and so in a conflict's message.
    redaction.protect(user_keys)
    erasure = _Erasure(spark, config, F.broadcast(requested.select("user_key", "user_id")), user_keys)
    result = ErasureResult(
        request_id=request_id or str(uuid.uuid4()), requested=len(ids), unknown_user_ids=[],
        user_id_hashes=sorted(r["user_id_hash"] for r in requested_rows),
    )

    with step("erasure.references") as report:
        their_messages = erasure.their_messages()
        known_ids = erasure.known_user_ids(ids, their_messages)
        result.rows_removed["fact_message_events.replies"] = erasure.detach_replies(their_messages)
        result.rows_removed["message_status_events.receipts_of_their_messages"] = erasure.mask_receipts(
            their_messages
        )
        result.rows_removed["dim_conversations.created_by"] = erasure.forget_creators()
        report.rows_in = len(ids)

    with step("erasure.tables") as report:
        _delete_their_rows(erasure, their_messages, result)
        their_messages.unpersist()
        result.files_touched = dict(erasure.files_touched)
        report.rows_out = sum(result.rows_removed.values())
        touched = result.files_touched.get("fact_message_events", (0, 0))
        report.details = {"fact_files_touched": f"{touched[0]} of {touched[1]}"}

    known_ids |= _erase_landing_lines(spark, config, ids, result)
    result.unknown_user_ids = [i for i in ids if i not in known_ids]
    _log_request(spark, config, result, requested, set(result.unknown_user_ids))
    _say(result)
    return result


def _delete_their_rows(erasure: _Erasure, their_messages: DataFrame, result: ErasureResult) -> None:
    """Delete the users' rows from every table that holds them (the `erasure.tables` step):
    participants are recounted once their spells are gone, their messages go after the
    devices only they used, and dim_users goes last."""
    message_dates = storage.distinct_dates(their_messages)
    for table, column, dates in (
        ("message_status_events", "user_key", None),
        ("pending_message_status", "user_key", None),
        ("membership_events", "user_key", None),
        ("dim_conversation_participants", "user_key", None),
        # A topic row is dated as its message.
        ("fact_message_derived_topics", "sender_user_key", message_dates),
        ("fact_user_metrics", "user_key", None),
        # Never sampled, so it may hold their rows on dates where their messages were not.
        ("activity_daily_senders", "sender_user_key", None),
    ):
        result.rows_removed[table] = erasure.delete_by_key(table, column, dates)
    erasure.recount_participants()
    result.rows_removed["dim_devices"] = erasure.delete_orphan_devices(their_messages)
    result.rows_removed["fact_message_events"] = erasure.delete_by_key(
        "fact_message_events", "sender_user_key", message_dates
    )
    result.rows_removed["quarantine"] = erasure.delete_quarantine_rows()
    result.rows_removed["dim_users"] = erasure.delete_by_key("dim_users", "user_key")


def _erase_landing_lines(spark: SparkSession, config: Config, ids: list[str], result: ErasureResult) -> set[str]:
    """The landing files' lines of the users, found and removed (files rewritten); returns
    the ids that had lines there."""
    with step("erasure.landing_search") as report:
        landing = landing_erasure.find_user_lines(spark, config, ids)
        report.rows_out = landing.lines_found
        report.details = {"files": len(landing.lines_by_file)}

    with step("erasure.landing") as report:
        landing_erasure.rewrite_files(spark, landing)
        result.landing_lines_removed = landing.lines_removed
        result.landing_files_rewritten = landing.files_rewritten
        report.rows_out = landing.lines_removed
        report.details = {"files_rewritten": landing.files_rewritten}
    return set(landing.user_ids_found)


class _Erasure:
    """The statements of one request, sharing the broadcast keys."""

    def __init__(self, spark: SparkSession, config: Config, requested: DataFrame, user_keys: list[int]) -> None:
        self.spark = spark
        self.config = config
        self.requested = requested
        self.user_keys = user_keys
        self.files_touched: dict[str, tuple[int, int]] = {}

    def _in_keys(self, column: str) -> str:
        """A literal IN list for data skipping, or TRUE when there are too many keys for it."""
        if len(self.user_keys) > MAX_LITERAL_KEYS:
            return "TRUE"
        return f"{column} IN ({', '.join(str(k) for k in self.user_keys)})"

    def _outside_keys(self, column: str) -> str:
        """NOT IN the literal list, or TRUE (no exclusion) when there are too many keys for it."""
        if len(self.user_keys) > MAX_LITERAL_KEYS:
            return "TRUE"
        return f"NOT ({self._in_keys(column)})"

    def _last_metric(self, name: str, metric: str) -> int:
        return storage.last_operation_metrics(self.spark, self.config, name, {"MERGE", "DELETE", "UPDATE"}).get(
            metric, 0
        )

    def known_user_ids(self, ids: list[str], their_messages: DataFrame) -> set[str]:
        users = storage.read(self.spark, self.config, "dim_users").where(F.col("user_id").isin(ids))
        quarantined = storage.read(self.spark, self.config, "quarantine").where(F.col("user_id").isin(ids))
        senders = (
            their_messages.select("sender_user_key").distinct()
            .join(self.requested, on=F.col("sender_user_key") == F.col("user_key"), how="inner")
        )
        found = users.select("user_id").union(quarantined.select("user_id")).union(senders.select("user_id"))
        return {r["user_id"] for r in found.distinct().collect()}

    def their_messages(self) -> DataFrame:
        """Keys, dates and devices of the users' messages, held apart from the table they are
        about to be deleted from."""
        messages = (
            storage.read(self.spark, self.config, "fact_message_events")
            .where(F.expr(self._in_keys("sender_user_key")))
            .join(self.requested.select(F.col("user_key").alias("sender_user_key")), on="sender_user_key",
                  how="left_semi")
            .select("sender_user_key", "message_event_id", "date_key", "device_key", "conversation_key")
        )
        return messages.persist(StorageLevel.MEMORY_AND_DISK)

    def detach_replies(self, their_messages: DataFrame) -> int:
        replied = their_messages.select(F.col("message_event_id").alias("replied_to_message_id"))
        # A reply can be on any later date. Their own replies are left alone: they are deleted
        # next, and rewriting them here would spread their rows into new files that the delete
        # must then touch too.
        storage.merge(
            self.spark, self.config, "fact_message_events", F.broadcast(replied), ["replied_to_message_id"],
            date_keys=storage.EVERY_DATE, condition=self._outside_keys("t.sender_user_key"),
            update={"replied_to_message_id": F.lit(None).cast("bigint")},
        )
        return self._last_metric("fact_message_events", "numTargetRowsUpdated")

    def mask_receipts(self, their_messages: DataFrame) -> int:
        erased = their_messages.select("message_event_id")
        masked: Column = F.xxhash64(
            F.lit(self.config.erasure_hash_key), F.lit(ERASED_MESSAGE_DOMAIN), F.col("t.message_event_id")
        )
        storage.merge(
            self.spark, self.config, "message_status_events", F.broadcast(erased), ["message_event_id"],
            date_keys=storage.EVERY_DATE, update={"message_event_id": masked},
        )
        return self._last_metric("message_status_events", "numTargetRowsUpdated")

    def forget_creators(self) -> int:
        storage.merge(
            self.spark, self.config, "dim_conversations",
            self.requested.select(F.col("user_key").alias("creator_user_key")), ["creator_user_key"],
            condition=self._in_keys("t.creator_user_key"),
            update={"creator_user_key": F.lit(None).cast("bigint"), "created_event_id": F.lit(None).cast("string")},
        )
        return self._last_metric("dim_conversations", "numTargetRowsUpdated")

    def delete_by_key(self, name: str, column: str, date_keys: list[int] | None = None) -> int:
        """Delete the rows whose `column` is a requested key; on a date-partitioned table only
        within `date_keys` when given (the dates their rows are known to be on)."""
        files_before = storage.file_count(self.spark, self.config, name)
        if date_keys == []:
            self.files_touched[name] = (0, files_before)
            return 0
        storage.merge(
            self.spark, self.config, name, self.requested.select(F.col("user_key").alias(column)), [column],
            date_keys=storage.EVERY_DATE if date_keys is None else date_keys,
            condition=self._in_keys(f"t.{column}"), delete_matched=True,
            # The source holds keys only, no date: a key matches its rows on any of the dates.
            match_within_dates=date_keys is not None,
        )
        # A file is touched when it gets a deletion vector (a replaced one counts among the
        # added: numTargetDeletionVectorsUpdated is a subset) or is removed whole.
        self.files_touched[name] = (
            self._last_metric(name, "numTargetDeletionVectorsAdded") + self._last_metric(name, "numTargetFilesRemoved"),
            files_before,
        )
        return self._last_metric(name, "numTargetRowsDeleted")

    def recount_participants(self) -> None:
        """`participant_count` from the spells left, as ingest keeps it."""
        memberships = storage.read(self.spark, self.config, "dim_conversation_participants")
        current = (
            memberships.where(F.col("left_timestamp").isNull())
            .groupBy("conversation_key")
            .agg(F.countDistinct("user_key").cast("int").alias("participant_count"))
        )
        storage.merge(
            self.spark, self.config, "dim_conversations", current, ["conversation_key"],
            update={"participant_count": "s.participant_count"},
            update_condition="t.participant_count <> s.participant_count",
        )

    def delete_orphan_devices(self, their_messages: DataFrame) -> int:
        """Device profiles that only the erased users' messages point at."""
        remaining = (
            storage.read(self.spark, self.config, "fact_message_events")
            .join(their_messages.select("message_event_id"), on="message_event_id", how="left_anti")
            .select("device_key")
        )
        orphans = (
            their_messages.where(F.col("device_key").isNotNull())
            .select("device_key")
            .distinct()
            .join(remaining, on="device_key", how="left_anti")
        )
        storage.merge(
            self.spark, self.config, "dim_devices", F.broadcast(orphans), ["device_key"], delete_matched=True
        )
        return self._last_metric("dim_devices", "numTargetRowsDeleted")

    def delete_quarantine_rows(self) -> int:
        storage.merge(
            self.spark, self.config, "quarantine", self.requested.select("user_id"), ["user_id"],
            delete_matched=True,
        )
        return self._last_metric("quarantine", "numTargetRowsDeleted")


def _log_request(
    spark: SparkSession, config: Config, result: ErasureResult, requested: DataFrame, unknown: set[str]
) -> None:
    hashes = requested.select("user_id", "user_id_hash").collect()
    row = (
        result.request_id,
        dt.datetime.now(dt.UTC).replace(tzinfo=None),
        sorted(r["user_id_hash"] for r in hashes),
        sorted(r["user_id_hash"] for r in hashes if r["user_id"] in unknown),
        {k: int(v) for k, v in sorted(result.rows_removed.items())},
        result.landing_lines_removed,
        result.landing_files_rewritten,
        result.nothing_left,
    )
    storage.append(
        spark.createDataFrame([row], storage.spec_of("erasure_log").schema), config, "erasure_log"
    )


def _say(result: ErasureResult) -> None:
    removed = ", ".join(f"{table} {count:,}" for table, count in sorted(result.rows_removed.items()) if count)
    LOGGER.info(
        "delete-users: request %s for %d user(s): %s; landing: %s lines in %s files",
        result.request_id, result.requested, removed or "no rows left to delete",
        f"{result.landing_lines_removed:,}", result.landing_files_rewritten,
    )
    if result.unknown_user_ids:
        # A count only: naming them would put erased (or never seen) ids in the log.
        LOGGER.warning(
            "delete-users: request %s: %d of %d requested user id(s) found nowhere (never seen, or already erased); "
            "erasure_log.unknown_user_id_hashes has their keyed hashes",
            result.request_id, len(result.unknown_user_ids), result.requested,
        )
    if result.nothing_left:
        LOGGER.info("delete-users: nothing was left to delete")
