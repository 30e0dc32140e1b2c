"""Where a chatlake run spends its CPU, from a Java Flight Recording of its JVM.

Recording a run and reading the summary: bench/README.md, "Where the time goes". In short:

    .venv/bin/python bench/jfr_summary.py RECORDING.jfr --start HH:MM:SS --end HH:MM:SS

"self" is the share of samples whose innermost frame is the method (the work itself);
"inclusive" the share with the method anywhere on the stack (the work it causes). Thread
pool, iterator and task plumbing, on nearly every stack, is left out of the inclusive list.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

SAMPLE_EVENT = "jdk.ExecutionSample"
STACK_DEPTH = 64
START_TIME = re.compile(r"startTime = (?:\S+T)?(\d{2}:\d{2}:\d{2})")
PLUMBING = (
    "java.lang.Thread.", "java.util.concurrent.", "scala.collection.", "scala.runtime.java8.",
    "org.apache.spark.util.", "org.apache.spark.executor.", "org.apache.spark.scheduler.",
    "org.apache.spark.TaskContext", "org.apache.spark.rdd.", "Iterator", "WholeStageCodegenEvaluatorFactory",
)


@dataclass(frozen=True)
class Sample:
    clock: str  # HH:MM:SS
    frames: list[str]  # innermost first, methods without their arguments


def recorded_samples(recording: str) -> str:
    """The recording's execution samples as the JDK's own `jfr print` writes them."""
    return subprocess.run(
        ["jfr", "print", "--stack-depth", str(STACK_DEPTH), "--events", SAMPLE_EVENT, recording],
        check=True, capture_output=True, text=True,
    ).stdout


def parse_samples(printed: str) -> Iterator[Sample]:
    for event in printed.split(f"{SAMPLE_EVENT} {{")[1:]:
        clock = START_TIME.search(event)
        _, _, stack = event.partition("stackTrace = [")
        frames = [line.strip().split("(")[0] for line in stack.splitlines() if "(" in line]
        if clock and frames:
            yield Sample(clock.group(1), frames)


def _largest(counts: collections.Counter[str]) -> list[tuple[str, int]]:
    """Largest first; ties by name, so that a summary reads the same every time."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def summarise(samples: Iterable[Sample], start: str, end: str, top: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    anywhere: collections.Counter[str] = collections.Counter()
    total = 0
    for sample in samples:
        if not start <= sample.clock < end:
            continue
        total += 1
        own[sample.frames[0]] += 1
        anywhere.update(set(sample.frames))
    if not total:
        return f"no execution samples between {start} and {end}"
    lines = [f"{total:,} samples between {start} and {end}", "", "self %  method"]
    lines += [f"{count / total * 100:6.1f}  {method}" for method, count in _largest(own)[:top]]
    lines += ["", "incl %  method"]
    work = [(m, c) for m, c in _largest(anywhere) if not any(p in m for p in PLUMBING)]
    lines += [f"{count / total * 100:6.1f}  {method}" for method, count in work[:top]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", help="a .jfr file")
    parser.add_argument("--start", default="00:00:00", help="first clock time (HH:MM:SS) to count")
    parser.add_argument("--end", default="99:99:99", help="clock time (HH:MM:SS) to stop counting at")
    parser.add_argument("--top", type=int, default=30, help="methods per list")
    args = parser.parse_args()
    print(summarise(parse_samples(recorded_samples(args.recording)), args.start, args.end, args.top))


if __name__ == "__main__":
    main()
