"""What a command did to the warehouse, read from the Delta log and from the files on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def delta_versions(warehouse: Path) -> dict[str, int]:
    """table -> the newest commit version in its _delta_log."""
    versions = {}
    for log in sorted(warehouse.glob("*/_delta_log")):
        numbers = [int(p.stem) for p in log.glob("*.json") if p.stem.isdigit()]
        if numbers:
            versions[log.parent.name] = max(numbers)
    return versions


FILE_METRICS = {
    # DELETE / UPDATE / OPTIMIZE (REORG) name them one way, MERGE another
    "files_removed": ("numRemovedFiles", "numTargetFilesRemoved"),
    "files_added": ("numAddedFiles", "numTargetFilesAdded"),
    "deletion_vectors_added": ("numDeletionVectorsAdded", "numTargetDeletionVectorsAdded"),
    "rows_deleted": ("numDeletedRows", "numTargetRowsDeleted"),
    "files_vacuumed": ("numDeletedFiles",),
}


def commits_since(warehouse: Path, before: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per table: the operations committed after `before` and their summed file metrics."""
    tables: dict[str, dict[str, Any]] = {}
    for log in sorted(warehouse.glob("*/_delta_log")):
        name = log.parent.name
        first = before.get(name, -1) + 1
        for path in sorted(log.glob("*.json")):
            if not path.stem.isdigit() or int(path.stem) < first:
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                if '"commitInfo"' not in line:
                    continue
                info = json.loads(line)["commitInfo"]
                entry = tables.setdefault(
                    name, {"operations": [], **{key: 0 for key in FILE_METRICS}})
                entry["operations"].append(info.get("operation"))
                metrics = info.get("operationMetrics") or {}
                for key, names in FILE_METRICS.items():
                    entry[key] += sum(int(metrics.get(n, 0) or 0) for n in names)
    return tables


def table_files(warehouse: Path) -> dict[str, dict[str, set[str]]]:
    """Per table, the files on disk: data (parquet), deletion vectors, Delta log."""
    tables: dict[str, dict[str, set[str]]] = {}
    for log in sorted(warehouse.glob("*/_delta_log")):
        table = log.parent
        files: dict[str, set[str]] = {"data": set(), "dv": set(), "log": set()}
        for path in table.rglob("*"):
            if not path.is_file() or path.name.endswith(".crc"):
                continue
            relative = str(path.relative_to(table))
            if relative.startswith("_delta_log/"):
                files["log"].add(relative)
            elif path.name.startswith("deletion_vector_"):
                files["dv"].add(relative)
            elif path.suffix == ".parquet":
                files["data"].add(relative)
        tables[table.name] = files
    return tables


def disk_changes(before: dict[str, dict[str, set[str]]],
                 after: dict[str, dict[str, set[str]]]) -> dict[str, dict[str, int]]:
    """Per table that changed: data files written and deleted, DV and log files deleted."""
    changes = {}
    for table, old in before.items():
        new = after.get(table, {"data": set(), "dv": set(), "log": set()})
        change = {
            "data_files_written": len(new["data"] - old["data"]),
            "data_files_deleted": len(old["data"] - new["data"]),
            "dv_files_deleted": len(old["dv"] - new["dv"]),
            "log_files_deleted": len(old["log"] - new["log"]),
        }
        if any(change.values()):
            changes[table] = change
    return changes
