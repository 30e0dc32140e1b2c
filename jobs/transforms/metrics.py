"""Daily conversation and user metrics, as pipeline.md defines every column.

Pure functions of the tables' frames. Each takes the date keys it computes and keeps only
those dates of its inputs; `messages` may hold the day before each date too (response pairs
reach back to it), `pairs` come from `response_pairs` over those messages and `participants`
from `membership.participants_at_end_of_day`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.transforms import keys
from jobs.transforms.dates import MICROS_PER_DAY, MICROS_PER_SECOND, utc_date_key
from jobs.transforms.response_pairs import average_seconds, seconds_between
from jobs.transforms.sessions import average_session_length
from jobs.transforms.topic_scoring import CONFIDENT

TOP_TOPICS = 3
ENGAGEMENT_DECIMALS = 4
HOURS_PER_DAY = 24
MICROS_PER_MINUTE = 60 * MICROS_PER_SECOND
MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE
READ_STATUS = "read"


def _on_dates(df: DataFrame, date_keys: Sequence[int], column: str = "date_key") -> DataFrame:
    return df.where(F.col(column).isin([int(k) for k in date_keys]))


def _json_string(text: Column) -> Column:
    """`text` as a JSON string literal (quoted and escaped) using Spark's own JSON writer."""
    as_array = F.to_json(F.array(text))
    return F.regexp_extract(as_array, r"^\[(.*)\]$", 1)


def top_topics(messages: DataFrame, assignments: DataFrame, topics: DataFrame) -> DataFrame:
    """(conversation_key, date_key, top_topics_json) for conversation-days with a confident topic.

    The topics with most assigned messages (confidence >= 0.7), ties by name, at most three,
    as `[{"topic": "name", "messages": n}, ...]`; counts are not weighted by the sample rate.
    """
    per_topic = (
        assignments.where(F.col("topic_confidence") >= CONFIDENT)
        .select("message_event_id", "topic_key")
        .join(messages.select("message_event_id", "conversation_key", "date_key"),
              on="message_event_id", how="inner")
        .join(topics.select("topic_key", "topic_name"), on="topic_key", how="inner")
        .groupBy("conversation_key", "date_key", "topic_name")
        .agg(F.countDistinct("message_event_id").alias("messages"))
    )
    ranking = Window.partitionBy("conversation_key", "date_key").orderBy(
        F.desc("messages"), F.asc("topic_name")
    )
    entry = F.concat(
        F.lit('{"topic": '), _json_string(F.col("topic_name")),
        F.lit(', "messages": '), F.col("messages").cast("string"), F.lit("}"),
    )
    return (
        per_topic.withColumn("rank", F.row_number().over(ranking))
        .where(F.col("rank") <= TOP_TOPICS)
        .groupBy("conversation_key", "date_key")
        .agg(F.array_sort(F.collect_list(F.struct("rank", entry.alias("entry")))).alias("ranked"))
        .select(
            "conversation_key",
            "date_key",
            F.concat(F.lit("["), F.array_join(F.col("ranked.entry"), ", "), F.lit("]"))
            .alias("top_topics_json"),
        )
    )


