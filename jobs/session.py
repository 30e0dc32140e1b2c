"""The one Spark session factory: Delta configured, local mode unless told otherwise."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from jobs.config import Config

DEFAULT_MASTER = "local[*]"
DEFAULT_DRIVER_MEMORY = "6g"
JARS_ENV = "CHATLAKE_JARS"
SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
# Rows of a landing day per shuffle partition once a day outgrows the configured count. A
# 5-million-message day (19M events) in the default 4 partitions left 4.8M wide rows in one
# cached block, and reading such a block back from disk ran the 6 GB driver out of memory.
ROWS_PER_SHUFFLE_PARTITION = 500_000
LOG4J_CONFIG = Path(__file__).resolve().parent.parent / "conf" / "log4j2.properties"

# Measured on 2 cores (docs/performance.md): small shuffles, AQE on, 16 MB splits.
BASE_SETTINGS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.files.maxPartitionBytes": "16m",
    # HotSpot does not JIT-compile a method over 8000 bytes of bytecode; the parser's stage
    # generated one that big and ran it in the interpreter (43% of parse time, by a flight
    # recording). Above this limit Spark runs the stage without whole-stage codegen, through
    # its own evaluators, which the JIT does compile.
    "spark.sql.codegen.hugeMethodLimit": "8000",
    # MERGE would otherwise shuffle its output by the date partition before writing, which sends
    # all of a day's rows to one task: at 5M messages, one sort of 19M ledger rows that ran the
    # heap out of memory. Without it the write keeps the join's partitions, sized to the day.
    "spark.databricks.delta.merge.repartitionBeforeWrite.enabled": "false",
    # Ingest caches its parsed lines and accepted events once each. Compressing the cache spent
    # 14% of the read step gathering dictionary statistics (boxed values in a Scala map) to save
    # 11% of memory: ids and timestamps are unique, so dictionaries rarely pay.
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    "spark.sql.autoBroadcastJoinThreshold": "64m",
    # The parser reads a line's values with from_json: a field of the wrong type (checked and
    # reported separately) must leave the line's other fields readable, not null them all.
    # This is Spark's default; set here because parsing.py depends on it.
    "spark.sql.json.enablePartialResults": "true",
    # Delta replays its log with this many tasks; the default 50 made every small table
    # lookup cost seconds on 2 cores.
    "spark.databricks.delta.snapshotPartitions": "2",
    # Deletion vectors make erasure and status updates cheap; new tables get them by default.
    "spark.databricks.delta.properties.defaults.enableDeletionVectors": "true",
    "spark.databricks.delta.schema.autoMerge.enabled": "false",
    # `purge` may vacuum below 7 days only when the config says so; it checks that itself.
    "spark.databricks.delta.retentionDurationCheck.enabled": "false",
    # VACUUM lists a table's files with this many tasks; the default 10000 tasks made a vacuum
    # of a small table take minutes on 2 cores.
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "8",
    # VACUUM would otherwise add two commits per table, each a log entry `purge` must then drop.
    "spark.databricks.delta.vacuum.logging.enabled": "false",
    # Files of a day's messages, sorted by sender (ingest's Z-order), small enough that the
    # statistics of most of them rule a given user out: an erasure then touches few files.
    "spark.databricks.delta.optimize.maxFileSize": str(32 << 20),
}


def log4j_java_options() -> str:
    """The driver JVM option that points log4j at conf/log4j2.properties."""
    return f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG}"


def build_session(
    config: Config,
    app_name: str = "chatlake",
    master: str | None = None,
    extra_settings: dict[str, str] | None = None,
) -> SparkSession:
    """Create (or return the running) session for `config`.

    Under spark-submit the Delta jars arrive with --jars; elsewhere (tests, notebooks) they
    are taken from $CHATLAKE_JARS, which ./spark-submit.sh sets up.
    """
    builder = SparkSession.builder.appName(app_name)
    chosen_master = master or config.spark.master
    if chosen_master:
        builder = builder.master(chosen_master)
    elif not _under_spark_submit():
        builder = builder.master(DEFAULT_MASTER)
    settings = {
        **BASE_SETTINGS,
        SHUFFLE_PARTITIONS: str(config.spark.shuffle_partitions),
        **config.spark.settings,
        **(extra_settings or {}),
    }
    # Stage progress bars help a person at a terminal and only clutter a CI log.
    settings.setdefault("spark.ui.showConsoleProgress", str(sys.stderr.isatty()).lower())
    if not _under_spark_submit():
        # Under spark-submit, ./spark-submit.sh passes these itself (the heap must be known
        # before the JVM starts, which here is now).
        settings.setdefault("spark.driver.memory", DEFAULT_DRIVER_MEMORY)
        jars = os.environ.get(JARS_ENV)
        if jars:
            settings.setdefault("spark.jars", jars)
        if LOG4J_CONFIG.is_file():
            settings.setdefault("spark.driver.extraJavaOptions", log4j_java_options())
        # Python workers (the language identifier's UDF) must run this interpreter, which has
        # chatlake's dependencies; PySpark would start the first `python3` on the PATH.
        # ./spark-submit.sh exports it for submitted jobs.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


@contextmanager
def shuffle_partitions_for(spark: SparkSession, rows: int) -> Iterator[int]:
    """Within the block, shuffles of `rows` rows get one partition per
    ROWS_PER_SHUFFLE_PARTITION rows, never fewer than configured; the setting is restored after.
    Small days keep the configured few partitions, whose low fixed cost they need."""
    configured = int(spark.conf.get(SHUFFLE_PARTITIONS) or "200")
    partitions = max(configured, math.ceil(rows / ROWS_PER_SHUFFLE_PARTITION))
    spark.conf.set(SHUFFLE_PARTITIONS, str(partitions))
    try:
        yield partitions
    finally:
        spark.conf.set(SHUFFLE_PARTITIONS, str(configured))


def _under_spark_submit() -> bool:
    # spark-submit starts the Python driver with the gateway already running.
    return "PYSPARK_GATEWAY_PORT" in os.environ
