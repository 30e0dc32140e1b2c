"""The shipped schedules: the crontab line and the Airflow DAG under conf/schedule/.

The crontab line is run for real by bash with a stand-in for ./spark-submit.sh. The DAG is
imported the way Airflow's parser does (a file, not a package) and its tasks, their order,
their rendered arguments and the spark-submit command they build are checked; only the DAG
tests need Airflow (the `airflow` extra, installed by .ci/run) and skip where it is missing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO, load_script

SCHEDULE_DIR = REPO / "conf" / "schedule"
CRONTAB = SCHEDULE_DIR / "chatlake.crontab"
DAG_FILE = SCHEDULE_DIR / "chatlake_nightly_dag.py"
STEPS = ("ingest", "topics", "aggregate", "retention")
LANDING_DAY = "2026-11-03"
LOCK_HELD_EXIT = 75
CRON_FIELD = re.compile(r"^(\*|\d+)(-\d+)?(/\d+)?(,(\d+)(-\d+)?)*$")
ENV_LINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def crontab_entries() -> tuple[dict[str, str], list[tuple[list[str], str]]]:
    """(environment lines, [(five time fields, command)]) of the shipped crontab."""
    environment: dict[str, str] = {}
    jobs: list[tuple[list[str], str]] = []
    for line in CRONTAB.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if ENV_LINE.match(line):
            name, value = line.split("=", 1)
            environment[name] = value
            continue
        fields = line.split(None, 5)
        jobs.append((fields[:5], fields[5]))
    return environment, jobs


def test_crontab_has_one_daily_nightly_line_without_a_date() -> None:
    environment, jobs = crontab_entries()

    assert len(jobs) == 1
    (minute, hour, *calendar), command = jobs[0]
    assert all(CRON_FIELD.match(field) for field in (minute, hour, *calendar))
    assert 0 <= int(minute) <= 59 and 0 <= int(hour) <= 23
    assert calendar == ["*", "*", "*"]  # every day
    assert "./spark-submit.sh nightly" in command
    assert "--date" not in command  # nightly picks yesterday (UTC) itself
    assert "%" not in command  # cron would turn it into a newline
    assert environment["SHELL"] == "/bin/bash"
    assert "CHATLAKE_HOME" in environment


def run_cron_command(command: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run the line's command as cron does: `$SHELL -c command` with the file's variables."""
    environment, _ = crontab_entries()
    env = {**os.environ, **environment, "CHATLAKE_HOME": str(home)}
    return subprocess.run([environment["SHELL"], "-c", command], env=env, cwd="/", text=True,
                          capture_output=True, timeout=60, check=False)


def test_crontab_command_runs_nightly_from_the_checkout_logs_and_skips_while_locked(tmp_path: Path) -> None:
    _, [(_, command)] = crontab_entries()
    home = tmp_path / "checkout"
    home.mkdir()
    stand_in = home / "spark-submit.sh"
    stand_in.write_text('#!/usr/bin/env bash\necho "ran in $PWD with: $*"\necho "to stderr" >&2\n')
    stand_in.chmod(0o755)
    log = home / "data" / "logs" / "nightly.log"

    first = run_cron_command(command, home)

    assert first.returncode == 0, first.stderr
    assert (first.stdout, first.stderr) == ("", "")  # all of it went to the log, none to cron's mail
    assert log.read_text().splitlines() == [f"ran in {home} with: nightly --conf conf/local.yaml", "to stderr"]

    with (home / "data" / "logs" / "nightly.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a run still going
        second = run_cron_command(command, home)

    assert second.returncode == 0, second.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    assert f"nightly exited {LOCK_HELD_EXIT}" in lines[2]  # skipped, and says why


# --- the Airflow DAG ----------------------------------------------------------------------


@pytest.fixture()
def nightly_dag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """conf/schedule/chatlake_nightly_dag.py, parsed afresh with the default settings."""
    pytest.importorskip("airflow.providers.apache.spark", reason="Airflow is the `airflow` extra")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    for name in ("CHATLAKE_HOME", "CHATLAKE_CONF", "CHATLAKE_JARS", "CHATLAKE_PYTHON",
                 "CHATLAKE_DRIVER_MEMORY", "CHATLAKE_SPARK_CONN_ID", "CHATLAKE_SCHEDULE_START"):
        monkeypatch.delenv(name, raising=False)
    return load_dag_file()


def load_dag_file() -> ModuleType:
    return load_script("chatlake_nightly_dag", DAG_FILE)


def render(task: Any, variables: dict[str, str] | None = None) -> None:
    task.render_template_fields({"ds": LANDING_DAY, "var": {"value": variables or {}}})


def test_dag_runs_the_four_steps_in_order_daily_with_retries_and_catchup(nightly_dag: ModuleType) -> None:
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.interval import CronDataIntervalTimetable

    dag = nightly_dag.dag

    assert dag.dag_id == "chatlake_nightly"
    assert sorted(dag.task_ids) == sorted(STEPS)
    for before, after in itertools.pairwise(STEPS):
        assert dag.get_task(after).upstream_task_ids == {before}
    assert dag.get_task("ingest").upstream_task_ids == set()
    assert all(isinstance(task, SparkSubmitOperator) for task in dag.tasks)
    assert all(task.retries >= 1 and task.retry_delay > dt.timedelta(0) for task in dag.tasks)
    assert dag.catchup is True
    assert dag.max_active_runs == 1  # different dates MERGE into the same tables

    # Catch-up from the start date, one run per landing day, each after its day has closed;
    # the run's logical date (ds) is the landing day.
    timetable = CronDataIntervalTimetable(dag.timetable.expression, timezone=dag.timetable.timezone)
    restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)
    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert first is not None and first.data_interval is not None
    second = timetable.next_dagrun_info(last_automated_data_interval=first.data_interval, restriction=restriction)
    assert second is not None and second.data_interval is not None
    assert first.data_interval.start.date() == dt.date(2026, 11, 1)
    assert second.data_interval.start.date() == dt.date(2026, 11, 2)
    assert first.run_after > dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def test_dag_tasks_pass_the_step_and_landing_day_as_spark_submit_sh_does(nightly_dag: ModuleType) -> None:
    dag = nightly_dag.dag
    config = str(REPO / "conf" / "local.yaml")
    expected = {
        "ingest": ["ingest", "--date", LANDING_DAY, "--conf", config],
        "topics": ["topics", "--date", LANDING_DAY, "--conf", config],
        "aggregate": ["aggregate", "--date", LANDING_DAY, "--conf", config],
        "retention": ["retention", "--as-of", LANDING_DAY, "--conf", config],
    }
    jars = ",".join(sorted(str(jar) for jar in (REPO / ".jars").glob("*.jar")))

    for task in dag.tasks:
        render(task)
        assert task.application_args == expected[task.task_id]
        assert task.application == str(REPO / "jobs" / "__main__.py")
        assert task.py_files == str(REPO / "build" / "chatlake.zip")
        assert task.jars == jars and jars
        assert task.conf["spark.executorEnv.PYSPARK_PYTHON"] == str(REPO / ".venv" / "bin" / "python")
        assert task.name == f"chatlake-{task.task_id}-{LANDING_DAY}"

    # The Airflow Variable `chatlake_conf` switches the config at run time.
    retention = load_dag_file().dag.get_task("retention")
    render(retention, {"chatlake_conf": "/etc/chatlake/cluster.yaml"})
    assert retention.application_args == ["retention", "--as-of", LANDING_DAY, "--conf", "/etc/chatlake/cluster.yaml"]


