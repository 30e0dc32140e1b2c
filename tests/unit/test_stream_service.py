"""The shipped systemd unit runs the stream from the checkout and restarts it on failure."""

from __future__ import annotations

import configparser

from jobs.stream import STOP_GRACE_SECONDS
from tests.conftest import REPO

UNIT = REPO / "conf" / "schedule" / "chatlake-stream.service"


def test_unit_runs_stream_restarts_on_failure_and_stops_through_spark_submit_sh() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT)
    service = unit["Service"]
    assert service["ExecStart"].split()[1:3] == ["stream", "--conf"]
    assert service["ExecStart"].split()[0].endswith("/spark-submit.sh")
    assert service["Restart"] == "on-failure"
    # SIGTERM goes to spark-submit.sh alone, which hands it to the Python driver (test_stream.py
    # stops the stream that way); ExecStop would override that.
    assert (service["KillMode"], service["KillSignal"]) == ("mixed", "SIGTERM")
    assert "ExecStop" not in service
    assert int(service["TimeoutStopSec"]) > STOP_GRACE_SECONDS
    assert unit["Install"]["WantedBy"] == "multi-user.target"
