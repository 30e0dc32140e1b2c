"""History sampling: older dates keep the rows of a deterministic sample of whole conversations.

A conversation's place in the sample depends on its `conversation_key` only (itself a fixed hash
of `conversation_id`): a 64-bit hash of it, mapped to [0, 1), is compared with the rate. So a
conversation is in or out on every date and run, and one sampled at rate r is sampled at every
rate above r: lowering the rate later shrinks the sample to a subset of what is left. Each kept
row carries the rate in `history_sample_rate` (null, in rows written before the column existed,
reads as 1.0: kept in full), so Σ 1 / history_sample_rate estimates the full count.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.transforms.sampling import uniform_position

RATE_COLUMN = "history_sample_rate"
FULL = 1.0
# Domain of the hash, so that the history sample is independent of the topic sample and keys.
HISTORY_HASH_DOMAIN = "history_sample"


def conversation_position(conversation_key: Column) -> Column:
    """A uniform number in [0, 1) fixed by the conversation."""
    return uniform_position(F.xxhash64(F.lit(HISTORY_HASH_DOMAIN), conversation_key))


def current_rate() -> Column:
    """The rate a stored row was kept at (1.0 for a row kept in full)."""
    return F.coalesce(F.col(RATE_COLUMN), F.lit(FULL))


def needs_sampling(rate: float) -> Column:
    """True for rows kept at a higher rate than `rate`: the ones a run at `rate` changes.

    Written without coalesce so that Delta's file statistics (max, null count) of the column
    skip the files a previous run already reduced."""
    return F.col(RATE_COLUMN).isNull() | (F.col(RATE_COLUMN) > F.lit(float(rate)))


def reduce_to(rate: float) -> Callable[[DataFrame], DataFrame]:
    """Keep the rows of conversations sampled at `rate` and mark them with it; rows already kept
    at `rate` or lower stay exactly as they are (so a rerun changes nothing)."""

    def transform(rows: DataFrame) -> DataFrame:
        in_sample = conversation_position(F.col("conversation_key")) < F.lit(float(rate))
        return rows.where(~needs_sampling(rate) | in_sample).withColumn(
            RATE_COLUMN, F.least(current_rate(), F.lit(float(rate)))
        )

    return transform


def weight() -> Column:
    """1 / history_sample_rate: how many rows of the full data one kept row stands for."""
    return F.lit(FULL) / current_rate()
