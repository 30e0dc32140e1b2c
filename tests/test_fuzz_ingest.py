"""Fuzzing the ingest parser: any mutation of a valid line is either accepted exactly (every
parsed field equals what the line said) or quarantined with a reason, and
read = accepted + duplicates + quarantined.

Each hypothesis example is a batch of mutated lines run through `parse_events` (the pure
transform ingest applies to a landing day's lines) as one small Spark job, no Delta writes;
ingest's dedup (`repeated_lines`, joined back) then runs once over the valid rows of every example. The
inputs are derandomized and there is no example database, so a run never replays an earlier
failure; the lines drawn still vary with what ran before in the process (599 alone, about 750
in the whole suite). FUZZ_EXAMPLES=200 searches longer locally. Failures are not shrunk: each
shrinking step would be a Spark job. Valid events and the expected outcome of every mutation
are written here from the contract's raw event format (docs/raw-events.md), not from schemas/raw_events.py, so the
parser's schema is checked against the contract too. Bytes a Python string cannot hold (invalid
UTF-8) and long texts go through real files and the landing reader instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from jobs.landing import RAW_LINE_SCHEMA, read_landing_day
from jobs.transforms import events as ev
from jobs.transforms.parsing import parse_events
from schemas.raw_events import all_columns
from tests.conftest import REPO, make_config
from tests.reliability import GAP, OK, record

DAY = dt.date(2026, 11, 1)
SOURCE = "file:/landing/dt=2026-11-01/fuzz.json"
EPOCH = dt.datetime(1970, 1, 1)
MICROSECOND = dt.timedelta(microseconds=1)
EARLIEST_TRUSTED = dt.datetime(2000, 1, 1)  # server_ts before this is out of range
INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1
FIRST_INSTANT, LAST_INSTANT = dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)
# Spark's fixed cost per job dominates: few examples of many lines each.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 20))
BATCH_MIN, BATCH_MAX = 20, 50
# Not the default (24): the parser must take the tolerance from the config. One value for the
# whole run, so that Spark compiles the parser's code once.
TOLERANCE_HOURS = make_config(Path("unused"), future_tolerance_hours=6).future_tolerance_hours
SECTION = "fuzz_ingest"

# --- The contract's fields (raw-events.md) --------------------------------------------------
STRING, INT, BOOL, OBJECT, TIMESTAMP = "string", "int", "bool", "object", "timestamp"
EVENT_TYPES = ("message_sent", "message_status", "conversation_created", "participant_joined",
               "participant_left", "user_registered", "user_updated")


@dataclass(frozen=True)
class Field:
    path: str
    kind: str
    required: bool = True  # "or null" in the contract: may be null or absent
    allowed: tuple[str, ...] = ()
    minimum: int = -(2**31)


COMMON = (
    Field("schema_version", INT), Field("event_id", STRING), Field("event_type", STRING, allowed=EVENT_TYPES),
    Field("server_ts", TIMESTAMP), Field("client_ts", TIMESTAMP, required=False), Field("user_id", STRING),
    Field("device", OBJECT, required=False),
)
DEVICE = (
    Field("device.device_id", STRING),
    Field("device.device_type", STRING, allowed=("phone", "tablet", "desktop", "web")),
    Field("device.platform", STRING, allowed=("ios", "android", "web", "windows", "macos", "linux")),
    Field("device.app_version", STRING), Field("device.os_version", STRING),
    Field("device.network_type", STRING,
          allowed=("wifi", "cellular_5g", "cellular_4g", "cellular_3g", "ethernet", "unknown")),
)
USER_FIELDS = (
    Field("account_type", STRING, allowed=("free", "premium", "business")),
    Field("messaging_status", STRING, allowed=("active", "away", "suspended")),
    Field("is_test_account", BOOL), Field("preferences", OBJECT, required=False),
)
BY_TYPE: dict[str, tuple[Field, ...]] = {
    "message_sent": (
        Field("message_id", STRING), Field("conversation_id", STRING),
        Field("message_type", STRING, allowed=("text", "image", "video", "audio", "file", "sticker", "location",
                                                "system", "ephemeral_text")),
        Field("text", STRING, required=False), Field("media_count", INT, minimum=0),
        # Not bounded by the contract; a negative size or a position before the first is bad.
        Field("size_bytes", INT, minimum=0), Field("seq", INT, minimum=1),
        Field("reply_to_message_id", STRING, required=False), Field("metadata", OBJECT, required=False),
    ),
    "message_status": (
        Field("message_id", STRING), Field("conversation_id", STRING),
        Field("status", STRING, allowed=("sent", "delivered", "read", "failed")),
    ),
    "conversation_created": (
        Field("conversation_id", STRING), Field("conversation_type", STRING, allowed=("direct", "group", "channel")),
        Field("conversation_name", STRING, required=False), Field("is_encrypted", BOOL),
        Field("privacy_level", STRING, allowed=("private", "members", "public")),
        Field("metadata", OBJECT, required=False),
    ),
    "participant_joined": (
        Field("conversation_id", STRING), Field("role", STRING, allowed=("owner", "admin", "member")),
    ),
    "participant_left": (Field("conversation_id", STRING),),
    "user_registered": USER_FIELDS,
    "user_updated": USER_FIELDS,
}
KNOWN_NAMES = {f.path for f in COMMON} | {f.path for fields in BY_TYPE.values() for f in fields}
DEVICE_NAMES = {f.path.removeprefix("device.") for f in DEVICE}
ABSENT = object()  # a field left out of the line

# --- Valid events ------------------------------------------------------------------------------
ids = st.text(max_size=12)
json_scalars = (
    st.none() | st.booleans() | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, max_size=3)
# Offsets a device can report (Spark reads -18:00..+18:00); None renders as Z.
offsets = st.none() | st.sampled_from([0, 330, -210, 585, 840, -720]) | st.integers(-14 * 60, 14 * 60)


# The last server_ts of landing day DAY that is not in the future, tolerance included.
LATEST_TRUSTED = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time()) + dt.timedelta(hours=TOLERANCE_HOURS)


def instants(low: dt.datetime, high: dt.datetime) -> st.SearchStrategy[dt.datetime]:
    span = (high - low) // MICROSECOND
    return st.integers(0, span).map(lambda n: low + n * MICROSECOND)


@st.composite
def rendered(draw: st.DrawFn, instant: dt.datetime, offset_minutes: int | None = None) -> str:
    """An ISO-8601 text for `instant`, with as many fraction digits as keep it exact."""
    digits = draw(st.sampled_from([d for d in range(7) if instant.microsecond % 10 ** (6 - d) == 0]))
    local = instant + dt.timedelta(minutes=offset_minutes or 0)
    fraction = f".{local.microsecond:06d}"[: digits + 1] if digits else ""
    if offset_minutes is None:
        zone = "Z"
    else:
        sign = "-" if offset_minutes < 0 else "+"
        zone = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    # Not strftime: its %Y drops the leading zeros of years before 1000.
    return (f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local.hour:02d}:{local.minute:02d}:"
            f"{local.second:02d}{fraction}{zone}")


@st.composite
def timestamps(draw: st.DrawFn, low: dt.datetime, high: dt.datetime, zoned: bool = True) -> str:
    return draw(rendered(draw(instants(low, high)), draw(offsets) if zoned else None))


@st.composite
def devices(draw: st.DrawFn) -> dict[str, Any]:
    return {
        f.path.removeprefix("device."): draw(st.sampled_from(f.allowed) if f.allowed else ids) for f in DEVICE
    }


def value_of(draw: st.DrawFn, field: Field, index: int) -> Any:
    if field.path == "text":
        # A marker no other field holds, to look for in quarantine rows.
        return f"{draw(st.text(max_size=40))} <t{index}>"
    if field.allowed:
        return draw(st.sampled_from(field.allowed))
    return draw({
        STRING: ids, INT: st.integers(field.minimum, INT32_MAX), BOOL: st.booleans(), OBJECT: json_objects,
    }[field.kind])


@st.composite
def valid_events(draw: st.DrawFn, index: int, types: tuple[str, ...] = EVENT_TYPES) -> dict[str, Any]:
    event_type = draw(st.sampled_from(types))
    latest = LATEST_TRUSTED
    event: dict[str, Any] = {
        "schema_version": 1,
        "event_id": f"{index}-{draw(ids)}",  # distinct events never share an id
        "event_type": event_type,
        "server_ts": draw(timestamps(latest - dt.timedelta(days=4), latest)),
        "client_ts": draw(st.sampled_from([ABSENT, None, "ts"])),
        "user_id": draw(ids),
        "device": draw(st.sampled_from([ABSENT, None, "device"])),
    }
    if event["client_ts"] == "ts":
        event["client_ts"] = draw(timestamps(latest - dt.timedelta(days=30), latest + dt.timedelta(days=30)))
    if event["device"] == "device":
        event["device"] = draw(devices())
    for field in BY_TYPE[event_type]:
        optional_state = draw(st.sampled_from([ABSENT, None, "value"])) if not field.required else "value"
        event[field.path] = value_of(draw, field, index) if optional_state == "value" else optional_state
    present = {k: v for k, v in event.items() if v is not ABSENT}
    order = draw(st.permutations(list(present)))
    return {k: present[k] for k in order}


# --- Mutations ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    kind: str
    line: str
    expected: frozenset[str] | None  # None: accepted; else the reasons that may name it
    obj: dict[str, Any] | None  # the JSON object the line holds, if the parser can read one


ACCEPT = None


def fields_of(event: dict[str, Any]) -> list[Field]:
    event_type = event.get("event_type")
    extra = BY_TYPE.get(event_type, ()) if isinstance(event_type, str) else ()
    device = DEVICE if isinstance(event.get("device"), dict) else ()
    return [*COMMON, *extra, *device]


def put(event: dict[str, Any], path: str, value: Any) -> None:
    if path.startswith("device."):
        if not isinstance(event.get("device"), dict):
            raise ValueError("no device")
        target, name = event["device"], path.removeprefix("device.")
    else:
        target, name = event, path
    if value is ABSENT:
        target.pop(name, None)
    else:
        target[name] = value


def dumps(draw: st.DrawFn, obj: Any) -> str:
    compact = draw(st.booleans())
    return json.dumps(obj, ensure_ascii=draw(st.booleans()), separators=(",", ":") if compact else None)


def object_case(draw: st.DrawFn, kind: str, event: dict[str, Any], expected: frozenset[str] | None) -> Case:
    return Case(kind, dumps(draw, event), expected, event)


def raw_case(kind: str, line: str, expected: frozenset[str] | None) -> Case:
    return Case(kind, line, expected, None)


def unchanged(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    return object_case(draw, "valid", event, ACCEPT)


def unknown_fields(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    names = draw(st.lists(st.text(max_size=10).filter(lambda k: k not in KNOWN_NAMES), min_size=1, max_size=3,
                          unique=True))
    for name in names:
        event[name] = draw(json_values)
    if isinstance(event.get("device"), dict) and draw(st.booleans()):
        event["device"][draw(st.text(max_size=8).filter(lambda k: k not in DEVICE_NAMES))] = draw(json_values)
    return object_case(draw, "unknown_fields", event, ACCEPT)


def wrong_values(kind: str) -> st.SearchStrategy[Any]:
    containers = st.lists(json_scalars, max_size=2) | st.dictionaries(st.text(max_size=4), json_scalars, max_size=2)
    floats = st.floats(allow_nan=False, allow_infinity=False)
    return {
        STRING: st.integers() | floats | st.booleans() | containers,
        TIMESTAMP: st.integers() | floats | st.booleans() | containers,
        INT: st.text(max_size=6) | floats | st.booleans() | containers,
        BOOL: st.integers() | st.text(max_size=6) | floats | containers,
        OBJECT: st.integers() | st.text(max_size=6) | floats | st.booleans() | st.lists(json_scalars, max_size=2),
    }[kind]


def with_device(draw: st.DrawFn, event: dict[str, Any]) -> None:
    if not isinstance(event.get("device"), dict):
        event["device"] = draw(devices())


def wrong_type(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    field = draw(st.sampled_from([*fields_of(event), *DEVICE]))
    if field.path.startswith("device."):
        with_device(draw, event)
    put(event, field.path, draw(wrong_values(field.kind)))
    return object_case(draw, "wrong_type", event, frozenset({f"wrong_type:{field.path}"}))


def int_fields(event: dict[str, Any]) -> list[Field]:
    return [f for f in fields_of(event) if f.kind == INT]


def beyond_int64(field: Field) -> frozenset[str]:
    # Such a number is no 64-bit integer: either reason describes it fairly.
    return frozenset({f"wrong_type:{field.path}", f"out_of_range:{field.path}"})


def huge_number(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    field = draw(st.sampled_from(int_fields(event)))
    value = draw(st.sampled_from([INT32_MAX + 1, INT64_MAX, INT64_MAX + 1]) | st.integers(INT32_MAX + 1, INT64_MAX)
                 | st.integers(INT64_MAX + 1, 10**40) | st.integers(-(10**40), -(2**63) - 1))
    put(event, field.path, value)
    expected = frozenset({f"out_of_range:{field.path}"}) if abs(value) <= INT64_MAX else beyond_int64(field)
    return object_case(draw, "huge_number", event, expected)


def negative_count(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    field = draw(st.sampled_from([f for f in int_fields(event) if f.path != "schema_version"]))
    # Just below the minimum is the likeliest bug, so it is drawn on purpose.
    below = draw(st.just(0) | st.integers(0, 2**31) | st.integers(0, 2**63 + field.minimum - 1))
    put(event, field.path, field.minimum - 1 - below)
    return object_case(draw, "negative_count", event, frozenset({f"out_of_range:{field.path}"}))


def nulls(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    """Optional fields, some fields, or every field null or left out; only a required one
    makes the line bad."""
    candidates = fields_of(event)  # an absent optional field may be written as null
    mode = draw(st.sampled_from(["optional", "some", "everywhere"]))
    if mode == "everywhere":
        chosen = candidates
    else:
        pool = [f for f in candidates if not f.required] if mode == "optional" else candidates
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, unique=True))
    for field in chosen:
        if field.path.startswith("device.") and not isinstance(event.get("device"), dict):
            continue  # the device itself is already gone
        put(event, field.path, draw(st.sampled_from([None, ABSENT])))
    gone = {f.path for f in chosen}
    missing = {
        f"missing_field:{f.path}" for f in chosen
        if f.required and not (f.path.startswith("device.") and "device" in gone)
    }
    return object_case(draw, f"nulls_{mode}", event, frozenset(missing) or ACCEPT)


def far_timestamps(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    """server_ts far in the past or future, or at the edges of the trusted window; client_ts
    anywhere (the device's clock is not trusted, so it never makes a line bad)."""
    latest = LATEST_TRUSTED
    where = draw(st.sampled_from(["past", "future", "just_inside", "client"]))
    expected: frozenset[str] | None
    if where == "past":
        event["server_ts"] = draw(timestamps(FIRST_INSTANT, EARLIEST_TRUSTED - MICROSECOND, zoned=False))
        expected = frozenset({"out_of_range:server_ts"})
    elif where == "future":
        event["server_ts"] = draw(timestamps(latest + MICROSECOND, LAST_INSTANT, zoned=False))
        expected = frozenset({"future_timestamp:server_ts"})
    elif where == "just_inside":
        low, high = draw(st.sampled_from([(latest - dt.timedelta(hours=1), latest),
                                          (EARLIEST_TRUSTED, EARLIEST_TRUSTED + dt.timedelta(hours=1))]))
        event["server_ts"] = draw(timestamps(low, high, zoned=False))
        expected = ACCEPT
    else:
        event["client_ts"] = draw(timestamps(dt.datetime(2, 1, 1), dt.datetime(9998, 12, 31)))
        expected = ACCEPT
    return object_case(draw, f"timestamp_{where}", event, expected)


MALFORMED_TIMESTAMPS = (
    "yesterday", "", "2026-11-01", "2026-11-01T08:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
    "2026-11-01T24:00:00Z", "2026-11-01T08:60:00Z", "2026-11-01T08:00:00+25:00", "2026-11-01T08:00:00+19:00",
    "2026-11-01 08:00:00Z", "2026-11-01t08:00:00z", "1793520902", "10000-01-01T00:00:00Z", "2026-11-01T08:00Z",
)


def malformed_timestamp(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    path = draw(st.sampled_from(["server_ts", "client_ts"]))
    event[path] = draw(st.sampled_from(MALFORMED_TIMESTAMPS))
    return object_case(draw, "malformed_timestamp", event, frozenset({f"invalid_timestamp:{path}"}))


def outside_values(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    field = draw(st.sampled_from([f for f in [*fields_of(event), *DEVICE] if f.allowed]
                                 + [Field("schema_version", INT)]))
    if field.path == "schema_version":
        put(event, field.path, draw(st.integers(-(2**31), INT32_MAX).filter(lambda v: v != 1)))
        return object_case(draw, "unknown_value", event, frozenset({"unsupported_schema_version"}))
    if field.path.startswith("device."):
        with_device(draw, event)
    value = draw(st.text(max_size=12).filter(lambda v: v not in field.allowed)
                 | st.sampled_from(field.allowed).map(str.upper))
    put(event, field.path, value)
    reason = "unknown_event_type" if field.path == "event_type" else f"invalid_value:{field.path}"
    return object_case(draw, "unknown_value", event, frozenset({reason}))


def truncated(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    line = dumps(draw, event)
    return raw_case("truncated_json", line[: draw(st.integers(1, len(line) - 1))], frozenset({"invalid_json"}))


def run_together(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    tail = draw(st.sampled_from(["{}", "}", "]", "x", " 1", "[1]", dumps(draw, {"event_id": "next"})]))
    return raw_case("run_together", dumps(draw, event) + tail, frozenset({"invalid_json"}))


def padded(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    # Spaces only: a trailing tab is a known gap (test_trailing_tab_is_whitespace below).
    line = " " * draw(st.integers(0, 3)) + dumps(draw, event) + " " * draw(st.integers(1, 3))
    return Case("padded", line, ACCEPT, event)


NOT_JSON_TAILS = (
    ', "x": NaN}', ', "x": Infinity}', ', "x": -Infinity}', ", 'x': 1}", ", x: 1}", " /* note */}", ",}",
    ', "x": 0x10}', ', "x": 01}', ', "x": .5}', ', "x": "tab\there"}', ', "user_id": "again"}',
)


def not_json(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    line = dumps(draw, event)[:-1] + draw(st.sampled_from(NOT_JSON_TAILS))
    return raw_case("not_standard_json", line, frozenset({"invalid_json"}))


def not_an_object(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    return raw_case("not_an_object", dumps(draw, value), frozenset({"not_an_object"}))


def nested(draw: st.DrawFn, depth: int, leaf: Any) -> Any:
    """Objects and arrays around `leaf`, `depth` levels, the outermost an object."""
    arrays = draw(st.integers(0, 2**depth - 1))  # bit i set: level i is an array
    key = draw(st.sampled_from(["k", "é", "", "a.b"]))
    value = leaf
    for level in range(depth):
        value = [value] if arrays >> level & 1 and level < depth - 1 else {key: value}
    return value


def deep_metadata(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    deep = nested(draw, draw(st.integers(1, 300)), draw(json_scalars))
    slot = {"message_sent": "metadata", "conversation_created": "metadata",
            "user_registered": "preferences", "user_updated": "preferences"}.get(event["event_type"], "extra")
    event[slot] = deep
    return object_case(draw, "deep_metadata", event, ACCEPT)


def too_deep(draw: st.DrawFn, event: dict[str, Any]) -> Case:
    """Beyond the JSON parser's nesting limit (1,000 levels) a line cannot be read: quarantined."""
    depth = draw(st.integers(1_100, 3_000))
    event["metadata"] = "@deep@"
    line = dumps(draw, event).replace('"@deep@"', '{"k":' * depth + "1" + "}" * depth)
    return raw_case("too_deep_metadata", line, frozenset({"invalid_json"}))


# Hypothesis favours the first entries a little: the plain cases come first.
MUTATIONS: dict[str, Callable[[st.DrawFn, dict[str, Any]], Case]] = {
    "valid": unchanged, "unknown_fields": unknown_fields, "wrong_type": wrong_type, "huge_number": huge_number,
    "negative_count": negative_count, "nulls": nulls, "far_timestamps": far_timestamps,
    "malformed_timestamp": malformed_timestamp, "unknown_value": outside_values, "truncated_json": truncated,
    "run_together": run_together, "padded": padded, "not_standard_json": not_json, "not_an_object": not_an_object,
    "deep_metadata": deep_metadata, "too_deep_metadata": too_deep,
}

# Mutations that need fields only some events have.
EVENT_TYPES_FOR = {"negative_count": ("message_sent",)}


@st.composite
def batches(draw: st.DrawFn) -> list[Case]:
    cases: list[Case] = []
    for index in range(draw(st.integers(BATCH_MIN, BATCH_MAX))):
        if cases and draw(st.sampled_from([False] * 7 + [True])):
            # At-least-once delivery: the very same line again.
            original = draw(st.sampled_from(cases))
            cases.append(Case("duplicate", original.line, original.expected, original.obj))
            continue
        kind = draw(st.sampled_from(list(MUTATIONS)))
        event = draw(valid_events(index, EVENT_TYPES_FOR.get(kind, EVENT_TYPES)))
        cases.append(MUTATIONS[kind](draw, event))
    return cases


# --- What the parser said ----------------------------------------------------------------------
ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|([+-])(\d{2}):(\d{2}))$")
SPECS = all_columns()
OBJECT_COLUMNS = {s.column for s in SPECS if s.json_type == "OBJECT"}
PLAIN_COLUMNS = [s for s in SPECS if s.stored and not s.is_timestamp]


def at_path(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def micros_and_offset(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    match = ISO.match(text)
    assert match, f"an accepted timestamp this test cannot read: {text!r}"
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micro = int((match.group(7) or "").ljust(6, "0"))
    offset = 0 if match.group(8) == "Z" else (int(match.group(10)) * 60 + int(match.group(11))) * (
        -1 if match.group(9) == "-" else 1)
    local = dt.datetime(year, month, day, hour, minute, second, micro)
    return (local - dt.timedelta(minutes=offset) - EPOCH) // MICROSECOND, offset


class Parser:
    """parse_events over whatever lines the current example wrote to a file.

    Building and compiling the parser's plan costs seconds, running it on a few dozen lines
    milliseconds; so the plan is built once, over an RDD that reads the current batch when the
    job runs, and run again per example. It has no shuffle, so nothing of an earlier run is
    reused. Dedup (which shuffles) runs once at the end over the valid rows of all examples.
    """

    def __init__(self, spark: SparkSession, folder: Path) -> None:
        self.spark = spark
        self.batch = folder / "batch.json"
        batch_path = str(self.batch)

        def current_batch(_: int) -> list[tuple[str, str, int]]:
            return [tuple(row) for row in json.loads(Path(batch_path).read_text(encoding="utf-8"))]

        lines = spark.createDataFrame(spark.sparkContext.parallelize([0], 1).flatMap(current_batch), RAW_LINE_SCHEMA)
        self.parsed = lines.transform(parse_events(DAY, TOLERANCE_HOURS)).select(
            "source_file", "line_number", "reject_reason", *[s.column for s in PLAIN_COLUMNS],
            F.unix_micros("server_ts").alias("server_micros"), F.unix_micros("client_ts").alias("client_micros"),
            "client_utc_offset_minutes", "record_json", "line_length", "line_sha256",
        )

    def rows(self, lines: list[str]) -> list[Row]:
        """The parser's rows; timestamps as epoch microseconds, which any year fits."""
        self.batch.write_text(json.dumps([(line, SOURCE, i + 1) for i, line in enumerate(lines)]), encoding="utf-8")
        return self.parsed.collect()

    def kept_per_example(self, valid: list[tuple[int, Row]]) -> Counter[int]:
        """How many of each example's valid rows ingest's dedup keeps (examples kept apart)."""
        # Each example is a batch of its own, numbered from 1: its name keeps lines of different
        # examples apart, as a line's file and number keep the lines of a landing day apart.
        rows = [
            (f"{example}/{r['event_id']}", f"{example}/{r['source_file']}", r["line_number"]) for example, r in valid
        ]
        frame = self.spark.createDataFrame(rows, "event_id string, source_file string, line_number long")
        repeats = ev.repeated_lines(frame)
        kept = frame.join(repeats, on=list(ev.LINE_POSITION), how="left_anti").select("event_id").collect()
        return Counter(int(row["event_id"].split("/", 1)[0]) for row in kept)


def same_json_value(actual: Any, expected: Any) -> bool:
    if expected is None:
        return actual is None
    return type(actual) is type(expected) and actual == expected


def beyond_decimal_as_float(value: Any) -> Any:
    """JSON numbers wider than 38 digits are kept as doubles in a quarantine record."""
    if isinstance(value, dict):
        return {k: beyond_decimal_as_float(v) for k, v in value.items()}
    if isinstance(value, list):
        return [beyond_decimal_as_float(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**38:
        return float(value)
    return value


def check_accepted(case: Case, row: Row) -> None:
    assert case.obj is not None
    for spec in PLAIN_COLUMNS:
        expected, actual = at_path(case.obj, spec.path), row[spec.column]
        if spec.column in OBJECT_COLUMNS:
            # Compared as JSON: an explicit null reads back as the text 'null', a known gap
            # pinned by test_null_objects_are_null below.
            actual = json.loads(actual) if actual is not None else None
            assert actual == expected, (spec.path, case.line)
        else:
            assert same_json_value(actual, expected), (spec.path, actual, expected, case.line)
    server_micros, _ = micros_and_offset(case.obj["server_ts"])
    client_micros, client_offset = micros_and_offset(case.obj.get("client_ts"))
    assert (row["server_micros"], row["client_micros"], row["client_utc_offset_minutes"]) == (
        server_micros, client_micros, client_offset), case.line
    assert (row["record_json"], row["line_length"], row["line_sha256"]) == (None, None, None)


def check_quarantined(case: Case, row: Row, index: int) -> None:
    assert case.expected is not None
    assert row["reject_reason"] in case.expected, (row["reject_reason"], sorted(case.expected), case.line)
    if case.obj is not None:
        kept = json.loads(row["record_json"])
        assert kept == beyond_decimal_as_float({k: v for k, v in case.obj.items() if k != "text"}), case.line
        assert f"<t{index}>" not in row["record_json"], "message text in a quarantine row"
        assert row["line_length"] is None and row["line_sha256"] is None
    else:
        assert row["record_json"] is None
        line_bytes = case.line.encode("utf-8")
        assert (row["line_length"], row["line_sha256"]) == (len(line_bytes), hashlib.sha256(line_bytes).hexdigest())


@dataclass
class Tally:
    outcomes: Counter[tuple[str, str]]  # (mutation, outcome) -> lines
    valid: list[tuple[int, Row]]  # (example, row) of every line the parser found valid
    accepted: Counter[int]  # example -> distinct valid events expected
    examples: int = 0


def check_batch(parser: Parser, cases: list[Case], tally: Tally) -> None:
    rows = parser.rows([c.line for c in cases])
    by_line = {row["line_number"]: row for row in rows}
    assert len(rows) == len(by_line) == len(cases), "every line read comes out exactly once"

    example, tally.examples = tally.examples, tally.examples + 1
    seen_accepted: set[str] = set()
    for index, case in enumerate(cases):
        row = by_line[index + 1]
        if case.expected is ACCEPT:
            assert row["reject_reason"] is None, (row["reject_reason"], case.kind, case.line)
            check_accepted(case, row)
            outcome = "duplicate" if case.line in seen_accepted else "accepted"
            seen_accepted.add(case.line)
            tally.valid.append((example, row))
        else:
            check_quarantined(case, row, _marker_of(case))
            outcome = "quarantined"
        tally.outcomes[(case.kind, outcome)] += 1
    tally.accepted[example] = len(seen_accepted)


def _marker_of(case: Case) -> int:
    found = re.search(r"<t(\d+)>", case.line)
    return int(found.group(1)) if found else -1


def test_fuzzed_lines_are_accepted_exactly_or_quarantined(spark: SparkSession, tmp_path: Path) -> None:
    parser = Parser(spark, tmp_path)
    tally = Tally(Counter(), [], Counter())

    # No shrinking: each step of it is a Spark job, and a failing batch already names its line.
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(batches())
    def check(cases: list[Case]) -> None:
        check_batch(parser, cases, tally)

    check()
    assert parser.kept_per_example(tally.valid) == tally.accepted, "ingest's dedup keeps each distinct event once"

    kinds = sorted({kind for kind, _ in tally.outcomes})
    totals = {outcome: sum(n for (_, o), n in tally.outcomes.items() if o == outcome)
              for outcome in ("accepted", "duplicate", "quarantined")}
    read = sum(tally.outcomes.values())
    # read = accepted + duplicates + quarantined, as ingest counts them
    assert totals["accepted"] == sum(tally.accepted.values())
    lost = read - totals["accepted"] - totals["duplicate"] - totals["quarantined"]
    assert lost == 0
    record(SECTION, [{"mutation": kind, "lines": sum(n for (k, _), n in tally.outcomes.items() if k == kind),
                      **{outcome: tally.outcomes[(kind, outcome)] for outcome in totals}} for kind in kinds],
           examples=tally.examples, lines_read=read, accepted=totals["accepted"], duplicates=totals["duplicate"],
           quarantined=totals["quarantined"], rows_lost=lost)


# --- Known gaps, each pinned by a strict xfail: when the parser is fixed the test passes, the
# marker must go (and the generator above may then include the case). -----------------------
GOOD_EVENT = {
    "schema_version": 1, "event_id": "e1", "event_type": "message_sent", "server_ts": "2026-11-01T08:00:00Z",
    "user_id": "u1", "message_id": "m1", "conversation_id": "c1", "message_type": "text",
    "text": "secret-marker hello", "media_count": 0, "size_bytes": 10, "seq": 1,
}


def line_of(**changes: Any) -> str:
    return json.dumps({**GOOD_EVENT, **changes})


def parse_lines(spark: SparkSession, lines: list[str]) -> list[Row]:
    frame = spark.createDataFrame([(line, SOURCE, i + 1) for i, line in enumerate(lines)], RAW_LINE_SCHEMA)
    return frame.transform(parse_events(DAY, TOLERANCE_HOURS)).orderBy("line_number").collect()


def test_null_objects_are_null(spark: SparkSession) -> None:
    rows = parse_lines(spark, [
        line_of(metadata=None, device=None),
        line_of(event_id="e2", event_type="user_registered", account_type="free", messaging_status="active",
                is_test_account=False, preferences=None),
    ])
    observed_values = [(r["reject_reason"], r["metadata"], r["preferences"]) for r in rows]
    nulls = (None, None, None)
    record(SECTION + "_gaps", [{"case": "explicit null metadata / preferences", "expected": "NULL",
                                "observed": repr(observed_values[0][1:]),
                                "status": OK if observed_values == [nulls, nulls] else GAP}])
    assert observed_values == [nulls, nulls]


def test_trailing_tab_is_whitespace(spark: SparkSession) -> None:
    rows = parse_lines(spark, ["\t" + line_of(), line_of(event_id="e2") + "\t", line_of(event_id="e3") + " \t "])
    reasons = [r["reject_reason"] for r in rows]
    record(SECTION + "_gaps", [{"case": "valid line + trailing tab", "expected": "accepted",
                                "observed": repr(reasons), "status": OK if reasons == [None, None, None] else GAP}])
    assert reasons == [None, None, None]


# --- Through files: bytes that are not UTF-8, and long texts ---------------------------------
def write_day(config: Any, name: str, lines: list[bytes]) -> None:
    folder = Path(config.landing_day_path(DAY.isoformat()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"\n".join(lines) + b"\n")


INVALID_UTF8 = {
    # case: a line whose bytes are not UTF-8 (the valid line with one spot replaced)
    "bytes ff fe in text": line_of(event_id="t1", text="ab@@cd").encode().replace(b"@@", b"\xff\xfe"),
    "cut 2-byte sequence in user_id": line_of(event_id="t2", user_id="u@@").encode().replace(b"@@", b"\xc3"),
    "overlong encoding in text": line_of(event_id="t3", text="a@@").encode().replace(b"@@", b"\xc0\xaf"),
    "encoded surrogate in text": line_of(event_id="t4", text="a@@").encode().replace(b"@@", b"\xed\xa0\x80"),
    # Two different ids that differ only in their broken bytes: read as one id, one would
    # silently become the other's duplicate.
    "cut 4-byte sequence in event_id (a)": line_of(event_id="x@@").encode().replace(b"@@", b"\xf0\x9f\x91"),
    "cut 4-byte sequence in event_id (b)": line_of(event_id="x@@").encode().replace(b"@@", b"\xf0\x9f\x92"),
    "a line of ff bytes": b"\xff" * 10,
}


def test_lines_that_are_not_utf8_are_quarantined(spark: SparkSession, config: Any) -> None:
    valid = line_of(event_id="ok", text="héllo 👍 secret-marker").encode()
    write_day(config, "bytes.json", [valid, *INVALID_UTF8.values()])
    landing = read_landing_day(spark, config, DAY)
    rows = landing.lines.transform(parse_events(DAY, TOLERANCE_HOURS)).orderBy("line_number").collect()
    assert [r["line_number"] for r in rows] == list(range(1, len(INVALID_UTF8) + 2)), "every line comes out once"
    assert rows[0]["reject_reason"] is None and rows[0]["text"] == "héllo 👍 secret-marker"
    outcomes = {case: row["reject_reason"] for case, row in zip(INVALID_UTF8, rows[1:], strict=True)}
    record(SECTION + "_gaps", [{"case": f"not UTF-8: {case}", "expected": "quarantined",
                                "observed": reason or "accepted (bytes replaced by U+FFFD)",
                                "status": OK if reason in ("invalid_utf8", "invalid_json") else GAP}
                               for case, reason in outcomes.items()])
    assert all("secret-marker" not in (r["record_json"] or "") for r in rows)
    # Not UTF-8 is not JSON (RFC 8259): either name will do.
    assert all(reason in ("invalid_utf8", "invalid_json") for reason in outcomes.values()), outcomes


LONG_TEXTS = {
    # case: (text, ensure_ascii)
    "2,000 letters": ("x" * 2_000, False),
    "100,000 letters": ("y" * 100_000, False),
    "1 MiB of letters": ("z" * 2**20, False),
    "1 MiB of escaped quotes and newlines": ('"\n' * 2**19, False),
    "262,144 emoji, raw UTF-8": ("👍" * 2**18, False),
    "262,144 emoji, \\u escapes": ("👍" * 2**18, True),
}


def parse_landing_day_in_child(landing_path: str) -> None:
    """Run in a child process by the test below: a JVM crash there cannot take the test
    session's Spark down with it. Prints one JSON row per line."""
    from pyspark.sql import SparkSession as Session

    from jobs.config import parse_config
    from jobs.landing import read_landing_day as read_day

    spark = (Session.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    config = parse_config({"landing_path": landing_path, "warehouse_path": landing_path + "-unused"}, environ={})
    parsed = read_day(spark, config, DAY).lines.transform(parse_events(DAY, TOLERANCE_HOURS))
    rows = (
        parsed.withColumn("text_sha256", F.sha2("text", 256))
        .transform(ev.with_text_features)
        .select("line_number", "reject_reason", "character_count", "text_sha256")
        .orderBy("line_number")
        .collect()
    )
    print(json.dumps([row.asDict() for row in rows]))


def test_long_texts_are_accepted(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write_day(config, "long.json", [
        json.dumps({**GOOD_EVENT, "event_id": f"long-{i}", "text": text}, ensure_ascii=ascii).encode()
        for i, (text, ascii) in enumerate(LONG_TEXTS.values())
    ])
    child = subprocess.run(
        [sys.executable, "-c", "from tests.test_fuzz_ingest import parse_landing_day_in_child as run; "
         f"run({config.landing_path!r})"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    crash = next((line for line in child.stderr.splitlines() if "Error" in line), "") if child.returncode else ""
    rows = json.loads(child.stdout.strip().splitlines()[-1]) if child.returncode == 0 else []
    expected = [{"line_number": i + 1, "reject_reason": None, "character_count": len(text),
                 "text_sha256": hashlib.sha256(text.encode()).hexdigest()}
                for i, (text, _) in enumerate(LONG_TEXTS.values())]
    outcomes = [
        {"observed": f"{row['reject_reason'] or 'accepted'}, character_count {row['character_count']:,}",
         "status": OK if row == want else GAP} if row else
        {"observed": f"the parse of the file (all cases) crashed: {crash.strip()}"[:120], "status": GAP}
        for row, want in zip(rows or [{}] * len(LONG_TEXTS), expected, strict=True)
    ]
    record(SECTION + "_gaps", [{"case": f"long text: {case}", "expected": "accepted, character_count exact", **outcome}
                               for case, outcome in zip(LONG_TEXTS, outcomes, strict=True)])
    assert child.returncode == 0, f"the parse crashed: {crash}"
    assert rows == expected
