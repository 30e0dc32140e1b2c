"""The analysts' notebooks run top to bottom on the contract's worked example.

Each notebook gets its own Jupyter kernel (so its own Spark JVM) and a config that points at
the session's example warehouse; the tests then check what the cells printed and drew, and
that the warehouse, which other tests share, was only read.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import time
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient
from pyspark.sql import SparkSession

from jobs.config import Config
from jobs.session import JARS_ENV
from notebooks._setup import CONF_ENV, optional_table
from tests import experiment_reference
from tests.conftest import EXAMPLES, REPO, make_config, percentile_cont
from tests.test_experiments import example_creations, example_messages

NOTEBOOKS = REPO / "notebooks"
EXPECTED = EXAMPLES / "expected"
CELL_TIMEOUT_SECONDS = 300
KERNEL_NAME = "python3"  # ipykernel's own spec: the interpreter running the tests
# A lean JVM for the kernel, beside the suite's own.
KERNEL_SPARK = {
    "master": "local[2]",
    "shuffle_partitions": 2,
    "settings": {
        "spark.ui.enabled": "false",
        "spark.driver.memory": "1g",
        "spark.default.parallelism": "2",
        "spark.databricks.delta.snapshotPartitions": "1",
    },
}
RUNS_SCHEMA = (
    "run_id string, command string, arguments string, dates array<date>, started_at timestamp, "
    "finished_at timestamp, status string, steps array<struct<step: string, seconds: double, "
    "rows_read: bigint, rows_written: bigint, rows_quarantined: bigint>>, error_message string, "
    "spark_master string"
)
DAY = dt.date(2026, 11, 1)
FAILURE = "ingest: landing folder dt=2026-11-02 is not readable"
RUNS = [
    ("r1", "nightly", "--date 2026-11-01", [DAY], dt.datetime(2026, 11, 2, 1, 0), dt.datetime(2026, 11, 2, 1, 1, 30),
     "succeeded", [("ingest", 60.0, 1000, 990, 10), ("aggregate", 20.0, 990, 40, 0)], None, "local[2]"),
    ("r2", "nightly", "--date 2026-11-02", [DAY + dt.timedelta(days=1)], dt.datetime(2026, 11, 3, 1, 0),
     dt.datetime(2026, 11, 3, 1, 0, 5), "failed", [("ingest", 5.0, 0, 0, 0)], FAILURE, "local[2]"),
    ("r3", "nightly", "--date 2026-11-02", [DAY + dt.timedelta(days=1)], dt.datetime(2026, 11, 3, 2, 0),
     dt.datetime(2026, 11, 3, 2, 2, 0), "succeeded", [("ingest", 100.0, 2000, 1984, 16),
                                                     ("aggregate", 10.0, 1984, 50, 0)], None, "local[2]"),
]


def kernel_config(root: Path, config: Config) -> Path:
    path = root / "notebook.yaml"
    raw = {"landing_path": config.landing_path, "warehouse_path": config.warehouse_path, "spark": KERNEL_SPARK}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def run_notebook(name: str, conf: Path) -> nbformat.NotebookNode:
    """Executes the notebook in place (nbclient raises at the first failing cell)."""
    # The suite's own session must not leak in: with its gateway port in the environment,
    # build_session would believe it runs under spark-submit.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK_GATEWAY")}
    env[CONF_ENV] = str(conf)
    assert env.get(JARS_ENV), "the spark fixture sets the Delta jars"
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    started = time.monotonic()
    client.execute(env=env)
    print(f"{name} ran in {time.monotonic() - started:.1f}s")
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    return notebook


def cell(notebook: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    (tagged,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    return tagged


def printed(code_cell: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in code_cell.outputs if o.output_type == "stream" and o.name == "stdout")


def shown_tables(text: str) -> list[list[dict[str, str]]]:
    """The tables DataFrame.show() printed, as rows of column -> cell text."""
    tables: list[list[dict[str, str]]] = []
    header: list[str] = []
    borders = 0  # above the header, below it, below the rows
    for line in text.splitlines():
        if line.startswith("+-"):
            borders = (borders + 1) % 3
            if borders == 0:
                header = []
        elif line.startswith("|") and line.endswith("|"):
            cells = [value.strip() for value in line[1:-1].split("|")]
            if not header:
                header = cells
                tables.append([])
            else:
                tables[-1].append(dict(zip(header, cells, strict=True)))
    return tables


def shown_rows(code_cell: nbformat.NotebookNode) -> list[dict[str, str]]:
    (table,) = shown_tables(printed(code_cell))
    return table


def drew_an_image(code_cell: nbformat.NotebookNode) -> bool:
    return any("image/png" in o.get("data", {}) for o in code_cell.outputs)


def files_of(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()
    }


def expected_latency_by_network() -> dict[str, tuple[int, float, float]]:
    """Messages, p50 and p95 of server - client time per network type, from messages.csv."""
    latencies: dict[str, list[float]] = defaultdict(list)
    with (EXPECTED / "messages.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            if row["device_id"] and row["client_ts"]:
                server, client = (dt.datetime.fromisoformat(row[k]) for k in ("server_ts", "client_ts"))
                latencies[row["network_type"]].append((server - client).total_seconds())
    return {
        network: (len(values), percentile_cont(values, 0.5), percentile_cont(values, 0.95))
        for network, values in latencies.items()
    }


@pytest.mark.slow
def test_explore_shows_the_examples_reports_and_plots(example_run: dict, tmp_path: Path) -> None:
    example: Config = example_run["config"]
    before = files_of(Path(example.warehouse_path))

    notebook = run_notebook("explore.ipynb", kernel_config(tmp_path, example))

    with (EXPECTED / "dau.csv").open(encoding="utf-8") as rows:
        expected_dau = list(csv.DictReader(rows))
    assert shown_rows(cell(notebook, "dau-table")) == expected_dau
    sampled, weighted = shown_tables(printed(cell(notebook, "topics-table")))
    assert sampled and weighted
    for row in weighted:
        low, estimate, high = (float(row[k]) for k in (
            "estimated_messages_ci95_low", "estimated_messages", "estimated_messages_ci95_high"))
        assert int(row["sampled_messages"]) <= low <= estimate < high
    latency = {
        row["network_type"]: (int(row["messages"]), float(row["p50_seconds"]), float(row["p95_seconds"]))
        for row in shown_rows(cell(notebook, "latency-table"))
    }
    expected = expected_latency_by_network()
    assert latency.keys() == expected.keys()
    for network, (messages, p50, p95) in expected.items():
        assert latency[network] == (messages, pytest.approx(p50, abs=1e-3), pytest.approx(p95, abs=1e-3))
    # The example assigns only the old form (groups_v3 = treatment): one row, nothing to compare.
    assigned = {conversation: experiment_reference.assignments_of(metadata)[0]
                for conversation, (_, _, metadata) in example_creations().items()}
    daily = experiment_reference.experiment_daily(example_messages(), assigned)
    assert [(r["experiment"], r["variant"], int(r["messages"]), r["read_rate_p_value"])
            for r in shown_rows(cell(notebook, "experiments-table"))] == [
        ("groups_v3", "treatment", sum(row[4] for row in daily), "NULL")]
    versions = shown_rows(cell(notebook, "versions-table"))
    with (EXPECTED / "messages.csv").open(encoding="utf-8") as rows:
        message_rows = list(csv.DictReader(rows))
    assert sum(int(r["messages"]) for r in versions) == sum(1 for row in message_rows if row["device_id"])
    languages, per_language_topics = shown_tables(printed(cell(notebook, "languages-table")))
    assert sum(int(r["messages"]) for r in languages) == len(message_rows)
    assert all(int(r["topic_rank"]) <= 5 for r in per_language_topics)
    for tag in ("dau-plot", "topics-plot", "latency-plot", "experiments-plot", "hourly-plot", "trend-plot",
                "languages-plot"):
        assert drew_an_image(cell(notebook, tag)), tag
    assert files_of(Path(example.warehouse_path)) == before


@pytest.mark.slow
def test_data_quality_shows_quarantine_and_run_history(
    spark: SparkSession, example_run: dict, tmp_path: Path
) -> None:
    """The example's tables, seen through symlinks, plus a run history written here: the shared
    example warehouse is not written to."""
    example: Config = example_run["config"]
    config = make_config(tmp_path)
    Path(config.warehouse_path).mkdir()
    for table in Path(example.warehouse_path).iterdir():
        if table.name != "pipeline_runs":
            Path(config.table_path(table.name)).symlink_to(table, target_is_directory=True)
    spark.createDataFrame(RUNS, RUNS_SCHEMA).write.format("delta").save(config.table_path("pipeline_runs"))
    before = files_of(Path(example.warehouse_path))

    notebook = run_notebook("data_quality.ipynb", kernel_config(tmp_path, config))

    quarantined = shown_rows(cell(notebook, "quarantine-table"))
    bad_records = json.loads((EXPECTED / "counts.json").read_text(encoding="utf-8"))["bad_records"]
    assert sum(int(row["count"]) for row in quarantined) == bad_records
    runs = shown_rows(cell(notebook, "runs-table"))
    assert [(r["status"], r["seconds"], r["error_message"]) for r in runs] == [
        ("succeeded", "120.0", "NULL"), ("failed", "5.0", FAILURE), ("succeeded", "90.0", "NULL"),
    ]
    steps = {r["step"]: (r["runs"], r["mean_seconds"], r["rows_quarantined"])
             for r in shown_rows(cell(notebook, "steps-table"))}
    assert steps == {"ingest": ("2", "80.0", "26"), "aggregate": ("2", "15.0", "0")}
    for tag in ("quarantine-plot", "runs-plot"):
        assert drew_an_image(cell(notebook, tag)), tag
    assert files_of(Path(example.warehouse_path)) == before


def test_a_missing_run_history_is_said_not_raised(
    spark: SparkSession, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert optional_table(spark, config, "pipeline_runs") is None
    assert f"No pipeline_runs table at {config.table_path('pipeline_runs')}" in capsys.readouterr().out


def test_an_empty_run_history_is_said_not_raised(
    spark: SparkSession, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    spark.createDataFrame([], RUNS_SCHEMA).write.format("delta").save(config.table_path("pipeline_runs"))
    assert optional_table(spark, config, "pipeline_runs") is None
    assert f"The pipeline_runs table at {config.table_path('pipeline_runs')} is empty" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["explore.ipynb", "data_quality.ipynb", "operations.ipynb"])
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert code_cells
    assert [(c.outputs, c.execution_count) for c in code_cells] == [([], None)] * len(code_cells)
