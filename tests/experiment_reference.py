"""An independent computation of analytics.md's experiment tables in plain Python, for the
tests: assignments from the metadata as JSON, daily sums from message rows. Nothing here
imports chatlake's code; exact arithmetic on whole microseconds and Decimal."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

MAX_RESPONSE_MICROS = 86_400 * 1_000_000
MICROS = Decimal(1_000_000)


def assignments_of(metadata: Any) -> tuple[dict[str, str], int]:
    """(experiment -> variant, malformed entries) of one conversation_created's metadata,
    given as parsed JSON (or as its JSON text)."""
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if metadata is None:
        return {}, 0
    if not isinstance(metadata, dict):
        return {}, 1
    assigned: dict[str, str] = {}
    malformed = 0
    old = metadata.get("experiment")
    if isinstance(old, str):
        assigned[old] = "treatment"
    elif old is not None:
        malformed += 1
    experiments = metadata.get("experiments")
    if isinstance(experiments, dict):
        for name, variant in experiments.items():
            if isinstance(variant, str):
                assigned[name] = variant  # the explicit form wins over the old one
            else:
                malformed += 1
    elif experiments is not None:
        malformed += 1
    return assigned, malformed


@dataclass(frozen=True)
class Message:
    conversation: Any
    sender: Any
    date: dt.date
    server_micros: int
    seq: int
    is_read: bool


def micros_of(instant: dt.datetime) -> int:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    delta = instant - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def experiment_daily(messages: Iterable[Message], assigned: dict[Any, dict[str, str]]) -> list[tuple]:
    """Rows (date, experiment, variant, conversations_active, messages, senders, read_messages,
    response_pairs, sum_response_seconds, sum_squared_response_seconds,
    sum_squared_conversation_messages, then over each conversation's pairs that date: the sums
    of (their count)^2, their count * their seconds, (their seconds)^2), sorted."""
    with localcontext() as context:
        context.prec = 60  # every sum exact, whatever its size
        return _experiment_daily(messages, assigned)


def _experiment_daily(messages: Iterable[Message], assigned: dict[Any, dict[str, str]]) -> list[tuple]:
    by_conversation: dict[Any, list[Message]] = defaultdict(list)
    for message in messages:
        by_conversation[message.conversation].append(message)
    cells: dict[tuple, dict[str, Any]] = {}

    def cell(key: tuple) -> dict[str, Any]:
        return cells.setdefault(key, {"conversations": defaultdict(int), "senders": set(), "read": 0,
                                      "pairs": 0, "sum": Decimal(0), "squares": Decimal(0),
                                      "conversation_pairs": defaultdict(int),
                                      "conversation_seconds": defaultdict(Decimal)})

    for conversation, rows in by_conversation.items():
        for experiment, variant in assigned.get(conversation, {}).items():
            rows = sorted(rows, key=lambda m: (m.seq, m.server_micros))
            previous = None
            for message in rows:
                c = cell((message.date, experiment, variant))
                c["conversations"][conversation] += 1
                c["senders"].add(message.sender)
                c["read"] += message.is_read
                if previous is not None and previous.sender != message.sender:
                    gap = message.server_micros - previous.server_micros
                    if 0 < gap <= MAX_RESPONSE_MICROS:
                        seconds = Decimal(gap) / MICROS
                        c["pairs"] += 1
                        c["sum"] += seconds
                        c["squares"] += seconds * seconds
                        c["conversation_pairs"][conversation] += 1
                        c["conversation_seconds"][conversation] += seconds
                previous = message
    return sorted(
        (date, experiment, variant, len(c["conversations"]), sum(c["conversations"].values()), len(c["senders"]),
         c["read"], c["pairs"], c["sum"], c["squares"], sum(n * n for n in c["conversations"].values()),
         sum(n * n for n in c["conversation_pairs"].values()),
         sum((n * c["conversation_seconds"][k] for k, n in c["conversation_pairs"].items()), Decimal(0)),
         sum((y * y for y in c["conversation_seconds"].values()), Decimal(0)))
        for (date, experiment, variant), c in cells.items()
    )
