"""One Spark session for the whole suite: local[2], two shuffle partitions, UI off, UTC,
no code generation."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gzip
import importlib.util
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pyspark.sql import SparkSession

from jobs.config import Config, parse_config
from jobs.session import JARS_ENV, build_session, log4j_java_options

REPO = Path(__file__).resolve().parent.parent
# The contract's worked example, copied into the repository (tests/data/README.md says from where).
EXAMPLES = REPO / "tests" / "data" / "contract_example"

# py4j says "Closing down clientserver connection" at INFO when its objects are collected, after
# pytest has closed the streams that Airflow's root handler (test_schedule) writes to.
logging.getLogger("py4j").setLevel(logging.WARNING)

TEST_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.databricks.delta.snapshotPartitions": "1",
    # The suite's frames are a few rows, and compiling generated code for each new query cost
    # more than evaluating it: a quarter of the example's four days in a fresh JVM (140 s with
    # code generation, 106 s without). Spark evaluates the same expressions either way; the
    # jobs run with code generation under spark-submit, and test_cluster.py compares such a
    # run's tables with the in-process example run's, row for row.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    # G1's concurrent threads compete with the two task threads for the two cores; a 2 GB heap
    # of small, short-lived frames needs no concurrent collector (the same four days: 97 s).
    "spark.driver.extraJavaOptions": f"{log4j_java_options()} -XX:+UseSerialGC",
}


# The end-to-end files that take minutes, in the order the two pytest-xdist workers should start
# them (`--no-loadscope-reorder` keeps this order). Longest first, so that the run does not end
# with one worker alone on a long file; and alternating, so that while the first worker builds
# the worked example (test_erasure_privacy needs it first) the second runs files that do not.
# Durations from a fresh clone's `.ci/run` on the 2-core machine (docs/development.md).
LONG_FILES_FIRST = (
    "test_erasure_privacy.py",  # the example run (about 5 minutes), then three commands
    "test_docs_commands.py",  # the docs' runnable blocks, one of about 4 minutes
    "test_experiments_generated.py",  # a generated week through the pipeline, no example
    "test_order.py",  # the example's four days again, newest first: 8 minutes
    "test_cluster.py",  # a standalone master and worker, and a nightly on them
    "test_crash.py",
    "test_erasure.py",
    "test_stream.py",
    "test_notebooks.py",
    "test_history_sampling.py",
    "test_stream_kafka.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long end-to-end files first, in LONG_FILES_FIRST's order; the rest as collected."""
    rank = {name: position for position, name in enumerate(LONG_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def percentile_cont(values: list[float], fraction: float) -> float:
    """PERCENTILE_CONT(fraction) in plain Python: linear interpolation between the closest
    ranks, the tests' independent reference for the p95 columns and reports."""
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def landing_events(landing: Path) -> Iterator[dict[str, Any]]:
    """Every JSON object of a landing zone's `dt=*/` files (.json, .json.gz), in file order;
    lines that are not JSON objects are skipped, as ingest quarantines them."""
    for path in sorted(landing.glob("dt=*/*")):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    yield event


def load_script(name: str, path: Path) -> ModuleType:
    """A file outside the packages (bench/, conf/schedule/) loaded as module `name`. It is
    registered in sys.modules first, where its dataclasses look their module up."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_config(root: Path, **overrides: object) -> Config:
    """A config whose landing zone and warehouse live under `root`."""
    raw: dict[str, object] = {
        "landing_path": str(root / "landing"),
        "warehouse_path": str(root / "warehouse"),
        "spark": {"shuffle_partitions": 2},
    }
    raw.update(overrides)
    return parse_config(raw, environ={})


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    if not os.environ.get(JARS_ENV):
        jars = sorted(str(p) for p in (REPO / ".jars").glob("*.jar"))
        if not jars:
            pytest.exit("no Delta jars: run the tests with ./spark-submit.sh test", returncode=2)
        os.environ[JARS_ENV] = ",".join(jars)
    session = build_session(
        make_config(REPO / "build" / "unused"),
        app_name="chatlake-tests",
        master="local[2]",
        extra_settings=TEST_SETTINGS,
    )
    yield session
    session.stop()


@pytest.fixture()
def config(tmp_path: Path) -> Config:
    """A fresh landing zone and warehouse per test (the warehouse not created yet)."""
    return make_config(tmp_path)


@contextlib.contextmanager
def shared_build(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """A folder for `name` that the whole run shares, locked while the caller builds it.

    Under pytest-xdist every worker has its own session, so a session fixture would be built
    once per worker. Here the first worker to ask builds it in the run's shared temporary folder
    (the parent of each worker's own), and the others wait for it and reuse it, the pattern
    pytest-xdist documents for session fixtures. Yields (folder, must_build); the lock is held
    until the block ends.
    """
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    done = folder / ".built"
    with open(f"{folder}.lock", "w", encoding="utf-8") as lock:
        # A lock file, not the folder's existence: a worker that finds the folder while another
        # is still filling it must wait, and one that died midway leaves no `.built` behind.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            must_build = not done.exists()
            if must_build:
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
            yield folder, must_build
            if must_build:
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def warehouse_template(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, prepared warehouse, made once for the whole run (both workers): creating every
    table costs tens of seconds of Delta commits, copying the folder a few milliseconds. Tests
    of creation itself (test_tables.py) do not use it."""
    from jobs import warehouse

    with shared_build(tmp_path_factory, "template") as (root, must_build):
        config = make_config(root)
        if must_build:
            warehouse.prepare(spark, config)
    return Path(config.warehouse_path)


def install_warehouse(template: Path, config: Config) -> Config:
    """Give `config` a copy of the prepared empty warehouse; returns `config`."""
    shutil.copytree(template, config.warehouse_path)
    return config


@pytest.fixture()
def prepared(config: Config, warehouse_template: Path) -> Config:
    """`config` with an empty warehouse whose tables all exist."""
    return install_warehouse(warehouse_template, config)


EXAMPLE_DAYS = ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04")


@pytest.fixture(scope="session")
def example_run(
    spark: SparkSession, warehouse_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """The contract's worked example through ingest, topics and aggregate, once per run (the
    first worker to need it builds it, the other reads the same tables; no test writes to them).

    Parquet is written uncompressed here so that the privacy scans can look for text bytes.
    Returns the config, the per-day ingest counts, and `day_one`: a config whose warehouse is a
    copy taken after the first day, the clean run that crash and cluster tests compare with.
    """
    import datetime as dt

    from jobs import aggregate, ingest, topics

    with shared_build(tmp_path_factory, "example") as (root, must_build):
        config = make_config(root, landing_path=str(EXAMPLES / "landing"))
        counts_file = root / "ingest_counts.json"
        if must_build:
            spark.conf.set("spark.sql.parquet.compression.codec", "uncompressed")
            try:
                install_warehouse(warehouse_template, config)
                counts = {}
                for day in map(dt.date.fromisoformat, EXAMPLE_DAYS):
                    counts[day.isoformat()] = ingest.run_day(spark, config, day)
                    topics.run_day(spark, config, day)
                    aggregate.run_day(spark, config, day)
                    if day.isoformat() == EXAMPLE_DAYS[0]:
                        shutil.copytree(root / "warehouse", root / "day-one-warehouse")
            finally:
                spark.conf.set("spark.sql.parquet.compression.codec", "snappy")
            counts_file.write_text(json.dumps(counts), encoding="utf-8")
        ingest_counts = json.loads(counts_file.read_text(encoding="utf-8"))
    day_one = dataclasses.replace(config, warehouse_path=str(root / "day-one-warehouse"))
    return {"config": config, "ingest_counts": ingest_counts, "day_one": day_one}
