"""Which event wins: the rules that decide between two versions of the same thing.

Each rule is a column expression over the two candidates, so the same rule serves a batch
(window over a day's events) and a MERGE (the incoming row `s` against the stored row `t`):

- a message is its retry with the earliest `server_ts`, ties to the smallest `event_id`;
- a conversation is described by its earliest `conversation_created`, ties likewise;
- a user's attributes are those of the latest `user_registered` / `user_updated`, ties to the
  largest `event_id`;
- a message's first delivery / read is the earliest such status by someone other than its
  sender; `failed` counts only without a delivery or read; the status key follows from them;
- a membership spell ends at the first leave at or after its join (a leave at the join's own
  instant wins: the spell is empty), see `events.membership_spells`.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.transforms import keys

STATUS_READ, STATUS_DELIVERED, STATUS_FAILED, STATUS_SENT = "read", "delivered", "failed", "sent"


def comes_first(ts: Column, event_id: Column, other_ts: Column, other_event_id: Column) -> Column:
    """True when (ts, event_id) is earlier than (other_ts, other_event_id): the winner among
    retries of a message and among creations of a conversation. False when `ts` is null."""
    return F.coalesce(
        (ts < other_ts) | ((ts == other_ts) & (event_id < other_event_id)),
        other_ts.isNull() & ts.isNotNull(),
    )


def comes_last(ts: Column, event_id: Column, other_ts: Column, other_event_id: Column) -> Column:
    """True when (ts, event_id) is later than (other_ts, other_event_id): the winner among a
    user's attribute updates. False when `ts` is null."""
    return F.coalesce(
        (ts > other_ts) | ((ts == other_ts) & (event_id > other_event_id)),
        other_ts.isNull() & ts.isNotNull(),
    )


def first_status_time(statuses: Column, status: str, sender: Column | None = None) -> Column:
    """The earliest `ts` among the structs (user_key, status, ts) of `statuses` with `status`,
    reported by someone other than `sender` when given; null when there is none."""

    def counts(entry: Column) -> Column:
        same_status = entry["status"] == F.lit(status)
        return same_status if sender is None else same_status & (entry["user_key"] != sender)

    return F.array_min(F.transform(F.filter(statuses, counts), lambda entry: entry["ts"]))


def earliest(current: Column, candidate: Column) -> Column:
    """The earlier of two optional times (null only when both are)."""
    return F.least(current, candidate)


def status_name(read: Column, delivered: Column, failed: Column) -> Column:
    """`read` if read, else `delivered`, else `failed` if it failed, else `sent`."""
    return (
        F.when(read.isNotNull(), F.lit(STATUS_READ))
        .when(delivered.isNotNull(), F.lit(STATUS_DELIVERED))
        .when(failed.isNotNull(), F.lit(STATUS_FAILED))
        .otherwise(F.lit(STATUS_SENT))
    )


def status_key(read: Column, delivered: Column, failed: Column) -> Column:
    """`message_status_key` (the key of `status_name` in dim_message_status)."""
    return keys.surrogate_key(keys.MESSAGE_STATUS, status_name(read, delivered, failed))
