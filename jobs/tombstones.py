"""Tombstones of erased users: keyed hashes of their ids, never the ids themselves.

`delete-users` records each request's hashes in `erasure_log`; ingest drops every line of a
user whose hash is there, so late logs, retries and client queues cannot bring them back.
The hash is SHA-256 over the configured secret (`erasure.hash_key`) and the id, so the log
cannot be reversed by hashing a list of known ids without that secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import storage
from jobs.config import Config

SEPARATOR = "\u0000"


def user_id_hash(config: Config, user_id: Column) -> Column:
    return F.sha2(F.concat(F.lit(config.erasure_hash_key + SEPARATOR), user_id), 256)


def user_id_hash_text(config: Config, user_id: str) -> str:
    """`user_id_hash` of one id, computed in the driver (the same hex digest)."""
    return hashlib.sha256((config.erasure_hash_key + SEPARATOR + user_id).encode("utf-8")).hexdigest()


def erased_user_hashes(spark: SparkSession, config: Config) -> DataFrame | None:
    """Every hash ever requested for erasure (one column, `user_id_hash`), or None when none was."""
    hashes = (
        storage.read(spark, config, "erasure_log")
        .select(F.explode("user_id_hashes").alias("user_id_hash"))
        .distinct()
    )
    return None if hashes.isEmpty() else hashes


def flag_erased_users(config: Config, tombstones: DataFrame | None) -> Callable[[DataFrame], DataFrame]:
    """Curried for `events.transform(...)`: adds `erased`, true for rows of an erased `user_id`."""

    def transform(events: DataFrame) -> DataFrame:
        if tombstones is None:
            return events.withColumn("erased", F.lit(False))
        erased = tombstones.select(F.col("user_id_hash").alias("_user_id_hash"), F.lit(True).alias("erased"))
        return (
            events.withColumn("_user_id_hash", user_id_hash(config, F.col("user_id")))
            .join(
                F.broadcast(erased),
                on="_user_id_hash",
                how="left",
            )
            .withColumn("erased", F.coalesce("erased", F.lit(False)))
            .drop("_user_id_hash")
        )

    return transform
