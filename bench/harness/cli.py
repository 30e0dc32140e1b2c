"""The command line of bench/run.py."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.harness.paths import DEFAULT_START, DEFAULT_WORKDIR, RESULTS_DIR, RESULTS_MD
from bench.harness.render import write_results_md
from bench.harness.results import git_state, latest_results, machine
from bench.harness.sizes import SizeBench
from bench.harness.steps import STEP_ORDER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chatlake's benchmark (see bench/README.md)")
    parser.add_argument("--messages", type=int, nargs="+", default=[1_000_000],
                        help="messages of the measured day; several sizes run one after another")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--history-days", type=int, default=1,
                        help="days before the measured one, run nightly first (untimed)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=DEFAULT_START,
                        help="first generated day")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--purge-retain-hours", type=int, default=0,
                        help="purge_retain_hours of the purge step (default 0, as the contract's purge check; "
                             "the other steps keep conf/local.yaml's)")
    parser.add_argument("--steps", default=",".join(STEP_ORDER),
                        help=f"comma-separated subset of {','.join(STEP_ORDER)}")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help="scratch space for landing, warehouse and snapshots")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data afterwards")
    parser.add_argument("--render", action="store_true",
                        help="only rebuild bench/RESULTS.md from bench/results/*.json")
    args = parser.parse_args(argv)
    if args.render:
        write_results_md(latest_results())
        return 0
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = sorted(set(args.steps) - set(STEP_ORDER))
    if unknown or args.repeats < 1 or args.history_days < 0:
        parser.error(f"unknown steps {unknown}" if unknown else "--repeats >= 1, --history-days >= 0")

    started = dt.datetime.now(dt.UTC)
    document: dict[str, Any] = {
        "schema": 1,
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "repeats": args.repeats,
        "git": git_state(),
        "machine": machine(),
        "purge_retain_hours": args.purge_retain_hours,
        "sizes": [],
    }
    name = f"{started.strftime('%Y%m%dT%H%M%SZ')}-{'-'.join(str(m) for m in args.messages)}.json"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for messages in args.messages:
        bench = SizeBench(args, messages)
        document["sizes"].append(bench.run())
        if not args.keep:
            shutil.rmtree(bench.snapshots, ignore_errors=True)
            for folder in ("landing", "warehouse", "floor"):
                shutil.rmtree(bench.root / folder, ignore_errors=True)
        document["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        document["machine"]["load_average_at_end"] = list(os.getloadavg())
        # written after every size: a long run that stops still leaves what it measured
        (RESULTS_DIR / name).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        write_results_md(latest_results())
    print(f"results: {RESULTS_DIR / name}, {RESULTS_MD}", file=sys.stderr)
    return 0
