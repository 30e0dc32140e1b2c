"""Experiment assignments and their daily sums, as analytics.md defines them.

Assignments come from the `metadata` of `conversation_created` (kept by ingest as
`dim_conversations.conversation_metadata`, the JSON of the earliest creation event):
`"experiments": {"<experiment>": "<variant>", ...}` and the older `"experiment": "<name>"`, which
means variant `treatment`. When both name the same experiment the `experiments` entry wins: it
names the variant, the old form only implies one. A malformed entry (a variant that is not a
string, an `experiments` that is not an object, an old-form name that is not a string, metadata
that is not an object) assigns nothing and is counted; the other entries still count. JSON
null reads as absent (raw-events.md: an absent nullable field is null), so it is not counted.

The JSON is read as a VARIANT rather than with `from_json(..., map<string,string>)`: that would
turn a number into a string and so accept `{"exp": 1}` as variant "1".
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from schemas.tables import SECONDS_SUM, SQUARED_SECONDS_SUM

OLD_FORM_VARIANT = "treatment"
CONTROL_VARIANT = "control"
MICROS_PER_SECOND = 1_000_000
VARIANT_STRING = "STRING"
# schema_of_variant of a JSON null
VARIANT_NULL = "VOID"
# Which form wins when both name an experiment (lower wins).
EXPERIMENTS_FORM, OLD_FORM = 0, 1


def _is_json_null(type_name: Column) -> Column:
    """True for an absent field (SQL null) or a JSON null."""
    return type_name.isNull() | (type_name == VARIANT_NULL)


def assignment_entries(conversations: DataFrame) -> DataFrame:
    """Every entry of every conversation's metadata: one row per entry with columns
    conversation_key, assigned_timestamp, experiment (null when it has no name), variant,
    form, is_valid. `conversations` has dim_conversations' columns."""
    created = conversations.where(
        F.col("conversation_metadata").isNotNull() & F.col("created_timestamp").isNotNull()
    ).select(
        "conversation_key",
        F.col("created_timestamp").alias("assigned_timestamp"),
        F.try_parse_json("conversation_metadata").alias("meta"),
        F.col("conversation_metadata").alias("raw"),
    )
    meta = F.col("meta")
    meta_type = F.schema_of_variant(meta)
    is_object = meta_type.startswith("OBJECT")
    # An `experiments` that is not an object reads as null here; its type says whether it was.
    experiments_type = F.schema_of_variant(F.try_variant_get(meta, "$.experiments", "variant"))
    experiments_map = F.try_variant_get(meta, "$.experiments", "map<string,variant>")
    old_value = F.try_variant_get(meta, "$.experiment", "variant")
    old_type = F.schema_of_variant(old_value)

    def entry(experiment: Column, variant: Column, form: int, valid: Column) -> Column:
        return F.struct(experiment.alias("experiment"), variant.alias("variant"),
                        F.lit(form).alias("form"), valid.alias("is_valid"))

    new_entries = F.transform(
        F.map_entries(F.coalesce(experiments_map, F.create_map().cast("map<string,variant>"))),
        lambda e: entry(
            e["key"],
            F.try_variant_get(e["value"], "$", "string"),
            EXPERIMENTS_FORM,
            F.schema_of_variant(e["value"]) == VARIANT_STRING,
        ),
    )
    bad_experiments = F.when(
        ~_is_json_null(experiments_type) & experiments_map.isNull(),
        F.array(entry(F.lit(None).cast("string"), F.lit(None).cast("string"), EXPERIMENTS_FORM, F.lit(False))),
    ).otherwise(F.array())
    old_entry = F.when(
        ~_is_json_null(old_type),
        F.array(entry(
            F.when(old_type == VARIANT_STRING, F.try_variant_get(old_value, "$", "string")),
            F.lit(OLD_FORM_VARIANT), OLD_FORM, old_type == VARIANT_STRING,
        )),
    ).otherwise(F.array())
    not_an_object = F.array(entry(F.lit(None).cast("string"), F.lit(None).cast("string"), OLD_FORM, F.lit(False)))
    entries = F.when(is_object, F.concat(new_entries, bad_experiments, old_entry)).otherwise(not_an_object)
    return created.select(
        "conversation_key", "assigned_timestamp", F.explode(entries).alias("entry")
    ).select("conversation_key", "assigned_timestamp", "entry.*")


def experiment_assignments(entries: DataFrame) -> DataFrame:
    """`dim_experiment_assignments` from `assignment_entries`: the valid entries, one per
    conversation and experiment (the `experiments` form first)."""
    valid = entries.where(F.col("is_valid"))
    first_form = valid.groupBy("conversation_key", "experiment").agg(F.min("form").alias("form"))
    return valid.join(first_form, on=["conversation_key", "experiment", "form"], how="inner").select(
        "conversation_key", "experiment", "variant", "assigned_timestamp"
    )


