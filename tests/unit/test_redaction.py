"""No user id of an erasure request in the run history's command line, a log line or an error."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import cli, redaction
from jobs.config import parse_config
from jobs.progress import LOGGER, configure_logging
from jobs.tombstones import user_id_hash, user_id_hash_text


@pytest.fixture(autouse=True)
def nothing_protected() -> Iterator[None]:
    redaction.forget_protected()
    yield
    redaction.forget_protected()


@pytest.mark.parametrize(
    ("tokens", "text", "ids"),
    [
        (["delete-users", "--user-ids", "u_1,u_2, u_3", "--conf", "c.yaml"],
         "delete-users --user-ids <3 ids> --conf c.yaml", ["u_1", "u_2", "u_3"]),
        (["delete-users", "--user-ids=u_1", "--verbose"], "delete-users --user-ids=<1 id> --verbose", ["u_1"]),
        (["delete-users", "--requests", "erase/today.txt"], "delete-users --requests erase/today.txt", []),
        (["delete-users", "--user-ids", "<2 ids>"], "delete-users --user-ids <2 ids>", []),
        (["nightly", "--date", "2026-11-01"], "nightly --date 2026-11-01", []),
    ],
)
def test_the_command_line_keeps_a_count_of_the_ids(tokens: list[str], text: str, ids: list[str]) -> None:
    assert redaction.redact_arguments(tokens) == redaction.RedactedArguments(text, ids)


def test_scrub_hides_every_protected_value_the_longest_first() -> None:
    redaction.protect(["u_1", "u_12", 4242])
    assert redaction.scrub("u_12 and u_1 (key 4242), plus x", ["x"]) == (
        "<redacted> and <redacted> (key <redacted>), plus <redacted>"
    )


def test_a_log_record_is_scrubbed_before_formatting(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    redaction.protect(["u_000014"])
    LOGGER.warning("could not erase %s", "u_000014")
    LOGGER.info("plain %d", 3)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["chatlake could not erase <redacted>", "chatlake plain 3"]


def test_a_usage_error_of_delete_users_names_no_id(capsys: pytest.CaptureFixture[str]) -> None:
    # A space after the comma makes the second id a stray argument, which argparse would echo.
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["delete-users", "--user-ids", "u_000014,", "u_000050", "--conf", "missing.yaml"])
    assert exit_info.value.code == cli.EXIT_USAGE
    assert capsys.readouterr().err == (
        "chatlake: spark-submit.sh: 1 unrecognized argument(s) (user ids are comma-separated, without spaces)"
        " (see --help)\n"
    )


def test_a_failed_run_names_no_id_even_with_its_trace(capsys: pytest.CaptureFixture[str]) -> None:
    redaction.protect(["u_000014", "-8812345678901234567"])
    error = RuntimeError("MERGE on t.sender_user_key IN (-8812345678901234567) for u_000014 conflicted\nmore")
    args = argparse.Namespace(command="delete-users", verbose=True)
    assert cli._failed(args, error) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert "u_000014" not in err and "8812345678901234567" not in err
    assert err.splitlines()[-1] == (
        "chatlake: delete-users failed: RuntimeError: MERGE on t.sender_user_key IN (<redacted>) for <redacted> "
        "conflicted"
    )


def test_the_drivers_hash_is_the_tombstones_hash(spark: SparkSession) -> None:
    config = parse_config({"landing_path": "/l", "warehouse_path": "/w", "erasure": {"hash_key": "k"}}, environ={})
    ids = ["u_000014", "ü_ß", ""]
    in_spark = [r[0] for r in spark.createDataFrame([(i,) for i in ids], "id string")
                .select(user_id_hash(config, F.col("id"))).collect()]
    assert in_spark == [user_id_hash_text(config, i) for i in ids]
