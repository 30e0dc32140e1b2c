"""spark-submit.sh and the command line: help, usage errors, one-line failures, exit codes."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from jobs import cli, nightly

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "spark-submit.sh"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    # spark-submit hands the Python driver's stderr to its own stdout.
    return (result.stdout + result.stderr).splitlines()


def test_help_lists_every_contract_command() -> None:
    result = run_script("--help")
    assert result.returncode == 0
    for command in ("nightly", "ingest", "topics", "aggregate", "retention", "delete-users", "purge",
                    "generate", "demo", "report", "backfill", "stream"):
        assert command in result.stdout


def test_missing_required_argument_is_one_line_usage_error() -> None:
    result = run_script("ingest")
    assert result.returncode == 2
    assert (
        "chatlake: spark-submit.sh ingest: the following arguments are required: --date (see --help)"
    ) in output_lines(result)


def test_unknown_command_fails() -> None:
    result = run_script("frobnicate")
    assert result.returncode == 2
    assert any("invalid choice: 'frobnicate'" in line for line in output_lines(result))


def test_bad_config_fails_before_spark_starts(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("landing_path: /x\n")
    result = run_script("ingest", "--date", "2026-11-01", "--conf", str(config))
    assert result.returncode == 2
    assert (
        "chatlake: config key 'warehouse_path' is missing (or set CHATLAKE_WAREHOUSE_PATH)"
    ) in output_lines(result)


def test_bad_date_is_rejected() -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["ingest", "--date", "2026-13-01"])
    assert exit_info.value.code == 2


def test_every_command_has_a_job() -> None:
    assert [c for c in cli.COMMANDS if cli._entry_point(c) is None] == []


def test_a_command_without_its_module_says_not_implemented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"landing_path: {tmp_path}/l\nwarehouse_path: {tmp_path}/w\n")
    monkeypatch.setitem(cli.COMMANDS, "purge", "jobs.no_such_module")
    assert cli.main(["purge", "--conf", str(config)]) == 2
    assert capsys.readouterr().err.strip() == "chatlake: 'purge' is not implemented yet"


def test_spark_submit_options_pass_through() -> None:
    # --driver-memory belongs to spark-submit: the job's own parser never sees it.
    result = run_script("ingest", "--driver-memory", "1g")
    assert result.returncode == 2
    assert (
        "chatlake: spark-submit.sh ingest: the following arguments are required: --date (see --help)"
    ) in output_lines(result)


def test_cluster_deploy_mode_is_refused_with_the_reason() -> None:
    result = run_script("nightly", "--date", "2026-11-01", "--master", "yarn", "--deploy-mode", "cluster")
    assert result.returncode == 2
    assert output_lines(result) == [
        "chatlake: --deploy-mode cluster is not supported: the driver reads --conf and the topic keywords "
        "from this checkout; submit in client mode (the default)"
    ]


def test_backfill_runs_each_night_in_order_and_refuses_a_reversed_range(monkeypatch: pytest.MonkeyPatch) -> None:
    nights: list[dt.date] = []
    monkeypatch.setattr(nightly, "run_night", lambda spark, config, day: nights.append(day))
    args = cli.build_parser().parse_args(["backfill", "--from", "2026-10-30", "--to", "2026-11-02"])
    nightly.run_backfill(None, None, args)  # type: ignore[arg-type]
    assert nights == [dt.date(2026, 10, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
    reversed_range = cli.build_parser().parse_args(["backfill", "--from", "2026-11-02", "--to", "2026-11-01"])
    with pytest.raises(ValueError, match="--to 2026-11-01 is before --from 2026-11-02"):
        nightly.run_backfill(None, None, reversed_range)  # type: ignore[arg-type]


def test_run_history_names_the_dates_of_each_kind_of_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nightly, "yesterday_utc", lambda: dt.date(2026, 11, 25))

    def dates(*argv: str) -> list[str]:
        return [day.isoformat() for day in cli._dates_of(cli.build_parser().parse_args(list(argv)))]

    assert dates("nightly", "--date", "2026-11-01") == ["2026-11-01"]
    assert dates("retention", "--as-of", "2026-11-01") == ["2026-11-01"]
    assert dates("backfill", "--from", "2026-10-31", "--to", "2026-11-01") == ["2026-10-31", "2026-11-01"]
    assert dates("generate", "--start", "2026-10-31", "--days", "2") == ["2026-10-31", "2026-11-01"]
    assert dates("demo", "--days", "3") == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert dates("delete-users", "--user-ids", "u1") == []
