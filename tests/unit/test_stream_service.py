"""The shipped systemd unit runs the stream from the checkout and restarts it on failure."""

from __future__ import annotations

import configparser

from jobs.stream import STOP_GRACE_SECONDS
from tests.conftest import REPO

UNIT = REPO / "conf" / "schedule" / "chatlake-stream.service"


def test_unit_runs_stream_restarts_on_failure_and_stops_the_driver_first() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT)
    service = unit["Service"]
    assert service["ExecStart"].split()[1:3] == ["stream", "--conf"]
    assert service["ExecStart"].split()[0].endswith("/spark-submit.sh")
    assert service["Restart"] == "on-failure"
    # SIGTERM goes to the Python driver (jobs/__main__.py), the child of spark-submit's JVM.
    assert "-TERM" in service["ExecStop"] and "jobs/__main__.py" in service["ExecStop"]
    assert int(service["TimeoutStopSec"]) > STOP_GRACE_SECONDS
    assert unit["Install"]["WantedBy"] == "multi-user.target"
