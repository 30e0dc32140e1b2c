"""The dimensions whose rows are known before any event arrives."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms import keys
from jobs.transforms.dates import date_key
from schemas.topics import CATEGORIES, TOPICS

FIRST_DATE = "2000-01-01"
LAST_DATE = "2050-12-31"

# name: (category, contains_media, is_ephemeral, is_system_message, rendering_requirements)
MESSAGE_TYPES = {
    "text": ("text", False, False, False, "plain text"),
    "image": ("media", True, False, False, "image viewer"),
    "video": ("media", True, False, False, "video player"),
    "audio": ("media", True, False, False, "audio player"),
    "file": ("attachment", True, False, False, "file download"),
    "sticker": ("expressive", True, False, False, "sticker pack"),
    "location": ("location", False, False, False, "map view"),
    "system": ("system", False, False, True, "inline notice"),
    "ephemeral_text": ("text", False, True, False, "plain text, self-destructing"),
}
# name: (description, is_terminal_state, status_sequence)
MESSAGE_STATUSES = {
    "sent": ("accepted by the server, not yet delivered", False, 1),
    "delivered": ("delivered to at least one recipient's device", False, 2),
    "read": ("read by at least one recipient", True, 3),
    "failed": ("could not be delivered", True, 4),
}
# name: (description, supports_group_chat, supports_encryption, max_participants)
CONVERSATION_TYPES = {
    "direct": ("one-to-one conversation", False, True, 2),
    "group": ("conversation among several members", True, True, 1024),
    "channel": ("broadcast to many subscribers", True, False, None),
}


def _lookup(spark: SparkSession, entries: dict[str, tuple], schema: str, key: str, domain: str) -> DataFrame:
    """A small dimension from {name: attributes}: its first column is the name, `key` its
    surrogate key in `domain`."""
    rows = [(name, *attributes) for name, attributes in entries.items()]
    frame = spark.createDataFrame(rows, schema)
    return frame.withColumn(key, keys.surrogate_key(domain, frame.columns[0]))


def message_types(spark: SparkSession) -> DataFrame:
    return _lookup(
        spark, MESSAGE_TYPES,
        "message_type_name string, message_category string, contains_media boolean, "
        "is_ephemeral boolean, is_system_message boolean, rendering_requirements string",
        "message_type_key", keys.MESSAGE_TYPE,
    )


def message_statuses(spark: SparkSession) -> DataFrame:
    return _lookup(
        spark, MESSAGE_STATUSES,
        "status_name string, status_description string, is_terminal_state boolean, status_sequence int",
        "message_status_key", keys.MESSAGE_STATUS,
    )


def conversation_types(spark: SparkSession) -> DataFrame:
    return _lookup(
        spark, CONVERSATION_TYPES,
        "type_name string, type_description string, supports_group_chat boolean, "
        "supports_encryption boolean, max_participants int",
        "conversation_type_key", keys.CONVERSATION_TYPE,
    )


def topics(spark: SparkSession) -> DataFrame:
    """Both levels of the taxonomy; keywords and prevalence are filled by the topics step."""
    category_rows = [(category, category, None, 1) for category in CATEGORIES]
    topic_rows = [(name, category, category, 2) for name, category in TOPICS]
    return (
        spark.createDataFrame(
            category_rows + topic_rows,
            "topic_name string, topic_category string, parent_name string, hierarchy_level int",
        )
        .withColumn("topic_key", keys.surrogate_key(keys.TOPIC, "topic_name"))
        .withColumn(
            "parent_topic_key",
            F.when(F.col("parent_name").isNotNull(), keys.surrogate_key(keys.TOPIC, "parent_name")),
        )
        .withColumn("topic_keywords", F.lit(None).cast("string"))
        .withColumn("topic_languages", F.lit(None).cast("string"))
        .withColumn("topic_prevalence", F.lit(None).cast("double"))
        .drop("parent_name")
    )


def dates(spark: SparkSession, first: str = FIRST_DATE, last: str = LAST_DATE) -> DataFrame:
    full_date = F.col("full_date")
    return (
        spark.range(1)
        .select(F.explode(F.sequence(F.to_date(F.lit(first)), F.to_date(F.lit(last)))).alias("full_date"))
        .select(
            date_key(full_date).alias("date_key"),
            full_date,
            F.year(full_date).alias("year"),
            F.quarter(full_date).alias("quarter"),
            F.month(full_date).alias("month"),
            F.date_format(full_date, "MMMM").alias("month_name"),
            F.dayofmonth(full_date).alias("day_of_month"),
            # Spark's dayofweek is 1 = Sunday; ISO is 1 = Monday.
            (((F.dayofweek(full_date) + 5) % 7) + 1).alias("day_of_week"),
            F.date_format(full_date, "EEEE").alias("day_name"),
            F.dayofyear(full_date).alias("day_of_year"),
            F.weekofyear(full_date).alias("iso_week"),
            F.dayofweek(full_date).isin(1, 7).alias("is_weekend"),
            F.date_trunc("week", full_date).cast("date").alias("week_start_date"),
            F.trunc(full_date, "month").alias("month_start_date"),
        )
    )


def times(spark: SparkSession) -> DataFrame:
    minute_of_day = F.col("id").cast("int")
    hour = F.floor(minute_of_day / 60).cast("int")
    return spark.range(24 * 60).select(
        (hour * 100 + minute_of_day % 60).alias("time_key"),
        hour.alias("hour"),
        (minute_of_day % 60).alias("minute"),
        F.format_string("%02d:%02d", hour, minute_of_day % 60).alias("time_label"),
        F.when(hour < 6, "night")
        .when(hour < 12, "morning")
        .when(hour < 18, "afternoon")
        .otherwise("evening")
        .alias("period_of_day"),
    )


BUILDERS = {
    "dim_message_types": message_types,
    "dim_message_status": message_statuses,
    "dim_conversation_types": conversation_types,
    "dim_topics": topics,
    "dim_dates": dates,
    "dim_time": times,
}
