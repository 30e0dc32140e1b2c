"""Hourly detail and weekly / monthly rollups of message activity, as analytics.md defines them.

Pure functions of the tables' frames:

- `hourly_activity`: one `fact_hourly_activity` row per date, UTC hour, conversation type,
  device type and network type with a message;
- `daily_senders`: the helper rows the rollups count distinct values from: one row per date,
  conversation type, conversation and sender with that date's message count. A month of them is
  about a month of distinct daily (conversation, sender) pairs, far fewer than its messages, and
  it is never sampled, so a period's distinct counts stay exact without re-reading the history;
- `activity_rollups`: the `fact_activity_rollups` rows of given periods from those helper rows
  and the conversations created in the periods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.transforms import keys, rules
from jobs.transforms.dates import date_of_key
from jobs.transforms.response_pairs import average_seconds, seconds_between
from schemas.tables import date_key, day_of

UNKNOWN_TYPE = "unknown"  # a conversation whose conversation_created has not been ingested
NO_DEVICE = "none"  # device and network type of a message without a device
ALL_TYPES = "all"
WEEK, MONTH = "week", "month"
GRAINS = (WEEK, MONTH)
P95 = 0.95
DAYS_PER_WEEK = 7

HOURLY_KEYS = ("date_key", "hour", "conversation_type", "device_type", "network_type")
ROLLUP_KEYS = ("grain", "period_start", "conversation_type")


def conversation_types(conversations: DataFrame, types: DataFrame) -> DataFrame:
    """(conversation_key, conversation_type) of the conversations whose creation is known."""
    names = types.select("conversation_type_key", F.col("type_name").alias("conversation_type"))
    return (
        conversations.where(F.col("conversation_type_key").isNotNull())
        .select("conversation_key", "conversation_type_key")
        .join(F.broadcast(names), on="conversation_type_key", how="inner")
        .select("conversation_key", "conversation_type")
    )


def _with_type(messages: DataFrame, typed: DataFrame) -> DataFrame:
    return messages.join(typed, on="conversation_key", how="left").withColumn(
        "conversation_type", F.coalesce(F.col("conversation_type"), F.lit(UNKNOWN_TYPE))
    )


def utc_hour(timestamp: Column) -> Column:
    """The UTC hour of an instant, from epoch microseconds (the session time zone plays no part)."""
    micros_per_hour = 3_600 * 1_000_000
    hours_per_day = 24
    return F.pmod(F.floor(F.unix_micros(timestamp) / F.lit(micros_per_hour)), F.lit(hours_per_day)).cast("int")


def hourly_activity(
    date_keys: Sequence[int], messages: DataFrame, typed: DataFrame, devices: DataFrame
) -> DataFrame:
    """`fact_hourly_activity` rows of the given dates.

    `messages` are `fact_message_events` rows (other dates are ignored), `typed` comes from
    `conversation_types`, `devices` is `dim_devices`."""
    latency = seconds_between(F.col("server_received_timestamp"), F.col("message_timestamp"))
    failed = keys.surrogate_key(keys.MESSAGE_STATUS, F.lit(rules.STATUS_FAILED))
    device_types = devices.select("device_key", "device_type", "network_type")
    return (
        messages.where(F.col("date_key").isin([int(k) for k in date_keys]))
        .transform(lambda df: _with_type(df, typed))
        .join(F.broadcast(device_types), on="device_key", how="left")
        .withColumn("hour", utc_hour(F.col("server_received_timestamp")))
        .withColumn("device_type", F.coalesce(F.col("device_type"), F.lit(NO_DEVICE)))
        .withColumn("network_type", F.coalesce(F.col("network_type"), F.lit(NO_DEVICE)))
        .withColumn("latency_seconds", latency)
        .groupBy(*HOURLY_KEYS)
        .agg(
            F.count(F.lit(1)).alias("messages"),
            F.countDistinct("sender_user_key").alias("senders"),
            F.count("latency_seconds").alias("latency_messages"),
            average_seconds(F.col("latency_seconds")).alias("avg_latency_seconds"),
            F.percentile(F.col("latency_seconds"), P95).alias("p95_latency_seconds"),
            F.count("first_delivered_timestamp").alias("delivered_messages"),
            F.count("first_read_timestamp").alias("read_messages"),
            F.count(F.when(F.col("message_status_key") == failed, F.lit(1))).alias("failed_messages"),
        )
    )


def daily_senders(date_keys: Sequence[int], messages: DataFrame, typed: DataFrame) -> DataFrame:
    """(date_key, conversation_type, conversation_key, sender_user_key, messages) of the dates."""
    return (
        messages.where(F.col("date_key").isin([int(k) for k in date_keys]))
        .transform(lambda df: _with_type(df, typed))
        .groupBy("date_key", "conversation_type", "conversation_key", "sender_user_key")
        .agg(F.count(F.lit(1)).alias("messages"))
    )


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def period_start(grain: str, day: dt.date) -> dt.date:
    return week_start(day) if grain == WEEK else month_start(day)


def period_end(grain: str, start: dt.date) -> dt.date:
    """The last day of the period that starts on `start`."""
    if grain == WEEK:
        return start + dt.timedelta(days=DAYS_PER_WEEK - 1)
    following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def periods_of(date_keys: Iterable[int]) -> set[tuple[str, dt.date]]:
    """(grain, period_start) of every week and month that holds one of the dates."""
    return {(grain, period_start(grain, day_of(key))) for key in date_keys for grain in GRAINS}


def period_dates(periods: Iterable[tuple[str, dt.date]]) -> list[int]:
    """Every date key of the periods."""
    days: set[int] = set()
    for grain, start in periods:
        day = start
        while day <= period_end(grain, start):
            days.add(date_key(day))
            day += dt.timedelta(days=1)
    return sorted(days)


def _period_column(grain: str, day: Column) -> Column:
    """The first day of the day's period: Monday (ISO week) or the 1st, with no time zone in play."""
    return F.trunc(day, "week" if grain == WEEK else "month")


