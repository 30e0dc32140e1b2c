"""The run's context (machine, commit) and the newest figures of every size in bench/results/."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

from bench.harness.paths import REPO, RESULTS_DIR
from bench.harness.steps import ratios


def machine() -> dict[str, Any]:
    memory_kb = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            memory_kb = int(re.search(r"MemTotal:\s*(\d+)", handle.read()).group(1))  # type: ignore[union-attr]
    except (OSError, AttributeError):
        pass
    return {"cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "load_average": list(os.getloadavg())}


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty_files": len(git("status", "--porcelain").splitlines())}


def latest_results() -> list[dict[str, Any]]:
    """Per size, the newest result in bench/results/, with each step it did not run taken from
    the newest earlier result that did (marked with that run), smallest size first. A run of a
    few steps then updates those figures without hiding the others."""
    by_size: dict[int, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        run = {k: v for k, v in document.items() if k != "sizes"} | {"file": path.name}
        for size in document.get("sizes", []):
            by_size.setdefault(size["messages"], []).append((document.get("started", ""), size, run))
    merged = []
    for _, results in sorted(by_size.items()):
        results.sort(key=lambda result: result[0])
        _, newest, run = results[-1]
        steps = dict(newest["steps"])
        erasure = dict(newest.get("erasure", {}))
        for _, earlier, earlier_run in reversed(results[:-1]):
            for name, summary in earlier["steps"].items():
                if steps.get(name, {}).get("status", "not run") == "not run" and summary.get("status") != "not run":
                    steps[name] = {**summary, "from_run": earlier_run}
                    if name in earlier.get("erasure", {}):
                        erasure[name] = earlier["erasure"][name]
        merged.append({**newest, "steps": steps, "erasure": erasure, "ratios": ratios(steps), "run": run})
    return merged
