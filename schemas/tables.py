"""Every chatlake Delta table, declared once: columns, partitioning and constraints.

Column names follow the design card (the star schema chatlake implements); extra columns the
contract asks for (`message_id`, `first_read_timestamp`, `sample_rate`, ...) and helper tables
(ledgers, staging, logs) are marked as such. Fact tables are partitioned by `date_key`
(yyyymmdd of the event's UTC date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pyspark.sql import types as T

DATE_PARTITION = "date_key"
DATE_KEY_FORMAT = "%Y%m%d"


def date_key(day: dt.date) -> int:
    """The `date_key` of a date: the integer yyyymmdd."""
    return int(day.strftime(DATE_KEY_FORMAT))


def day_of(key: int) -> dt.date:
    return dt.datetime.strptime(str(key), DATE_KEY_FORMAT).date()


def _c(name: str, data_type: T.DataType, nullable: bool = True, comment: str = "") -> T.StructField:
    return T.StructField(name, data_type, nullable, {"comment": comment} if comment else {})


BIGINT, INT, STRING, DOUBLE = T.LongType(), T.IntegerType(), T.StringType(), T.DoubleType()
BOOL, TS, DATE = T.BooleanType(), T.TimestampType(), T.DateType()
NOT_NULL = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: T.StructType
    partition_by: tuple[str, ...] = ()
    constraints: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return self.schema.fieldNames()


FACT_MESSAGE_EVENTS = TableSpec(
    "fact_message_events",
    T.StructType(
        [
            _c("message_event_id", BIGINT, NOT_NULL, "surrogate key: 64-bit hash of message_id"),
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("sender_user_key", BIGINT, NOT_NULL),
            _c("message_type_key", BIGINT, NOT_NULL),
            _c("date_key", INT, NOT_NULL, "yyyymmdd of server_ts (UTC)"),
            _c("time_key", INT, NOT_NULL, "hour*100+minute of server_ts (UTC)"),
            _c("device_key", BIGINT, comment="the device profile as reported; null without device"),
            _c("message_status_key", BIGINT, NOT_NULL),
            _c("message_timestamp", TS, comment="client_ts as an instant"),
            _c("server_received_timestamp", TS, NOT_NULL, "server_ts"),
            _c("message_size_bytes", INT, NOT_NULL),
            _c("character_count", INT, NOT_NULL, "Unicode code points of the text"),
            _c("media_count", INT, NOT_NULL),
            _c("message_sequence", INT, NOT_NULL),
            _c("is_reply", BOOL, NOT_NULL),
            _c("replied_to_message_id", BIGINT, comment="message_event_id of the replied message"),
            _c("sentiment_score", DOUBLE, comment="[-1, 1] from the text; null without text"),
            _c("metadata", STRING, comment="client metadata as JSON"),
            # extra columns
            _c("message_id", STRING, NOT_NULL, "natural id"),
            _c("has_text", BOOL, NOT_NULL),
            _c(
                "language_code",
                STRING,
                comment="ISO 639-1 code of the text; und if too short or unsure; null without text",
            ),
            _c("client_utc_offset_minutes", INT, comment="the client's UTC offset at send"),
            _c("first_delivered_timestamp", TS, comment="earliest delivery by a non-sender"),
            _c("first_read_timestamp", TS, comment="earliest read by a non-sender"),
            _c("first_failed_timestamp", TS, comment="earliest failed status"),
            _c("source_event_id", STRING, NOT_NULL, "event_id of the winning message_sent"),
            _c("history_sample_rate", DOUBLE,
               comment="rate of the conversation sample the row was kept at; 1.0 (or null) = kept in full"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    constraints={
        "message_size_non_negative": "message_size_bytes >= 0",
        "character_count_non_negative": "character_count >= 0",
        "media_count_non_negative": "media_count >= 0",
        "message_sequence_positive": "message_sequence >= 1",
        "sentiment_in_range": "sentiment_score IS NULL OR sentiment_score BETWEEN -1 AND 1",
        "history_sample_rate_in_unit_interval": (
            "history_sample_rate IS NULL OR (history_sample_rate > 0 AND history_sample_rate <= 1)"
        ),
    },
    description=(
        "one row per message (the retry with the earliest server_ts); its status as an accumulating snapshot:"
        " first_delivered_timestamp, first_read_timestamp, message_status_key"
    ),
)

FACT_MESSAGE_DERIVED_TOPICS = TableSpec(
    "fact_message_derived_topics",
    T.StructType(
        [
            _c("topic_assignment_id", BIGINT, NOT_NULL),
            _c("message_event_id", BIGINT, NOT_NULL),
            _c("topic_key", BIGINT, NOT_NULL),
            _c("topic_confidence", DOUBLE, NOT_NULL),
            _c("extraction_method", STRING, NOT_NULL),
            _c("topic_extraction_version", STRING, NOT_NULL),
            _c("processed_timestamp", TS, NOT_NULL),
            # extra columns
            _c("sample_rate", DOUBLE, NOT_NULL, "the rate the message was sampled at"),
            _c("date_key", INT, NOT_NULL, "the message's date"),
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("sender_user_key", BIGINT, NOT_NULL),
            _c("language_code", STRING, comment="ISO 639-1 code of the language the topic was found in"),
            _c("history_sample_rate", DOUBLE,
               comment="rate of the conversation sample the row was kept at; 1.0 (or null) = kept in full"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    constraints={
        "confidence_in_unit_interval": "topic_confidence BETWEEN 0 AND 1",
        "sample_rate_in_unit_interval": "sample_rate > 0 AND sample_rate <= 1",
        "history_sample_rate_in_unit_interval": (
            "history_sample_rate IS NULL OR (history_sample_rate > 0 AND history_sample_rate <= 1)"
        ),
    },
    description=(
        "one row per topic assignment of a sampled message (a message may have several topics), with"
        " topic_confidence, extraction_method, topic_extraction_version and sample_rate"
    ),
)

FACT_CONVERSATION_METRICS = TableSpec(
    "fact_conversation_metrics",
    T.StructType(
        [
            _c("metric_id", BIGINT, NOT_NULL),
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("date_key", INT, NOT_NULL),
            _c("total_messages", INT, NOT_NULL),
            _c("total_participants", INT, NOT_NULL),
            _c("active_participants", INT, NOT_NULL),
            _c("total_characters", INT, NOT_NULL),
            _c("total_media", INT, NOT_NULL),
            _c("avg_response_time_seconds", DOUBLE),
            _c("avg_read_receipt_time_seconds", DOUBLE),
            _c("engagement_score", DOUBLE, NOT_NULL),
            _c("top_topics_json", STRING, NOT_NULL),
            _c("messages_per_participant", INT, NOT_NULL),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    constraints={
        "counts_non_negative": (
            "total_messages >= 0 AND total_participants >= 0 AND active_participants >= 0"
            " AND total_characters >= 0 AND total_media >= 0 AND messages_per_participant >= 0"
        ),
    },
    description="one row per conversation and date with at least one message",
)

FACT_USER_METRICS = TableSpec(
    "fact_user_metrics",
    T.StructType(
        [
            _c("user_metric_id", BIGINT, NOT_NULL),
            _c("user_key", BIGINT, NOT_NULL),
            _c("date_key", INT, NOT_NULL),
            _c("messages_sent", INT, NOT_NULL),
            _c("conversations_participated", INT, NOT_NULL),
            _c("new_conversations_started", INT, NOT_NULL),
            _c("total_recipients", INT, NOT_NULL),
            _c("avg_messaging_session_length", DOUBLE),
            _c("total_active_conversations", INT, NOT_NULL),
            _c("read_receipts_sent", INT, NOT_NULL),
            _c("avg_response_time_seconds", DOUBLE),
            _c("messaging_pattern_json", STRING, NOT_NULL),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    constraints={
        "counts_non_negative": (
            "messages_sent >= 0 AND conversations_participated >= 0"
            " AND new_conversations_started >= 0 AND total_recipients >= 0"
            " AND total_active_conversations >= 0 AND read_receipts_sent >= 0"
        ),
    },
    description="one row per user and date with a message, a read receipt or a new conversation",
)

# Exact sums as DECIMAL: response times are whole microseconds, so their sums and sums of squares
# are exact whatever order Spark adds them in (doubles would differ in the last digits).
SECONDS_SUM = T.DecimalType(38, 6)
SQUARED_SECONDS_SUM = T.DecimalType(38, 12)

DIM_EXPERIMENT_ASSIGNMENTS = TableSpec(
    "dim_experiment_assignments",
    T.StructType(
        [
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("experiment", STRING, NOT_NULL),
            _c("variant", STRING, NOT_NULL, "the old form's bare experiment name means 'treatment'"),
            _c("assigned_timestamp", TS, NOT_NULL, "server_ts of the conversation_created"),
        ]
    ),
    description="one row per conversation and experiment, from conversation_created metadata",
)

FACT_EXPERIMENT_DAILY = TableSpec(
    "fact_experiment_daily",
    T.StructType(
        [
            _c("date_key", INT, NOT_NULL),
            _c("experiment", STRING, NOT_NULL),
            _c("variant", STRING, NOT_NULL),
            _c("conversations_active", INT, NOT_NULL, "assigned conversations with a message that date"),
            _c("messages", INT, NOT_NULL),
            _c("senders", INT, NOT_NULL, "distinct senders of those messages"),
            _c("read_messages", INT, NOT_NULL, "those messages with a first_read_timestamp"),
            _c("response_pairs", INT, NOT_NULL, "pairs dated that date"),
            _c("sum_response_seconds", SECONDS_SUM, NOT_NULL),
            _c("sum_squared_response_seconds", SQUARED_SECONDS_SUM, NOT_NULL),
            # extra: the variance of messages per active conversation-day
            _c("sum_squared_conversation_messages", BIGINT, NOT_NULL,
               "sum over the active conversations of (their messages that date)^2"),
            # extra: the variance of the mean response time with conversation-days as the units
            _c("sum_squared_conversation_pairs", BIGINT, NOT_NULL,
               "sum over the active conversations of (their response pairs that date)^2"),
            _c("sum_conversation_pairs_response_seconds", SECONDS_SUM, NOT_NULL,
               "sum over the active conversations of their pairs times their pairs' response seconds"),
            _c("sum_squared_conversation_response_seconds", SQUARED_SECONDS_SUM, NOT_NULL,
               "sum over the active conversations of (their pairs' response seconds)^2"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    constraints={
        "counts_non_negative": (
            "conversations_active >= 0 AND messages >= 0 AND senders >= 0 AND read_messages >= 0"
            " AND response_pairs >= 0"
        ),
    },
    description="per date, experiment and variant: exact sums over assigned conversations' messages",
)

FACT_HOURLY_ACTIVITY = TableSpec(
    "fact_hourly_activity",
    T.StructType(
        [
            _c("date_key", INT, NOT_NULL, "yyyymmdd of server_ts (UTC)"),
            _c("hour", INT, NOT_NULL, "UTC hour of server_ts, 0-23"),
            _c("conversation_type", STRING, NOT_NULL, "direct, group, channel or unknown"),
            _c("device_type", STRING, NOT_NULL, "none for a message without a device"),
            _c("network_type", STRING, NOT_NULL, "none for a message without a device"),
            _c("messages", BIGINT, NOT_NULL),
            _c("senders", BIGINT, NOT_NULL, "distinct senders"),
            _c("latency_messages", BIGINT, NOT_NULL, "messages with a message_timestamp"),
            _c("avg_latency_seconds", DOUBLE, comment="mean of server_received - message timestamp"),
            _c("p95_latency_seconds", DOUBLE, comment="PERCENTILE_CONT(0.95) of the same"),
            _c("delivered_messages", BIGINT, NOT_NULL, "messages with a first_delivered_timestamp"),
            _c("read_messages", BIGINT, NOT_NULL, "messages with a first_read_timestamp"),
            _c("failed_messages", BIGINT, NOT_NULL, "messages whose status is failed"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    constraints={
        "hour_of_day": "hour BETWEEN 0 AND 23",
        "counts_non_negative": (
            "messages >= 1 AND senders >= 1 AND latency_messages >= 0 AND delivered_messages >= 0"
            " AND read_messages >= 0 AND failed_messages >= 0"
        ),
    },
    description="messages per date, UTC hour, conversation type, device type and network type",
)

FACT_ACTIVITY_ROLLUPS = TableSpec(
    "fact_activity_rollups",
    T.StructType(
        [
            _c("grain", STRING, NOT_NULL, "week (ISO, Monday to Sunday) or month"),
            _c("period_start", DATE, NOT_NULL, "the Monday of the week, the 1st of the month"),
            _c("conversation_type", STRING, NOT_NULL, "direct, group, channel, unknown or all"),
            _c("messages", BIGINT, NOT_NULL),
            _c("active_senders", BIGINT, NOT_NULL, "distinct senders over the whole period"),
            _c("active_conversations", BIGINT, NOT_NULL, "distinct conversations over the period"),
            _c("new_conversations", BIGINT, NOT_NULL, "conversation_created events in the period"),
            _c("avg_messages_per_sender", DOUBLE, comment="messages / active_senders"),
            _c("days_with_messages", INT, NOT_NULL),
            # extra
            _c("is_final", BOOL, NOT_NULL, "retention removed a day of the period: never recomputed"),
        ]
    ),
    partition_by=("period_start",),
    constraints={"known_grain": "grain IN ('week', 'month')"},
    description="weekly and monthly activity per conversation type and all, kept for the long term",
)

ACTIVITY_DAILY_SENDERS = TableSpec(
    "activity_daily_senders",
    T.StructType(
        [
            _c("date_key", INT, NOT_NULL),
            _c("conversation_type", STRING, NOT_NULL),
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("sender_user_key", BIGINT, NOT_NULL),
            _c("messages", BIGINT, NOT_NULL),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    description=(
        "helper of fact_activity_rollups: one row per date, conversation and sender, never sampled,"
        " so a period's distinct counts read only the period's rows"
    ),
)

DIM_USERS = TableSpec(
    "dim_users",
    T.StructType(
        [
            _c("user_key", BIGINT, NOT_NULL),
            _c("user_id", STRING, NOT_NULL),
            _c("user_created_at", TS, comment="server_ts of user_registered"),
            _c("account_type", STRING),
            _c("messaging_status", STRING),
            _c("is_test_account", BOOL),
            _c("user_preferences", STRING, comment="JSON"),
            # extra: which event the attributes come from (latest server_ts wins)
            _c("attributes_timestamp", TS),
            _c("attributes_event_id", STRING),
        ]
    ),
    description="one row per user, attributes from the latest user_registered / user_updated",
)

DIM_DEVICES = TableSpec(
    "dim_devices",
    T.StructType(
        [
            _c("device_key", BIGINT, NOT_NULL, "hash of the whole profile"),
            _c("device_id", STRING, NOT_NULL),
            _c("device_type", STRING, NOT_NULL),
            _c("platform", STRING, NOT_NULL),
            _c("app_version", STRING, NOT_NULL),
            _c("os_version", STRING, NOT_NULL),
            _c("network_type", STRING, NOT_NULL),
        ]
    ),
    description="one row per device profile: device id, app and OS version and network type as reported together",
)

DIM_CONVERSATIONS = TableSpec(
    "dim_conversations",
    T.StructType(
        [
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("conversation_id", STRING, NOT_NULL),
            _c("conversation_type_key", BIGINT),
            _c("created_timestamp", TS),
            _c("last_activity_timestamp", TS, comment="latest message server_ts"),
            _c("conversation_name", STRING),
            _c("is_encrypted", BOOL),
            _c("is_group_conversation", BOOL),
            _c("participant_count", INT, NOT_NULL, "participants after the latest known event"),
            _c("privacy_level", STRING),
            _c("conversation_metadata", STRING, comment="JSON"),
            # extra
            _c("creator_user_key", BIGINT),
            _c("created_event_id", STRING),
        ]
    ),
    constraints={"participant_count_non_negative": "participant_count >= 0"},
    description="one row per conversation",
)

DIM_CONVERSATION_TYPES = TableSpec(
    "dim_conversation_types",
    T.StructType(
        [
            _c("conversation_type_key", BIGINT, NOT_NULL),
            _c("type_name", STRING, NOT_NULL),
            _c("type_description", STRING, NOT_NULL),
            _c("supports_group_chat", BOOL, NOT_NULL),
            _c("supports_encryption", BOOL, NOT_NULL),
            _c("max_participants", INT),
        ]
    ),
    description="static: one row per conversation type (direct, group, channel)",
)

DIM_CONVERSATION_PARTICIPANTS = TableSpec(
    "dim_conversation_participants",
    T.StructType(
        [
            _c("participant_id", BIGINT, NOT_NULL, "hash of the joining event"),
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("user_key", BIGINT, NOT_NULL),
            _c("joined_timestamp", TS, NOT_NULL),
            _c("last_active_timestamp", TS, comment="latest message of the user in the spell"),
            _c("role_in_conversation", STRING, NOT_NULL),
            _c("notifications_enabled", BOOL, comment="not in the raw events: always null"),
            _c("is_active", BOOL, NOT_NULL, "no leave after this join"),
            # extra: membership spell, participant at t iff joined <= t < left (or left null)
            _c("left_timestamp", TS),
        ]
    ),
    description=(
        "one row per membership spell: a participant at t iff joined_timestamp <= t < left_timestamp"
        " (or no leave)"
    ),
)

DIM_MESSAGE_TYPES = TableSpec(
    "dim_message_types",
    T.StructType(
        [
            _c("message_type_key", BIGINT, NOT_NULL),
            _c("message_type_name", STRING, NOT_NULL),
            _c("message_category", STRING, NOT_NULL),
            _c("contains_media", BOOL, NOT_NULL),
            _c("is_ephemeral", BOOL, NOT_NULL),
            _c("is_system_message", BOOL, NOT_NULL),
            _c("rendering_requirements", STRING, NOT_NULL),
        ]
    ),
    description="static: one row per message type of the raw events",
)

DIM_MESSAGE_STATUS = TableSpec(
    "dim_message_status",
    T.StructType(
        [
            _c("message_status_key", BIGINT, NOT_NULL),
            _c("status_name", STRING, NOT_NULL),
            _c("status_description", STRING, NOT_NULL),
            _c("is_terminal_state", BOOL, NOT_NULL),
            _c("status_sequence", INT, NOT_NULL),
        ]
    ),
    description="static: one row per status (sent, delivered, read, failed)",
)

DIM_TOPICS = TableSpec(
    "dim_topics",
    T.StructType(
        [
            _c("topic_key", BIGINT, NOT_NULL),
            _c("topic_name", STRING, NOT_NULL),
            _c("topic_category", STRING, NOT_NULL),
            _c("parent_topic_key", BIGINT),
            _c("hierarchy_level", INT, NOT_NULL),
            _c("topic_keywords", STRING, comment="JSON: weighted terms per language and their version"),
            _c("topic_prevalence", DOUBLE, comment="estimated share of last 30 days' texts"),
            # extra
            _c("topic_languages", STRING, comment="ISO 639-1 codes the topic has terms in: de,en,es"),
        ]
    ),
    constraints={"prevalence_in_unit_interval": "topic_prevalence IS NULL OR topic_prevalence BETWEEN 0 AND 1"},
    description=(
        "static: one row per topic and per category of the taxonomy; the topics step fills topic_keywords"
        " and topic_prevalence"
    ),
)

DIM_DATES = TableSpec(
    "dim_dates",
    T.StructType(
        [
            _c("date_key", INT, NOT_NULL, "yyyymmdd"),
            _c("full_date", DATE, NOT_NULL),
            _c("year", INT, NOT_NULL),
            _c("quarter", INT, NOT_NULL),
            _c("month", INT, NOT_NULL),
            _c("month_name", STRING, NOT_NULL),
            _c("day_of_month", INT, NOT_NULL),
            _c("day_of_week", INT, NOT_NULL, "ISO: 1 = Monday"),
            _c("day_name", STRING, NOT_NULL),
            _c("day_of_year", INT, NOT_NULL),
            _c("iso_week", INT, NOT_NULL),
            _c("is_weekend", BOOL, NOT_NULL),
            _c("week_start_date", DATE, NOT_NULL, "the Monday of the week"),
            _c("month_start_date", DATE, NOT_NULL),
        ]
    ),
    description="static: one row per calendar date",
)

DIM_TIME = TableSpec(
    "dim_time",
    T.StructType(
        [
            _c("time_key", INT, NOT_NULL, "hour*100+minute"),
            _c("hour", INT, NOT_NULL),
            _c("minute", INT, NOT_NULL),
            _c("time_label", STRING, NOT_NULL, "HH:MM"),
            _c("period_of_day", STRING, NOT_NULL, "night, morning, afternoon, evening"),
        ]
    ),
    description="static: one row per minute of the day",
)

QUARANTINE = TableSpec(
    "quarantine",
    T.StructType(
        [
            _c("quarantine_id", BIGINT, NOT_NULL, "hash of source file and line"),
            _c("landing_date", DATE, NOT_NULL, "the dt= folder"),
            _c("source_file", STRING, NOT_NULL),
            _c("line_number", BIGINT, comment="1-based; null when the whole file is bad"),
            _c("reason", STRING, NOT_NULL),
            _c("event_id", STRING),
            _c("event_type", STRING),
            _c("user_id", STRING, comment="when the line parses far enough to show it"),
            _c("record_json", STRING, comment="the line's fields other than text"),
            _c("line_length", INT, comment="bytes of the line, for lines that are not JSON"),
            _c("line_sha256", STRING),
        ]
    ),
    partition_by=("landing_date",),
    description="one row per bad record: reason, source file and line, its fields other than text",
)

# Helper tables of the ingest step.
MESSAGE_STATUS_EVENTS = TableSpec(
    "message_status_events",
    T.StructType(
        [
            _c("event_id", STRING, NOT_NULL),
            _c("message_event_id", BIGINT, NOT_NULL),
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("user_key", BIGINT, NOT_NULL, "who reported: recipient for delivered/read"),
            _c("status", STRING, NOT_NULL),
            _c("status_timestamp", TS, NOT_NULL),
            _c("date_key", INT, NOT_NULL, "date of the status event"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    description="ledger of every distinct status event (read receipts, erasure traces)",
)

PENDING_MESSAGE_STATUS = TableSpec(
    "pending_message_status",
    MESSAGE_STATUS_EVENTS.schema,
    description="status events whose message has not arrived yet",
)

MEMBERSHIP_EVENTS = TableSpec(
    "membership_events",
    T.StructType(
        [
            _c("event_id", STRING, NOT_NULL),
            _c("conversation_key", BIGINT, NOT_NULL),
            _c("user_key", BIGINT, NOT_NULL),
            _c("change", STRING, NOT_NULL, "join or leave (a creation is the owner's join)"),
            _c("role", STRING),
            _c("event_timestamp", TS, NOT_NULL),
            _c("date_key", INT, NOT_NULL),
        ]
    ),
    description="ledger of joins and leaves, from which membership spells are rebuilt",
)

INGEST_AFFECTED_DATES = TableSpec(
    "ingest_affected_dates",
    T.StructType(
        [
            _c("landing_date", DATE, NOT_NULL),
            _c("date_key", INT, NOT_NULL),
        ]
    ),
    description="which event dates each landing day's data touched",
)

INGESTED_EVENTS = TableSpec(
    "ingested_events",
    T.StructType(
        [
            _c("date_key", INT, NOT_NULL, "date of the event's server_ts"),
            _c("event_hash", BIGINT, NOT_NULL, "xxhash64 of event_id"),
            _c("landing_date", DATE, NOT_NULL, "the landing day that first brought it"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    description="every accepted event once: duplicates across landing days are dropped against it",
)

ERASURE_LOG = TableSpec(
    "erasure_log",
    T.StructType(
        [
            _c("request_id", STRING, NOT_NULL),
            _c("requested_at", TS, NOT_NULL, "when delete-users ran"),
            _c("user_id_hashes", T.ArrayType(STRING), NOT_NULL,
               "sha-256 of the erasure key and each requested user id; never the id itself"),
            _c("unknown_user_id_hashes", T.ArrayType(STRING), NOT_NULL,
               "the requested ids no table or landing file knew"),
            _c("rows_removed", T.MapType(STRING, BIGINT), NOT_NULL,
               "per table: rows deleted (or, for shared rows, stripped of the user's keys)"),
            _c("landing_lines_removed", BIGINT, NOT_NULL),
            _c("landing_files_rewritten", INT, NOT_NULL),
            _c("nothing_left", BOOL, NOT_NULL, "true when a rerun found nothing to delete"),
        ]
    ),
    description="one row per delete-users request; holds no raw user id",
)

STEP_FIGURES = T.StructType(
    [
        T.StructField("step", STRING),
        T.StructField("seconds", DOUBLE),
        T.StructField("rows_read", BIGINT),
        T.StructField("rows_written", BIGINT),
        T.StructField("rows_quarantined", BIGINT),
    ]
)

PIPELINE_RUNS = TableSpec(
    "pipeline_runs",
    T.StructType(
        [
            _c("run_id", STRING, NOT_NULL),
            _c("command", STRING, NOT_NULL),
            _c("arguments", STRING, NOT_NULL,
               "the command line after the command, user ids replaced by their count (--user-ids <2 ids>)"),
            _c("dates", T.ArrayType(DATE), NOT_NULL, "the landing / as-of dates the run was for"),
            _c("started_at", TS, NOT_NULL),
            _c("finished_at", TS),
            _c("status", STRING, NOT_NULL, "succeeded or failed"),
            _c("steps", T.ArrayType(STEP_FIGURES), NOT_NULL),
            _c("error_message", STRING, comment="the one-line reason of a failure"),
            _c("spark_master", STRING),
            _c("user_id_hashes", T.ArrayType(STRING),
               comment="keyed hashes of the user ids the run named (delete-users), as in erasure_log"),
        ]
    ),
    constraints={"known_status": "status IN ('succeeded', 'failed')"},
    description="one row per chatlake command run",
)

# The real-time stream (contract: operations.md "The real-time stream").
OPS_MINUTE_METRICS = TableSpec(
    "ops_minute_metrics",
    T.StructType(
        [
            _c("minute_start", TS, NOT_NULL, "the UTC minute of server_ts"),
            _c("date_key", INT, NOT_NULL, "its date"),
            _c("messages", BIGINT, NOT_NULL, "distinct message_ids placed here by their earliest retry"),
            _c("status_delivered", BIGINT, NOT_NULL, "distinct delivered status events"),
            _c("status_read", BIGINT, NOT_NULL, "distinct read status events"),
            _c("status_failed", BIGINT, NOT_NULL, "distinct failed status events"),
            _c("latency_messages", BIGINT, NOT_NULL, "those messages with a client_ts"),
            _c("avg_latency_seconds", DOUBLE, comment="mean of server_ts - client_ts; null if none"),
            _c("p95_latency_seconds", DOUBLE, comment="95th percentile (linear interpolation); null if none"),
            # extra: when the stream last wrote the row, and in which micro-batch
            _c("updated_at", TS, NOT_NULL),
            _c("batch_id", BIGINT, NOT_NULL),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    description="the stream's counters: one row per UTC minute with a valid event",
)

OPS_STREAM_BATCHES = TableSpec(
    "ops_stream_batches",
    T.StructType(
        [
            _c("batch_id", BIGINT, NOT_NULL, "the micro-batch's id in its checkpoint"),
            _c("started_at", TS, NOT_NULL),
            _c("seconds", DOUBLE, NOT_NULL),
            _c("files", BIGINT, NOT_NULL, "files read (file source); 0 from Kafka"),
            _c("lines", BIGINT, NOT_NULL, "non-blank lines read"),
            _c("bad_lines", BIGINT, NOT_NULL, "bad records, as raw-events.md defines them"),
            _c("late_events", BIGINT, NOT_NULL, "valid new events behind the watermark: not counted"),
            _c("events", BIGINT, NOT_NULL, "valid new events counted"),
            # extra
            _c("query_id", STRING, NOT_NULL, "the checkpoint's query id (batch ids restart with a new one)"),
            _c("offsets", STRING, comment="Kafka: {partition: [first, last]} of the batch"),
            _c("max_server_ts", TS, comment="newest server_ts of the batch's valid events"),
            _c("watermark", TS, comment="events before this were late in this batch"),
        ]
    ),
    description="one row per micro-batch of the stream, written last: a batch with a row is done",
)

OPS_STREAM_EVENTS = TableSpec(
    "ops_stream_events",
    T.StructType(
        [
            _c("event_id", STRING, NOT_NULL, "the event (dedup; the retry tie-break)"),
            _c("event_type", STRING, NOT_NULL),
            _c("message_hash", BIGINT, comment="xxhash64 of message_id (message events)"),
            _c("status", STRING),
            _c("server_ts", TS, NOT_NULL),
            _c("latency_seconds", DOUBLE, comment="server_ts - client_ts of a message_sent"),
            _c("minute_start", TS, NOT_NULL),
            _c("date_key", INT, NOT_NULL),
            _c("late", BOOL, NOT_NULL, "behind the watermark when it arrived: not counted"),
            _c("query_id", STRING, NOT_NULL),
            _c("batch_id", BIGINT, NOT_NULL, "the micro-batch that brought it"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    description="the stream's state: events seen within the watermark (ids, no user or text), pruned behind it",
)

# The SQL endpoint's audit (contract: operations.md "Access to the data").
ACCESS_AUDIT = TableSpec(
    "access_audit",
    T.StructType(
        [
            _c("query_id", STRING, NOT_NULL, "the endpoint's query id"),
            _c("date_key", INT, NOT_NULL, "the UTC date of started_at"),
            _c("principal", STRING, NOT_NULL, "the account that logged in"),
            _c("groups", T.ArrayType(STRING), NOT_NULL),
            _c("client_address", STRING),
            _c("started_at", TS, NOT_NULL),
            _c("finished_at", TS),
            _c("query_text", STRING, NOT_NULL),
            _c("tables", T.ArrayType(STRING), NOT_NULL, "catalog.schema.table read (or refused)"),
            _c("columns", T.ArrayType(STRING), NOT_NULL, "table.column read"),
            _c("row_filters", T.ArrayType(STRING), NOT_NULL, "table: filter expression applied"),
            _c("column_masks", T.ArrayType(STRING), NOT_NULL, "table.column: mask expression applied"),
            _c("outcome", STRING, NOT_NULL, "succeeded, denied or failed"),
            _c("error", STRING, comment="the endpoint's error message when not succeeded"),
        ]
    ),
    partition_by=(DATE_PARTITION,),
    constraints={"known_outcome": "outcome IN ('succeeded', 'denied', 'failed')"},
    description="one row per query through the SQL endpoint (serve), allowed or denied; names principals, not users",
)

ALL_TABLES: tuple[TableSpec, ...] = (
    FACT_MESSAGE_EVENTS,
    FACT_MESSAGE_DERIVED_TOPICS,
    FACT_CONVERSATION_METRICS,
    FACT_USER_METRICS,
    FACT_EXPERIMENT_DAILY,
    DIM_EXPERIMENT_ASSIGNMENTS,
    FACT_HOURLY_ACTIVITY,
    FACT_ACTIVITY_ROLLUPS,
    DIM_USERS,
    DIM_DEVICES,
    DIM_CONVERSATIONS,
    DIM_CONVERSATION_TYPES,
    DIM_CONVERSATION_PARTICIPANTS,
    DIM_MESSAGE_TYPES,
    DIM_MESSAGE_STATUS,
    DIM_TOPICS,
    DIM_DATES,
    DIM_TIME,
    QUARANTINE,
    MESSAGE_STATUS_EVENTS,
    PENDING_MESSAGE_STATUS,
    MEMBERSHIP_EVENTS,
    INGEST_AFFECTED_DATES,
    INGESTED_EVENTS,
    ACTIVITY_DAILY_SENDERS,
    ERASURE_LOG,
    PIPELINE_RUNS,
    OPS_MINUTE_METRICS,
    OPS_STREAM_BATCHES,
    OPS_STREAM_EVENTS,
    ACCESS_AUDIT,
)
TABLES_BY_NAME = {spec.name: spec for spec in ALL_TABLES}