def activity_rollups(
    periods: Iterable[tuple[str, dt.date]], senders: DataFrame, created: DataFrame
) -> DataFrame:
    """`fact_activity_rollups` rows of the given (grain, period_start) periods.

    `senders` are `daily_senders` rows covering the periods' dates; `created` is
    (conversation_key, conversation_type, created_date) of the conversations created."""
    wanted = sorted(set(periods))
    by_grain = {grain: [start for g, start in wanted if g == grain] for grain in GRAINS}
    day = date_of_key("date_key")
    activity = None
    for grain, starts in by_grain.items():
        if not starts:
            continue
        of_grain = senders.withColumn("grain", F.lit(grain)).withColumn("period_start", _period_column(grain, day))
        births = created.withColumn("grain", F.lit(grain)).withColumn(
            "period_start", _period_column(grain, F.col("created_date"))
        )
        part = _rollup(of_grain.where(F.col("period_start").isin(starts)),
                       births.where(F.col("period_start").isin(starts)))
        activity = part if activity is None else activity.unionByName(part)
    if activity is None:
        raise ValueError("activity_rollups needs at least one period")
    return activity


def _rollup(senders: DataFrame, births: DataFrame) -> DataFrame:
    """Rollup rows of (grain, period_start) groups, per type and for `all`."""
    every_type = senders.withColumn("conversation_type", F.lit(ALL_TYPES))
    counted = (
        senders.unionByName(every_type)
        .groupBy(*ROLLUP_KEYS)
        .agg(
            F.sum("messages").alias("messages"),
            F.countDistinct("sender_user_key").alias("active_senders"),
            F.countDistinct("conversation_key").alias("active_conversations"),
            F.countDistinct("date_key").alias("days_with_messages"),
        )
    )
    new = (
        births.unionByName(births.withColumn("conversation_type", F.lit(ALL_TYPES)))
        .groupBy(*ROLLUP_KEYS)
        .agg(F.count(F.lit(1)).alias("new_conversations"))
    )
    zero = F.lit(0).cast("long")
    return counted.join(new, on=list(ROLLUP_KEYS), how="full").select(
        *ROLLUP_KEYS,
        F.coalesce(F.col("messages"), zero).alias("messages"),
        F.coalesce(F.col("active_senders"), zero).alias("active_senders"),
        F.coalesce(F.col("active_conversations"), zero).alias("active_conversations"),
        F.coalesce(F.col("new_conversations"), zero).alias("new_conversations"),
        F.try_divide(F.col("messages").cast("double"), F.col("active_senders").cast("double"))
        .alias("avg_messages_per_sender"),
        F.coalesce(F.col("days_with_messages"), zero).cast("int").alias("days_with_messages"),
    )
