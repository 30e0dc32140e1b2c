"""Reading one landing day `dt=D`: every line of its `.json` and `.json.gz` files, with the
file it came from and its line number, and the files that cannot be read at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from py4j.protocol import Py4JJavaError
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import filesystem
from jobs.config import Config

LANDING_PREFIX = "dt="
LANDING_SUFFIXES = (".json", ".json.gz")
GZIP_SUFFIX = ".gz"
BOM = "\ufeff"

RAW_LINE_SCHEMA = T.StructType(
    [
        T.StructField("value", T.StringType()),
        T.StructField("source_file", T.StringType()),
        T.StructField("line_number", T.LongType()),
    ]
)


@dataclass(frozen=True)
class LandingDay:
    """The lines of a landing day, plus the files that had to be set aside whole."""

    lines: DataFrame  # value, source_file, line_number (1-based; null when not asked for)
    corrupt_files: list[tuple[str, str]]  # (path, reason)
    files: list[str]


def landing_days(spark: SparkSession, config: Config) -> list[dt.date]:
    """The days of the landing zone's `dt=YYYY-MM-DD` folders; other folders are not ours."""
    days = []
    for folder in filesystem.list_dirs(spark, config.landing_path):
        if folder.startswith(LANDING_PREFIX):
            try:
                days.append(dt.date.fromisoformat(folder[len(LANDING_PREFIX):]))
            except ValueError:
                continue
    return days


def landing_files(spark: SparkSession, config: Config, day: dt.date) -> list[str]:
    folder = config.landing_day_path(day.isoformat())
    return [p for p in filesystem.list_files(spark, folder) if p.endswith(LANDING_SUFFIXES)]


def _gzip_problem(spark: SparkSession, path: str) -> str | None:
    """Why a gzip file cannot be read to its end, or None if it can.

    Spark would fail the whole job on a corrupt gzip (or, told to ignore corrupt files, drop
    it silently); reading it through once in the JVM, with the Hadoop codec Spark's own read
    will use, lets us quarantine it instead. java.util.zip would not do: it ignores bytes after
    the last member, which the Hadoop codec fails on.
    """
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    fs, hadoop_path = filesystem.hadoop_fs(spark, path)
    if fs.getFileStatus(hadoop_path).getLen() == 0:
        # The codec reads an empty file as no lines; it is a transfer that never finished.
        return "corrupt_gzip: empty file"
    codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(hadoop_conf).getCodec(hadoop_path)
    stream = fs.open(hadoop_path)
    try:
        jvm.org.apache.commons.io.IOUtils.consume(codec.createInputStream(stream))
        return None
    except Py4JJavaError as error:
        cause = error.java_exception
        message = cause.getMessage() or cause.getClass().getSimpleName()
        return f"corrupt_gzip: {message}"[:200]
    finally:
        stream.close()


def read_landing_day(
    spark: SparkSession, config: Config, day: dt.date, *, line_numbers: bool = True
) -> LandingDay:
    """All lines of `dt=day` with their file and 1-based line number (blank lines included).

    Numbering the lines takes a pass over the whole day of its own (see `_with_line_numbers`);
    a reader that never names a line (topics) passes `line_numbers=False` and gets nulls.
    """
    files = landing_files(spark, config, day)
    corrupt = [(p, reason) for p in files if p.endswith(GZIP_SUFFIX) if (reason := _gzip_problem(spark, p))]
    readable = [p for p in files if p not in {c for c, _ in corrupt}]
    if not readable:
        return LandingDay(spark.createDataFrame([], RAW_LINE_SCHEMA), corrupt, files)
    raw = (
        spark.read.text(readable)
        .select(
            without_bom_or_cr(F.col("value")).alias("value"),
            F.col("_metadata.file_path").alias("source_file"),
            F.col("_metadata.file_block_start").alias("block_start"),
            F.monotonically_increasing_id().alias("row_id"),
        )
    )
    if not line_numbers:
        return LandingDay(
            raw.select("value", "source_file", F.lit(None).cast(T.LongType()).alias("line_number")), corrupt, files
        )
    return LandingDay(_with_line_numbers(raw), corrupt, files)


def without_bom_or_cr(line: Column) -> Column:
    """A UTF-8 byte order mark or a Windows line ending is not part of the JSON. A line that is
    not UTF-8 keeps its bytes: a regex would replace the broken ones with U+FFFD, and the
    parser must see them to quarantine the line. The two tests come first: a regex over every
    line cost more than reading it."""
    return F.when(
        F.is_valid_utf8(line) & (line.startswith(BOM) | line.endswith("\r")),
        F.regexp_replace(F.regexp_replace(line, f"^{BOM}", ""), "\r$", ""),
    ).otherwise(line)


def _with_line_numbers(raw: DataFrame) -> DataFrame:
    """Line numbers without a sort of all lines.

    A file may be split into blocks read by different tasks; within a block, rows keep file
    order and consecutive ids. So a line's number is its offset in its block plus the lines of
    the file's earlier blocks, and only the (tiny) per-block summary needs a window.
    """
    file_order = Window.partitionBy("source_file").orderBy("block_start")
    blocks = (
        raw.groupBy("source_file", "block_start")
        .agg(F.min("row_id").alias("block_first_row"), F.count(F.lit(1)).alias("block_lines"))
        .withColumn(
            "lines_before",
            F.coalesce(F.sum("block_lines").over(file_order.rowsBetween(Window.unboundedPreceding, -1)), F.lit(0)),
        )
    )
    return (
        raw.join(F.broadcast(blocks), on=["source_file", "block_start"], how="inner")
        .select(
            "value",
            "source_file",
            (F.col("row_id") - F.col("block_first_row") + F.col("lines_before") + 1).alias("line_number"),
        )
    )
