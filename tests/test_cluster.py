"""chatlake on a real Spark cluster: a standalone master and worker on 127.0.0.1.

The cluster is started with the daemon script that ships in the pyspark wheel
(sbin/spark-daemon.sh, which is what start-master.sh and start-worker.sh call; the wheel ships
the former but not the latter two) and `nightly` for the contract's first example day is
submitted to it with ./spark-submit.sh, as a user would. The tables must equal the in-process
local-mode run of the same day (the session's `example_run` after its first day; one day keeps
the suite's time down, and every day goes through the same code), and the executors must have
fetched the code (build/chatlake.zip, from --py-files) and the Delta jars (--jars) from the
driver. The jobs use built-in expressions only, so executors run JVM code; the zip is there for
any Python that would run on them. The suite's session evaluates without code generation
(conftest.py) and the submitted nightly with it, as in production: equal tables also say that
both ways compute the same.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from jobs.config import RETENTION_ENTRIES, Config
from tests.conftest import EXAMPLE_DAYS, EXAMPLES, REPO

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

SPARK_HOME = Path(pyspark.__file__).resolve().parent
DAEMON = SPARK_HOME / "sbin" / "spark-daemon.sh"
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
HOST = "127.0.0.1"
WORKER_CORES = 2
WORKER_MEMORY = "2g"
EXECUTOR_MEMORY = "1g"
DRIVER_MEMORY = "1g"
STARTUP_SECONDS = 120
SUBMIT_TIMEOUT_SECONDS = 40 * 60
COMPARED_TABLES = (
    "fact_message_events",
    "fact_conversation_metrics",
    "fact_user_metrics",
    "dim_users",
    "fact_message_derived_topics",
)
RUN_TIME_COLUMNS = ("processed_timestamp",)  # when a run wrote the row, not what it computed


@dataclass(frozen=True)
class Cluster:
    master_url: str
    work_dir: Path  # the worker's: one folder per application, one per executor inside
    log_dir: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, logs: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs.glob("*.out"))
    raise AssertionError(f"{what} within {STARTUP_SECONDS}s\n{tails}")


def accepts_connections(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((HOST, port)) == 0


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A master and one worker (2 cores, 2 GB) on loopback, always stopped afterwards."""
    if not DAEMON.is_file():
        pytest.fail(f"pyspark no longer ships {DAEMON.relative_to(SPARK_HOME)}: start the daemons "
                    "with bin/spark-class instead")
    root = tmp_path_factory.mktemp("cluster")
    cluster = Cluster(master_url="", work_dir=root / "work", log_dir=root / "logs")
    (root / "conf").mkdir()  # an empty conf dir: no spark-defaults or spark-env from elsewhere
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_CONF_DIR": str(root / "conf"),
        "SPARK_LOG_DIR": str(cluster.log_dir),
        "SPARK_PID_DIR": str(root / "pids"),
        "SPARK_WORKER_DIR": str(cluster.work_dir),
        "SPARK_IDENT_STRING": f"chatlake-test-{os.getpid()}",
        "SPARK_MASTER_HOST": HOST,
        "SPARK_LOCAL_IP": HOST,
        "SPARK_DAEMON_MEMORY": "512m",
        # No REST submission server: it would take the fixed port 6066.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
    }

    def daemon(action: str, klass: str, *args: str) -> None:
        subprocess.run(["bash", str(DAEMON), action, klass, "1", *args], env=env, check=True,
                       capture_output=True, text=True, timeout=STARTUP_SECONDS)

    master_port, master_ui, worker_ui = free_port(), free_port(), free_port()
    master_url = f"spark://{HOST}:{master_port}"
    try:
        daemon("start", MASTER, "--host", HOST, "--port", str(master_port), "--webui-port", str(master_ui))
        wait_for(lambda: accepts_connections(master_port), "the master did not listen", cluster.log_dir)
        daemon("start", WORKER, "--host", HOST, "--cores", str(WORKER_CORES), "--memory", WORKER_MEMORY,
               "--webui-port", str(worker_ui), "--work-dir", str(cluster.work_dir), master_url)
        wait_for(
            lambda: any("Successfully registered with master" in log.read_text(errors="replace")
                        for log in cluster.log_dir.glob(f"*{WORKER}*.out")),
            "the worker did not register", cluster.log_dir,
        )
        yield Cluster(master_url=master_url, work_dir=cluster.work_dir, log_dir=cluster.log_dir)
    finally:
        for klass in (WORKER, MASTER):
            subprocess.run(["bash", str(DAEMON), "stop", klass, "1"], env=env, check=False,
                           capture_output=True, timeout=STARTUP_SECONDS)