def malformed_entries(entries: DataFrame) -> DataFrame:
    return entries.where(~F.col("is_valid"))


def _on_dates(df: DataFrame, date_keys: Sequence[int]) -> DataFrame:
    return df.where(F.col("date_key").isin([int(k) for k in date_keys]))


def _micros(seconds: Column) -> Column:
    """Seconds held as a DOUBLE of whole microseconds, back to the exact whole number."""
    return F.round(seconds * F.lit(MICROS_PER_SECOND)).cast("long")


def _seconds(micros: Column, target: T.DecimalType, per_second: int) -> Column:
    """A DECIMAL(38,0) sum of (squared) microseconds, 0 when null, as (squared) seconds at
    `target`. Cast to the target scale first: divided at DECIMAL(38,0), Spark would keep only
    six decimals of the quotient and round the squares."""
    zero = F.lit(0).cast("decimal(38,0)")
    return (F.coalesce(micros, zero).cast(target) / F.lit(per_second)).cast(target)


def experiment_daily(
    date_keys: Sequence[int], messages: DataFrame, pairs: DataFrame, assignments: DataFrame
) -> DataFrame:
    """One `fact_experiment_daily` row per date, experiment and variant with at least one
    message in an assigned conversation. `messages` and `pairs` as for the daily metrics
    (they may hold the day before each date: only `date_keys` are kept)."""
    assigned = assignments.select("conversation_key", "experiment", "variant")
    day_messages = _on_dates(messages, date_keys).join(assigned, on="conversation_key", how="inner")
    group = ["date_key", "experiment", "variant"]
    per_conversation = (
        day_messages.groupBy(*group, "conversation_key")
        .agg(F.count(F.lit(1)).alias("conversation_messages"))
        .groupBy(*group)
        .agg(
            F.count(F.lit(1)).alias("conversations_active"),
            F.sum(F.col("conversation_messages") * F.col("conversation_messages"))
            .alias("sum_squared_conversation_messages"),
        )
    )
    base = day_messages.groupBy(*group).agg(
        F.count(F.lit(1)).alias("messages"),
        F.countDistinct("sender_user_key").alias("senders"),
        F.count("first_read_timestamp").alias("read_messages"),
    )
    # Whole microseconds as DECIMAL: sums and sums of squares are exact in any order.
    micros = _micros(F.col("response_time_seconds")).cast("decimal(38,0)")
    # Per conversation-day first: the report counts conversation-days as the independent units
    # of the mean response time (pairs of one conversation resemble each other), which needs
    # the sums of n_c^2, n_c * y_c and y_c^2 over them (n_c pairs, y_c their seconds).
    responses = (
        _on_dates(pairs, date_keys)
        .join(assigned, on="conversation_key", how="inner")
        .groupBy(*group, "conversation_key")
        .agg(
            F.count(F.lit(1)).alias("pairs"),
            F.sum(micros).alias("micros"),
            F.sum(micros * micros).alias("squared_micros"),
        )
        .groupBy(*group)
        .agg(
            F.sum("pairs").alias("response_pairs"),
            F.sum("micros").alias("sum_micros"),
            F.sum("squared_micros").alias("sum_squared_micros"),
            F.sum(F.col("pairs") * F.col("pairs")).alias("sum_squared_conversation_pairs"),
            F.sum(F.col("pairs").cast("decimal(38,0)") * F.col("micros")).alias("sum_conversation_pairs_micros"),
            F.sum(F.col("micros") * F.col("micros")).alias("sum_squared_conversation_micros"),
        )
    )
    return (
        base.join(per_conversation, on=group, how="inner")
        .join(responses, on=group, how="left")
        .select(
            *group,
            F.col("conversations_active").cast("int").alias("conversations_active"),
            F.col("messages").cast("int").alias("messages"),
            F.col("senders").cast("int").alias("senders"),
            F.col("read_messages").cast("int").alias("read_messages"),
            F.coalesce(F.col("response_pairs"), F.lit(0)).cast("int").alias("response_pairs"),
            _seconds(F.col("sum_micros"), SECONDS_SUM, MICROS_PER_SECOND).alias("sum_response_seconds"),
            _seconds(F.col("sum_squared_micros"), SQUARED_SECONDS_SUM, MICROS_PER_SECOND ** 2)
            .alias("sum_squared_response_seconds"),
            F.col("sum_squared_conversation_messages").cast("long").alias("sum_squared_conversation_messages"),
            F.coalesce(F.col("sum_squared_conversation_pairs"), F.lit(0)).cast("long")
            .alias("sum_squared_conversation_pairs"),
            _seconds(F.col("sum_conversation_pairs_micros"), SECONDS_SUM, MICROS_PER_SECOND)
            .alias("sum_conversation_pairs_response_seconds"),
            _seconds(F.col("sum_squared_conversation_micros"), SQUARED_SECONDS_SUM, MICROS_PER_SECOND ** 2)
            .alias("sum_squared_conversation_response_seconds"),
        )
    )
