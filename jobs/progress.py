"""Our own one-line progress per step: name, rows in and out, seconds.

Lines go to stderr through the `chatlake` logger so that they interleave with Spark's stage
progress bar and stay out of a report's stdout.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jobs.redaction import ScrubFilter

LOGGER = logging.getLogger("chatlake")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is logged, not when the handler was made:
    a caller (a notebook, a test capturing output) may swap the stream and close the old one."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(verbose: bool = False) -> None:
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s chatlake %(message)s", "%H:%M:%S"))
    # An erasure's ids never reach a log line (jobs/redaction.py).
    handler.addFilter(ScrubFilter())
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(logging.DEBUG if verbose else logging.INFO)
    LOGGER.propagate = False
    # PySpark logs every failed query's whole JVM trace as JSON before raising it; the command
    # line reports the failure itself in one line (the trace comes with --verbose).
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.DEBUG if verbose else logging.CRITICAL)


@dataclass
class StepReport:
    """What one step did; filled in by the step, printed when it ends."""

    name: str
    rows_in: int | None = None
    rows_out: int | None = None
    rows_quarantined: int | None = None
    details: dict[str, int | float | str] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        parts = [f"{self.name:<28}"]
        if self.rows_in is not None:
            parts.append(f"in {self.rows_in:>12,}")
        if self.rows_out is not None:
            parts.append(f"out {self.rows_out:>12,}")
        parts.extend(f"{key} {value:,}" if isinstance(value, int) else f"{key} {value}"
                     for key, value in self.details.items())
        parts.append(f"{self.seconds:7.1f}s")
        return "  ".join(parts)


_recordings: list[list[StepReport]] = []


@contextmanager
def recording() -> Iterator[list[StepReport]]:
    """Collect the reports of every step that ends inside the block (for the run history)."""
    reports: list[StepReport] = []
    _recordings.append(reports)
    try:
        yield reports
    finally:
        _recordings.remove(reports)


# Fault injection for the crash tests: `CHATLAKE_CRASH_AFTER_STEP=ingest.dimensions` stops the
# run right after that step's writes, as a kill would; with `CHATLAKE_CRASH_MODE=exit` the
# process itself dies (exit code 137, no clean-up), otherwise `InjectedCrash` is raised.
CRASH_AFTER_STEP_ENV = "CHATLAKE_CRASH_AFTER_STEP"
CRASH_MODE_ENV = "CHATLAKE_CRASH_MODE"
KILLED_EXIT_CODE = 137


class InjectedCrash(BaseException):
    """A simulated kill; a BaseException so that no `except Exception` of ours can swallow it."""


def _crash_if_asked(name: str) -> None:
    if os.environ.get(CRASH_AFTER_STEP_ENV) != name:
        return
    LOGGER.warning("injected crash after step %s", name)
    if os.environ.get(CRASH_MODE_ENV) == "exit":
        logging.shutdown()
        os._exit(KILLED_EXIT_CODE)
    raise InjectedCrash(name)


def crash_point(name: str) -> None:
    """A point between two writes where a crash test may kill the run (as after a step)."""
    _crash_if_asked(name)


@contextmanager
def step(name: str) -> Iterator[StepReport]:
    """Time a step and log one line for it when it ends (also when it fails)."""
    report = StepReport(name)
    started = time.perf_counter()
    try:
        yield report
    finally:
        report.seconds = time.perf_counter() - started
        LOGGER.info(report.line())
        for reports in _recordings:
            reports.append(report)
    _crash_if_asked(name)
