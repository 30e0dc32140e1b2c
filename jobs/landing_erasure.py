"""Remove erased users' lines from the landing zone, leaving every other line byte for byte.

A user's lines are those whose `user_id` is theirs, bad lines included when they parse far
enough to show it: a line that is not valid JSON but still spells `"user_id": "<id>"` counts
too, since the file would otherwise keep the id. Spark finds the lines (file and line
number, numbered as ingest numbers them); the driver then rewrites only the files that hold
one, through Hadoop's FileSystem so that object stores work as well as local disks.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import filesystem
from jobs.config import Config
from jobs.landing import GZIP_SUFFIX, landing_days, read_landing_day
from jobs.progress import LOGGER

# zlib's window size plus 16: read and write the gzip format (header and trailer).
GZIP_WBITS = zlib.MAX_WBITS | 16


@dataclass
class LandingErasure:
    lines_removed: int = 0
    files_rewritten: int = 0
    user_ids_found: set[str] = field(default_factory=set)
    lines_by_file: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    @property
    def lines_found(self) -> int:
        return sum(len(numbers) for numbers in self.lines_by_file.values())


def _may_name(user_ids: list[str]) -> Column:
    """A cheap, conservative test that keeps every line that can name one of `user_ids`.

    Parsing each line is most of the search's cost, and few lines are a listed user's. Without
    a backslash a JSON line cannot escape anything, so the id it names is spelled out after
    `"user_id":`; a line with a backslash, or with a `user_id` that is not a string, is parsed.
    """
    value = F.col("value")
    spelled_ids = F.regexp_extract_all(value, F.lit(r'"user_id"\s*:\s*"([^"]*)"'), F.lit(1))
    return (
        value.contains("\\")
        | value.rlike(r'"user_id"\s*:\s*[^"\s]')
        | F.arrays_overlap(spelled_ids, F.array(*[F.lit(i) for i in user_ids]))
    )


def _their_lines(lines: DataFrame, user_ids: list[str]) -> DataFrame:
    """(source_file, line_number, user_id) of the lines that name one of `user_ids`."""
    spelled_out = r'"user_id"\s*:\s*"(' + "|".join(re.escape(i) for i in user_ids) + ')"'
    parsed_id = F.expr("try_variant_get(try_parse_json(value), '$.user_id', 'string')")
    return (
        lines.where(_may_name(user_ids))
        .select(
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


def stream_without_lines(pieces: Iterable[bytes], line_numbers: set[int]) -> Iterator[bytes]:
    """`without_lines` over content that arrives in pieces, holding one piece at a time."""
    number = 1
    unfinished = b""
    for piece in pieces:
        lines = (unfinished + piece).splitlines(keepends=True)
        # The last line may go on in the next piece (even a "\\r" whose "\\n" comes next).
        unfinished = lines.pop() if lines else b""
        kept = []
        for line in lines:
            if number not in line_numbers:
                kept.append(line)
            number += 1
        if kept:
            yield b"".join(kept)
    if unfinished and number not in line_numbers:
        yield unfinished


def gunzip_pieces(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Decompressed pieces of a gzip file, every member of it (as `gzip.decompress`)."""
    inflater = zlib.decompressobj(GZIP_WBITS)
    for piece in pieces:
        while piece:
            yield inflater.decompress(piece)
            piece = inflater.unused_data if inflater.eof else b""
            if inflater.eof:
                inflater = zlib.decompressobj(GZIP_WBITS)
    yield inflater.flush()


def gzip_pieces(pieces: Iterable[bytes]) -> Iterator[bytes]:
    # zlib's default level: a third of gzip's default (9) time, for a few percent more bytes.
    deflater = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, GZIP_WBITS)
    for piece in pieces:
        yield deflater.compress(piece)
    yield deflater.flush()


def find_user_lines(spark: SparkSession, config: Config, user_ids: list[str]) -> LandingErasure:
    """Which lines of which landing files name one of `user_ids` (nothing rewritten yet)."""
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
    for row in _their_lines(all_lines, user_ids).collect():
        result.lines_by_file[row["source_file"]].add(int(row["line_number"]))
        result.user_ids_found.add(row["user_id"])
    return result


def rewrite_files(spark: SparkSession, found: LandingErasure) -> None:
    """Rewrite each file `found` names without its lines, one piece at a time."""
    for path, line_numbers in sorted(found.lines_by_file.items()):
        pieces = filesystem.read_chunks(spark, path)
        if path.endswith(GZIP_SUFFIX):
            kept = gzip_pieces(stream_without_lines(gunzip_pieces(pieces), line_numbers))
        else:
            kept = stream_without_lines(pieces, line_numbers)
        filesystem.replace_file(spark, path, kept)
        found.lines_removed += len(line_numbers)
        found.files_rewritten += 1
