"""Remove erased users' lines from the landing zone, leaving every other line byte for byte.

A user's lines are those whose `user_id` is theirs, bad lines included when they parse far
enough to show it: a line that is not valid JSON but still spells `"user_id": "<id>"` counts
too, since the file would otherwise keep the id. Spark finds the lines (file and line
number, numbered as ingest numbers them); the driver then rewrites only the files that hold
one, through Hadoop's FileSystem so that object stores work as well as local disks.
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import filesystem
from jobs.config import Config
from jobs.landing import GZIP_SUFFIX, landing_days, read_landing_day
from jobs.progress import LOGGER


@dataclass
class LandingErasure:
    lines_removed: int = 0
    files_rewritten: int = 0
    user_ids_found: set[str] = field(default_factory=set)


def _their_lines(lines: DataFrame, user_ids: list[str]) -> DataFrame:
    """(source_file, line_number, user_id) of the lines that name one of `user_ids`."""
    spelled_out = r'"user_id"\s*:\s*"(' + "|".join(re.escape(i) for i in user_ids) + ')"'
    parsed_id = F.expr("try_variant_get(try_parse_json(value), '$.user_id', 'string')")
    return (
        lines.select(
            "source_file",
            "line_number",
            F.when(parsed_id.isin(user_ids), parsed_id)
            .otherwise(F.nullif(F.regexp_extract("value", spelled_out, 1), F.lit("")))
            .alias("user_id"),
        )
        .where(F.col("user_id").isNotNull())
    )


def without_lines(content: bytes, line_numbers: set[int]) -> bytes:
    """`content` minus the given 1-based lines, split as Spark's text reader splits them
    (\\n, \\r\\n or \\r); every other byte is kept."""
    return b"".join(line for number, line in enumerate(content.splitlines(keepends=True), start=1)
                    if number not in line_numbers)


def remove_user_lines(spark: SparkSession, config: Config, user_ids: list[str]) -> LandingErasure:
    result = LandingErasure()
    days = landing_days(spark, config)
    for day in days:
        filesystem.finish_replacements(spark, config.landing_day_path(day.isoformat()))
    readable: list[DataFrame] = []
    for day in days:
        landing = read_landing_day(spark, config, day)
        for path, reason in landing.corrupt_files:
            LOGGER.warning("delete-users: cannot search unreadable landing file %s (%s)", path, reason)
        readable.append(landing.lines)
    if not readable:
        return result
    all_lines = readable[0]
    for lines in readable[1:]:
        all_lines = all_lines.unionByName(lines)
    by_file: dict[str, set[int]] = defaultdict(set)
    for row in _their_lines(all_lines, user_ids).collect():
        by_file[row["source_file"]].add(int(row["line_number"]))
        result.user_ids_found.add(row["user_id"])
    for path, line_numbers in sorted(by_file.items()):
        content = filesystem.read_bytes(spark, path)
        if path.endswith(GZIP_SUFFIX):
            kept = gzip.compress(without_lines(gzip.decompress(content), line_numbers), mtime=0)
        else:
            kept = without_lines(content, line_numbers)
        filesystem.replace_file(spark, path, kept)
        result.lines_removed += len(line_numbers)
        result.files_rewritten += 1
    return result
