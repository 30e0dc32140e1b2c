"""Bring the warehouse to a usable state: every table present, static dimensions filled."""

from __future__ import annotations

import hashlib
from typing import Any

from pyspark.sql import SparkSession

from jobs import filesystem, storage
from jobs.config import Config
from jobs.progress import LOGGER
from jobs.transforms import static_dimensions
from schemas.tables import ALL_TABLES

MARKER = "_chatlake/prepared"


def schema_fingerprint() -> str:
    """Changes whenever a table's declaration does, so a new table or constraint gets created."""
    text = "\n".join(
        f"{s.name}|{s.schema.json()}|{s.partition_by}|{sorted(s.constraints.items())}" for s in ALL_TABLES
    )
    return hashlib.sha256(text.encode()).hexdigest()


def prepare(spark: SparkSession, config: Config) -> None:
    """Create missing tables and fill empty static dimensions.

    Idempotent; a marker holding the schemas' fingerprint makes it free once done, which
    matters because every command calls it.
    """
    marker = f"{config.warehouse_path.rstrip('/')}/{MARKER}"
    fingerprint = schema_fingerprint()
    if filesystem.read_text(spark, marker) == fingerprint:
        return
    for spec in ALL_TABLES:
        storage.ensure_table(spark, config, spec)
    for name, build in static_dimensions.BUILDERS.items():
        if storage.read(spark, config, name).isEmpty():
            storage.append(build(spark), config, name)
    filesystem.write_text(spark, marker, fingerprint)


def run(spark: SparkSession, config: Config, args: Any) -> None:
    """`init`: the command line has already prepared the warehouse; say where it is."""
    del spark, args
    LOGGER.info("warehouse ready at %s", config.warehouse_path)
