"""Raw lines -> typed events, each valid or with the reason it is a bad record.

Lines are parsed into Spark's VARIANT, which keeps JSON's own types: `12345` stays a number
and `"12345"` a string, where Spark's JSON reader would coerce one into the other. The whole
line's variant decides whether it is one valid JSON text; the JSON type of every field comes
from a `from_json` that reads each top-level member as a variant of its own; the values of
scalar fields come from one more `from_json` with their Spark types, which is much cheaper than
a variant cast per field, and are used only where the type check passed. Every field of
schemas/raw_events.py that applies to the line's event type is then checked in declaration
order; the first failing check names the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

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
LEADING_BRACE = r"^[ \t]*\{"
EARLIEST_EVENT = "2000-01-01 00:00:00"

REASON_INVALID_UTF8 = "invalid_utf8"
REASON_INVALID_JSON = "invalid_json"
REASON_NOT_OBJECT = "not_an_object"
REASON_VERSION = "unsupported_schema_version"
REASON_EVENT_TYPE = "unknown_event_type"
VALUES = "_values"
FIELDS = "_fields"
# Which event types each event-specific column belongs to.
EVENT_TYPES_OF: dict[str, tuple[str, ...]] = {}
for _name, _specs in EVENT_FIELDS.items():
    for _spec in _specs:
        EVENT_TYPES_OF[_spec.column] = (*EVENT_TYPES_OF.get(_spec.column, ()), _name)


def _raw_column(spec: FieldSpec) -> str:
    return f"_raw_{spec.column}"


def _type_column(spec: FieldSpec) -> str:
    return f"_type_{spec.column}"


def _json_type(spec: FieldSpec) -> Column:
    """Spark's name for the JSON type of the field: STRING, BIGINT, BOOLEAN, VOID (null),
    OBJECT for any object, or SQL NULL when the field is absent."""
    json_type = F.expr(f"schema_of_variant({_raw_column(spec)})")
    if spec.json_type == JSON_OBJECT:
        return F.when(json_type.startswith(JSON_OBJECT), F.lit(JSON_OBJECT)).otherwise(json_type)
    return json_type


def _value(spec: FieldSpec) -> Column:
    if spec.json_type == JSON_OBJECT:
        # Objects are kept as JSON text; an explicit JSON null is an absent object, not 'null'.
        raw = _raw_column(spec)
        return F.expr(f"CASE WHEN is_variant_null({raw}) THEN NULL ELSE to_json({raw}) END")
    # Scalars come from one Jackson pass over the line (from_json), several times cheaper
    # than a variant cast per field. They are trusted only where the variant's type check
    # passes; where it fails the line is quarantined and the value is only informative.
    field = F.col(VALUES)
    for part in spec.path.split("."):
        field = field.getField(part)
    return field


def _values_schema(specs: list[FieldSpec]) -> T.StructType:
    """from_json's schema for the scalar fields: strings as strings, so that a field of the
    wrong type still reads as its JSON text; integers and booleans as themselves."""
    spark_types = {JSON_STRING: T.StringType(), JSON_INT: T.LongType(), JSON_BOOL: T.BooleanType()}
    top: dict[str, T.DataType] = {}
    nested: dict[str, list[T.StructField]] = {}
    for spec in specs:
        if spec.json_type == JSON_OBJECT:
            continue
        if "." in spec.path:
            parent, name = spec.path.split(".", 1)
            nested.setdefault(parent, []).append(T.StructField(name, spark_types[spec.json_type]))
        else:
            top[spec.path] = spark_types[spec.json_type]
    return T.StructType(
        [T.StructField(name, data_type) for name, data_type in top.items()]
        + [T.StructField(parent, T.StructType(fields)) for parent, fields in nested.items()]
    )


def _timestamp_column(spec: FieldSpec) -> str:
    return spec.column.removesuffix("_raw")


def _is_absent(spec: FieldSpec) -> Column:
    json_type = F.col(_type_column(spec))
    return json_type.isNull() | (json_type == "VOID")


def _has_wrong_type(spec: FieldSpec) -> Column:
    return F.col(_type_column(spec)) != spec.json_type


def _latest_server_ts(landing_day: dt.date | Column, future_tolerance_hours: int) -> Column:
    """The latest server_ts a line received on `landing_day` may carry: the end of that day
    plus the tolerance. The day is a date (ingest: one folder) or a column (the stream: each
    line's own folder, or a Kafka record's receipt date)."""
    if isinstance(landing_day, dt.date):
        return F.lit(
            dt.datetime.combine(landing_day + dt.timedelta(days=1), dt.time())
            + dt.timedelta(hours=future_tolerance_hours)
        )
    return landing_day.cast("timestamp") + F.make_dt_interval(
        days=F.lit(1), hours=F.lit(future_tolerance_hours)
    )


def _field_checks(
    spec: FieldSpec, landing_day: dt.date | Column, future_tolerance_hours: int
) -> list[tuple[Column, str]]:
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
        parsed = F.col(_timestamp_column(spec))
        checks.append(
            (~absent & (~value.rlike(ISO_INSTANT) | parsed.isNull()), f"invalid_timestamp:{spec.path}")
        )
        if spec.column == "server_ts_raw":
            # The collector received the line on the landing day: a server clock beyond it
            # (plus a tolerance) or before any data we hold is not to be trusted.
            latest = _latest_server_ts(landing_day, future_tolerance_hours)
            checks.append((~absent & (parsed > latest), "future_timestamp:server_ts"))
            checks.append((~absent & (parsed < F.lit(EARLIEST_EVENT).cast("timestamp")), "out_of_range:server_ts"))
    return checks


def _lookup(spec: FieldSpec) -> Column:
    """The field as a variant: its top-level member of FIELDS, and below that a path lookup
    in that member's small variant rather than in the whole line's."""
    top, _, below = spec.path.partition(".")
    member = F.col(FIELDS).getField(top)
    return F.try_variant_get(member, f"$.{below}", "variant") if below else member


def _with_fields(fields: list[tuple[FieldSpec, Column | None]]) -> Callable[[DataFrame], DataFrame]:
    """Adds each field's value and JSON type column; a field with a condition is read only
    where it holds. The type is looked up in the field's variant, once per field."""

    def transform(lines: DataFrame) -> DataFrame:
        def gated(column: Column, applies: Column | None) -> Column:
            return column if applies is None else F.when(applies, column)

        lookups = [gated(_lookup(spec), applies).alias(_raw_column(spec)) for spec, applies in fields]
        values = {spec.column: gated(_value(spec), applies) for spec, applies in fields if spec.stored}
        return (
            lines.select("*", *lookups)
            .withColumns(values)
            .withColumns({_type_column(spec): _json_type(spec) for spec, _ in fields})
            .drop(*[_raw_column(spec) for spec, _ in fields])
        )

    return transform