def cluster_config(root: Path, warehouse_template: Path) -> Path:
    """Same landing data and settings as `example_run`, in a warehouse of its own, retention off.

    The landing zone is a copy: nightly's retention step must never be able to touch the
    contract's files, and with every entry 0 it keeps everything, as the local run did. The
    warehouse starts as a copy of the suite's prepared empty one: creating the tables is
    test_tables.py's subject, and on the cluster it took about half a minute of this test.
    """
    shutil.copytree(EXAMPLES / "landing", root / "landing")
    shutil.copytree(warehouse_template, root / "warehouse")
    path = root / "chatlake.yaml"
    path.write_text(yaml.safe_dump({
        "landing_path": str(root / "landing"),
        "warehouse_path": str(root / "warehouse"),
        "retention_days": dict.fromkeys(RETENTION_ENTRIES, 0),
        "spark": {"shuffle_partitions": 2},
    }))
    return path


def submit(*args: str) -> subprocess.CompletedProcess[str]:
    """./spark-submit.sh as a user runs it: a fresh process, its own JVM and Python driver."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK_GATEWAY")}
    # For a cluster master, ./spark-submit.sh leaves the executors' Python to the user, as the
    # README says; here the worker shares this machine and its environment.
    env["PYSPARK_PYTHON"] = sys.executable
    return subprocess.run([str(REPO / "spark-submit.sh"), *args], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=SUBMIT_TIMEOUT_SECONDS, check=False)


def table(spark: SparkSession, warehouse: Path | str, name: str) -> DataFrame:
    return spark.read.format("delta").load(f"{warehouse}/{name}").drop(*RUN_TIME_COLUMNS)


def test_nightly_on_a_standalone_cluster_equals_the_local_run(
    spark: SparkSession,
    example_run: dict[str, object],
    standalone_cluster: Cluster,
    warehouse_template: Path,
    tmp_path: Path,
) -> None:
    config = cluster_config(tmp_path, warehouse_template)

    nightly = submit(
        "nightly", "--date", EXAMPLE_DAYS[0],
        "--master", standalone_cluster.master_url, "--conf", str(config),
        "--driver-memory", DRIVER_MEMORY, "--executor-memory", EXECUTOR_MEMORY,
        "--spark-conf", "spark.ui.enabled=false",
    )
    assert nightly.returncode == 0, nightly.stderr[-5000:]

    local = example_run["day_one"]
    assert isinstance(local, Config)
    for name in COMPARED_TABLES:
        on_cluster = table(spark, tmp_path / "warehouse", name)
        in_process = table(spark, local.warehouse_path, name)
        assert in_process.count() > 0, name
        assert_df_equality(on_cluster, in_process, ignore_row_order=True, ignore_nullable=False)

    # The application ran its tasks on the worker's executors, which fetched the code and the
    # Delta jars from the driver into their own folders.
    executor_dirs = sorted(standalone_cluster.work_dir.glob("app-*/*"))
    assert executor_dirs
    for executor in executor_dirs:
        shipped = {path.name for path in executor.iterdir()}
        assert "chatlake.zip" in shipped, shipped
        assert any(name.startswith("delta-spark_") for name in shipped), shipped
