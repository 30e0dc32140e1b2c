"""chatlake's nightly run as an Apache Airflow DAG: ingest -> topics -> aggregate -> retention.

Each task runs one step of `./spark-submit.sh nightly` for the run's landing day `{{ ds }}`
through Airflow's SparkSubmitOperator, with what ./spark-submit.sh passes to spark-submit:
jobs/__main__.py as the application, build/chatlake.zip as --py-files (rebuilt before every
submit), the Delta Lake jars of .jars as --jars, `--conf FILE` as an application argument,
the project's Python for the executors, the project's log4j settings and the driver heap.

Install: put this file (or a symlink to it) in Airflow's dags folder on a host that has a
checkout of the repository set up with `./spark-submit.sh setup`, and install the
`airflow` extra of pyproject.toml into Airflow's environment. The Spark master comes from the
Airflow connection (`spark_default` unless CHATLAKE_SPARK_CONN_ID names another): `local[*]`,
`spark://HOST:7077`, `yarn`, `k8s://https://HOST:443`. As with `./spark-submit.sh ... --master
URL`, it goes to spark-submit and to the job's `--master`, so it wins over a config's
`spark.master`.

Settings, read when the scheduler parses this file (environment of the scheduler/worker):
  CHATLAKE_HOME           the repository checkout   (default: the checkout holding this file;
                          symlinks are followed)
  CHATLAKE_CONF           chatlake YAML config      (default: $CHATLAKE_HOME/conf/local.yaml,
                          as ./spark-submit.sh; on a cluster, one like conf/cluster.yaml)
  CHATLAKE_JARS           comma-separated jars      (default: $CHATLAKE_HOME/.jars/*.jar)
  CHATLAKE_PYTHON         executors' Python         (default: $CHATLAKE_HOME/.venv/bin/python)
  CHATLAKE_DRIVER_MEMORY  driver heap               (default: 6g, as ./spark-submit.sh)
  CHATLAKE_SPARK_CONN_ID  Airflow Spark connection  (default: spark_default)
  CHATLAKE_SCHEDULE_START first landing day to run  (default: 2026-11-01; with catchup every
                          day since then gets its run, oldest first)
and at run time the Airflow Variable `chatlake_conf` (if set) overrides CHATLAKE_CONF, so a
config can be switched without redeploying.

Schedule: daily at 02:30 UTC for the day before. The timetable is the data-interval kind on
purpose: `ds` is the start of the interval, i.e. the landing day that has just closed, in
Airflow 2 and 3 alike. Runs never overlap (max_active_runs=1): every date MERGEs into the
same Delta tables. `airflow dags backfill chatlake_nightly -s D1 -e D2` (Airflow 2) or
`airflow backfill create --dag-id chatlake_nightly --from-date D1 --to-date D2` (Airflow 3)
reruns a range; each step is idempotent, so a rerun repairs a night.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:  # Airflow 3
    from airflow.sdk import DAG, CronDataIntervalTimetable
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[no-redef]
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef,assignment]

DAG_ID = "chatlake_nightly"
SCHEDULE = "30 2 * * *"  # 02:30 UTC: the landing day closed at midnight; late files had time
PACKAGES = ("jobs", "schemas")  # what build/chatlake.zip holds, as in ./spark-submit.sh

HOME = Path(os.environ.get("CHATLAKE_HOME") or Path(__file__).resolve().parents[2])
CONF_FILE = os.environ.get("CHATLAKE_CONF") or str(HOME / "conf" / "local.yaml")
EXECUTOR_PYTHON = os.environ.get("CHATLAKE_PYTHON") or str(HOME / ".venv" / "bin" / "python")
DRIVER_MEMORY = os.environ.get("CHATLAKE_DRIVER_MEMORY") or "6g"
SPARK_CONN_ID = os.environ.get("CHATLAKE_SPARK_CONN_ID") or "spark_default"
START_DATE = dt.date.fromisoformat(os.environ.get("CHATLAKE_SCHEDULE_START") or "2026-11-01")

APPLICATION = str(HOME / "jobs" / "__main__.py")
PY_FILES = str(HOME / "build" / "chatlake.zip")
LOG4J_OPTIONS = f"-Dlog4j2.configurationFile=file:{HOME / 'conf' / 'log4j2.properties'}"


def delta_jars() -> str:
    """The jars ./spark-submit.sh passes with --jars: $CHATLAKE_JARS, else every jar in .jars."""
    return os.environ.get("CHATLAKE_JARS") or ",".join(sorted(str(p) for p in (HOME / ".jars").glob("*.jar")))


def build_pyfiles(home: Path) -> Path:
    """Zip the two packages into build/chatlake.zip as ./spark-submit.sh does before every submit.

    Written beside the target and renamed into place, so that a submit running at the same
    moment never ships a half-written archive.
    """
    target = home / "build" / "chatlake.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in PACKAGES:
            for path in sorted((home / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(home))
    partial.replace(target)
    return target


class ChatlakeSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator run the way ./spark-submit.sh runs spark-submit.

    From the checkout (a config's relative paths, such as the topics keywords file, are
    relative to it), with the project's virtual environment first on PATH (its spark-submit
    and Python), with a freshly built build/chatlake.zip, and with the connection's master
    also given to the job as `--master` (the command line wins over the config's master).
    """

    def execute(self, context: Any) -> None:
        venv_bin = HOME / ".venv" / "bin"
        if venv_bin.is_dir():
            os.environ["PATH"] = f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"
            os.environ.setdefault("PYSPARK_PYTHON", str(venv_bin / "python"))
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", str(venv_bin / "python"))
        os.chdir(HOME)
        build_pyfiles(HOME)
        arguments = list(self.application_args or [])
        if "--master" not in arguments:
            # The master URL as the hook resolves it from the connection (type, host, port);
            # the hook copies the arguments when made, so the real one is made after this.
            master = self._get_hook()._connection["master"]
            self.application_args = [*arguments, "--master", master]
            self._hook = None
        return super().execute(context)


