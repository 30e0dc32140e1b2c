"""`ingest --date D`: landing folder dt=D into the fact, dimension and ledger tables.

Every write is keyed on natural ids (MERGE) or replaces exactly what this landing day owns
(replaceWhere), so a rerun, or a rerun after a crash between two writes, ends with the same
tables as one clean run. Text is turned into `character_count` and `sentiment_score` right
after parsing and dropped before anything is cached or written.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import filesystem, storage
from jobs.config import Config
from jobs.landing import read_landing_day
from jobs.progress import LOGGER, step
from jobs.session import shuffle_partitions_for
from jobs.tombstones import erased_user_hashes, flag_erased_users
from jobs.transforms import events as ev
from jobs.transforms import keys
from jobs.transforms.parsing import parse_events
from schemas.tables import DATE_PARTITION, date_key, day_of

CLUSTER_COLUMN = "sender_user_key"
# A quarantine row is a few hundred bytes: this keeps a day's file in the tens of megabytes.
QUARANTINE_ROWS_PER_FILE = 200_000
# Positions (file path, line number) of duplicate lines that dedup joins back as a broadcast.
BROADCAST_DROPPED_LINES = 500_000
STATUS_ARRAY_TYPE = "array<struct<user_key:bigint,status:string,ts:timestamp>>"
MESSAGE_FIELDS = (
    "conversation_key", "sender_user_key", "message_type_key", "date_key", "time_key", "device_key",
    "message_timestamp", "server_received_timestamp", "message_size_bytes", "character_count",
    "media_count", "message_sequence", "is_reply", "replied_to_message_id", "sentiment_score",
    "metadata", "message_id", "has_text", "client_utc_offset_minutes", "source_event_id",
)


def run(spark: SparkSession, config: Config, args: Any) -> None:
    run_day(spark, config, args.date)


def run_day(spark: SparkSession, config: Config, day: dt.date) -> dict[str, int]:
    """Ingest one landing day; returns the counts it printed."""
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

    with step("ingest.quarantine") as report:
        _write_quarantine(spark, config, day, parsed, landing.corrupt_files, bad_lines)
        report.rows_out = report.rows_quarantined = bad_lines + len(landing.corrupt_files)

    # A big day gets more shuffle partitions than the configured few, so that no cached
    # partition of `accepted` outgrows memory; small days keep the configured count.
    with shuffle_partitions_for(spark, lines_read) as shuffle_partitions:
        with step("ingest.dedup") as report:
            valid = ev.with_event_keys(parsed.where(F.col("reject_reason").isNull()))
            accepted = _not_seen_before(spark, config, day, valid).persist(StorageLevel.MEMORY_AND_DISK)
            accepted_count = accepted.count()
            duplicates = lines_read - erased_lines - bad_lines - accepted_count
            report.rows_in, report.rows_out = lines_read - erased_lines - bad_lines, accepted_count
            report.details = {"duplicates": duplicates, "shuffle_partitions": shuffle_partitions}
        flagged.unpersist()

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
                ["date_key", "event_hash"],
            )
            report.details = {"dates": len(affected)}
        accepted.unpersist()

    with step("ingest.cluster") as report:
        report.details = {"files": _cluster_by_sender(spark, config, day)}

    counts = {
        "lines_read": lines_read,
        "accepted": accepted_count,
        "duplicates": duplicates,
        "quarantined": bad_lines,
        "erased": erased_lines,
        "corrupt_files": len(landing.corrupt_files),
        "messages": messages_in,
    }
    erased_part = f" + erased users' {erased_lines:,}" if erased_lines else ""
    LOGGER.info(
        "ingest %s: read %s = accepted %s + duplicates %s + quarantined %s%s lines; %s corrupt files",
        day, f"{lines_read:,}", f"{accepted_count:,}", f"{duplicates:,}", f"{bad_lines:,}", erased_part,
        len(landing.corrupt_files),
    )
    return counts


def _cluster_by_sender(spark: SparkSession, config: Config, day: dt.date) -> int:
    """Sort the day's message partition by sender (Z-order on one column), so that each file
    covers a narrow range of `sender_user_key` and an erasure skips the others by their
    statistics. Late messages of earlier dates land in small files that stay unsorted."""
    path = storage.table_path(config, "fact_message_events")
    metrics = spark.sql(
        f"OPTIMIZE delta.`{path}` WHERE {DATE_PARTITION} = {date_key(day)} ZORDER BY ({CLUSTER_COLUMN})"
    ).first()
    return int(metrics["metrics"]["numFilesAdded"]) if metrics else 0


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


def _not_seen_before(spark: SparkSession, config: Config, day: dt.date, valid: DataFrame) -> DataFrame:
    """The first line of each event that no other landing day already brought.

    The lines to drop are found on narrow rows (ids, dates, line positions): repeats within
    the day, and events in the ledger of another landing day. Duplicates carry the same
    server_ts, so only the ledger partitions of this batch's event dates are read. The events
    themselves are never shuffled: they are joined against the dropped lines' positions.
    """
    batch_dates = [row["date_key"] for row in valid.select("date_key").distinct().collect()]
    seen_elsewhere = (
        storage.read_dates(spark, config, "ingested_events", batch_dates)
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
    newer = (
        "t.attributes_timestamp IS NULL OR s.attributes_timestamp > t.attributes_timestamp"
        " OR (s.attributes_timestamp = t.attributes_timestamp AND s.attributes_event_id > t.attributes_event_id)"
    )
    attribute_columns = (
        "account_type", "messaging_status", "is_test_account", "user_preferences",
        "attributes_timestamp", "attributes_event_id",
    )
    updates: dict[str, str | Column] = {
        c: f"CASE WHEN s.attributes_timestamp IS NOT NULL AND ({newer}) THEN s.{c} ELSE t.{c} END"
        for c in attribute_columns
    }
    updates["user_created_at"] = (
        "coalesce(least(t.user_created_at, s.user_created_at), t.user_created_at, s.user_created_at)"
    )
    (
        storage.delta_table(spark, config, "dim_users").alias("t")
        .merge(storage.conformed(ev.user_rows(accepted), "dim_users").alias("s"), "t.user_key = s.user_key")
        .whenMatchedUpdate(set=updates)
        .whenNotMatchedInsertAll()
        .execute()
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
    spells = storage.conformed(ev.membership_spells(history), "dim_conversation_participants")
    (
        storage.delta_table(spark, config, "dim_conversation_participants").alias("t")
        .merge(spells.alias("s"), "t.participant_id = s.participant_id")
        .whenMatchedUpdate(
            set=dict[str, str | Column]({c: f"s.{c}" for c in ("left_timestamp", "is_active", "role_in_conversation")})
        )
        .whenNotMatchedInsertAll()
        .execute()
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
    earlier_creation = (
        "s.created_event_id IS NOT NULL AND (t.created_event_id IS NULL"
        " OR s.created_timestamp < t.created_timestamp"
        " OR (s.created_timestamp = t.created_timestamp AND s.created_event_id < t.created_event_id))"
    )
    updates: dict[str, str | Column] = {
        c: f"CASE WHEN {earlier_creation} THEN s.{c} ELSE t.{c} END" for c in creation_columns
    }
    updates["last_activity_timestamp"] = (
        "coalesce(greatest(t.last_activity_timestamp, s.last_activity_timestamp),"
        " t.last_activity_timestamp, s.last_activity_timestamp)"
    )
    updates["participant_count"] = (
        "CASE WHEN s.participant_count_known THEN s.participant_count ELSE t.participant_count END"
    )
    spec_columns = storage.spec_of("dim_conversations").column_names
    (
        storage.delta_table(spark, config, "dim_conversations").alias("t")
        .merge(source.alias("s"), "t.conversation_key = s.conversation_key")
        .whenMatchedUpdate(set=updates)
        .whenNotMatchedInsert(values=dict[str, str | Column]({c: f"s.{c}" for c in spec_columns}))
        .execute()
    )


def _merge_messages_and_status(
    spark: SparkSession, config: Config, accepted: DataFrame
) -> tuple[list[int], list[int], int]:
    """The accumulating snapshot: new messages in, and every status known for a message folded
    in as the earliest delivered / read / failed time. Statuses of messages not seen yet wait
    in pending_message_status. Returns (message dates, status-touched message dates, messages)."""
    statuses = ev.status_rows(accepted)
    storage.insert_new(spark, config, "message_status_events", statuses, ["event_id"])
    pending = storage.read(spark, config, "pending_message_status")
    # Read by the MERGE, by what stays pending and by the dates touched: computed once.
    candidates = ev.first_per_event(
        statuses.unionByName(pending).withColumn("source_file", F.lit("")).withColumn("line_number", F.lit(0))
    ).drop("source_file", "line_number").localCheckpoint()

    messages = ev.message_rows(ev.winning_messages(accepted)).persist(StorageLevel.MEMORY_AND_DISK)
    message_count = messages.count()
    known = storage.read(spark, config, "fact_message_events").select("message_event_id", "date_key")
    targets = known.unionByName(messages.select("message_event_id", "date_key")).distinct()
    applicable = candidates.join(targets.select("message_event_id"), on="message_event_id", how="left_semi")

    source = (
        messages.withColumn("has_message", F.lit(True))
        .join(ev.statuses_per_message(applicable), on="message_event_id", how="full")
        .withColumn("has_message", F.coalesce("has_message", F.lit(False)))
        .withColumn("statuses", F.coalesce("statuses", F.array().cast(STATUS_ARRAY_TYPE)))
    )
    wins = (
        "s.has_message AND (s.server_received_timestamp < t.server_received_timestamp"
        " OR (s.server_received_timestamp = t.server_received_timestamp AND s.source_event_id < t.source_event_id))"
    )
    sender = f"CASE WHEN {wins} THEN s.sender_user_key ELSE t.sender_user_key END"
    updates: dict[str, str | Column] = {c: f"CASE WHEN {wins} THEN s.{c} ELSE t.{c} END" for c in MESSAGE_FIELDS}
    first = {
        name: f"least(t.{name}, {ev.first_status_sql('s.statuses', status, by_other)})"
        for name, status, by_other in (
            ("first_delivered_timestamp", ev.STATUS_DELIVERED, sender),
            ("first_read_timestamp", ev.STATUS_READ, sender),
            ("first_failed_timestamp", ev.STATUS_FAILED, None),
        )
    }
    updates.update(first)
    updates["message_status_key"] = ev.status_key_sql(
        first["first_read_timestamp"], first["first_delivered_timestamp"], first["first_failed_timestamp"]
    )
    inserted_first = {
        name: ev.first_status_sql("s.statuses", status, by_other)
        for name, status, by_other in (
            ("first_delivered_timestamp", ev.STATUS_DELIVERED, "s.sender_user_key"),
            ("first_read_timestamp", ev.STATUS_READ, "s.sender_user_key"),
            ("first_failed_timestamp", ev.STATUS_FAILED, None),
        )
    }
    inserts: dict[str, str | Column] = {c: f"s.{c}" for c in ("message_event_id", *MESSAGE_FIELDS)}
    inserts.update(inserted_first)
    inserts["message_status_key"] = ev.status_key_sql(
        inserted_first["first_read_timestamp"],
        inserted_first["first_delivered_timestamp"],
        inserted_first["first_failed_timestamp"],
    )
    (
        storage.delta_table(spark, config, "fact_message_events").alias("t")
        .merge(source.alias("s"), "t.message_event_id = s.message_event_id")
        .whenMatchedUpdate(set=updates)
        .whenNotMatchedInsert(condition="s.has_message", values=inserts)
        .execute()
    )
    still_pending = candidates.join(targets.select("message_event_id"), on="message_event_id", how="left_anti")
    storage.overwrite(still_pending.localCheckpoint(), config, "pending_message_status")

    message_dates = _distinct_dates(messages)
    status_dates = _distinct_dates(
        applicable.select("message_event_id").join(targets, on="message_event_id", how="inner")
    )
    messages.unpersist()
    return message_dates, status_dates, message_count


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
    ).select(F.to_date(F.col("date_key").cast("string"), "yyyyMMdd").alias("from_date"))
    membership_dates = membership_from.select(
        F.explode(F.sequence("from_date", F.greatest("from_date", F.lit(day)))).alias("affected_date")
    ).select(ev.date_key("affected_date").alias("date_key"))
    next_days = [date_key(day_of(key) + dt.timedelta(days=1)) for key in message_dates]
    known_dates = spark.createDataFrame(
        [(key,) for key in sorted({*message_dates, *next_days, *status_dates})], "date_key int"
    )
    affected_rows = (
        own_dates.unionByName(known_dates)
        .unionByName(membership_dates)
        .distinct()
        .select(F.lit(day).alias("landing_date"), "date_key")
    )
    storage.replace_where(affected_rows, config, "ingest_affected_dates", f"landing_date = DATE'{day.isoformat()}'")
    return [row["date_key"] for row in storage.read(spark, config, "ingest_affected_dates")
            .where(F.col("landing_date") == F.lit(day)).collect()]
