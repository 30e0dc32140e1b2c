"""After delete-users and purge through the command line, no byte of any file under the
warehouse or the landing zone, and no line the commands printed, names an erased user: not
their id, not their surrogate key. The warehouse starts as one that an older chatlake wrote,
whose run history kept erasure requests in plain text; purge must repair it."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from jobs import erasure, storage, warehouse
from jobs.config import Config, parse_config
from jobs.tombstones import user_id_hash_text
from jobs.transforms import keys
from schemas.tables import TABLES_BY_NAME
from tests.conftest import EXAMPLES, REPO

pytestmark = pytest.mark.slow

ERASED_BEFORE = ("u_000003", "u_000007")  # erased by the older chatlake
ERASED_NOW = ("u_000014", "u_000050")
NEVER_SEEN = "u_999999"
ERASED = (*ERASED_BEFORE, *ERASED_NOW, NEVER_SEEN)


def _old_run_history(spark: SparkSession, config: Config) -> None:
    """pipeline_runs as chatlake wrote it before user ids were redacted: no `user_id_hashes`
    column, and the whole command line (a failed attempt's error naming an id too)."""
    path = config.table_path("pipeline_runs")
    shutil.rmtree(path)
    spec = TABLES_BY_NAME["pipeline_runs"]
    old_schema = T.StructType([f for f in spec.schema.fields if f.name != "user_id_hashes"])
    ids = ",".join(ERASED_BEFORE)
    at = dt.datetime(2026, 11, 5, 10, 0)
    rows = [
        ("r1", "delete-users", f"delete-users --user-ids {ids} --conf old.yaml", [], at, at, "failed", [],
         f"ConcurrentRunError: another run kept changing the same tables (predicate user_id = '{ERASED_BEFORE[0]}')",
         "local[2]"),
        ("r2", "delete-users", f"delete-users --user-ids={ids}", [], at, at, "succeeded", [], None, "local[2]"),
    ]
    frame = spark.createDataFrame(rows, old_schema)
    frame.write.format("delta").save(path)
    # The next command must bring the table up to today's declaration.
    (Path(config.warehouse_path) / warehouse.MARKER).unlink()


def _submit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "spark-submit.sh"), *args, "--driver-memory", "1g"],
        cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=900, check=False,
    )


