"""Raw lines -> typed events, each valid or with the reason it is a bad record.

Lines are parsed into Spark's VARIANT, which keeps JSON's own types: `12345` stays a number
and `"12345"` a string, where Spark's JSON reader would coerce one into the other. Every
field of schemas/raw_events.py is then checked in declaration order; the first failing
check names the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from schemas.raw_events import (
    COMMON_FIELDS,
    DEVICE_FIELDS,
    EVENT_FIELDS,
    EVENT_TYPES,
    INT32_MAX,
    JSON_BOOL,
    JSON_INT,
    JSON_OBJECT,
    JSON_STRING,
    SCHEMA_VERSION,
    FieldSpec,
    all_columns,
)

ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
OFFSET_SUFFIX = r"(Z|[+-]\d{2}:\d{2})$"
# Possessive quantifiers: the plain alternation recurses once per character in Java's regex
# engine, and a text of a few thousand characters overflowed the driver's stack.
JSON_STRING_LITERAL = r'"(?:[^"\\]++|\\.)*+"'
# JSON's insignificant whitespace at the end of a line (CR was removed with the line break).
TRAILING_WHITESPACE = r"[ \t]+$"
# After string literals are blanked, a closing bracket directly followed by an opening one
# means two JSON values were run together on one line.
RUN_TOGETHER = r"[}\]]\s*[{\[]"
EARLIEST_EVENT = "2000-01-01 00:00:00"

REASON_INVALID_UTF8 = "invalid_utf8"
REASON_INVALID_JSON = "invalid_json"
REASON_NOT_OBJECT = "not_an_object"
REASON_VERSION = "unsupported_schema_version"
REASON_EVENT_TYPE = "unknown_event_type"


def _json_type(path: str) -> Column:
    """Spark's name for the JSON type at `path`: STRING, BIGINT, OBJECT<...>, VOID (null),
    or SQL NULL when the field is absent."""
    return F.expr(f"schema_of_variant(try_variant_get(v, '$.{path}', 'variant'))")


def _value(spec: FieldSpec) -> Column:
    path = f"'$.{spec.path}'"
    if spec.json_type == JSON_OBJECT:
        # An explicit JSON null is an absent object, not the text 'null'.
        variant = f"try_variant_get(v, {path}, 'variant')"
        return F.expr(f"CASE WHEN is_variant_null({variant}) THEN NULL ELSE to_json({variant}) END")
    spark_type = {JSON_STRING: "string", JSON_INT: "bigint", JSON_BOOL: "boolean"}[spec.json_type]
    return F.expr(f"try_variant_get(v, {path}, '{spark_type}')")


def _type_column(spec: FieldSpec) -> str:
    return f"_type_{spec.column}"


def _is_absent(spec: FieldSpec) -> Column:
    json_type = F.col(_type_column(spec))
    return json_type.isNull() | (json_type == "VOID")


def _has_wrong_type(spec: FieldSpec) -> Column:
    json_type = F.col(_type_column(spec))
    if spec.json_type == JSON_OBJECT:
        return ~json_type.startswith("OBJECT")
    return json_type != spec.json_type


def _field_checks(spec: FieldSpec, landing_day: dt.date, future_tolerance_hours: int) -> list[tuple[Column, str]]:
    """(condition that makes the line bad, reason) for one field, in the order they apply."""
    absent, value = _is_absent(spec), F.col(spec.column)
    checks: list[tuple[Column, str]] = []
    if spec.required:
        checks.append((absent, f"missing_field:{spec.path}"))
    checks.append((~absent & _has_wrong_type(spec), f"wrong_type:{spec.path}"))
    if spec.json_type == JSON_INT:
        limit = spec.minimum if spec.minimum is not None else -INT32_MAX - 1
        checks.append((~absent & ((value < limit) | (value > INT32_MAX)), f"out_of_range:{spec.path}"))
    if spec.allowed is not None:
        checks.append((~absent & ~value.isin(*spec.allowed), f"invalid_value:{spec.path}"))
    if spec.is_timestamp:
        parsed = F.expr(f"try_cast({spec.column} AS TIMESTAMP)")
        checks.append(
            (~absent & (~value.rlike(ISO_INSTANT) | parsed.isNull()), f"invalid_timestamp:{spec.path}")
        )
        if spec.column == "server_ts_raw":
            # The collector received the line on the landing day: a server clock beyond it
            # (plus a tolerance) or before any data we hold is not to be trusted.
            latest = dt.datetime.combine(landing_day + dt.timedelta(days=1), dt.time()) + dt.timedelta(
                hours=future_tolerance_hours
            )
            checks.append((~absent & (parsed > F.lit(latest)), "future_timestamp:server_ts"))
            checks.append((~absent & (parsed < F.lit(EARLIEST_EVENT).cast("timestamp")), "out_of_range:server_ts"))
    return checks


def _reason(landing_day: dt.date, future_tolerance_hours: int) -> Column:
    def checks_of(specs: tuple[FieldSpec, ...]) -> list[tuple[Column, str]]:
        return [c for spec in specs for c in _field_checks(spec, landing_day, future_tolerance_hours)]

    event_type = F.col("event_type")
    ordered: list[tuple[Column, str]] = [
        (~F.col("_valid_utf8"), REASON_INVALID_UTF8),
        (F.col("v").isNull() | F.col("_run_together"), REASON_INVALID_JSON),
        (~F.col("_root_type").startswith("OBJECT"), REASON_NOT_OBJECT),
    ]
    common = checks_of(COMMON_FIELDS)
    # schema_version and event_type are judged before the other common fields, because a
    # line of an unknown version or type cannot be held to this version's rules.
    version_spec, event_type_spec = COMMON_FIELDS[0], COMMON_FIELDS[2]
    ordered += checks_of((version_spec,))
    ordered.append((F.col("schema_version") != SCHEMA_VERSION, REASON_VERSION))
    ordered += checks_of((event_type_spec,))
    ordered.append((~event_type.isin(*EVENT_TYPES), REASON_EVENT_TYPE))
    ordered += [c for c in common if not c[1].endswith((":schema_version", ":event_type"))]
    for name, specs in EVENT_FIELDS.items():
        ordered += [((event_type == name) & condition, reason) for condition, reason in checks_of(specs)]
    device_present = F.col("_type_device_raw").startswith("OBJECT")
    ordered += [(device_present & condition, reason) for condition, reason in checks_of(DEVICE_FIELDS)]

    reason: Column | None = None
    for condition, text in ordered:
        # A null condition (e.g. comparing an absent field) is not a failure.
        guarded = F.coalesce(condition, F.lit(False))
        reason = F.when(guarded, F.lit(text)) if reason is None else reason.when(guarded, F.lit(text))
    assert reason is not None
    return reason


def parse_events(
    landing_day: dt.date, future_tolerance_hours: int = 24
) -> Callable[[DataFrame], DataFrame]:
    """Curried for `lines.transform(parse_events(day))`.

    In: value, source_file, line_number. Out: one row per non-blank line with every column of
    schemas/raw_events.py typed, `server_ts` / `client_ts` as timestamps,
    `client_utc_offset_minutes`, and `reject_reason` (null when the line is a valid event).
    Bad lines also carry `record_json` (their fields other than `text`), or for lines that
    are not JSON objects, only `line_length` and `line_sha256`. The `text` column is the only
    place text exists: callers derive what they need and drop it.
    """

    def transform(lines: DataFrame) -> DataFrame:
        specs = all_columns()
        stripped = F.regexp_replace(F.col("value"), JSON_STRING_LITERAL, '""')
        parsed = (
            lines.where(F.trim(F.col("value")) != "")
            # Not UTF-8 is not JSON (RFC 8259); parsed, its broken bytes would become U+FFFD and
            # two different ids could read as one.
            .withColumn("_valid_utf8", F.expr("is_valid_utf8(value)"))
            .withColumn("v", F.when(F.col("_valid_utf8"), F.expr("try_parse_json(value)")))
            .withColumn("_root_type", F.expr("schema_of_variant(v)"))
            .withColumn(
                "_run_together",
                F.col("_root_type").startswith("OBJECT")
                & (
                    stripped.rlike(RUN_TOGETHER)
                    | ~F.regexp_replace(stripped, TRAILING_WHITESPACE, "").endswith("}")
                    | (F.size(F.split(stripped, r"\{")) != F.size(F.split(stripped, r"\}")))
                ),
            )
            .select(
                "*",
                *[_json_type(spec.path).alias(_type_column(spec)) for spec in specs],
                *[_value(spec).alias(spec.column) for spec in specs],
            )
        )
        checked = parsed.withColumn("reject_reason", _reason(landing_day, future_tolerance_hours))
        is_object = F.coalesce(F.col("_root_type").startswith("OBJECT") & ~F.col("_run_together"), F.lit(False))
        bad = F.col("reject_reason").isNotNull()
        offset = F.regexp_extract("client_ts_raw", OFFSET_SUFFIX, 1)
        return checked.select(
            "source_file",
            "line_number",
            "reject_reason",
            *[F.col(spec.column) for spec in specs if not spec.is_timestamp],
            F.expr("try_cast(server_ts_raw AS TIMESTAMP)").alias("server_ts"),
            F.expr("try_cast(client_ts_raw AS TIMESTAMP)").alias("client_ts"),
            F.when(offset == "Z", F.lit(0))
            .when(
                offset != "",
                (F.substring(offset, 2, 2).cast("int") * 60 + F.substring(offset, 5, 2).cast("int"))
                * F.when(offset.startswith("-"), -1).otherwise(1),
            )
            .alias("client_utc_offset_minutes"),
            F.when(
                bad & is_object,
                F.expr("to_json(map_filter(try_variant_get(v, '$', 'map<string,variant>'), (k, x) -> k != 'text'))"),
            ).alias("record_json"),
            F.when(bad & ~is_object, F.octet_length("value")).alias("line_length"),
            F.when(bad & ~is_object, F.sha2(F.col("value"), 256)).alias("line_sha256"),
        )

    return transform
