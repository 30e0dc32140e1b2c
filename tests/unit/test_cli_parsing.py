"""The command line in process: argument checks, the command table, backfill order and the dates
a run history row names (no Spark, no subprocess)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jobs import cli, nightly


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
