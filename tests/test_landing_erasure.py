"""The landing zone's part of an erasure: which lines name a user, and the streamed rewrite
that drops exactly those lines from files of any size."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

from chispa import assert_df_equality
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from jobs.landing_erasure import (
    _their_lines,
    find_user_lines,
    gunzip_pieces,
    gzip_pieces,
    rewrite_files,
    stream_without_lines,
    without_lines,
)
from tests.conftest import make_config

LINE_ENDS = [b"\n", b"\r\n", b"\r"]


def _pieces(content: bytes, cuts: list[int]) -> list[bytes]:
    bounds = sorted({0, len(content), *(c % (len(content) + 1) for c in cuts)})
    return [content[a:b] for a, b in itertools.pairwise(bounds)]


lines = st.lists(
    st.tuples(st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
              st.sampled_from(LINE_ENDS)),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines=lines, last_unended=st.booleans(), cuts=st.lists(st.integers(min_value=0), max_size=8),
       removed=st.sets(st.integers(min_value=1, max_value=14)))
def test_streamed_removal_equals_removal_from_the_whole_file(
    lines: list[tuple[bytes, bytes]], last_unended: bool, cuts: list[int], removed: set[int]
) -> None:
    content = b"".join(text + end for text, end in lines)
    if last_unended and lines:
        content = content[: -len(lines[-1][1])]
    streamed = b"".join(stream_without_lines(_pieces(content, cuts), removed))
    assert streamed == without_lines(content, removed)


def test_a_line_end_split_between_pieces_is_one_line_end() -> None:
    pieces = [b'{"a":1}\r', b'\n{"b":2}\r', b"\n"]
    assert b"".join(stream_without_lines(pieces, {1})) == b'{"b":2}\r\n'
    assert b"".join(stream_without_lines(pieces, {2})) == b'{"a":1}\r\n'


@settings(max_examples=50, deadline=None)
@given(members=st.lists(st.binary(max_size=200), min_size=1, max_size=3),
       cuts=st.lists(st.integers(min_value=0), max_size=6))
def test_gzip_round_trip_in_pieces_reads_every_member(members: list[bytes], cuts: list[int]) -> None:
    # Concatenated members are one valid gzip file; a collector that appends writes them.
    compressed = b"".join(gzip.compress(member, mtime=0) for member in members)
    assert b"".join(gunzip_pieces(_pieces(compressed, cuts))) == b"".join(members)
    assert gzip.decompress(b"".join(gzip_pieces(_pieces(b"".join(members), cuts)))) == b"".join(members)


def test_only_lines_that_name_a_listed_user_are_found(spark: SparkSession) -> None:
    schema = T.StructType([
        T.StructField("value", T.StringType()),
        T.StructField("source_file", T.StringType()),
        T.StructField("line_number", T.LongType()),
    ])
    landing_lines = spark.createDataFrame([
        ('{"event_id": "e1", "user_id": "u_1"}', "f", 1),
        ('{"event_id": "e2", "user_id": "u_2"}', "f", 2),
        ('{"event_id": "e3", "text": "ask u_1", "user_id": "u_3"}', "f", 3),
        ('{"event_id": "e4", "user_id": "u\\u005f1"}', "f", 4),  # the id escaped
        ('{"event_id": "e5", "\\u0075ser_id": "u_1"}', "f", 5),  # the key escaped
        ('{"event_id": "e6", "metadata": {"user_id": "u_3"}, "user_id": "u_1"}', "f", 6),
        ('{"event_id": "e7", "user_id": 1}', "f", 7),  # wrong type: read as the string "1"
        ('{"event_id": "e8", "user_id": "u_1", ', "f", 8),  # cut off, still spells the id
        ('{"event_id": "e9", "user_id" :\t"u_1"}', "f", 9),
        ('{"event_id": "e10", "user_id": "u_10"}', "f", 10),
    ], schema)
    expected = spark.createDataFrame(
        [("f", n, user) for n, user in [(1, "u_1"), (4, "u_1"), (5, "u_1"), (6, "u_1"), (7, "1"), (8, "u_1"),
                                        (9, "u_1")]],
        "source_file string, line_number long, user_id string",
    )
    found = _their_lines(landing_lines, ["u_1", "1"])
    assert_df_equality(found, expected, ignore_row_order=True, ignore_nullable=True)


def test_files_are_rewritten_in_pieces_without_their_lines(spark: SparkSession, tmp_path: Path) -> None:
    day = tmp_path / "landing" / "dt=2026-11-01"
    day.mkdir(parents=True)
    plain = b'{"user_id": "u_1"}\r\n{"user_id": "u_2"}\r\n{"user_id": "u_1"}'
    (day / "events-0.json").write_bytes(plain)
    # Two gzip members, as a collector that appends writes them.
    members = [b'{"user_id": "u_2", "n": 1}\n', b'{"user_id": "u_1"}\n{"user_id": "u_3"}\n']
    (day / "events-1.json.gz").write_bytes(b"".join(gzip.compress(m, mtime=0) for m in members))
    untouched = b'{"user_id": "u_3"}\n'
    (day / "events-2.json").write_bytes(untouched)
    untouched_mtime = (day / "events-2.json").stat().st_mtime_ns

    result = find_user_lines(spark, make_config(tmp_path), ["u_1", "u_9"])
    rewrite_files(spark, result)

    assert (day / "events-0.json").read_bytes() == b'{"user_id": "u_2"}\r\n'
    rewritten = gzip.decompress((day / "events-1.json.gz").read_bytes())
    assert rewritten == b'{"user_id": "u_2", "n": 1}\n{"user_id": "u_3"}\n'
    assert (day / "events-2.json").read_bytes() == untouched
    assert (day / "events-2.json").stat().st_mtime_ns == untouched_mtime
    assert (result.lines_removed, result.files_rewritten, result.user_ids_found) == (3, 2, {"u_1"})
    assert sorted(p.name for p in day.iterdir() if not p.name.endswith(".crc")) == [
        "events-0.json", "events-1.json.gz", "events-2.json"]