@pytest.fixture(scope="module")
def purged(spark: SparkSession, example_run: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("privacy")
    shutil.copytree(example_run["config"].warehouse_path, root / "warehouse")
    shutil.copytree(EXAMPLES / "landing", root / "landing")
    conf = root / "conf.yaml"
    conf.write_text(
        f"landing_path: {root / 'landing'}\nwarehouse_path: {root / 'warehouse'}\npurge_retain_hours: 0\n"
        "spark:\n  shuffle_partitions: 2\n  settings:\n"
        # Uncompressed, so that the byte scan sees every value a data file holds.
        "    spark.sql.parquet.compression.codec: uncompressed\n"
    )
    config = parse_config({"landing_path": str(root / "landing"), "warehouse_path": str(root / "warehouse"),
                           "purge_retain_hours": 0}, environ={})
    spark.conf.set("spark.sql.parquet.compression.codec", "uncompressed")
    try:
        erasure.erase_users(spark, config, list(ERASED_BEFORE))
        _old_run_history(spark, config)
    finally:
        spark.conf.set("spark.sql.parquet.compression.codec", "snappy")
    outputs = {
        # A space after a comma: the second id is left over, and must not be echoed.
        "bad list": _submit("delete-users", "--user-ids", f"{ERASED_NOW[0]},", ERASED_NOW[1], "--conf", str(conf)),
        "delete-users": _submit("delete-users", "--user-ids", ",".join([*ERASED_NOW, NEVER_SEEN]),
                                "--conf", str(conf)),
        "purge": _submit("purge", "--conf", str(conf)),
    }
    yield {"root": root, "config": config, "outputs": outputs}


def _traces(spark: SparkSession) -> dict[bytes, str]:
    traces = {u.encode(): u for u in ERASED}
    user_keys = (
        spark.createDataFrame([(u,) for u in ERASED], "user_id string")
        .select("user_id", keys.surrogate_key(keys.USER, "user_id").alias("user_key"))
        .collect()
    )
    for row in user_keys:
        traces[str(row["user_key"]).encode()] = f"{row['user_id']}'s key as text"
        traces[struct.pack("<q", row["user_key"])] = f"{row['user_id']}'s key as bytes"
    return traces


def test_the_commands_ran_as_asked(purged: dict) -> None:
    outputs = purged["outputs"]
    assert outputs["bad list"].returncode == 2
    assert outputs["delete-users"].returncode == 0, outputs["delete-users"].stderr[-3000:]
    assert outputs["purge"].returncode == 0, outputs["purge"].stderr[-3000:]
    printed = outputs["delete-users"].stdout + outputs["delete-users"].stderr
    assert "1 of 3 requested user id(s) found nowhere" in printed
    assert "pipeline_runs: 2 run(s) that named users in plain text" in outputs["purge"].stderr + outputs[
        "purge"].stdout


def test_no_file_and_no_printed_line_names_them(spark: SparkSession, purged: dict) -> None:
    traces = _traces(spark)
    leaks = []
    scanned = 0
    for path in Path(purged["root"]).rglob("*"):
        if not path.is_file() or path.name == "conf.yaml":
            continue
        content = path.read_bytes()
        if path.suffix == ".gz":
            content = gzip.decompress(content)
        scanned += 1
        leaks += [(str(path.relative_to(purged["root"])), what) for needle, what in traces.items() if needle in content]
    for name, result in purged["outputs"].items():
        printed = (result.stdout + result.stderr).encode()
        leaks += [(f"output of {name}", what) for needle, what in traces.items() if needle in printed]
    assert leaks == []
    # Data files, commit files, checkpoints and checksums of pipeline_runs were among them.
    log = Path(purged["root"]) / "warehouse" / "pipeline_runs" / "_delta_log"
    assert {p.suffix for p in log.iterdir()} >= {".json", ".crc", ".parquet"}
    assert scanned > 100


def test_the_run_history_names_requests_by_hash_and_request_id(spark: SparkSession, purged: dict) -> None:
    config = purged["config"]
    runs = {r["run_id"]: r for r in storage.read(spark, config, "pipeline_runs").collect()}
    erasures = [r for r in runs.values() if r["command"] == "delete-users"]

    def hashes(ids: tuple[str, ...]) -> list[str]:
        return sorted(user_id_hash_text(config, i) for i in ids)

    repaired = {r["run_id"]: r for r in erasures if r["run_id"] in ("r1", "r2")}
    assert repaired["r1"]["arguments"] == "delete-users --user-ids <2 ids> --conf old.yaml"
    assert repaired["r1"]["error_message"] == (
        "ConcurrentRunError: another run kept changing the same tables (predicate user_id = '<redacted>')"
    )
    assert repaired["r2"]["arguments"] == "delete-users --user-ids=<2 ids>"
    assert repaired["r1"]["user_id_hashes"] == repaired["r2"]["user_id_hashes"] == hashes(ERASED_BEFORE)
    (new,) = [r for r in erasures if r["run_id"] not in repaired]
    assert new["arguments"].startswith("delete-users --user-ids <3 ids> --conf ")
    assert new["user_id_hashes"] == hashes((*ERASED_NOW, NEVER_SEEN))
    # The run is the request: erasure_log names it by the same id.
    log = storage.read(spark, config, "erasure_log").collect()
    assert [r["user_id_hashes"] for r in log if r["request_id"] == new["run_id"]] == [new["user_id_hashes"]]
    assert runs[new["run_id"]]["status"] == "succeeded"
