"""The stream's minute counters and its stop on a signal, on frames and fakes built here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from jobs.stream import StopRequest, wait_for
from jobs.transforms import ops_metrics

EVENTS_SCHEMA = (
    "event_id string, event_type string, message_id string, status string, server_ts timestamp, "
    "client_ts timestamp"
)


def at(minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 1, 10, minute, second)


def test_ledger_rows_mark_events_behind_the_watermark_late(spark: SparkSession) -> None:
    events = spark.createDataFrame(
        [
            ("e1", "message_sent", "m1", None, at(5, 30), at(5, 28)),
            ("e2", "message_status", "m1", "read", at(1), None),
            ("e3", "user_registered", None, None, at(2), None),
        ],
        EVENTS_SCHEMA,
    )
    rows = events.transform(ops_metrics.ledger_rows(at(2))).select(
        "event_id", "status", "latency_seconds", "minute_start", "date_key", "late"
    )
    expected = spark.createDataFrame(
        [("e1", None, 2.0, at(5), 20261101, False), ("e2", "read", None, at(1), 20261101, True),
         ("e3", None, None, at(2), 20261101, False)],
        rows.schema,
    )
    assert_df_equality(rows, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_message_is_placed_by_its_earliest_retry_and_statuses_count_per_minute(spark: SparkSession) -> None:
    events = spark.createDataFrame(
        [
            # m1: retried; the earlier retry (minute 3) places it, with its own latency
            ("e1", "message_sent", "m1", None, at(4, 10), at(4, 0)),
            ("e2", "message_sent", "m1", None, at(3, 20), at(3, 18)),
            # m2: tie on server_ts, the smaller event_id's latency
            ("e4", "message_sent", "m2", None, at(3, 40), at(3, 30)),
            ("e3", "message_sent", "m2", None, at(3, 40), at(3, 36)),
            ("e5", "message_sent", "m3", None, at(3, 50), None),
            ("e6", "message_status", "m1", "read", at(4, 1), None),
            ("e7", "message_status", "m1", "delivered", at(4, 2), None),
            ("e8", "message_status", "m2", "failed", at(4, 3), None),
        ],
        EVENTS_SCHEMA,
    )
    state = events.transform(ops_metrics.ledger_rows(None))
    metrics = ops_metrics.minute_metrics(state, state).select(
        "minute_start", "date_key", "messages", "status_delivered", "status_read", "status_failed",
        "latency_messages", "avg_latency_seconds", "p95_latency_seconds",
    )
    # minute 3: latencies 2 (m1) and 4 (m2); p95 interpolates: 2 + 0.95 * 2
    expected = spark.createDataFrame(
        [(at(3), 20261101, 3, 0, 0, 0, 2, 3.0, 3.9), (at(4), 20261101, 0, 1, 1, 1, 0, None, None)],
        metrics.schema,
    )
    assert_df_equality(metrics, expected, ignore_row_order=True, ignore_nullable=True)


class FakeQuery:
    """A query that runs `batches_left` polls, with a batch active while it runs."""

    def __init__(self, ends_by_itself_after: int | None = None) -> None:
        self.polls = 0
        self.stopped = False
        self.ends_after = ends_by_itself_after
        self.active_polls = 2

    def awaitTermination(self, timeout: int | None = None) -> bool:  # noqa: N802
        self.polls += 1
        return self.ends_after is not None and self.polls >= self.ends_after

    def stop(self) -> None:
        self.stopped = True

    @property
    def status(self) -> dict[str, Any]:
        self.active_polls -= 1
        return {"isTriggerActive": self.active_polls >= 0}


def test_a_query_that_ends_by_itself_is_not_stopped() -> None:
    query = FakeQuery(ends_by_itself_after=3)
    wait_for(query, StopRequest())
    assert (query.polls, query.stopped) == (3, False)


def test_a_signal_lets_the_running_batch_finish_then_stops() -> None:
    query, stop = FakeQuery(), StopRequest()
    stop.set()
    wait_for(query, stop)
    # two polls while the batch was still active, then stop()
    assert (query.polls, query.stopped) == (2, True)


def test_a_batch_that_outlasts_the_grace_period_is_stopped_under_it() -> None:
    query, stop = FakeQuery(), StopRequest()
    query.active_polls = 10**6
    stop.set()
    ticks = iter(range(0, 10**6, 60))
    wait_for(query, stop, clock=lambda: float(next(ticks)))
    assert query.stopped and query.polls < 5
