"""`topics --date D`: topics for a deterministic, stratified sample of dt=D's messages with text.

Text exists only in the landing zone, so the step reads dt=D again, keeps the valid
`message_sent` lines with text whose sample position (a hash of the message id) is below the
highest configured rate, keeps of those the lines that won their message
(fact_message_events.source_event_id), samples them at their conversation type's rate, and
scores only the sample against the keyword taxonomy of conf/topics/keywords.yaml, in the
message's language (fact_message_events.language_code; identified again from the text for a
message ingested before languages were). Text is
dropped where scoring splits it into terms. Before that, the join with the fact table may
shuffle the text of the lines within reach (Spark's temporary shuffle files, removed with the
session); what is cached and written holds ids, taxonomy terms and numbers only.

Writes: fact_message_derived_topics (MERGE on date, message, topic and extraction version, so a
rerun of the same version replaces rather than adds; each row records its language) and
dim_topics (each topic's weighted keywords per language as JSON, the languages it covers, and
topic_prevalence over the 30 days ending on D).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs import storage
from jobs.config import CONVERSATION_TYPES, Config
from jobs.landing import read_landing_day
from jobs.progress import LOGGER, step
from jobs.transforms import dates, history_sampling, keys, language, sampling, topic_scoring
from jobs.transforms.parsing import parse_events
from schemas.tables import date_key

PREVALENCE_DAYS = 30
CONFIDENT = topic_scoring.CONFIDENT
CARRIED = ("date_key", "conversation_key", "sender_user_key", "sample_rate")
# Columns whose change makes a rerun rewrite an assignment; processed_timestamp alone does not.
COMPARED = (
    "topic_confidence",
    "sample_rate",
    "conversation_key",
    "sender_user_key",
    "extraction_method",
    "language_code",
)


def run(spark: SparkSession, config: Config, args: Any) -> None:
    run_day(spark, config, args.date)


def run_day(
    spark: SparkSession,
    config: Config,
    day: dt.date,
    taxonomy: topic_scoring.Taxonomy | None = None,
) -> dict[str, int]:
    """Assign topics to dt=`day`'s sampled messages; returns the counts it logged."""
    taxonomy = taxonomy or topic_scoring.load_taxonomy(config.topics.keywords_file)
    rates = _rates(config)
    highest_rate = max(config.topics.sample_rate, *rates.values())
    with step("topics.assign") as report:
        line_counts = Observation("topic_lines")
        message_lines = _message_lines(spark, config, day, highest_rate)
        counted_lines = message_lines.observe(line_counts, F.count(F.lit(1)).alias("lines_in_reach"))
        candidates = _candidates(spark, config, day, counted_lines, highest_rate).transform(
            sampling.with_sample(rates, config.topics.sample_rate)
        )
        sample_counts = Observation("topic_sample")
        observed = candidates.observe(
            sample_counts, F.count(F.when(F.col("in_sample"), F.lit(1))).alias("sampled")
        )
        keywords = topic_scoring.keyword_table(spark, taxonomy)
        assignments = (
            observed.where(F.col("in_sample"))
            .transform(topic_scoring.assign_topics(keywords, taxonomy.calibration, carry=CARRIED))
            .transform(_as_fact_rows(taxonomy))
            # Text-free from here on: ids, topic keys and numbers. A checkpoint, not a cache:
            # Delta's MERGE materializes a source that reads files and ignores a cache
            # (delta-io/delta#2011), so a cached source parsed and scored the day again.
            .localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)
        )
        assignment_count = assignments.count()
        line_count = _observed_or_counted(line_counts, message_lines, "lines_in_reach", F.lit(True))
        sampled_count = _observed_or_counted(sample_counts, candidates, "sampled", F.col("in_sample"))
        report.rows_in, report.rows_out = line_count, assignment_count
        report.details = {"sampled": sampled_count}

    with step("topics.write") as report:
        # One pass for both: the dates the MERGE may touch and the confident count of the log line.
        per_date = (
            assignments.groupBy("date_key")
            .agg(F.count_if(F.col("topic_confidence") >= CONFIDENT).alias("confident"))
            .collect()
        )
        date_keys = sorted(r["date_key"] for r in per_date)
        _merge_assignments(spark, config, assignments, date_keys)
        confident = sum(r["confident"] for r in per_date)
        report.rows_out = assignment_count
        report.details = {"confident": confident, "dates": len(date_keys)}

    with step("topics.dim_topics"):
        _update_dim_topics(spark, config, day, taxonomy)

    counts = {
        "lines_in_reach": line_count,
        "sampled": sampled_count,
        "assignments": assignment_count,
        "confident_assignments": confident,
    }
    LOGGER.info(
        "topics %s: %s message lines with text within the sample's reach, %s sampled, "
        "%s assignments (%s at >= %s), version %s",
        day,
        f"{line_count:,}",
        f"{sampled_count:,}",
        f"{assignment_count:,}",
        f"{confident:,}",
        CONFIDENT,
        taxonomy.version,
    )
    return counts


