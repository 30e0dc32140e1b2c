"""The bench of one size: generate, restore, run every step --repeats times, measure."""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.harness.delta_log import commits_since, delta_versions, disk_changes, table_files
from bench.harness.paths import BENCH, LOCAL_CONF, REPO, SPARK_SUBMIT, VENV_PYTHON
from bench.harness.processes import environment, run_process
from bench.harness.snapshots import copy_tree, manifest, tree_bytes
from bench.harness.steps import (
    DONE_LINE,
    NOT_IMPLEMENTED,
    STEP_ORDER,
    StepResult,
    error_line,
    json_tail,
    ratios,
    step_seconds,
)

TARGET_SIZE = 1_000_000  # runs below this are smoke runs, not the target figures
HEAVY_USERS = 50
MANY_USERS = 100
REPORT_DAYS = 4  # the measured date and the late_data_days before it


class SizeBench:
    """Generates, runs and measures one size."""

    def __init__(self, args: argparse.Namespace, messages: int) -> None:
        self.args = args
        self.messages = messages
        self.root = (args.workdir / f"n{messages}").resolve()
        self.landing = self.root / "landing"
        self.warehouse = self.root / "warehouse"
        self.snapshots = self.root / "snapshots"
        self.logs = self.root / "logs"
        self.first_day: dt.date = args.start
        self.day = args.start + dt.timedelta(days=args.history_days)
        self.steps: dict[str, StepResult] = {}
        self.setup: dict[str, Any] = {}
        self.erasure: dict[str, Any] = {}
        self.landing_manifests: dict[str, dict[str, tuple[int, int, int]]] = {}
        self.users: dict[str, list[str]] = {}

    # configs and commands

    def conf(self, rate: float, purge_hours: int | None = None) -> Path:
        """conf/local.yaml pointed at the scratch folder; `purge_hours` for the purge step only
        (the other steps keep the default history, so that their Delta log stays readable)."""
        suffix = "" if purge_hours is None else f"-purge-{purge_hours}h"
        path = self.root / f"bench-rate-{rate}{suffix}.yaml"
        if not path.exists():
            raw = yaml.safe_load(LOCAL_CONF.read_text(encoding="utf-8"))
            raw["landing_path"] = str(self.landing)
            raw["warehouse_path"] = str(self.warehouse)
            topics = dict(raw.get("topics") or {})
            topics["sample_rate"] = rate
            topics["keywords_file"] = str(REPO / topics.get("keywords_file", "conf/topics/keywords.yaml"))
            raw["topics"] = topics
            if purge_hours is not None:
                raw["purge_retain_hours"] = purge_hours
            path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return path

    def chatlake(self, *command: str, rate: float = 0.25, purge_hours: int | None = None) -> list[str]:
        return [str(SPARK_SUBMIT), *command, "--conf", str(self.conf(rate, purge_hours))]

    def python(self, script: str, *arguments: str) -> list[str]:
        python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
        return [str(python), str(BENCH / script), *arguments]

    # states: the warehouse (and landing) as a step leaves them, kept to restore repeats

    def save_state(self, name: str, with_landing: bool = False) -> None:
        copy_tree(self.warehouse, self.snapshots / name / "warehouse")
        if with_landing:
            self._save_landing(name)

    def _save_landing(self, name: str) -> None:
        # Hard links: jobs replace landing files (write aside, delete, rename), never edit
        # them in place; the manifest check in restore() would catch one that did.
        copy_tree(self.landing, self.snapshots / name / "landing", hard_links=True)
        self.landing_manifests[name] = manifest(self.snapshots / name / "landing")

    def has_state(self, name: str) -> bool:
        return (self.snapshots / name / "warehouse").exists()

    def restore(self, name: str, landing: str | None = None) -> None:
        copy_tree(self.snapshots / name / "warehouse", self.warehouse)
        if landing:
            saved = self.snapshots / landing / "landing"
            if manifest(saved) != self.landing_manifests[landing]:
                raise RuntimeError(f"landing snapshot '{landing}' changed in place: a job edits "
                                   "landing files instead of replacing them; copy instead of link")
            copy_tree(saved, self.landing, hard_links=True)

    # running

    def log(self, text: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"{stamp} bench n={self.messages:,}: {text}", file=sys.stderr, flush=True)

    def spark_run(self, name: str, repeat: int, command: list[str]) -> dict[str, Any]:
        # ./spark-submit.sh reinstalls .venv when pyproject.toml changed: do that untimed
        subprocess.run([str(SPARK_SUBMIT), "setup"], cwd=REPO, env=environment(),
                       capture_output=True, check=False)
        outcome = run_process(command, self.logs / f"{name}-{repeat}.log")
        run: dict[str, Any] = {
            "repeat": repeat,
            "exit_code": outcome.exit_code,
            "wall_seconds": round(outcome.wall_seconds, 3),
            "jvm_peak_mb": outcome.jvm_peak_mb,
            "python_peak_mb": outcome.python_peak_mb,
        }
        # spark-submit hands the Python driver's stderr to its own stdout: read both
        output = f"{outcome.stdout}\n{outcome.stderr}"
        done = DONE_LINE.findall(output)
        if done:
            run["job_seconds"] = float(done[-1][1])
        inner = step_seconds(output)
        if inner:
            run["step_seconds"] = inner
        if outcome.exit_code == 0:
            run["status"] = "ok"
        else:
            run["error"] = error_line(output, outcome.exit_code)
            run["status"] = ("not implemented"
                             if outcome.exit_code == 2 and NOT_IMPLEMENTED in output else "failed")
        self.log(f"{name} #{repeat}: {run['status']} in {outcome.wall_seconds:.1f}s"
                 + (f" ({run['error']})" if run.get("error") else ""))
        return run

    def timed(self, name: str, command: Callable[[], list[str]],
              before: Callable[[], None] | None = None,
              after: Callable[[dict[str, Any]], None] | None = None,
              produces: Callable[[], None] | None = None) -> StepResult:
        """Run a step --repeats times, each after `before`; `produces` saves the state it
        left after the last repeat."""
        result = self.steps.setdefault(name, StepResult(name))
        if name not in self.args.steps:
            return result
        for repeat in range(1, self.args.repeats + 1):
            if before:
                before()
            run = self.spark_run(name, repeat, command())
            if after and run["status"] == "ok":
                after(run)
            # a script's own account of its peak beats a poll that a short run may slip past
            own = run.pop("own_peak_mb", None)
            if own:
                run["python_peak_mb"] = max(own, run.get("python_peak_mb") or 0)
            result.runs.append(run)
            if run["status"] == "not implemented":
                break  # its other repeats would say the same
        if produces and result.status == "ok":
            produces()
        return result

    def ensure_state(self, name: str) -> bool:
        """Make state `name` by running its producing command once (untimed) if it is missing;
        False if that command fails."""
        if self.has_state(name):
            return True
        chain: dict[str, tuple[str, list[str]]] = {
            "ingested": ("history", self.chatlake("ingest", "--date", self.day.isoformat())),
            "topics": ("ingested", self.chatlake("topics", "--date", self.day.isoformat())),
            "aggregated": ("topics", self.chatlake("aggregate", "--date", self.day.isoformat())),
            "night": ("aggregated", self.chatlake("retention", "--as-of", self.day.isoformat())),
        }
        if name not in chain:
            return False
        previous, command = chain[name]
        if not self.ensure_state(previous):
            return False
        self.restore(previous)
        run = self.spark_run(f"make-{name}", 0, command)
        if run["status"] != "ok":
            return False
        self.save_state(name)
        return True

    # the whole bench of this size

    def prepare(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        days = self.args.history_days + 1
        self.log(f"generate {days} days of {self.messages:,} messages from {self.first_day}")
        generate = self.spark_run("generate", 0, self.chatlake(
            "generate", "--start", self.first_day.isoformat(), "--days", str(days),
            "--messages-per-day", str(self.messages), "--seed", str(self.args.seed)))
        if generate["status"] != "ok":
            raise RuntimeError(f"generate failed: {generate.get('error')}")
        self.setup["generate"] = generate
        self.setup["history_days"] = self.args.history_days
        if self.args.history_days:
            last_history = self.day - dt.timedelta(days=1)
            backfill = self.spark_run("backfill", 0, self.chatlake(
                "backfill", "--from", self.first_day.isoformat(), "--to", last_history.isoformat()))
            if backfill["status"] != "ok":
                raise RuntimeError(f"backfill of the history failed: {backfill.get('error')}")
            self.setup["backfill"] = backfill
        else:
            init = self.spark_run("init", 0, self.chatlake("init"))
            if init["status"] != "ok":
                raise RuntimeError(f"init failed: {init.get('error')}")
        self.setup["landing_day_bytes"] = tree_bytes(self.landing / f"dt={self.day.isoformat()}")
        self.setup["landing_day_files"] = len(list((self.landing / f"dt={self.day.isoformat()}").glob("*")))
        self.save_state("history", with_landing=True)
        self.users = pick_users(self.landing, self.args.seed)
        self.setup["erased_users"] = {k: len(v) for k, v in self.users.items()}

    def run(self) -> dict[str, Any]:
        self.prepare()
        day = self.day.isoformat()

        self.timed("ingest", lambda: self.chatlake("ingest", "--date", day),
                   before=lambda: self.restore("history"),
                   produces=lambda: self.save_state("ingested"))
        self.topics_step(0.25, produces="topics")
        self.topics_step(1.0)
        if "aggregate" in self.args.steps and self.ensure_state("topics"):
            self.timed("aggregate", lambda: self.chatlake("aggregate", "--date", day),
                       before=lambda: self.restore("topics"),
                       produces=lambda: self.save_state("aggregated"))
        if "retention" in self.args.steps and self.ensure_state("aggregated"):
            self.timed("retention", lambda: self.chatlake("retention", "--as-of", day),
                       before=lambda: self.restore("aggregated"))
        self.timed("nightly", lambda: self.chatlake("nightly", "--date", day),
                   before=lambda: self.restore("history"),
                   produces=lambda: self.save_state("night"))
        night = self.ensure_state("night")
        if night:
            self.timed("report", lambda: self.chatlake(
                "report", "--date", day, "--days", str(REPORT_DAYS)),
                before=lambda: self.restore("night"))
            self.timed("startup", lambda: self.chatlake("init"), before=lambda: self.restore("night"))

        floor_target = self.root / "floor" / "raw_events"
        self.timed("floor", lambda: self.python(
            "floor.py", "--conf", str(self.conf(0.25)), "--date", day, "--target", str(floor_target)),
            before=lambda: shutil.rmtree(floor_target, ignore_errors=True),
            after=lambda run: run.update(json_tail(self.logs / f"floor-{run['repeat']}.log")))
        self.timed("peer", lambda: self.python(
            "peer_duckdb.py", "--landing", str(self.landing), "--date", day,
            "--sample-rate", "0.25", "--out", str(self.root / "peer")),
            after=lambda run: run.update(json_tail(self.logs / f"peer-{run['repeat']}.log")))
        shutil.rmtree(floor_target, ignore_errors=True)

        if night:
            self.erasure_steps()
        return self.result()

    def topics_step(self, rate: float, produces: str | None = None) -> None:
        name = f"topics_{rate}"
        if name not in self.args.steps or not self.ensure_state("ingested"):
            return

        def command() -> list[str]:
            return self.chatlake("topics", "--date", self.day.isoformat(), rate=rate)

        def save() -> None:
            if produces:
                self.save_state(produces)

        self.timed(name, command, before=lambda: self.restore("ingested"), produces=save)

    def erasure_step(self, name: str, users: list[str], produces: str | None = None) -> None:
        versions: dict[str, int] = {}

        def before() -> None:
            self.restore("night", landing="history")
            versions.clear()
            versions.update(delta_versions(self.warehouse))

        def command() -> list[str]:
            return self.chatlake("delete-users", "--user-ids", ",".join(users))

        def after(run: dict[str, Any]) -> None:
            run["details"] = self.rewrites(versions, "history")
            self.erasure[name] = run["details"]

        def save() -> None:
            if produces:
                self.save_state(produces, with_landing=True)

        self.timed(name, command, before=before, after=after, produces=save)

    def erasure_steps(self) -> None:
        self.erasure_step("delete_users_1", self.users["one"])
        self.erasure_step("delete_users_100", self.users["many"], produces="erased")
        purge_from = "erased" if self.has_state("erased") else "night"
        purge_landing = "erased" if purge_from == "erased" else "history"
        # purge with retention 0 drops the log entries its own commits would be read from, so
        # what it did is read from the disk: data files written and deleted, DV files deleted
        files_before: dict[str, dict[str, set[str]]] = {}

        def before_purge() -> None:
            self.restore(purge_from, landing=purge_landing)
            files_before.clear()
            files_before.update(table_files(self.warehouse))

        def after_purge(run: dict[str, Any]) -> None:
            landing = self.rewrites({}, purge_landing)
            run["details"] = {
                "after": purge_from,
                "purge_retain_hours": self.args.purge_retain_hours,
                "disk": disk_changes(files_before, table_files(self.warehouse)),
                "landing_files_rewritten": landing["landing_files_rewritten"],
                "landing_files_removed": landing["landing_files_removed"],
            }
            self.erasure["purge"] = run["details"]

        self.timed("purge", lambda: self.chatlake("purge", purge_hours=self.args.purge_retain_hours),
                   before=before_purge, after=after_purge)

    def rewrites(self, before: dict[str, int], landing_state: str) -> dict[str, Any]:
        """What a run changed: Delta commits per table, landing files replaced or removed."""
        old = self.landing_manifests[landing_state]
        new = manifest(self.landing)
        changed = sum(1 for path, entry in old.items()
                      if path in new and (new[path][0], new[path][1]) != (entry[0], entry[1]))
        removed = sum(1 for path in old if path not in new)
        return {"tables": commits_since(self.warehouse, before) if before else {},
                "landing_files_rewritten": changed, "landing_files_removed": removed}

    def result(self) -> dict[str, Any]:
        steps = {name: self.steps[name].summary(self.messages) for name in STEP_ORDER
                 if name in self.steps}
        return {
            "messages": self.messages,
            "kind": "smoke" if self.messages < TARGET_SIZE else "target",
            "measured_day": self.day.isoformat(),
            "history_days": self.args.history_days,
            "setup": self.setup,
            "steps": steps,
            "runs": {name: self.steps[name].runs for name in STEP_ORDER if name in self.steps},
            "erasure": self.erasure,
            "ratios": ratios(steps),
        }


def pick_users(landing: Path, seed: int) -> dict[str, list[str]]:
    """The heaviest sender, and the 50 heaviest plus 50 random senders of the landing zone."""
    import duckdb

    files = [str(p) for p in sorted(landing.glob("dt=*/*")) if p.name.endswith((".json", ".json.gz"))]
    con = duckdb.connect()
    con.register("lines", con.read_json(files, format="newline_delimited", ignore_errors=True,
                                        columns={"event_type": "VARCHAR", "user_id": "VARCHAR"}))
    rows = con.execute(
        """
        SELECT user_id, COUNT(*) AS sent
        FROM lines
        WHERE event_type = 'message_sent' AND regexp_matches(user_id, '^u_[0-9]+$')
        GROUP BY user_id
        ORDER BY sent DESC, user_id
        """).fetchall()
    con.close()
    senders = [user for user, _ in rows]
    heavy = senders[:HEAVY_USERS]
    rest = senders[HEAVY_USERS:]
    chosen = heavy + random.Random(seed).sample(rest, min(len(rest), MANY_USERS - len(heavy)))
    return {"one": senders[:1], "many": chosen}
