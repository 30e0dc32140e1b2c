"""The real-time stream's latency and throughput (bench/STREAM.md has the figures).

    .venv/bin/python bench/stream_latency.py latency --files 30 --interval 10 --lines-per-file 500
    .venv/bin/python bench/stream_latency.py throughput --messages 20000

Both generate their events with the project's generator (`./spark-submit.sh generate`, one
day) and run the stream as users run it (`./spark-submit.sh stream`, its own JVM), on a
scratch landing zone and warehouse under data/bench/stream/ (`--workdir` elsewhere).

**latency**: the stream runs continuously (`stream.trigger_seconds` from `--trigger`, default
1). The generated day's lines, ordered by `server_ts`, are cut into files of
`--lines-per-file` lines; one file lands every `--interval` seconds, written aside and renamed
into `landing/dt=D/` (the moment of the rename is its landing time). A file's minutes
appear in `ops_minute_metrics` when the Delta commit of the MERGE of the micro-batch that read
the file becomes visible. Both are read from files after the run, not polled: which batch read
which file from Spark's checkpoint (`<checkpoint>/sources/0/<batch>`, the file source's log),
and when each batch's MERGE became visible from `ops_minute_metrics/_delta_log/<version>.json`
(its modification time; the batch of a commit is the largest `batch_id` among the files it
added, from the commit's own column statistics). Latency = visible - landed, per file; median
and p95 over the files (nearest rank). A file whose events were all late or bad touches no
minute and has no latency; the run reports how many.

**throughput**: the generated day (the generator's files) lands at once, then
`stream --available-now` reads it all. Figures: lines and events per second inside the
micro-batches (from the progress lines: lines / the batch's own seconds), and per wall second
of the whole command (JVM start-up, warehouse check and exit included).

Each run records `uptime`'s load average before and after: the machine is shared, and every
figure here is wall-clock time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SPARK_SUBMIT = REPO / "spark-submit.sh"
DEFAULT_WORKDIR = REPO / "data" / "bench" / "stream"
DEFAULT_DAY = dt.date(2026, 3, 1)
MINUTES_TABLE = "ops_minute_metrics"
# The stream's progress line (jobs/stream.py), e.g.
# "stream batch 0: files 3  lines 1,628  bad 8  late 0  events 1,608  minutes 486  lag 3044357s  92.3s"
BATCH_LINE = re.compile(
    r"stream batch (?P<batch>\d+): files (?P<files>\d+)\s+lines (?P<lines>[\d,]+)\s+bad (?P<bad>[\d,]+)\s+"
    r"late (?P<late>[\d,]+)\s+events (?P<events>[\d,]+)\s+minutes (?P<minutes>\d+)\s+lag -?\d+s\s+"
    r"(?P<seconds>[\d.]+)s"
)
POLL_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 300
START_TIMEOUT_SECONDS = 900


# ---- pure helpers (tests/unit/test_stream_bench.py) ----

def chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    """`lines` in consecutive lists of `size` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"size must be 1 or more, got {size}")
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def by_server_time(lines: Iterable[str]) -> list[str]:
    """`lines` ordered by their `server_ts` text, as a collector would receive them (the
    generator's files each span the whole day, so one after the other would go back in time
    at every file and make most events late). A line without one (a bad record) keeps the place
    of the line before it. The sort is stable."""
    keyed: list[tuple[str, int, str]] = []
    previous = ""
    for position, line in enumerate(lines):
        try:
            value = json.loads(line).get("server_ts")
        except (ValueError, AttributeError):
            value = None
        if isinstance(value, str):
            previous = value
        keyed.append((previous, position, line))
    return [line for _, _, line in sorted(keyed)]