def _first_failure(checks: list[tuple[Column, str]]) -> Column:
    """The reason of the first check that holds, or null."""
    reason: Column | None = None
    for condition, text in checks:
        # A null condition (e.g. comparing an absent field) is not a failure.
        guarded = F.coalesce(condition, F.lit(False))
        reason = F.when(guarded, F.lit(text)) if reason is None else reason.when(guarded, F.lit(text))
    assert reason is not None
    return reason


def _reason(landing_day: dt.date | Column, future_tolerance_hours: int) -> Column:
    def checks_of(specs: tuple[FieldSpec, ...]) -> list[tuple[Column, str]]:
        return [c for spec in specs for c in _field_checks(spec, landing_day, future_tolerance_hours)]

    event_type = F.col("event_type")
    line_checks: list[tuple[Column, str]] = [
        (~F.col("_valid_utf8"), REASON_INVALID_UTF8),
        (F.col("v").isNull() | F.col("_run_together"), REASON_INVALID_JSON),
        (~F.col("_is_object"), REASON_NOT_OBJECT),
    ]
    common = checks_of(COMMON_FIELDS)
    # schema_version and event_type are judged before the other common fields, because a
    # line of an unknown version or type cannot be held to this version's rules.
    version_spec, event_type_spec = COMMON_FIELDS[0], COMMON_FIELDS[2]
    line_checks += checks_of((version_spec,))
    line_checks.append((F.col("schema_version") != SCHEMA_VERSION, REASON_VERSION))
    line_checks += checks_of((event_type_spec,))
    line_checks.append((~event_type.isin(*EVENT_TYPES), REASON_EVENT_TYPE))
    line_checks += [c for c in common if not c[1].endswith((":schema_version", ":event_type"))]
    # A line is held only to its own event type's rules, so it runs through that type's
    # checks alone rather than through all of them (most lines are valid and run the whole
    # list): the first failure is the same, and the work per line a third.
    event_checks: Column | None = None
    for name, specs in EVENT_FIELDS.items():
        type_checks = _first_failure(checks_of(specs))
        event_checks = (
            F.when(event_type == name, type_checks)
            if event_checks is None
            else event_checks.when(event_type == name, type_checks)
        )
    assert event_checks is not None
    device_checks = F.when(F.col("_type_device_raw") == JSON_OBJECT, _first_failure(checks_of(DEVICE_FIELDS)))
    return F.coalesce(_first_failure(line_checks), event_checks, device_checks)


VALUES_SCHEMA = _values_schema(all_columns())
# Every top-level member the specs read, as a variant of its own: one Jackson pass over the
# line finds them all, where a path lookup per field would walk the line's variant each time.
FIELDS_SCHEMA = T.StructType(
    [T.StructField(top, T.VariantType()) for top in dict.fromkeys(s.path.split(".")[0] for s in all_columns())]
)