def step(task_id: str, *args: str) -> ChatlakeSubmitOperator:
    """One step of `nightly` for the run's landing day, as `./spark-submit.sh <args> --conf FILE`."""
    return ChatlakeSubmitOperator(
        task_id=task_id,
        conn_id=SPARK_CONN_ID,
        name=f"chatlake-{task_id}-{{{{ ds }}}}",
        application=APPLICATION,
        py_files=PY_FILES,
        jars=delta_jars(),
        driver_memory=DRIVER_MEMORY,
        conf={
            "spark.executorEnv.PYSPARK_PYTHON": EXECUTOR_PYTHON,
            "spark.driver.extraJavaOptions": LOG4J_OPTIONS,
        },
        application_args=[
            *args,
            "--conf",
            "{{ var.value.get('chatlake_conf', '" + CONF_FILE + "') }}",
        ],
    )


with DAG(
    dag_id=DAG_ID,
    description="chatlake nightly: landing day {{ ds }} through ingest, topics, aggregate, retention",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"),
    start_date=dt.datetime.combine(START_DATE, dt.time(2, 30), tzinfo=dt.UTC),
    catchup=True,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=8),
    default_args={
        "owner": "chatlake",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=10),
        "retry_exponential_backoff": True,
        "execution_timeout": dt.timedelta(hours=3),
    },
    tags=["chatlake"],
) as dag:
    ingest = step("ingest", "ingest", "--date", "{{ ds }}")
    topics = step("topics", "topics", "--date", "{{ ds }}")
    aggregate = step("aggregate", "aggregate", "--date", "{{ ds }}")
    retention = step("retention", "retention", "--as-of", "{{ ds }}")
    ingest >> topics >> aggregate >> retention