def test_dag_task_submits_from_the_checkout_with_a_fresh_zip_and_the_connections_master(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("airflow.providers.apache.spark", reason="Airflow is the `airflow` extra")
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    home = tmp_path / "checkout"
    for package in ("jobs", "schemas"):
        shutil.copytree(REPO / package, home / package, ignore=shutil.ignore_patterns("__pycache__"))
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / ".jars").mkdir()
    (home / ".jars" / "delta-spark.jar").touch()
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", "spark://127.0.0.1:7077")
    monkeypatch.setenv("CHATLAKE_HOME", str(home))
    monkeypatch.setenv("CHATLAKE_DRIVER_MEMORY", "2g")
    for name in ("CHATLAKE_CONF", "CHATLAKE_JARS", "CHATLAKE_PYTHON", "CHATLAKE_SPARK_CONN_ID",
                 "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"):
        monkeypatch.delenv(name, raising=False)  # and restored after the task sets them
    monkeypatch.setenv("PATH", os.environ["PATH"])  # restored after the task changes it
    monkeypatch.chdir(tmp_path)  # likewise the working directory
    submitted: list[list[str]] = []

    def submit(hook: SparkSubmitHook, application: str = "", **_: object) -> None:
        submitted.append(hook._build_spark_submit_command(application))
        assert Path.cwd() == home

    monkeypatch.setattr(SparkSubmitHook, "submit", submit)
    task = load_dag_file().dag.get_task("ingest")
    render(task)

    task.execute({"ds": LANDING_DAY})

    master = "spark://127.0.0.1:7077"
    assert submitted == [[
        "spark-submit", "--master", master,
        "--conf", f"spark.executorEnv.PYSPARK_PYTHON={home}/.venv/bin/python",
        "--conf", f"spark.driver.extraJavaOptions=-Dlog4j2.configurationFile=file:{home}/conf/log4j2.properties",
        "--py-files", f"{home}/build/chatlake.zip",
        "--jars", f"{home}/.jars/delta-spark.jar",
        "--driver-memory", "2g",
        "--name", f"chatlake-ingest-{LANDING_DAY}",
        f"{home}/jobs/__main__.py",
        "ingest", "--date", LANDING_DAY, "--conf", f"{home}/conf/local.yaml", "--master", master,
    ]]
    assert os.environ["PATH"].startswith(f"{home}/.venv/bin{os.pathsep}")  # its spark-submit
    assert os.environ["PYSPARK_DRIVER_PYTHON"] == f"{home}/.venv/bin/python"
    with zipfile.ZipFile(home / "build" / "chatlake.zip") as archive:
        shipped = set(archive.namelist())
    expected = {
        str(path.relative_to(home)) for package in ("jobs", "schemas")
        for path in (home / package).rglob("*") if path.is_file()
    }
    assert shipped == expected and "jobs/cli.py" in shipped and "schemas/tables.py" in shipped
