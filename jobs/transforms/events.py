"""Typed events -> the facts and ledgers of ingest: dedup, messages, status, membership."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.transforms import keys
from jobs.transforms.dates import date_key
from jobs.transforms.language import language_code
from jobs.transforms.sentiment import sentiment_score

DEVICE_PROFILE = ("device_id", "device_type", "platform", "app_version", "os_version", "network_type")
JOIN, LEAVE = "join", "leave"
# Where a line came from: unique per line of a landing day.
LINE_POSITION = ("source_file", "line_number")


def time_key(timestamp: Column | str) -> Column:
    ts = F.col(timestamp) if isinstance(timestamp, str) else timestamp
    return (F.hour(ts) * 100 + F.minute(ts)).cast("int")


def with_text_features(events: DataFrame) -> DataFrame:
    """Derive what we keep from the text (code points, sentiment, language) and drop the text."""
    return (
        events.withColumn("has_text", F.col("text").isNotNull())
        .withColumn("character_count", F.coalesce(F.length("text"), F.lit(0)).cast("int"))
        .withColumn("sentiment_score", sentiment_score(F.col("text")))
        .withColumn("language_code", language_code(F.col("text")))
        .drop("text")
    )


def first_row(df: DataFrame, key: str, *order: Column | str) -> DataFrame:
    """One row per `key`: the first in `order` (a total order, so reruns keep the same row)."""
    ranking = Window.partitionBy(key).orderBy(*order)
    return df.withColumn("_rank", F.row_number().over(ranking)).where(F.col("_rank") == 1).drop("_rank")


def first_per_event(events: DataFrame) -> DataFrame:
    """One row per event_id: at-least-once logging repeats identical lines; keep the first."""
    return first_row(events, "event_id", *LINE_POSITION)


def repeated_lines(events: DataFrame) -> DataFrame:
    """LINE_POSITION of every line but the first (by file, then line) of each event_id: the
    lines `first_per_event` drops. Only ids and positions are sorted, not whole events, so a
    day's dedup shuffles a fraction of its bytes; the repeats are few and joined back cheaply."""
    ranking = Window.partitionBy("event_id").orderBy(*LINE_POSITION)
    return (
        events.select("event_id", *LINE_POSITION)
        .withColumn("_rank", F.row_number().over(ranking))
        .where(F.col("_rank") > 1)
        .select(*LINE_POSITION)
    )


def device_key() -> Column:
    """A device profile's key: the device as reported on the event (id, app, OS, network),
    so each distinct profile of a device is a row of its own; null without a device."""
    return F.when(F.col("device_id").isNotNull(), keys.surrogate_key(keys.DEVICE, *DEVICE_PROFILE))


def with_event_keys(events: DataFrame) -> DataFrame:
    """Surrogate keys and the event's date, shared by every branch of ingest."""
    return (
        events.withColumn("date_key", date_key("server_ts"))
        .withColumn("event_hash", F.xxhash64("event_id"))
        .withColumn("user_key", keys.surrogate_key(keys.USER, "user_id"))
        .withColumn(
            "conversation_key",
            F.when(F.col("conversation_id").isNotNull(), keys.surrogate_key(keys.CONVERSATION, "conversation_id")),
        )
        .withColumn(
            "message_event_id",
            F.when(F.col("message_id").isNotNull(), keys.surrogate_key(keys.MESSAGE, "message_id")),
        )
        .withColumn("device_key", device_key())
    )


def winning_messages(events: DataFrame) -> DataFrame:
    """One row per message_id: the retry with the earliest server_ts (then smallest event_id)."""
    return first_row(events.where(F.col("event_type") == "message_sent"), "message_id", "server_ts", "event_id")


def message_rows(winners: DataFrame) -> DataFrame:
    """fact_message_events columns of the message itself (status columns come from statuses)."""
    return winners.select(
        "message_event_id",
        "conversation_key",
        F.col("user_key").alias("sender_user_key"),
        keys.surrogate_key(keys.MESSAGE_TYPE, "message_type").alias("message_type_key"),
        "date_key",
        time_key("server_ts").alias("time_key"),
        "device_key",
        F.col("client_ts").alias("message_timestamp"),
        F.col("server_ts").alias("server_received_timestamp"),
        F.col("size_bytes").cast("int").alias("message_size_bytes"),
        "character_count",
        F.col("media_count").cast("int").alias("media_count"),
        F.col("seq").cast("int").alias("message_sequence"),
        F.col("reply_to_message_id").isNotNull().alias("is_reply"),
        F.when(
            F.col("reply_to_message_id").isNotNull(), keys.surrogate_key(keys.MESSAGE, "reply_to_message_id")
        ).alias("replied_to_message_id"),
        "sentiment_score",
        "language_code",
        "metadata",
        "message_id",
        "has_text",
        "client_utc_offset_minutes",
        F.col("event_id").alias("source_event_id"),
    )