def parse_events(
    landing_day: dt.date | Column, future_tolerance_hours: int = 24
) -> Callable[[DataFrame], DataFrame]:
    """Curried for `lines.transform(parse_events(day))`. `landing_day` is the day the lines
    landed: a date, or a DATE column when the lines come from many days (the stream).

    In: value, source_file, line_number. Out: one row per non-blank line with every column of
    schemas/raw_events.py typed, `server_ts` / `client_ts` as timestamps,
    `client_utc_offset_minutes`, and `reject_reason` (null when the line is a valid event).
    Bad lines also carry `record_json` (their fields other than `text`), or for lines that
    are not JSON objects, only `line_length` and `line_sha256`. The `text` column is the only
    place text exists: callers derive what they need and drop it.
    """

    def transform(lines: DataFrame) -> DataFrame:
        checked = _typed_fields(_json_objects(lines)).withColumns(
            {
                "reject_reason": _reason(landing_day, future_tolerance_hours),
                # A column of its own: the offset is read five times below, a regex each time.
                "_offset": F.regexp_extract("client_ts_raw", OFFSET_SUFFIX, 1),
            }
        )
        is_object = F.col("_is_object") & ~F.col("_run_together")
        bad = F.col("reject_reason").isNotNull()
        return checked.select(
            "source_file",
            "line_number",
            "reject_reason",
            *[F.col(spec.column) for spec in all_columns() if spec.stored and not spec.is_timestamp],
            "server_ts",
            "client_ts",
            _utc_offset_minutes(F.col("_offset")).alias("client_utc_offset_minutes"),
            F.when(
                bad & is_object,
                F.expr("to_json(map_filter(try_variant_get(v, '$', 'map<string,variant>'), (k, x) -> k != 'text'))"),
            ).alias("record_json"),
            F.when(bad & ~is_object, F.octet_length("value")).alias("line_length"),
            F.when(bad & ~is_object, F.sha2(F.col("value"), 256)).alias("line_sha256"),
        )

    return transform


def _json_objects(lines: DataFrame) -> DataFrame:
    """The non-blank lines, parsed: `v` (the line as a variant, null when it is not JSON),
    `_is_object`, `_run_together` (two objects on one line), and the VALUES and FIELDS structs."""
    stripped = F.regexp_replace(F.col("value"), JSON_STRING_LITERAL, '""')
    return (
        lines.where(F.trim(F.col("value")) != "")
        # Not UTF-8 is not JSON (RFC 8259); parsed, its broken bytes would become U+FFFD and
        # two different ids could read as one.
        .withColumn("_valid_utf8", F.expr("is_valid_utf8(value)"))
        .withColumn("v", F.when(F.col("_valid_utf8"), F.expr("try_parse_json(value)")))
        # A JSON text that starts with a brace is an object: cheaper than schema_of_variant,
        # which would spell out the schema of the whole line.
        .withColumn("_is_object", F.col("v").isNotNull() & F.col("value").rlike(LEADING_BRACE))
        .withColumn(VALUES, F.when(F.col("_is_object"), F.from_json(F.col("value"), VALUES_SCHEMA)))
        .withColumn(FIELDS, F.when(F.col("_is_object"), F.from_json(F.col("value"), FIELDS_SCHEMA)))
        # A column of its own: inlined in the right side of the `&` below, Spark would blank
        # the line once per use rather than share it.
        .withColumn("_stripped", F.when(F.col("_is_object"), stripped))
        .withColumn(
            "_run_together",
            F.col("_is_object")
            & (
                F.col("_stripped").rlike(RUN_TOGETHER)
                | ~F.regexp_replace("_stripped", TRAILING_WHITESPACE, "").endswith("}")
                | (F.size(F.split("_stripped", r"\{")) != F.size(F.split("_stripped", r"\}")))
            ),
        )
        .drop("_stripped")
    )


def _typed_fields(objects: DataFrame) -> DataFrame:
    """Every column of schemas/raw_events.py read from the parsed line, typed, plus the
    timestamps as TIMESTAMP columns."""
    event_type = F.col("event_type")
    # Fields of other event types are not read: a status line's stray `message_type` is
    # neither checked nor kept, and the lookups of the fields that do not apply are saved.
    own_fields = [
        (spec, event_type.isin(*EVENT_TYPES_OF[spec.column]) if spec.column in EVENT_TYPES_OF else None)
        for spec in all_columns()
        if spec not in COMMON_FIELDS
    ]
    return (
        objects.transform(_with_fields([(spec, None) for spec in COMMON_FIELDS]))
        .transform(_with_fields(own_fields))
        .withColumns(
            {
                _timestamp_column(spec): F.expr(f"try_cast({spec.column} AS TIMESTAMP)")
                for spec in all_columns()
                if spec.is_timestamp
            }
        )
    )


def _utc_offset_minutes(offset: Column) -> Column:
    """Minutes east of UTC from a timestamp's offset suffix ("Z", "+05:30", "-08:00"); null
    when there is none."""
    return (
        F.when(offset == "Z", F.lit(0))
        .when(
            offset != "",
            (F.substring(offset, 2, 2).cast("int") * 60 + F.substring(offset, 5, 2).cast("int"))
            * F.when(offset.startswith("-"), -1).otherwise(1),
        )
    )