def conversation_metrics(
    date_keys: Sequence[int],
    messages: DataFrame,
    pairs: DataFrame,
    participants: DataFrame,
    assignments: DataFrame,
    topics: DataFrame,
) -> DataFrame:
    """One `fact_conversation_metrics` row per conversation and date with at least one message."""
    day_messages = _on_dates(messages, date_keys)
    read_latency = seconds_between(
        F.col("first_read_timestamp"), F.col("server_received_timestamp")
    )
    base = day_messages.groupBy("conversation_key", "date_key").agg(
        F.count(F.lit(1)).alias("total_messages"),
        F.countDistinct("sender_user_key").alias("active_participants"),
        F.sum("character_count").alias("total_characters"),
        F.sum("media_count").alias("total_media"),
        average_seconds(read_latency).alias("avg_read_receipt_time_seconds"),
    )
    responses = (
        _on_dates(pairs, date_keys)
        .groupBy("conversation_key", "date_key")
        .agg(average_seconds(F.col("response_time_seconds")).alias("avg_response_time_seconds"))
    )
    members = (
        _on_dates(participants, date_keys)
        .groupBy("conversation_key", "date_key")
        .agg(F.countDistinct("user_key").alias("total_participants"))
    )
    total_participants = F.coalesce(F.col("total_participants"), F.lit(0))
    engagement = F.round(
        F.col("active_participants")
        / F.greatest(total_participants, F.col("active_participants"))
        * F.log1p(F.col("total_messages")),
        ENGAGEMENT_DECIMALS,
    )
    return (
        base.join(responses, on=["conversation_key", "date_key"], how="left")
        .join(members, on=["conversation_key", "date_key"], how="left")
        .join(top_topics(day_messages, assignments, topics),
              on=["conversation_key", "date_key"], how="left")
        .select(
            keys.surrogate_key(keys.CONVERSATION_METRIC, "conversation_key", "date_key")
            .alias("metric_id"),
            "conversation_key",
            "date_key",
            F.col("total_messages").cast("int").alias("total_messages"),
            total_participants.cast("int").alias("total_participants"),
            F.col("active_participants").cast("int").alias("active_participants"),
            F.col("total_characters").cast("int").alias("total_characters"),
            F.col("total_media").cast("int").alias("total_media"),
            "avg_response_time_seconds",
            "avg_read_receipt_time_seconds",
            engagement.alias("engagement_score"),
            F.coalesce(F.col("top_topics_json"), F.lit("[]")).alias("top_topics_json"),
            F.floor(F.col("total_messages") / F.col("active_participants"))
            .cast("int")
            .alias("messages_per_participant"),
        )
    )


def local_hour() -> Column:
    """Hour of `message_timestamp` in the client's own UTC offset (null without client time).

    Integer arithmetic on epoch microseconds, so the session time zone plays no part."""
    offset_minutes = F.coalesce(F.col("client_utc_offset_minutes"), F.lit(0)).cast("long")
    offset_micros = offset_minutes * MICROS_PER_MINUTE
    local_micros = F.unix_micros(F.col("message_timestamp")) + offset_micros
    return F.floor(F.pmod(local_micros, F.lit(MICROS_PER_DAY)) / F.lit(MICROS_PER_HOUR)).cast("int")


def messaging_pattern_json(hour_counts: Column) -> Column:
    """`{"local_hour": [24 counts]}` from a map of hour -> count (null map = no messages)."""
    counts = F.transform(
        F.sequence(F.lit(0), F.lit(HOURS_PER_DAY - 1)),
        lambda hour: F.coalesce(hour_counts[hour], F.lit(0)).cast("string"),
    )
    return F.concat(F.lit('{"local_hour": ['), F.array_join(counts, ", "), F.lit("]}"))


