"""Surrogate keys: stable 64-bit hashes of natural keys, the same on every run and machine."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# One domain string per kind of key, so that equal natural ids of different kinds differ.
USER = "user"
CONVERSATION = "conversation"
MESSAGE = "message"
DEVICE = "device"
MESSAGE_TYPE = "message_type"
MESSAGE_STATUS = "message_status"
CONVERSATION_TYPE = "conversation_type"
TOPIC = "topic"
PARTICIPANT = "participant"
TOPIC_ASSIGNMENT = "topic_assignment"
CONVERSATION_METRIC = "conversation_metric"
USER_METRIC = "user_metric"
QUARANTINE = "quarantine"


def surrogate_key(domain: str, *natural_key: Column | str) -> Column:
    """xxhash64 of the domain and the natural key columns (Spark's built-in, seed 42)."""
    return F.xxhash64(F.lit(domain), *[F.col(c) if isinstance(c, str) else c for c in natural_key])