def _observed_or_counted(
    observation: Observation, frame: DataFrame, name: str, condition: Column
) -> int:
    """A count seen while scoring ran, without a second pass over the landing data; Spark
    sometimes drops an observation made inside a checkpoint build, and then the rows of
    `frame` meeting `condition` are counted once more (slower, same number)."""
    try:
        return int(observation.get.get(name) or 0)
    except Exception:  # py4j surfaces the lost observation as a JVM assertion error
        totals = frame.agg(F.count(F.when(condition, F.lit(1))).alias(name)).first()
        return int(totals[name] or 0) if totals else 0


def _rates(config: Config) -> dict[str, float]:
    return {type_name: config.topics.rate_for(type_name) for type_name in CONVERSATION_TYPES}


# Only a line that spells out "message_sent", or escapes a character (JSON may write any of
# it as \uXXXX), can be a message_sent event: status, membership and user lines (three in
# four lines) are not parsed a second time.
def _may_be_message_sent(line: Column) -> Column:
    return line.contains('"message_sent"') | line.contains("\\")


# A message id spelled without escapes: when a line holds one such "message_id" and no
# backslash at all, the parse would read exactly this id.
PLAIN_MESSAGE_ID = r'"message_id"\s*:\s*"([^"\\]*)"'


def _beyond_reach(line: Column, highest_rate: float) -> Column:
    """True for a line whose message cannot be in the sample at any rate, known before the
    parse (the costliest part of the step); a line that is not plainly so is parsed."""
    plain_id = F.regexp_extract(line, PLAIN_MESSAGE_ID, 1)
    return (
        ~line.contains("\\")
        & (F.regexp_count(line, F.lit('"message_id"')) == 1)
        & line.rlike(PLAIN_MESSAGE_ID)
        & ~sampling.may_be_sampled(plain_id, highest_rate)
    )


def _message_lines(
    spark: SparkSession, config: Config, day: dt.date, highest_rate: float
) -> DataFrame:
    """dt=D's valid message_sent lines with text that may be in the sample (a line that was
    not plainly beyond reach before the parse is checked again with the id the parse read)."""
    line = F.col("value")
    return (
        read_landing_day(spark, config, day, line_numbers=False)
        .lines.where(_may_be_message_sent(line) & ~_beyond_reach(line, highest_rate))
        .transform(parse_events(day, config.future_tolerance_hours))
        .where(
            F.col("reject_reason").isNull()
            & (F.col("event_type") == "message_sent")
            & F.col("text").isNotNull()
        )
        .select(
            keys.surrogate_key(keys.MESSAGE, "message_id").alias("message_event_id"),
            F.col("event_id").alias("source_event_id"),
            dates.date_key("server_ts").alias("date_key"),
            "message_id",
            "text",
        )
        .where(sampling.may_be_sampled("message_id", highest_rate))
    )


def _candidates(
    spark: SparkSession,
    config: Config,
    day: dt.date,
    message_lines: DataFrame,
    highest_rate: float,
) -> DataFrame:
    """The message lines that won their message (fact_message_events.source_event_id) and may
    be sampled, with the message's keys and conversation type (null if the type is unknown)."""
    # The winning event is one of dt=D's accepted events, so its message's date is among the
    # dates ingest recorded for D; reading only those keeps the fact scan to a few partitions.
    affected = [
        row["date_key"]
        for row in storage.read(spark, config, "ingest_affected_dates")
        .where(F.col("landing_date") == F.lit(day))
        .select("date_key")
        .collect()
    ]
    messages = (
        storage.read_dates(spark, config, "fact_message_events", affected)
        .select(
            "message_event_id",
            "source_event_id",
            "date_key",
            "conversation_key",
            "sender_user_key",
            "message_id",
            F.col("language_code").alias("ingested_language_code"),
        )
        # No other message can be in the sample: neither it nor the line it would meet goes
        # into the join's shuffle (at rate 0.25, three in four do not).
        .where(sampling.may_be_sampled("message_id", highest_rate))
        .drop("message_id")
    )
    conversation_types = storage.read(spark, config, "dim_conversations").select(
        "conversation_key", "conversation_type_key"
    )
    type_names = storage.read(spark, config, "dim_conversation_types").select(
        "conversation_type_key", "type_name"
    )
    return (
        message_lines.join(messages, on=["message_event_id", "source_event_id", "date_key"], how="inner")
        .join(F.broadcast(conversation_types), on="conversation_key", how="left")
        .join(F.broadcast(type_names), on="conversation_type_key", how="left")
        .drop("conversation_type_key")
        # The language ingest identified; for a message ingested before it did, the same
        # identification of the same text now. Spark runs a Python UDF on every row whatever
        # the condition around it, so the others hand it null, which it answers at once.
        .withColumn(
            "language_code",
            F.coalesce(
                F.col("ingested_language_code"),
                language.language_code(F.when(F.col("ingested_language_code").isNull(), F.col("text"))),
            ),
        )
        .drop("ingested_language_code")
    )