def status_rows(events: DataFrame) -> DataFrame:
    """message_status_events rows: one per status event."""
    return events.where(F.col("event_type") == "message_status").select(
        "event_id",
        "message_event_id",
        "conversation_key",
        "user_key",
        "status",
        F.col("server_ts").alias("status_timestamp"),
        "date_key",
    )


def statuses_per_message(statuses: DataFrame) -> DataFrame:
    """message_event_id -> array of (user_key, status, ts), for the snapshot MERGE."""
    return statuses.groupBy("message_event_id").agg(
        F.collect_list(
            F.struct("user_key", "status", F.col("status_timestamp").alias("ts"))
        ).alias("statuses")
    )


def membership_rows(events: DataFrame) -> DataFrame:
    """membership_events rows: a conversation's creation is its creator's join as owner."""
    change = (
        F.when(F.col("event_type") == "participant_left", F.lit(LEAVE)).otherwise(F.lit(JOIN))
    )
    role = F.when(F.col("event_type") == "conversation_created", F.lit("owner")).otherwise(F.col("role"))
    return events.where(
        F.col("event_type").isin("conversation_created", "participant_joined", "participant_left")
    ).select(
        "event_id",
        "conversation_key",
        "user_key",
        change.alias("change"),
        F.when(change == JOIN, role).alias("role"),
        F.col("server_ts").alias("event_timestamp"),
        "date_key",
    )


def membership_spells(membership: DataFrame) -> DataFrame:
    """dim_conversation_participants rows: one spell per join, ending at the first leave at or
    after it. A participant at t iff joined <= t < left; a leave at the join's instant wins,
    which gives an empty spell."""
    pair = Window.partitionBy("conversation_key", "user_key").orderBy("event_timestamp")
    later = pair.rangeBetween(Window.currentRow, Window.unboundedFollowing)
    leave_ts = F.when(F.col("change") == LEAVE, F.col("event_timestamp"))
    return (
        membership.withColumn("left_timestamp", F.min(leave_ts).over(later))
        .where(F.col("change") == JOIN)
        .select(
            keys.surrogate_key(keys.PARTICIPANT, "event_id").alias("participant_id"),
            "conversation_key",
            "user_key",
            F.col("event_timestamp").alias("joined_timestamp"),
            F.lit(None).cast("timestamp").alias("last_active_timestamp"),
            F.col("role").alias("role_in_conversation"),
            F.lit(None).cast("boolean").alias("notifications_enabled"),
            F.col("left_timestamp").isNull().alias("is_active"),
            "left_timestamp",
        )
    )


def device_rows(events: DataFrame) -> DataFrame:
    return events.where(F.col("device_key").isNotNull()).select("device_key", *DEVICE_PROFILE).dropDuplicates(
        ["device_key"]
    )


def user_rows(events: DataFrame) -> DataFrame:
    """One row per user seen: the latest attributes (by server_ts, then event_id) and the
    registration time, or nulls for users known only from their activity."""
    attributes = events.where(F.col("event_type").isin("user_registered", "user_updated"))
    latest_attributes = (
        first_row(attributes, "user_key", F.col("server_ts").desc(), F.col("event_id").desc())
        .select(
            "user_key",
            "account_type",
            "messaging_status",
            "is_test_account",
            F.col("preferences").alias("user_preferences"),
            F.col("server_ts").alias("attributes_timestamp"),
            F.col("event_id").alias("attributes_event_id"),
        )
    )
    registered = (
        attributes.where(F.col("event_type") == "user_registered")
        .groupBy("user_key")
        .agg(F.min("server_ts").alias("user_created_at"))
    )
    seen = events.select("user_key", "user_id").dropDuplicates(["user_key"])
    return (
        seen.join(latest_attributes, on="user_key", how="left")
        .join(registered, on="user_key", how="left")
    )


def conversation_rows(events: DataFrame) -> DataFrame:
    """One row per conversation seen: creation attributes (earliest creation event), creator,
    and the latest message time in this batch."""
    created = events.where(F.col("event_type") == "conversation_created")
    creation = (
        first_row(created, "conversation_key", "server_ts", "event_id")
        .select(
            "conversation_key",
            keys.surrogate_key(keys.CONVERSATION_TYPE, "conversation_type").alias("conversation_type_key"),
            F.col("server_ts").alias("created_timestamp"),
            "conversation_name",
            "is_encrypted",
            F.col("conversation_type").isin("group", "channel").alias("is_group_conversation"),
            "privacy_level",
            F.col("metadata").alias("conversation_metadata"),
            F.col("user_key").alias("creator_user_key"),
            F.col("event_id").alias("created_event_id"),
        )
    )
    activity = (
        events.where(F.col("event_type") == "message_sent")
        .groupBy("conversation_key")
        .agg(F.max("server_ts").alias("last_activity_timestamp"))
    )
    seen = (
        events.where(F.col("conversation_key").isNotNull())
        .select("conversation_key", "conversation_id")
        .dropDuplicates(["conversation_key"])
    )
    return seen.join(creation, on="conversation_key", how="left").join(
        activity, on="conversation_key", how="left"
    )