def nearest_rank(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `fraction` of the values at
    or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def source_log_files(text: str) -> list[tuple[str, int]]:
    """(file path, batch id) of each file in one file of the file source's log (`v1`, then a JSON
    line per file). A batch's own file lists that batch's files; a compacted one (`N.compact`,
    written every tenth batch in place of it) lists every file up to batch N, each with its own
    `batchId`."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("v"):
        raise ValueError("not a file source log entry")
    entries = [json.loads(line) for line in lines[1:]]
    return [(str(entry["path"]), int(entry["batchId"])) for entry in entries]


def commit_batch_id(text: str) -> int | None:
    """The largest `batch_id` among the files a Delta commit added (from their statistics), or
    None if it added none."""
    newest: int | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        add = json.loads(line).get("add")
        if not add or not add.get("stats"):
            continue
        value = json.loads(add["stats"]).get("maxValues", {}).get("batch_id")
        if value is not None:
            newest = int(value) if newest is None else max(newest, int(value))
    return newest


def batch_lines(log: str) -> list[dict[str, float]]:
    """Every progress line of the stream's output, as numbers."""
    return [
        {key: float(value.replace(",", "")) for key, value in match.groupdict().items()}
        for match in BATCH_LINE.finditer(log)
    ]


def file_latencies(landed: dict[str, float], batch_of_file: dict[str, int],
                   visible: dict[int, float]) -> dict[str, float | None]:
    """Seconds from each file's landing to the commit that made its batch's minutes visible;
    None for a file whose batch committed no minutes (or that no batch read)."""
    result: dict[str, float | None] = {}
    for name, landed_at in landed.items():
        batch = batch_of_file.get(name)
        result[name] = visible[batch] - landed_at if batch is not None and batch in visible else None
    return result


# ---- running things ----

def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()


def write_conf(workdir: Path, trigger_seconds: int) -> Path:
    conf = yaml.safe_load((REPO / "conf" / "local.yaml").read_text(encoding="utf-8"))
    conf["landing_path"] = str(workdir / "landing")
    conf["warehouse_path"] = str(workdir / "warehouse")
    conf["topics"]["keywords_file"] = str(REPO / conf["topics"]["keywords_file"])
    conf["spark"]["master"] = "local[*]"
    conf["stream"]["trigger_seconds"] = trigger_seconds
    path = workdir / "stream.yaml"
    path.write_text(yaml.safe_dump(conf), encoding="utf-8")
    return path


def generate(workdir: Path, day: dt.date, messages: int, seed: int) -> Path:
    """The generator's files of one day, in workdir/generated/dt=D/ (not yet in the landing zone)."""
    conf = yaml.safe_load((REPO / "conf" / "local.yaml").read_text(encoding="utf-8"))
    conf["landing_path"] = str(workdir / "generated")
    # The stream's own warehouse: generate prepares its tables, so the stream's start-up does
    # not (every command checks the warehouse first).
    conf["warehouse_path"] = str(workdir / "warehouse")
    conf["topics"]["keywords_file"] = str(REPO / conf["topics"]["keywords_file"])
    path = workdir / "generate.yaml"
    path.write_text(yaml.safe_dump(conf), encoding="utf-8")
    subprocess.run([str(SPARK_SUBMIT), "generate", "--start", day.isoformat(), "--days", "1",
                    "--messages-per-day", str(messages), "--seed", str(seed), "--conf", str(path)],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return workdir / "generated" / f"dt={day.isoformat()}"


def generated_lines(folder: Path) -> Iterator[str]:
    for path in sorted(folder.iterdir(), key=lambda p: int(p.name.split("-")[1].split(".")[0])):
        opener: Any = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            yield from (line.rstrip("\n") for line in handle if line.strip())


def start_stream(conf: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("w") as output:
        return subprocess.Popen([str(SPARK_SUBMIT), "stream", "--conf", str(conf), *extra],
                                cwd=REPO, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def stop_stream(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()


def fresh(workdir: Path) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "landing").mkdir(parents=True)


def wait_for(condition: Any, process: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"the stream exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {timeout:.0f}s")
        time.sleep(POLL_SECONDS)


def batches_of_files(checkpoint: Path) -> dict[str, int]:
    """File name -> the batch that read it, from the file source's log."""
    result: dict[str, int] = {}
    log = checkpoint / "sources" / "0"
    for entry in log.iterdir() if log.exists() else []:
        if entry.name.isdigit() or entry.name.endswith(".compact"):
            for path, batch in source_log_files(entry.read_text(encoding="utf-8")):
                result[path.rsplit("/", 1)[-1]] = batch
    return result


def minutes_visible(warehouse: Path) -> dict[int, float]:
    """Batch id -> when the commit holding its minutes appeared (the commit file's mtime)."""
    visible: dict[int, float] = {}
    for commit in sorted((warehouse / MINUTES_TABLE / "_delta_log").glob("*.json")):
        batch = commit_batch_id(commit.read_text(encoding="utf-8"))
        if batch is not None and batch not in visible:
            visible[batch] = commit.stat().st_mtime
    return visible


def latency(args: argparse.Namespace) -> dict[str, Any]:
    workdir = args.workdir / "latency"
    fresh(workdir)
    folder = generate(workdir, args.day, args.messages, args.seed)
    files = list(chunks(by_server_time(generated_lines(folder)), args.lines_per_file))[: args.files]
    conf = write_conf(workdir, args.trigger)
    landing = workdir / "landing" / f"dt={args.day.isoformat()}"
    landing.mkdir()
    staging = workdir / "staging"
    staging.mkdir()
    log = workdir / "stream.log"
    load_before = load_average()
    process = start_stream(conf, log)
    try:
        wait_for(lambda: "stream: files source" in log.read_text(), process, START_TIMEOUT_SECONDS,
                 "started query")
        landed: dict[str, float] = {}
        next_at = time.monotonic()
        for number, lines in enumerate(files):
            name = f"bench-{number:04d}.json"
            (staging / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
            time.sleep(max(0.0, next_at - time.monotonic()))
            landed[name] = time.time()
            (staging / name).rename(landing / name)
            next_at += args.interval
        checkpoint = workdir / "warehouse" / "_checkpoints" / "stream"
        wait_for(lambda: len(batches_of_files(checkpoint)) == len(files)
                 and (checkpoint / "commits" / str(max(batches_of_files(checkpoint).values()))).exists(),
                 process, START_TIMEOUT_SECONDS, "every file read and committed")
        load_after = load_average()
    finally:
        exit_code = stop_stream(process)
    per_file = file_latencies(landed, batches_of_files(checkpoint), minutes_visible(workdir / "warehouse"))
    measured = [v for v in per_file.values() if v is not None]
    progress = batch_lines(log.read_text())
    return {
        "run": "latency", "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv), "load_before": load_before, "load_after": load_after,
        "files": len(files), "lines_per_file": args.lines_per_file, "interval_seconds": args.interval,
        "trigger_seconds": args.trigger, "files_with_latency": len(measured),
        "median_seconds": round(nearest_rank(measured, 0.5), 2) if measured else None,
        "p95_seconds": round(nearest_rank(measured, 0.95), 2) if measured else None,
        "max_seconds": round(max(measured), 2) if measured else None,
        "batches": len(progress), "batch_seconds": [b["seconds"] for b in progress],
        "stream_exit_code": exit_code, "per_file_seconds": {k: v and round(v, 2) for k, v in per_file.items()},
    }


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    workdir = args.workdir / "throughput"
    fresh(workdir)
    folder = generate(workdir, args.day, args.messages, args.seed)
    conf = write_conf(workdir, args.trigger)
    shutil.move(str(folder), str(workdir / "landing" / folder.name))
    log = workdir / "stream.log"
    load_before = load_average()
    started = time.monotonic()
    process = start_stream(conf, log, "--available-now")
    exit_code = process.wait()
    wall = time.monotonic() - started
    load_after = load_average()
    progress = batch_lines(log.read_text())
    if exit_code != 0 or not progress:
        raise RuntimeError(f"stream --available-now exited {exit_code}; see {log}")
    lines = sum(b["lines"] for b in progress)
    events = sum(b["events"] + b["late"] for b in progress)
    in_batches = sum(b["seconds"] for b in progress)
    return {
        "run": "throughput", "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv), "load_before": load_before, "load_after": load_after,
        "messages_per_day": args.messages, "lines": int(lines), "valid_distinct_events": int(events),
        "batches": [{k: b[k] for k in ("batch", "files", "lines", "events", "late", "minutes", "seconds")}
                    for b in progress],
        "seconds_in_batches": round(in_batches, 1), "wall_seconds": round(wall, 1),
        "lines_per_second_in_batches": round(lines / in_batches),
        "events_per_second_in_batches": round(events / in_batches),
        "lines_per_second_wall": round(lines / wall), "events_per_second_wall": round(events / wall),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("run", choices=("latency", "throughput"))
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=DEFAULT_DAY)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--messages", type=int, default=2_000, help="generator's messages per day")
    parser.add_argument("--trigger", type=int, default=1, help="stream.trigger_seconds")
    parser.add_argument("--files", type=int, default=30, help="latency: files dropped")
    parser.add_argument("--interval", type=float, default=10.0, help="latency: seconds between files")
    parser.add_argument("--lines-per-file", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    run = latency if args.run == "latency" else throughput
    result = run(args)
    if not args.keep:
        shutil.rmtree(args.workdir / args.run, ignore_errors=True)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
