"""The bench harness (bench/run.py, its package bench/harness/) splits a command's time into
its steps from the step lines it printed, and holds each step of the nightly to the growth
target."""

from __future__ import annotations

from bench.harness.render import render_inner_growth
from bench.harness.steps import step_seconds
from jobs.progress import StepReport


def _step_line(clock: str, report: StepReport) -> str:
    # The format jobs.progress.configure_logging gives the `chatlake` logger.
    return f"{clock} chatlake {report.line()}"


def test_step_seconds_come_from_step_lines_only_and_add_up_per_name() -> None:
    output = "\n".join([
        "26/11/28 09:40:30 WARN NativeCodeLoader: Unable to load native-hadoop library",
        _step_line("09:40:33", StepReport("ingest.read", rows_in=3_888_031, details={"files": 5}, seconds=105.44)),
        _step_line("09:42:32", StepReport("ingest.cluster", details={"files": 2}, seconds=6.0)),
        "09:42:32 chatlake ingest 2026-03-01: read 3,888,031 = accepted 3,828,585 lines; 0 corrupt files",
        _step_line("09:43:06", StepReport("aggregate dates 2026-03-01", details={"dates": 2}, seconds=0.2)),
        _step_line("09:43:07", StepReport("aggregate dates 2026-03-02", details={"dates": 1}, seconds=0.3)),
        _step_line("09:43:28", StepReport("retention", seconds=1.25)),
        "09:43:28 chatlake nightly 2026-03-01 done in 279.8s: 3,888,031 lines, 975,981 messages",
        "09:43:28 chatlake nightly done in 283.1s",
    ])

    assert step_seconds(output) == {
        "ingest.read": 105.4, "ingest.cluster": 6.0, "aggregate dates": 0.5, "retention": 1.2,
    }


def test_each_step_of_the_nightly_is_held_to_the_growth_target_unless_it_is_tiny() -> None:
    def size(messages: int, inner: dict[str, float]) -> dict:
        return {"messages": messages, "kind": "target", "steps": {"nightly": {"step_seconds": inner}}}

    small = size(1_000_000, {"ingest.read": 100.0, "ingest.dedup": 28.0, "retention": 1.3})
    big = size(5_000_000, {"ingest.read": 410.0, "ingest.dedup": 160.0, "retention": 9.0, "topics.write": 2.0})

    rows = [line for line in render_inner_growth(small, big, judged=True) if line.startswith("| ")]

    assert rows == [
        "| step of the nightly | s, smaller | s, bigger | ratio | target |",
        "| ingest.read | 100.0 | 410.0 | 4.10 | met |",
        "| ingest.dedup | 28.0 | 160.0 | 5.71 | NOT met (1.04x the target) |",
        "| retention | 1.3 | 9.0 | 6.92 | — |",
    ]
