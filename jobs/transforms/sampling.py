"""Deterministic, stratified sampling of messages for topic assignment.

A message's place in the sample depends on its `message_id` only: a 64-bit hash of it, mapped
to [0, 1), is compared with the rate of its conversation type. The same message is in or out
the same way on every run and machine, a message sampled at rate r is also sampled at every
rate above r, and since the hash is independent of the type every type is sampled at its own
rate (a Bernoulli sample per stratum).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# Domain of the sampling hash, so that it is independent of the message's surrogate key.
SAMPLE_HASH_DOMAIN = "topic_sample"
# The low 53 bits of the hash, as a double in [0, 1): exact, and uniform like the hash.
MANTISSA_BITS = 53


def sample_position(message_id: Column | str) -> Column:
    """A uniform number in [0, 1) fixed by the message id."""
    message_id = F.col(message_id) if isinstance(message_id, str) else message_id
    return uniform_position(F.xxhash64(F.lit(SAMPLE_HASH_DOMAIN), message_id))


def uniform_position(hashed: Column) -> Column:
    """A 64-bit hash as a uniform number in [0, 1): its low MANTISSA_BITS bits over 2**MANTISSA_BITS."""
    return hashed.bitwiseAND(F.lit((1 << MANTISSA_BITS) - 1)) / F.lit(float(1 << MANTISSA_BITS))


def may_be_sampled(message_id: Column | str, highest_rate: float) -> Column:
    """True for a message that some rate up to `highest_rate` can sample: every rate samples
    only positions below it, and at rate 1 every message (positions are below 1)."""
    if highest_rate >= 1.0:
        return F.lit(True)
    return sample_position(message_id) < F.lit(float(highest_rate))


def rate_column(rate_by_type: Mapping[str, float], default_rate: float, type_column: str) -> Column:
    """The rate of each row's conversation type; other types (and null) get the default."""
    rate = F.lit(float(default_rate))
    for type_name, type_rate in sorted(rate_by_type.items()):
        rate = F.when(F.col(type_column) == type_name, F.lit(float(type_rate))).otherwise(rate)
    return rate


def with_sample(
    rate_by_type: Mapping[str, float],
    default_rate: float,
    type_column: str = "type_name",
    id_column: str = "message_id",
) -> Callable[[DataFrame], DataFrame]:
    """Add `sample_rate` (the row's stratum rate) and `in_sample` (hash position < rate)."""

    def transform(messages: DataFrame) -> DataFrame:
        return messages.withColumn(
            "sample_rate", rate_column(rate_by_type, default_rate, type_column)
        ).withColumn("in_sample", sample_position(id_column) < F.col("sample_rate"))

    return transform
