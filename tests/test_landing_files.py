"""Awkward landing files and folders: each gives what a user expects (a zero-row run that says
so, or a quarantine row), never a crash or a silent skip.

Already covered in test_ingest.py: a gzip cut in the middle of its data (quarantined whole).
Whole ingests are costly (about 20 Delta commits each), so one landing day holds every file
case and one warehouse serves the module.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import ingest, storage
from jobs.config import Config
from jobs.landing import read_landing_day
from jobs.progress import LOGGER
from jobs.transforms.parsing import parse_events
from tests.conftest import install_warehouse, make_config
from tests.frames import table_rows
from tests.reliability import GAP, OK, observed, record

SECTION = "landing_files"
FILES_DAY, EMPTY_DAY, MISSING_DAY = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 9)
LINES_DAY = dt.date(2026, 11, 4)
BOM = b"\xef\xbb\xbf"
ZERO_COUNTS = {"lines_read": 0, "accepted": 0, "duplicates": 0, "quarantined": 0, "corrupt_files": 0, "messages": 0}


def message(number: int) -> bytes:
    return json.dumps({
        "schema_version": 1, "event_id": f"e{number}", "event_type": "message_sent",
        "server_ts": f"2026-11-01T10:00:{number:02d}Z", "client_ts": None, "user_id": "u1", "device": None,
        "message_id": f"m{number}", "conversation_id": "c1", "message_type": "text", "text": "hello",
        "media_count": 0, "size_bytes": 5, "seq": number,
    }).encode()


# file name -> (bytes, message numbers it holds, whether it is quarantined whole)
GZIP_OF_ONE = gzip.compress(message(99) + b"\n")
FILES: dict[str, tuple[bytes, list[int], bool]] = {
    "empty.json": (b"", [], False),
    "zero-bytes.json.gz": (b"", [], True),
    "cut-in-header.json.gz": (GZIP_OF_ONE[:6], [], True),
    # A BOM at the start, and again mid-file where two files were concatenated.
    "bom.json": (BOM + message(1) + b"\n" + BOM + message(2) + b"\n", [1, 2], False),
    # Windows line endings, a blank CRLF line, and no line ending after the last line.
    "crlf.json": (message(3) + b"\r\n" + message(4) + b"\r\n\r\n" + message(5), [3, 4, 5], False),
    "bom-crlf.json.gz": (gzip.compress(BOM + message(6) + b"\r\n" + message(7) + b"\r\n"), [6, 7], False),
    "cr-only.json": (message(8) + b"\r" + message(9) + b"\r", [8, 9], False),
}


def only_counts(counts: dict[str, int], expected: dict[str, int]) -> dict[str, int]:
    """The expected counts, after checking that any other count ingest reports is 0."""
    others = {k: v for k, v in counts.items() if k not in expected}
    assert others == dict.fromkeys(others, 0), others
    return {k: v for k, v in counts.items() if k in expected}


def write_files(config: Config, day: dt.date, files: dict[str, bytes]) -> Path:
    folder = Path(config.landing_day_path(day.isoformat()))
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


@pytest.fixture(scope="module")
def prepared(warehouse_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Config:
    """One warehouse for the module's ingests (each of its own day), from the session's template."""
    return install_warehouse(warehouse_template, make_config(tmp_path_factory.mktemp("landing_files")))


@pytest.fixture()
def chatlake_log() -> Iterator[list[logging.LogRecord]]:
    """What the chatlake logger says (its handler may not propagate to pytest's)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    LOGGER.addHandler(handler)
    level = LOGGER.level
    LOGGER.setLevel(logging.INFO)
    yield records
    LOGGER.removeHandler(handler)
    LOGGER.setLevel(level)


def test_one_day_of_awkward_files(spark: SparkSession, prepared: Config) -> None:
    write_files(prepared, FILES_DAY, {name: content for name, (content, _, _) in FILES.items()})
    counts = ingest.run_day(spark, prepared, FILES_DAY)

    numbers = sorted(n for _, held, _ in FILES.values() for n in held)
    quarantined_whole = sorted(name for name, (_, _, whole) in FILES.items() if whole)
    expected = {"lines_read": len(numbers), "accepted": len(numbers), "duplicates": 0, "quarantined": 0,
                "corrupt_files": len(quarantined_whole), "messages": len(numbers)}
    assert only_counts(counts, expected) == expected
    quarantine = storage.read(spark, prepared, "quarantine").where(F.col("landing_date") == F.lit(FILES_DAY))
    rows = sorted(
        (r["source_file"].rsplit("/", 1)[-1], r["line_number"], r["reason"].split(":")[0]) for r in quarantine.collect()
    )
    assert rows == [(name, None, "corrupt_gzip") for name in quarantined_whole]
    messages = storage.read(spark, prepared, "fact_message_events").select("message_id").collect()
    assert sorted(r["message_id"] for r in messages) == sorted(f"m{n}" for n in numbers)

    record(SECTION, [
        {"case": name, "expected": "quarantined whole (corrupt_gzip)" if whole else f"{len(held)} lines accepted",
         "observed": "as expected", "status": OK}
        for name, (_, held, whole) in FILES.items()
    ], lines_in_readable_files=len(numbers),
        rows_lost=len(numbers) - counts["accepted"] - counts["duplicates"] - counts["quarantined"])


def test_lines_are_the_same_with_or_without_their_numbers(spark: SparkSession, prepared: Config) -> None:
    """Topics reads the day without line numbers: it must see the very lines ingest numbers,
    BOMs and CRs removed the same way."""
    write_files(prepared, LINES_DAY, {name: content for name, (content, _, _) in FILES.items()})
    text = {n: message(n).decode() for n in range(1, 10)}
    numbered_lines = [
        ("bom.json", text[1], 1), ("bom.json", text[2], 2),
        ("crlf.json", text[3], 1), ("crlf.json", text[4], 2), ("crlf.json", "", 3), ("crlf.json", text[5], 4),
        ("bom-crlf.json.gz", text[6], 1), ("bom-crlf.json.gz", text[7], 2),
        ("cr-only.json", text[8], 1), ("cr-only.json", text[9], 2),
    ]
    schema = "file string, value string, line_number bigint"

    def read(line_numbers: bool) -> DataFrame:
        lines = read_landing_day(spark, prepared, LINES_DAY, line_numbers=line_numbers).lines
        return lines.select(
            F.regexp_extract("source_file", r"[^/]+$", 0).alias("file"), "value", "line_number"
        )

    assert_df_equality(read(True), spark.createDataFrame(numbered_lines, schema), ignore_row_order=True,
                       ignore_nullable=True)
    unnumbered = [(file, value, None) for file, value, _ in numbered_lines]
    assert_df_equality(read(False), spark.createDataFrame(unnumbered, schema), ignore_row_order=True,
                       ignore_nullable=True)


def test_empty_folder_is_a_zero_row_run_that_says_so(
    spark: SparkSession, prepared: Config, chatlake_log: list[logging.LogRecord]
) -> None:
    write_files(prepared, EMPTY_DAY, {})
    with observed(SECTION, "empty dt= folder", "zero-row run with a warning naming the folder"):
        counts = ingest.run_day(spark, prepared, EMPTY_DAY)
        assert counts == dict.fromkeys(counts, 0) and set(ZERO_COUNTS) <= set(counts)
        warnings = [r.getMessage() for r in chatlake_log if r.levelno == logging.WARNING]
        folder = prepared.landing_day_path(EMPTY_DAY.isoformat())
        assert any(folder in w and "no .json or .json.gz files" in w for w in warnings), warnings


def test_missing_folder_is_a_zero_row_run_that_says_so(
    spark: SparkSession, prepared: Config, chatlake_log: list[logging.LogRecord]
) -> None:
    """Ingest only adds: a day without a folder (never landed, or removed by retention before a
    rerun) changes no table, and the warning names the folder that is not there."""
    folder = prepared.landing_day_path(MISSING_DAY.isoformat())
    assert not Path(folder).exists()
    before = table_rows(spark, prepared)
    with observed(SECTION, "missing dt= folder", "zero-row run, tables unchanged, a warning naming the folder"):
        counts = ingest.run_day(spark, prepared, MISSING_DAY)
        assert counts == dict.fromkeys(counts, 0) and set(ZERO_COUNTS) <= set(counts)
        warnings = [r.getMessage() for r in chatlake_log if r.levelno == logging.WARNING]
        assert any(folder in w and "does not exist" in w for w in warnings), warnings
        changed = {name for name, rows in table_rows(spark, prepared).items() if rows != before.get(name)}
        assert changed <= {"pipeline_runs"}, changed


def gzip_variants() -> dict[str, bytes]:
    whole = gzip.compress(message(1) + b"\n" + message(2) + b"\n")
    return {
        # A collector killed while appending a second gzip member, or leaving padding behind.
        "second-member-cut.json.gz": whole + whole[:10],
        "nul-padded.json.gz": whole + b"\0" * 64,
        "trailing-garbage.json.gz": whole + b"garbage",
    }


def test_gzip_with_trailing_bytes_is_quarantined_not_a_crash(spark: SparkSession, config: Config) -> None:
    variants = gzip_variants()
    write_files(config, FILES_DAY, {"good.json.gz": gzip.compress(message(3) + b"\n"), **variants})
    landing = read_landing_day(spark, config, FILES_DAY)
    corrupt = sorted(path.rsplit("/", 1)[-1] for path, _ in landing.corrupt_files)
    case = {"case": "gzip with bytes after its end: " + ", ".join(sorted(variants)),
            "expected": "each quarantined whole (corrupt_gzip), the good file read"}
    try:
        lines = landing.lines.transform(parse_events(FILES_DAY, config.future_tolerance_hours)).count()
    except Exception as error:
        cause = next((line for line in str(error).splitlines() if "FAILED_READ_FILE" in line), str(error))
        cause = re.sub(r"file:\S*/", "", cause.strip().lstrip(": "))  # the file's name, not its tmp path
        record(SECTION, [{**case, "observed": f"the read crashed: {cause}"[:160], "status": GAP}])
        raise
    outcome = {"observed": f"quarantined whole: {corrupt}; good lines read: {lines}",
               "status": OK if (corrupt, lines) == (sorted(variants), 1) else GAP}
    record(SECTION, [{**case, **outcome}])
    assert (corrupt, lines) == (sorted(variants), 1)


def test_corrupt_gzip_reason_names_the_cause(spark: SparkSession, config: Config) -> None:
    whole = gzip.compress(message(1) + b"\n")
    write_files(config, FILES_DAY, {
        "zero-bytes.json.gz": b"", "cut-in-header.json.gz": whole[:6], "not-gzip.json.gz": message(1),
        "bad-crc.json.gz": whole[:-8] + b"\0\0\0\0" + whole[-4:],
    })
    corrupt = read_landing_day(spark, config, FILES_DAY).corrupt_files
    reasons = {path.rsplit("/", 1)[-1]: reason for path, reason in corrupt}
    record(SECTION + "_reasons", [{"case": name, "expected": "corrupt_gzip: <cause>", "observed": reason,
                                   "status": OK if names_a_cause(reason) else GAP}
                                  for name, reason in sorted(reasons.items())])
    assert len(reasons) == 4
    assert all(names_a_cause(reason) for reason in reasons.values()), reasons


def names_a_cause(reason: str) -> bool:
    """Not py4j's wrapper text, nor a bare Java method name such as 'org.x.IOUtils.consume.'."""
    cause = reason.removeprefix("corrupt_gzip: ")
    return (reason.startswith("corrupt_gzip: ") and bool(cause) and "error occurred while calling" not in cause
            and not re.fullmatch(r"[\w.$]+\.", cause))


def test_a_days_quarantine_is_one_file_not_one_per_read_split(spark: SparkSession, prepared: Config) -> None:
    # Every landing file is at least one read split; each split used to write its own file.
    day = dt.date(2026, 11, 3)
    write_files(prepared, day, {f"events-{n}.json": message(10 + n) + b"\nnot json\n{]\n" for n in range(4)})
    counts = ingest.run_day(spark, prepared, day)
    assert (counts["accepted"], counts["quarantined"]) == (4, 8)
    quarantine = (
        spark.read.format("delta").load(prepared.table_path("quarantine")).where(F.col("landing_date") == F.lit(day))
    )
    assert quarantine.count() == 8
    assert len(quarantine.inputFiles()) == 1