def _as_fact_rows(taxonomy: topic_scoring.Taxonomy) -> Any:
    def transform(assignments: DataFrame) -> DataFrame:
        version = F.lit(taxonomy.version)
        topic_key = keys.surrogate_key(keys.TOPIC, "topic_name")
        return storage.conformed(
            assignments.withColumn("topic_key", topic_key)
            .withColumn("topic_extraction_version", version)
            .withColumn(
                "topic_assignment_id",
                keys.surrogate_key(
                    keys.TOPIC_ASSIGNMENT,
                    "message_event_id",
                    "topic_key",
                    "topic_extraction_version",
                ),
            )
            .withColumn("extraction_method", F.lit(taxonomy.method))
            .withColumn("processed_timestamp", F.current_timestamp())
            .withColumn(history_sampling.RATE_COLUMN, F.lit(history_sampling.FULL)),
            "fact_message_derived_topics",
        )

    return transform


def _merge_assignments(
    spark: SparkSession, config: Config, assignments: DataFrame, date_keys: list[int]
) -> None:
    if not date_keys:
        return
    # The literal date list lets Delta prune the target to the partitions the sample touches.
    in_dates = f"t.date_key IN ({', '.join(str(int(k)) for k in date_keys)})"
    condition = (
        f"{in_dates} AND t.date_key = s.date_key AND t.message_event_id = s.message_event_id"
        " AND t.topic_key = s.topic_key AND t.topic_extraction_version = s.topic_extraction_version"
    )
    changed = " OR ".join(f"NOT (t.{c} <=> s.{c})" for c in COMPARED)
    (
        storage.delta_table(spark, config, "fact_message_derived_topics")
        .alias("t")
        .merge(assignments.alias("s"), condition)
        .whenMatchedUpdateAll(condition=changed)
        .whenNotMatchedInsertAll()
        .execute()
    )


def prevalence(spark: SparkSession, config: Config, day: dt.date, version: str) -> DataFrame:
    """(topic_key, topic_prevalence): the estimated share of the messages with text of the
    30 days ending on `day` that carry the topic at confidence >= 0.7 (Σ 1/sample_rate over
    the sampled ones, divided by the count of messages with text; on dates history sampling
    reduced, both weighted by 1/history_sample_rate)."""
    first = day - dt.timedelta(days=PREVALENCE_DAYS - 1)
    window = [date_key(first + dt.timedelta(days=n)) for n in range(PREVALENCE_DAYS)]
    with_text = (
        storage.read_dates(spark, config, "fact_message_events", window)
        .where(F.col("has_text"))
        # Dates history sampling reduced count each kept message as 1 / history_sample_rate.
        .agg(F.sum(history_sampling.weight()).alias("messages_with_text"))
    )
    estimated = (
        storage.read_dates(spark, config, "fact_message_derived_topics", window)
        .where(
            (F.col("topic_extraction_version") == version)
            & (F.col("topic_confidence") >= CONFIDENT)
        )
        .groupBy("topic_key")
        .agg(F.sum(history_sampling.weight() / F.col("sample_rate")).alias("estimated_messages"))
    )
    return estimated.crossJoin(with_text).select(
        "topic_key",
        F.when(
            F.col("messages_with_text") > 0,
            F.least(F.lit(1.0), F.col("estimated_messages") / F.col("messages_with_text")),
        ).alias("topic_prevalence"),
    )


def _update_dim_topics(
    spark: SparkSession, config: Config, day: dt.date, taxonomy: topic_scoring.Taxonomy
) -> None:
    """Every level-2 topic gets the current keywords and their languages; prevalence is 0 for a
    topic not seen."""
    topic_names = sorted({topic for _, topic, _, _ in taxonomy.terms})
    keywords = spark.createDataFrame(
        [
            (name, taxonomy.keywords_json(name), ",".join(taxonomy.topic_languages(name)))
            for name in topic_names
        ],
        "topic_name string, topic_keywords string, topic_languages string",
    ).withColumn("topic_key", keys.surrogate_key(keys.TOPIC, "topic_name"))
    updates = keywords.join(
        prevalence(spark, config, day, taxonomy.version), on="topic_key", how="left"
    ).select(
        "topic_key",
        "topic_keywords",
        "topic_languages",
        F.coalesce(F.col("topic_prevalence"), F.lit(0.0)).alias("topic_prevalence"),
    )
    (
        storage.delta_table(spark, config, "dim_topics")
        .alias("t")
        .merge(updates.alias("s"), "t.topic_key = s.topic_key")
        .whenMatchedUpdate(
            condition="NOT (t.topic_keywords <=> s.topic_keywords)"
            " OR NOT (t.topic_languages <=> s.topic_languages)"
            " OR NOT (t.topic_prevalence <=> s.topic_prevalence)",
            set={
                "topic_keywords": "s.topic_keywords",
                "topic_languages": "s.topic_languages",
                "topic_prevalence": "s.topic_prevalence",
            },
        )
        .execute()
    )
