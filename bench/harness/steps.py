"""The timed steps: their names, what one command's output says about its time, and the
figures of a step over its repeats."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOT_IMPLEMENTED = "not implemented yet"
DONE_LINE = re.compile(r"chatlake (\S+) done in ([0-9.]+)s\s*$", re.MULTILINE)
# jobs/progress.py's step line: the step's name padded with spaces, what it did, its seconds.
# A command's closing line ("nightly done in 283.1s") has no padding after its first word.
STEP_LINE = re.compile(
    r"^\d\d:\d\d:\d\d chatlake (?P<name>\S(?:.*?\S)?)\s{2,}(?:.*\s)?(?P<seconds>\d+\.\d)s$", re.MULTILINE)
ISO_DATE = re.compile(r" \d{4}-\d{2}-\d{2}")

STEP_ORDER = (
    "ingest", "topics_0.25", "topics_1.0", "aggregate", "retention", "nightly", "report",
    "floor", "peer", "startup", "delete_users_1", "delete_users_100", "purge",
)
# Steps whose work grows with the day's messages; messages per second is shown for these.
PER_MESSAGE_STEPS = {"ingest", "topics_0.25", "topics_1.0", "aggregate", "nightly", "floor", "peer"}
STEP_LABELS = {
    "ingest": "ingest", "topics_0.25": "topics (rate 0.25)", "topics_1.0": "topics (rate 1.0)",
    "aggregate": "aggregate", "retention": "retention", "nightly": "**nightly (whole)**",
    "report": "report (all six, 4 days)", "floor": "floor: read + write once",
    "peer": "peer: DuckDB, 3 reports", "startup": "`init` on a ready warehouse",
    "delete_users_1": "delete-users, 1 user", "delete_users_100": "delete-users, 100 users",
    "purge": "purge (after the 100)",
}


@dataclass
class StepResult:
    name: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        statuses = {r["status"] for r in self.runs}
        if not statuses:
            return "not run"
        if statuses == {"ok"}:
            return "ok"
        return "not implemented" if "not implemented" in statuses else "failed"

    def summary(self, messages: int) -> dict[str, Any]:
        ok = [r for r in self.runs if r["status"] == "ok"]
        summary: dict[str, Any] = {"status": self.status, "repeats": len(self.runs)}
        if self.status != "ok":
            summary["error"] = next((r["error"] for r in self.runs if r.get("error")), None)
            return summary
        for key in ("wall_seconds", "job_seconds", "jvm_peak_mb", "python_peak_mb"):
            values = [r[key] for r in ok if r.get(key) is not None]
            if values:
                summary[key] = round(statistics.median(values), 3)
        if "wall_seconds" in summary and "job_seconds" in summary:
            summary["startup_exit_seconds"] = round(summary["wall_seconds"] - summary["job_seconds"], 3)
        if self.name in PER_MESSAGE_STEPS:
            summary["messages_per_second"] = round(messages / summary["wall_seconds"], 1)
        inner = [r["step_seconds"] for r in ok if r.get("step_seconds")]
        if inner:
            names = dict.fromkeys(name for steps in inner for name in steps)
            summary["step_seconds"] = {
                name: round(statistics.median([steps[name] for steps in inner if name in steps]), 3)
                for name in names
            }
        details = [r["details"] for r in ok if r.get("details")]
        if details:
            summary["details"] = details[-1]
        return summary


def error_line(output: str, exit_code: int) -> str:
    """The CLI's one-line reason (`chatlake: ...`), else the last line of output."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    reasons = [line for line in lines if line.startswith("chatlake: ") and "setting up" not in line]
    chosen = reasons[-1] if reasons else (lines[-1] if lines else f"exit {exit_code}")
    return chosen[:300]


def json_tail(log: Path) -> dict[str, Any]:
    """The JSON line a bench script printed last on stdout, as run details and job seconds."""
    text = log.read_text(encoding="utf-8")
    stdout = text.split("--- stdout\n", 1)[1].split("\n--- stderr\n", 1)[0]
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            details = json.loads(line)
            job = details.get("seconds", 0.0) + details.get("session_seconds", 0.0)
            found = {"details": details, "job_seconds": round(job, 3)}
            if details.get("peak_rss_mb"):
                found["own_peak_mb"] = details["peak_rss_mb"]
            return found
    return {}


def step_seconds(output: str) -> dict[str, float]:
    """Seconds per step of one command, from its step lines, in the order they ended. A step
    that ends more than once (a name with a date in it, say) adds up; dates are left out of
    the name, so that runs of different days compare."""
    seconds: dict[str, float] = {}
    for match in STEP_LINE.finditer(output):
        name = ISO_DATE.sub("", match["name"])
        seconds[name] = round(seconds.get(name, 0.0) + float(match["seconds"]), 3)
    return seconds


def ratios(steps: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    def of(numerator: str, denominator: str, key: str = "wall_seconds") -> float | None:
        top, bottom = steps.get(numerator, {}).get(key), steps.get(denominator, {}).get(key)
        return round(top / bottom, 2) if top and bottom else None

    nightly_and_report = None
    if steps.get("nightly", {}).get("wall_seconds") and steps.get("report", {}).get("wall_seconds"):
        total = steps["nightly"]["wall_seconds"] + steps["report"]["wall_seconds"]
        peer = steps.get("peer", {}).get("wall_seconds")
        nightly_and_report = round(total / peer, 2) if peer else None
    return {
        "nightly_over_floor": of("nightly", "floor"),
        "nightly_over_floor_in_job": of("nightly", "floor", "job_seconds"),
        "nightly_over_peer": of("nightly", "peer"),
        "nightly_and_report_over_peer": nightly_and_report,
        "erasure_100_over_1": of("delete_users_100", "delete_users_1"),
        "erasure_100_over_1_in_job": of("delete_users_100", "delete_users_1", "job_seconds"),
    }
