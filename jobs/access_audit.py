"""access_audit: the endpoint's query events, from the durable spool into the Delta table, and
`report access --date D`.

The receiver (jobs/audit_receiver.py) appends each event Trino sends to `incoming.jsonl`. A load
first renames that file to a batch under the spool lock (the receiver then starts a new one),
inserts the batches' rows whose query_id the table lacks, and only then deletes the batches. A
load cut short anywhere leaves its batches for the next, which adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import storage
from jobs.audit_receiver import INCOMING, spool_lock
from jobs.config import Config
from schemas.tables import ACCESS_AUDIT, date_key

TABLE = ACCESS_AUDIT.name
BATCH_PREFIX = "batch-"
SUCCEEDED, DENIED, FAILED = "succeeded", "denied", "failed"
DENIED_ERROR = "PERMISSION_DENIED"
# How Trino's events say that a table was read by a policy's expression rather than the query.
POLICY_LINKS = ("rowFilter", "columnMask")
# Trino names the objects it refused in the message: "Cannot select from table delta.chatlake.x".
REFUSED_OBJECT = re.compile(r"(?:table|view|columns \[[^\]]*\] in table) ([\w$]+\.[\w$]+\.[\w$]+)")


def _instant(value: Any) -> dt.datetime | None:
    """An event time (ISO text or epoch seconds) as a naive UTC datetime, as Spark's TIMESTAMP
    takes it in a UTC session."""
    if value is None:
        return None
    if isinstance(value, int | float):
        moment = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def event_row(event: dict[str, Any]) -> dict[str, Any] | None:
    """A QueryCompletedEvent of Trino's HTTP event listener as an access_audit row; None for
    anything else (e.g. a query-created event)."""
    metadata, context = event.get("metadata") or {}, event.get("context") or {}
    if "endTime" not in event or "queryId" not in metadata:
        return None
    failure = event.get("failureInfo")
    error_name = ((failure or {}).get("errorCode") or {}).get("name")
    outcome = SUCCEEDED if not failure else DENIED if error_name == DENIED_ERROR else FAILED
    error = (failure or {}).get("failureMessage")
    tables: list[str] = []
    columns: list[str] = []
    filters: list[str] = []
    masks: list[str] = []
    for table in metadata.get("tables") or []:
        # A table that only a row filter or a column mask reads (the analysts' test-account
        # filter reads dim_users) is read on the policy's behalf, not by the principal: it is not
        # listed as theirs. A table read through a view is: its rows reach the principal.
        if any(link.get("@type") in POLICY_LINKS for link in table.get("referenceChain") or []):
            continue
        name = f"{table.get('catalog')}.{table.get('schema')}.{table.get('table')}"
        if name not in tables:
            tables.append(name)
        filters.extend(f"{name}: {text}" for text in table.get("filters") or [])
        for column in table.get("columns") or []:
            columns.append(f"{name}.{column.get('column')}")
            if column.get("mask"):
                masks.append(f"{name}.{column.get('column')}: {column['mask']}")
    if outcome == DENIED and error:
        tables.extend(t for t in REFUSED_OBJECT.findall(error) if t not in tables)
    started = _instant(event.get("createTime"))
    if started is None:
        return None
    return {
        "query_id": metadata["queryId"],
        "date_key": date_key(started.date()),
        "principal": context.get("user") or context.get("principal") or "",
        "groups": sorted(context.get("groups") or []),
        "client_address": context.get("remoteClientAddress"),
        "started_at": started,
        "finished_at": _instant(event.get("endTime")),
        "query_text": metadata.get("query") or "",
        "tables": tables,
        "columns": sorted(set(columns)),
        "row_filters": sorted(set(filters)),
        "column_masks": sorted(set(masks)),
        "outcome": outcome,
        "error": error,
    }


def spooled_rows(lines: list[str]) -> list[dict[str, Any]]:
    """The rows of a batch's lines. A line cut short by a crash mid-append was never
    acknowledged (Trino sends that event again), so it is skipped, as are other event kinds."""
    rows = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        row = event_row(event) if isinstance(event, dict) else None
        if row is not None:
            rows.append(row)
    return rows


def _take_incoming(spool: Path) -> None:
    with spool_lock(spool):
        incoming = spool / INCOMING
        if incoming.exists() and incoming.stat().st_size:
            incoming.rename(spool / f"{BATCH_PREFIX}{time.time_ns()}.jsonl")


def load_spool(spark: SparkSession, config: Config, spool: Path) -> int:
    """Move every spooled event into access_audit; returns the rows added."""
    if not spool.is_dir():
        return 0
    _take_incoming(spool)
    batches = sorted(spool.glob(f"{BATCH_PREFIX}*.jsonl"))
    if not batches:
        return 0
    rows = spooled_rows([line for path in batches for line in path.read_text(encoding="utf-8").splitlines()])
    added = 0
    if rows:
        before = storage.read(spark, config, TABLE).count()
        frame = spark.createDataFrame(rows, ACCESS_AUDIT.schema).dropDuplicates(["query_id"])
        storage.insert_new(spark, config, TABLE, frame, ["query_id"])
        added = storage.read(spark, config, TABLE).count() - before
    for path in batches:
        path.unlink()
    return added


def access_report(spark: SparkSession, config: Config, day: dt.date) -> DataFrame:
    """Who read which tables on `day`: one row per outcome, principal and set of tables, denied
    attempts first."""
    rows = storage.read_dates(spark, config, TABLE, [date_key(day)])
    return (
        rows.groupBy("outcome", "principal", "tables")
        .agg(
            F.count(F.lit(1)).alias("queries"),
            F.min("started_at").alias("first_at"),
            F.max("started_at").alias("last_at"),
            F.max("error").alias("an_error"),
        )
        .withColumn("tables", F.array_join("tables", ", "))
        .orderBy(F.col("outcome") != F.lit(DENIED), "outcome", "principal", "first_at")
    )
