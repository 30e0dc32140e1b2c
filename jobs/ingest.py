"""`ingest --date D`: landing folder dt=D into the fact, dimension and ledger tables.

Every write is keyed on natural ids (MERGE) or replaces exactly what this landing day owns
(replaceWhere), so a rerun, or a rerun after a crash between two writes, ends with the same
tables as one clean run. Text is turned into `character_count`, `sentiment_score` and `language_code` right
after parsing and dropped before anything is cached or written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import filesystem, storage
from jobs.config import Config
from jobs.landing import LandingDay, read_landing_day
from jobs.progress import LOGGER, step
from jobs.session import shuffle_partitions_for
from jobs.tombstones import erased_user_hashes, flag_erased_users
from jobs.transforms import dates, history_sampling, keys, rules
from jobs.transforms import events as ev
from jobs.transforms.parsing import parse_events
from schemas.tables import date_key, day_of

CLUSTER_COLUMN = "sender_user_key"
# A quarantine row is a few hundred bytes: this keeps a day's file in the tens of megabytes.
QUARANTINE_ROWS_PER_FILE = 200_000
# Positions (file path, line number) of duplicate lines that dedup joins back as a broadcast.
BROADCAST_DROPPED_LINES = 500_000
# Message ids joined as a broadcast against the narrow index of existing messages (8 bytes and
# a hash entry each: tens of megabytes at this bound); more are joined with a shuffle.
BROADCAST_MESSAGE_IDS = 2_000_000
STATUS_ARRAY_TYPE = "array<struct<user_key:bigint,status:string,ts:timestamp>>"
MESSAGE_FIELDS = (
    "conversation_key", "sender_user_key", "message_type_key", "date_key", "time_key", "device_key",
    "message_timestamp", "server_received_timestamp", "message_size_bytes", "character_count",
    "media_count", "message_sequence", "is_reply", "replied_to_message_id", "sentiment_score",
    "language_code", "metadata", "message_id", "has_text", "client_utc_offset_minutes", "source_event_id",
)


def run(spark: SparkSession, config: Config, args: Any) -> None:
    run_day(spark, config, args.date)


def run_day(spark: SparkSession, config: Config, day: dt.date) -> dict[str, int]:
    """Ingest one landing day; returns the counts it printed."""
    read = _read_day(spark, config, day)

    with step("ingest.quarantine") as report:
        _write_quarantine(spark, config, day, read.parsed, read.landing.corrupt_files, read.bad)
        report.rows_out = report.rows_quarantined = read.bad + len(read.landing.corrupt_files)

    # A big day gets more shuffle partitions than the configured few, so that no cached
    # partition of `accepted` outgrows memory; small days keep the configured count.
    with shuffle_partitions_for(spark, read.lines) as shuffle_partitions:
        accepted_count, messages_in = _write_accepted(spark, config, day, read, shuffle_partitions)

    with step("ingest.cluster") as report:
        report.details = {"files": _cluster_by_sender(spark, config, day)}

    counts = {
        "lines_read": read.lines,
        "accepted": accepted_count,
        "duplicates": read.lines - read.erased - read.bad - accepted_count,
        "quarantined": read.bad,
        "erased": read.erased,
        "corrupt_files": len(read.landing.corrupt_files),
        "messages": messages_in,
    }
    _log_counts(day, counts)
    return counts


@dataclass(frozen=True)
class _ReadDay:
    """A landing day parsed, with its line counts."""

    landing: LandingDay
    flagged: DataFrame  # every parsed line with its `erased` flag; persisted until dedup is done
    parsed: DataFrame  # the lines of users not erased, valid or not (`reject_reason`)
    lines: int
    bad: int  # lines of users not erased that fail a check
    erased: int


def _read_day(spark: SparkSession, config: Config, day: dt.date) -> _ReadDay:
    """The `ingest.read` step: the day's lines parsed, erased users flagged, and counted."""
    with step("ingest.read") as report:
        landing = read_landing_day(spark, config, day)
        if not landing.files:
            # A zero-row run, not an error: ingest only adds, so a rerun of a day whose folder
            # retention has removed changes nothing. A day that never landed is said loudly.
            folder = config.landing_day_path(day.isoformat())
            if filesystem.exists(spark, folder):
                LOGGER.warning("landing folder %s has no .json or .json.gz files", folder)
            else:
                LOGGER.warning("landing folder %s does not exist: nothing to ingest for %s", folder, day)
        tombstones = erased_user_hashes(spark, config)
        flagged = (
            landing.lines.transform(parse_events(day, config.future_tolerance_hours))
            .transform(flag_erased_users(config, tombstones))
            .transform(ev.with_text_features)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        totals = flagged.agg(
            F.count(F.lit(1)).alias("read"),
            F.count(F.when(~F.col("erased"), F.col("reject_reason"))).alias("bad"),
            F.count_if("erased").alias("erased"),
        ).first()
        lines_read, bad_lines, erased_lines = (
            (int(totals["read"]), int(totals["bad"]), int(totals["erased"])) if totals else (0, 0, 0)
        )
        # Lines of erased users are dropped before anything is written, quarantine included.
        parsed = flagged.where(~F.col("erased")).drop("erased")
        report.rows_in = lines_read
        report.details = {"files": len(landing.files), "corrupt_files": len(landing.corrupt_files)}
    return _ReadDay(landing, flagged, parsed, lines_read, bad_lines, erased_lines)


def _write_accepted(
    spark: SparkSession, config: Config, day: dt.date, read: _ReadDay, shuffle_partitions: int
) -> tuple[int, int]:
    """The steps from dedup to the affected dates: the valid lines not seen before are
    accepted and merged into the dimensions, facts and ledgers. Returns (accepted, messages)."""
    with step("ingest.dedup") as report:
        valid = ev.with_event_keys(read.parsed.where(F.col("reject_reason").isNull()))
        event_dates = storage.distinct_dates(valid)
        accepted = _not_seen_before(spark, config, day, valid, event_dates).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        accepted_count = accepted.count()
        candidates = read.lines - read.erased - read.bad
        report.rows_in, report.rows_out = candidates, accepted_count
        report.details = {"duplicates": candidates - accepted_count, "shuffle_partitions": shuffle_partitions}
    read.flagged.unpersist()

    with step("ingest.dimensions") as report:
        _merge_devices(spark, config, accepted)
        _merge_users(spark, config, accepted)
        spells_changed = _merge_membership(spark, config, accepted)
        _merge_conversations(spark, config, accepted)
        report.details = {"membership_pairs": spells_changed}

    with step("ingest.messages") as report:
        message_dates, status_dates, messages_in = _merge_messages_and_status(spark, config, accepted)
        report.rows_out = messages_in

    with step("ingest.affected_dates") as report:
        affected = _record_affected_dates(spark, config, day, accepted, message_dates, status_dates)
        storage.insert_new(
            spark, config, "ingested_events",
            accepted.select("date_key", "event_hash", F.lit(day).alias("landing_date")),
            ["date_key", "event_hash"], date_keys=event_dates,
        )
        report.details = {"dates": len(affected)}
    accepted.unpersist()
    return accepted_count, messages_in


def _log_counts(day: dt.date, counts: dict[str, int]) -> None:
    erased = counts["erased"]
    erased_part = f" + erased users' {erased:,}" if erased else ""
    LOGGER.info(
        "ingest %s: read %s = accepted %s + duplicates %s + quarantined %s%s lines; %s corrupt files",
        day, f"{counts['lines_read']:,}", f"{counts['accepted']:,}", f"{counts['duplicates']:,}",
        f"{counts['quarantined']:,}", erased_part, counts["corrupt_files"],
    )


def _cluster_by_sender(spark: SparkSession, config: Config, day: dt.date) -> int:
    """Sort the day's message partition by sender (Z-order on one column), so that each file
    covers a narrow range of `sender_user_key` and an erasure skips the others by their
    statistics. Late messages of earlier dates land in small files that stay unsorted."""
    return storage.zorder_dates(spark, config, "fact_message_events", [date_key(day)], CLUSTER_COLUMN)


def _write_quarantine(
    spark: SparkSession,
    config: Config,
    day: dt.date,
    parsed: DataFrame,
    corrupt_files: list[tuple[str, str]],
    bad_line_count: int,
) -> None:
    bad_lines = parsed.where(F.col("reject_reason").isNotNull()).select(
        F.lit(day).alias("landing_date"),
        "source_file",
        "line_number",
        F.col("reject_reason").alias("reason"),
        "event_id",
        "event_type",
        "user_id",
        "record_json",
        F.col("line_length").cast("int").alias("line_length"),
        "line_sha256",
    )
    whole_files = spark.createDataFrame(
        [(day, path, None, reason, None, None, None, None, None, None) for path, reason in corrupt_files],
        bad_lines.schema,
    )
    quarantined = bad_lines.unionByName(whole_files).withColumn(
        "quarantine_id",
        keys.surrogate_key(keys.QUARANTINE, "source_file", F.coalesce(F.col("line_number"), F.lit(0))),
    )
    # The bad lines come from every read split (hundreds at 5M messages); left as they are,
    # each split would write its own tiny file, which every later delete and purge then opens.
    files = max(1, math.ceil(bad_line_count / QUARANTINE_ROWS_PER_FILE))
    storage.replace_where(
        quarantined.repartition(files), config, "quarantine", f"landing_date = DATE'{day.isoformat()}'"
    )


def _not_seen_before(
    spark: SparkSession, config: Config, day: dt.date, valid: DataFrame, event_dates: list[int]
) -> DataFrame:
    """The first line of each event that no other landing day already brought.

    The lines to drop are found on narrow rows (ids, dates, line positions): repeats within
    the day, and events in the ledger of another landing day. Duplicates carry the same
    server_ts, so only the ledger partitions of this batch's event dates are read. The events
    themselves are never shuffled: they are joined against the dropped lines' positions.
    """
    seen_elsewhere = (
        storage.read_dates(spark, config, "ingested_events", event_dates)
        .where(F.col("landing_date") != F.lit(day))
        .select("date_key", "event_hash")
    )
    brought_before = (
        valid.select("date_key", "event_hash", *ev.LINE_POSITION)
        .join(seen_elsewhere, on=["date_key", "event_hash"], how="left_semi")
        .select(*ev.LINE_POSITION)
    )
    dropped = ev.repeated_lines(valid).unionByName(brought_before).localCheckpoint()
    # Usually a few percent of the day; a folder delivered twice would be too many to broadcast.
    if dropped.count() <= BROADCAST_DROPPED_LINES:
        dropped = F.broadcast(dropped)
    return valid.join(dropped, on=list(ev.LINE_POSITION), how="left_anti")


def _merge_devices(spark: SparkSession, config: Config, accepted: DataFrame) -> None:
    storage.insert_new(spark, config, "dim_devices", ev.device_rows(accepted), ["device_key"])


def _merge_users(spark: SparkSession, config: Config, accepted: DataFrame) -> None:
    stored, incoming = _side("t"), _side("s")
    newer = rules.comes_last(
        incoming("attributes_timestamp"), incoming("attributes_event_id"),
        stored("attributes_timestamp"), stored("attributes_event_id"),
    )
    attribute_columns = (
        "account_type", "messaging_status", "is_test_account", "user_preferences",
        "attributes_timestamp", "attributes_event_id",
    )
    updates: dict[str, str | Column] = {
        c: F.when(newer, incoming(c)).otherwise(stored(c)) for c in attribute_columns
    }
    updates["user_created_at"] = rules.earliest(stored("user_created_at"), incoming("user_created_at"))
    storage.merge(
        spark, config, "dim_users", ev.user_rows(accepted), ["user_key"], update=updates, insert_all=True
    )


def _merge_membership(spark: SparkSession, config: Config, accepted: DataFrame) -> int:
    """Add the batch's joins and leaves to the ledger, then rebuild the spells of every
    (conversation, user) pair they touch from all of that pair's events."""
    batch = ev.membership_rows(accepted)
    storage.insert_new(spark, config, "membership_events", batch, ["event_id"])
    pairs = batch.select("conversation_key", "user_key").distinct()
    pair_count = pairs.count()
    if pair_count == 0:
        return 0
    history = storage.read(spark, config, "membership_events").join(
        F.broadcast(pairs), on=["conversation_key", "user_key"], how="left_semi"
    )
    spells = ev.membership_spells(history)
    storage.merge(
        spark, config, "dim_conversation_participants", spells, ["participant_id"],
        update={c: f"s.{c}" for c in ("left_timestamp", "is_active", "role_in_conversation")}, insert_all=True,
    )
    return pair_count


def _merge_conversations(spark: SparkSession, config: Config, accepted: DataFrame) -> None:
    conversations = ev.conversation_rows(accepted)
    touched = accepted.where(
        F.col("event_type").isin("conversation_created", "participant_joined", "participant_left")
    ).select("conversation_key").distinct()
    current = (
        storage.read(spark, config, "dim_conversation_participants")
        .join(F.broadcast(touched), on="conversation_key", how="left_semi")
        .where(F.col("left_timestamp").isNull())
        .groupBy("conversation_key")
        .agg(F.countDistinct("user_key").cast("int").alias("participant_count"))
    )
    source = conversations.join(current, on="conversation_key", how="left").withColumn(
        "participant_count_known", F.col("participant_count").isNotNull()
    )
    source = source.withColumn("participant_count", F.coalesce("participant_count", F.lit(0)))
    creation_columns = (
        "conversation_type_key", "created_timestamp", "conversation_name", "is_encrypted",
        "is_group_conversation", "privacy_level", "conversation_metadata", "creator_user_key",
        "created_event_id",
    )
    stored, incoming = _side("t"), _side("s")
    # A stored row without a creation event (none seen yet, or its creator erased) takes any.
    earlier_creation = incoming("created_event_id").isNotNull() & (
        stored("created_event_id").isNull()
        | rules.comes_first(
            incoming("created_timestamp"), incoming("created_event_id"),
            stored("created_timestamp"), stored("created_event_id"),
        )
    )
    updates: dict[str, str | Column] = {
        c: F.when(earlier_creation, incoming(c)).otherwise(stored(c)) for c in creation_columns
    }
    updates["last_activity_timestamp"] = F.greatest(stored("last_activity_timestamp"),
                                                    incoming("last_activity_timestamp"))
    updates["participant_count"] = F.when(
        incoming("participant_count_known"), incoming("participant_count")
    ).otherwise(stored("participant_count"))
    spec_columns = storage.spec_of("dim_conversations").column_names
    storage.merge(
        spark, config, "dim_conversations", source, ["conversation_key"],
        update=updates, insert={c: f"s.{c}" for c in spec_columns},
    )


def _merge_messages_and_status(
    spark: SparkSession, config: Config, accepted: DataFrame
) -> tuple[list[int], list[int], int]:
    """The accumulating snapshot: new messages in, and every status known for a message folded
    in as the earliest delivered / read / failed time. Statuses of messages not seen yet wait
    in pending_message_status. Returns (message dates, status-touched message dates, messages).

    Every write is limited to the dates it can touch. The dates of messages that already exist
    (a status's message from an earlier day, or an earlier retry of one of this day's messages)
    come from a narrow index: two columns of the fact table, scanned once against a broadcast
    of the ids in play rather than shuffled whole."""
    statuses = ev.status_rows(accepted)
    storage.insert_new(spark, config, "message_status_events", statuses, ["event_id"])
    pending = storage.read(spark, config, "pending_message_status")
    # Read by the MERGE, by what stays pending and by the dates touched: computed once.
    candidates = ev.first_per_event(
        statuses.unionByName(pending).withColumn("source_file", F.lit("")).withColumn("line_number", F.lit(0))
    ).drop("source_file", "line_number").localCheckpoint()

    messages = ev.message_rows(ev.winning_messages(accepted)).persist(StorageLevel.MEMORY_AND_DISK)
    message_count = messages.count()
    targets = _message_dates(spark, config, messages, candidates)
    applicable = candidates.join(targets.select("message_event_id"), on="message_event_id", how="left_semi")

    source = (
        messages.withColumn("has_message", F.lit(True))
        .join(ev.statuses_per_message(applicable), on="message_event_id", how="full")
        .withColumn("has_message", F.coalesce("has_message", F.lit(False)))
        .withColumn("statuses", F.coalesce("statuses", F.array().cast(STATUS_ARRAY_TYPE)))
    )
    stored, incoming = _side("t"), _side("s")
    # The incoming retry replaces the stored message when it came first.
    wins = incoming("has_message") & rules.comes_first(
        incoming("server_received_timestamp"), incoming("source_event_id"),
        stored("server_received_timestamp"), stored("source_event_id"),
    )
    sender = F.when(wins, incoming("sender_user_key")).otherwise(stored("sender_user_key"))
    updates: dict[str, str | Column] = {
        c: F.when(wins, incoming(c)).otherwise(stored(c)) for c in MESSAGE_FIELDS
    }
    updates.update(_first_statuses(incoming("statuses"), sender, stored))
    inserts: dict[str, str | Column] = {c: incoming(c) for c in ("message_event_id", *MESSAGE_FIELDS)}
    inserts.update(_first_statuses(incoming("statuses"), incoming("sender_user_key")))
    # A new message is kept in full; retention's history sampling may lower the rate later.
    inserts[history_sampling.RATE_COLUMN] = F.lit(history_sampling.FULL)
    # A message's row may move to another date (an earlier retry won), so the MERGE matches on
    # the message alone, within every date one of its rows can be on.
    storage.merge(
        spark, config, "fact_message_events", source, ["message_event_id"],
        date_keys=_distinct_dates(targets), update=updates, insert=inserts, insert_condition="s.has_message",
        match_within_dates=True,
    )
    still_pending = candidates.join(targets.select("message_event_id"), on="message_event_id", how="left_anti")
    storage.overwrite(still_pending.localCheckpoint(), config, "pending_message_status")

    message_dates = _distinct_dates(messages)
    status_dates = _distinct_dates(
        applicable.select("message_event_id").join(targets, on="message_event_id", how="inner")
    )
    messages.unpersist()
    return message_dates, status_dates, message_count


def _side(alias: str) -> Callable[[str], Column]:
    """Columns of one side of a MERGE: `t` (stored) or `s` (incoming)."""
    return lambda name: F.col(f"{alias}.{name}")


def _first_statuses(
    statuses: Column, sender: Column, stored: Callable[[str], Column] | None = None
) -> dict[str, Column]:
    """The snapshot's first delivered / read / failed times and status key from `statuses`,
    each the earlier of the stored time (when a row is stored) and the statuses' first."""
    firsts = {
        "first_delivered_timestamp": rules.first_status_time(statuses, rules.STATUS_DELIVERED, sender),
        "first_read_timestamp": rules.first_status_time(statuses, rules.STATUS_READ, sender),
        "first_failed_timestamp": rules.first_status_time(statuses, rules.STATUS_FAILED),
    }
    if stored is not None:
        firsts = {name: rules.earliest(stored(name), first) for name, first in firsts.items()}
    return {
        **firsts,
        "message_status_key": rules.status_key(
            firsts["first_read_timestamp"], firsts["first_delivered_timestamp"], firsts["first_failed_timestamp"]
        ),
    }


def _message_dates(
    spark: SparkSession, config: Config, messages: DataFrame, candidates: DataFrame
) -> DataFrame:
    """(message_event_id, date_key) of every row the MERGE can touch: this day's messages and
    the existing rows of them or of the candidates' messages, found in the narrow index."""
    in_play = (
        messages.select("message_event_id")
        .unionByName(candidates.select("message_event_id"))
        .distinct()
        .localCheckpoint()
    )
    if in_play.count() <= BROADCAST_MESSAGE_IDS:
        in_play = F.broadcast(in_play)
    existing = (
        storage.read(spark, config, "fact_message_events")
        .select("message_event_id", "date_key")
        .join(in_play, on="message_event_id", how="left_semi")
    )
    return (
        existing.unionByName(messages.select("message_event_id", "date_key"))
        .distinct()
        .localCheckpoint()
    )


def _distinct_dates(rows: DataFrame) -> list[int]:
    return [row["date_key"] for row in rows.select("date_key").distinct().collect()]


def _record_affected_dates(
    spark: SparkSession,
    config: Config,
    day: dt.date,
    accepted: DataFrame,
    message_dates: list[int],
    status_dates: list[int],
) -> list[int]:
    """Which event dates this landing day's data changes the metrics of.

    A message changes its date and, through response pairs, the next; a status its own date
    (read receipts) and its message's date (read times); a join or leave every date from its
    own up to the landing day (membership at the end of each of those days).
    """
    own_dates = accepted.where(
        F.col("event_type").isin("message_status", "conversation_created", "message_sent")
    ).select("date_key")
    membership_from = accepted.where(
        F.col("event_type").isin("conversation_created", "participant_joined", "participant_left")
    ).select(dates.date_of_key("date_key").alias("from_date"))
    membership_dates = membership_from.select(
        F.explode(F.sequence("from_date", F.greatest("from_date", F.lit(day)))).alias("affected_date")
    ).select(dates.date_key("affected_date").alias("date_key"))
    next_days = [date_key(day_of(key) + dt.timedelta(days=1)) for key in message_dates]
    known_dates = spark.createDataFrame(
        [(key,) for key in sorted({*message_dates, *next_days, *status_dates})], "date_key int"
    )
    # A few dates: collected once and written from the driver, not written and read back.
    affected = sorted(_distinct_dates(own_dates.unionByName(known_dates).unionByName(membership_dates)))
    affected_rows = spark.createDataFrame([(day, key) for key in affected], "landing_date date, date_key int")
    storage.replace_where(affected_rows, config, "ingest_affected_dates", f"landing_date = DATE'{day.isoformat()}'")
    return affected