def user_metrics(
    date_keys: Sequence[int],
    messages: DataFrame,
    pairs: DataFrame,
    participants: DataFrame,
    status_events: DataFrame,
    conversations: DataFrame,
) -> DataFrame:
    """One `fact_user_metrics` row per user and date with a message, a read receipt or a new
    conversation."""
    day_messages = _on_dates(messages, date_keys).withColumnRenamed("sender_user_key", "user_key")
    day_members = _on_dates(participants, date_keys)
    receipts = _read_receipts_sent(_on_dates(status_events, date_keys))
    created = _conversations_started(conversations, date_keys)
    sent = day_messages.groupBy("user_key", "date_key").agg(
        F.count(F.lit(1)).alias("messages_sent"),
        F.countDistinct("conversation_key").alias("conversations_participated"),
    )
    sessions = average_session_length(
        _on_dates(messages, date_keys)
    ).withColumnRenamed("sender_user_key", "user_key")
    responses = (
        _on_dates(pairs, date_keys)
        .groupBy(F.col("responder_user_key").alias("user_key"), "date_key")
        .agg(average_seconds(F.col("response_time_seconds")).alias("avg_response_time_seconds"))
    )
    user_days = (
        sent.select("user_key", "date_key")
        .unionByName(receipts.select("user_key", "date_key"))
        .unionByName(created.select("user_key", "date_key"))
        .distinct()
    )

    def count_of(name: str) -> Column:
        return F.coalesce(F.col(name), F.lit(0)).cast("int").alias(name)

    joined = user_days
    for part in (sent, sessions, _recipients(day_messages, day_members),
                 _active_conversations(day_messages, day_members), receipts, created, responses,
                 _hour_counts(day_messages)):
        joined = joined.join(part, on=["user_key", "date_key"], how="left")
    return joined.select(
        keys.surrogate_key(keys.USER_METRIC, "user_key", "date_key").alias("user_metric_id"),
        "user_key",
        "date_key",
        count_of("messages_sent"),
        count_of("conversations_participated"),
        count_of("new_conversations_started"),
        count_of("total_recipients"),
        "avg_messaging_session_length",
        count_of("total_active_conversations"),
        count_of("read_receipts_sent"),
        "avg_response_time_seconds",
        messaging_pattern_json(F.col("hours")).alias("messaging_pattern_json"),
    )


def _read_receipts_sent(day_status_events: DataFrame) -> DataFrame:
    """(user_key, date_key, read_receipts_sent): distinct messages each user marked read."""
    return (
        day_status_events.where(F.col("status") == READ_STATUS)
        .groupBy("user_key", "date_key")
        .agg(F.countDistinct("message_event_id").alias("read_receipts_sent"))
    )


def _conversations_started(conversations: DataFrame, date_keys: Sequence[int]) -> DataFrame:
    """(user_key, date_key, new_conversations_started), by the UTC date of the creation."""
    return (
        conversations.where(F.col("creator_user_key").isNotNull())
        .select(
            F.col("creator_user_key").alias("user_key"),
            utc_date_key(F.col("created_timestamp")).alias("date_key"),
        )
        .transform(lambda df: _on_dates(df, date_keys))
        .groupBy("user_key", "date_key")
        .agg(F.count(F.lit(1)).alias("new_conversations_started"))
    )


def _hour_counts(day_messages: DataFrame) -> DataFrame:
    """(user_key, date_key, hours): a map of the sender's local hour -> messages sent in it."""
    return (
        day_messages.where(F.col("message_timestamp").isNotNull())
        .withColumn("local_hour", local_hour())
        .groupBy("user_key", "date_key", "local_hour")
        .agg(F.count(F.lit(1)).alias("messages"))
        .groupBy("user_key", "date_key")
        .agg(F.map_from_entries(F.collect_list(F.struct("local_hour", "messages"))).alias("hours"))
    )


def _recipients(day_messages: DataFrame, day_members: DataFrame) -> DataFrame:
    """(user_key, date_key, total_recipients): the other participants, at the end of the day,
    of the conversations the user sent to."""
    return (
        day_messages.select("user_key", "date_key", "conversation_key")
        .distinct()
        .join(
            day_members.withColumnRenamed("user_key", "recipient_user_key"),
            on=["conversation_key", "date_key"],
            how="inner",
        )
        .where(F.col("recipient_user_key") != F.col("user_key"))
        .groupBy("user_key", "date_key")
        .agg(F.countDistinct("recipient_user_key").alias("total_recipients"))
    )


def _active_conversations(day_messages: DataFrame, day_members: DataFrame) -> DataFrame:
    """(user_key, date_key, total_active_conversations): the conversations with a message
    that day which the user is a participant of at its end."""
    return (
        day_messages.select("conversation_key", "date_key").distinct()
        .join(day_members, on=["conversation_key", "date_key"], how="inner")
        .groupBy("user_key", "date_key")
        .agg(F.countDistinct("conversation_key").alias("total_active_conversations"))
    )
