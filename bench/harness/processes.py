"""Running one command as users run it, and watching the peak memory of its process tree."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness.paths import REPO, VENV_PYTHON

POLL_SECONDS = 0.5


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        # the name in parentheses may hold spaces: the fields after its ')' are fixed
        fields = data[data.rfind(b")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def _name_and_peak(pid: int) -> tuple[str, int] | None:
    """(process name, VmHWM in kB): the peak resident set the kernel has seen."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            status = handle.read()
    except OSError:
        return None
    name = re.search(r"^Name:\s*(\S+)", status, re.MULTILINE)
    peak = re.search(r"^VmHWM:\s*(\d+) kB", status, re.MULTILINE)
    if not name or not peak:
        return None
    return name.group(1), int(peak.group(1))


class MemoryWatch(threading.Thread):
    """Polls the peak RSS of a process tree until stopped; keeps the largest per name."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peaks_kb: dict[str, int] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            for pid in _descendants(self.root):
                seen = _name_and_peak(pid)
                if seen:
                    name, peak = seen
                    self.peaks_kb[name] = max(self.peaks_kb.get(name, 0), peak)
            self._done.wait(POLL_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


@dataclass
class Outcome:
    """One run of one command."""

    exit_code: int
    wall_seconds: float
    stdout: str
    stderr: str
    peaks_kb: dict[str, int]

    @property
    def jvm_peak_mb(self) -> float | None:
        peak = self.peaks_kb.get("java")
        return round(peak / 1024, 1) if peak else None

    @property
    def python_peak_mb(self) -> float | None:
        peaks = [v for k, v in self.peaks_kb.items() if k.startswith("python")]
        return round(max(peaks) / 1024, 1) if peaks else None


def environment() -> dict[str, str]:
    env = dict(os.environ)
    # the bench's config names the paths; an override from the caller's shell would not
    for name in ("CHATLAKE_LANDING_PATH", "CHATLAKE_WAREHOUSE_PATH"):
        env.pop(name, None)
    jars = sorted(str(p) for p in (REPO / ".jars").glob("*.jar"))
    env.setdefault("CHATLAKE_JARS", ",".join(jars))
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.setdefault("PYSPARK_PYTHON", str(VENV_PYTHON))
    return env


def run_process(command: list[str], log: Path) -> Outcome:
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    watch = MemoryWatch(process.pid)
    watch.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    watch.stop()
    log.write_text(f"$ {' '.join(command)}\n# exit {process.returncode}, {wall:.1f}s\n"
                   f"--- stdout\n{stdout}\n--- stderr\n{stderr}", encoding="utf-8")
    return Outcome(process.returncode, wall, stdout, stderr, watch.peaks_kb)
