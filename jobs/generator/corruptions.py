"""What transport does to events: some land days late or twice (`land`) and some lines are
broken on purpose (`corrupt`), each kind as raw-events.md says ingest must handle it."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.generator import text
from jobs.generator.world import DAY_MS, MAX_LATE_DAYS, World

BAD_KINDS = (
    "not_json",
    "truncated_json",
    "missing_field",
    "wrong_type",
    "bad_value",
    "bad_timestamp",
    "unknown_event_type",
    "schema_version_2",
    "negative_count",
)
GARBAGE_LINES = ("<!DOCTYPE html><title>504 Gateway Timeout</title>",
                 "collector restarted, buffer flushed", "{{{", "#ERR upstream closed",
                 "ZXZlbnQ6IG1lc3NhZ2Vfc2VudA==", "event_id=?;user=?")
UNKNOWN_EVENT_TYPES = ("typing_started", "reaction_added", "call_started", "message_edited")


def land(world: World) -> Callable[[DataFrame], DataFrame]:
    """Landing day, duplicate copies and the file of every line; lines landing after the last
    generated day are dropped (they would land in a folder that is not written)."""

    def build(events: DataFrame) -> DataFrame:
        eid = F.col("event_id")
        late_share = F.when(F.col("event_type") == "message_status", 0.04).otherwise(0.015)
        delay = F.when(world.uniform("late", eid) < late_share,
                       1 + world.below(MAX_LATE_DAYS, "late_days", eid)).otherwise(0)
        duplicated = world.uniform("duplicate", eid) < world.duplicate_rate
        copy_shift = F.when(world.uniform("duplicate_when", eid) < 0.55, F.lit(0)).otherwise(
            1 + world.below(2, "duplicate_days", eid))
        server_day = F.floor((F.col("server_ms") - world.origin_ms) / DAY_MS).cast("int")
        return (
            events
            .withColumn("delay", delay.cast("int"))
            .withColumn("copy", F.explode(F.when(duplicated, F.array(F.lit(0), F.lit(1)))
                                          .otherwise(F.array(F.lit(0)))))
            .withColumn("delay", F.when(F.col("copy") == 0, F.col("delay")).otherwise(
                F.least(F.col("delay") + copy_shift, F.lit(MAX_LATE_DAYS))))
            .withColumn("landing_day", (server_day + F.col("delay")).cast("int"))
            .where(F.col("landing_day") < world.days)
            .withColumn("dt", F.date_format(F.date_add(F.lit(world.start), F.col("landing_day")),
                                            "yyyy-MM-dd"))
            .withColumn("file", world.below(world.files_per_day, "file", eid, F.col("copy"))
                        .cast("int"))
            .withColumn("arrival_ms", F.col("server_ms") + F.col("delay").cast("long") * DAY_MS)
        )

    return build


def _by_type(event_type: Column, choices: dict[str, Column], otherwise: Column) -> Column:
    expr = otherwise
    for kind, value in choices.items():
        expr = F.when(event_type == kind, value).otherwise(expr)
    return expr


def corrupt(world: World) -> Callable[[DataFrame], DataFrame]:
    """Turn about `bad_rate` of the lines into bad records of each kind of raw-events.md;
    `bad_kind` names the kind (null for a good line)."""

    def build(lines: DataFrame) -> DataFrame:
        key = [F.col("event_id"), F.col("copy")]
        line = F.col("line")
        etype = F.col("event_type")
        is_message = etype == "message_sent"
        u = world.uniform("bad_variant", *key)
        chosen = F.element_at(text.literal_array(list(BAD_KINDS)),
                              (world.below(len(BAD_KINDS), "bad_kind", *key) + 1).cast("int"))
        kind = (F.when((chosen == "negative_count") & ~is_message, F.lit("wrong_type"))
                .when((chosen == "bad_value") & (etype == "participant_left")
                      & ~F.col("has_device"), F.lit("missing_field"))
                .otherwise(chosen))
        bad = world.uniform("bad", *key) < world.bad_rate

        def sub(pattern: str, replacement: str) -> Column:
            return F.regexp_replace(line, pattern, replacement)

        missing_specific = _by_type(etype, {
            "message_sent": sub(r',"seq":[0-9]+', ""),
            "message_status": sub(r',"status":"[a-z_]+"', ""),
            "conversation_created": sub(r',"is_encrypted":(true|false)', ""),
            "participant_joined": sub(r',"role":"[a-z]+"', ""),
            "participant_left": sub(r',"conversation_id":"[^"]*"', ""),
        }, sub(r',"account_type":"[a-z]+"', ""))
        missing = (F.when(u < 0.33, sub(r',"event_id":"[^"]*"', ""))
                   .when(u < 0.66, sub(r',"user_id":"[^"]*"', "")).otherwise(missing_specific))
        wrong_type = _by_type(etype, {
            "message_sent": F.when(u < 0.4, sub(r'"seq":([0-9]+)', '"seq":"$1"'))
            .when(u < 0.8, sub(r'"seq":([0-9]+)', '"seq":$1.5'))
            .otherwise(sub(r'"media_count":([0-9]+)', '"media_count":"$1"')),
            "conversation_created": F.when(u < 0.5, sub(r'"is_encrypted":(true|false)',
                                                        '"is_encrypted":"$1"'))
            .otherwise(sub(r'^\{"schema_version":1,', '{"schema_version":"1",')),
            "user_registered": sub(r'"is_test_account":(true|false)', '"is_test_account":"$1"'),
        }, F.when(u < 0.5, sub(r'^\{"schema_version":1,', '{"schema_version":"1",'))
            .otherwise(sub(r'"user_id":"(u_[0-9]+)"', '"user_id":["$1"]')))
        bad_value = _by_type(etype, {
            "message_sent": sub(r'"message_type":"[a-z_]+"', '"message_type":"gif"'),
            "message_status": sub(r'"status":"[a-z]+"', '"status":"seen"'),
            "conversation_created": sub(r'"conversation_type":"[a-z]+"',
                                        '"conversation_type":"broadcast"'),
            "participant_joined": sub(r'"role":"[a-z]+"', '"role":"moderator"'),
            "participant_left": sub(r'"network_type":"[a-z0-9_]+"', '"network_type":"satellite"'),
        }, sub(r'"account_type":"[a-z]+"', '"account_type":"enterprise"'))
        bad_timestamp = (
            F.when((u < 0.33) & F.col("has_client_ts"),
                   sub(r'"client_ts":"([0-9]{4}-[0-9]{2}-[0-9]{2})T[0-9]{2}', '"client_ts":"$1T27'))
            .when(u < 0.66, sub(r'"server_ts":"([0-9]{4})-([0-9]{2})-([0-9]{2})T([^"]*)Z"',
                                '"server_ts":"$3/$2/$1 $4"'))
            .otherwise(sub(r'"server_ts":"([0-9]{4}-[0-9]{2}-[0-9]{2})T[0-9]{2}',
                           '"server_ts":"$1T25'))
        )
        unknown = F.regexp_replace(line, r'"event_type":"[a-z_]+"', F.concat(
            F.lit('"event_type":"'), text.pick(UNKNOWN_EVENT_TYPES, u), F.lit('"')))
        negative = F.when(u < 0.5, sub(r'"media_count":[0-9]+', '"media_count":-1')) \
            .otherwise(sub(r'"size_bytes":[0-9]+', '"size_bytes":-2048'))
        truncated = F.substring(line, 1, F.greatest(
            F.floor(F.length(line) * (0.15 + 0.75 * u)), F.lit(1)).cast("int"))
        broken = (
            F.when(kind == "not_json", text.pick(GARBAGE_LINES, u))
            .when(kind == "truncated_json", truncated)
            .when(kind == "missing_field", missing)
            .when(kind == "wrong_type", wrong_type)
            .when(kind == "bad_value", bad_value)
            .when(kind == "bad_timestamp", bad_timestamp)
            .when(kind == "unknown_event_type", unknown)
            .when(kind == "schema_version_2", sub(r'^\{"schema_version":1,',
                                                  '{"schema_version":2,'))
            .otherwise(negative)
        )
        return (
            lines
            .withColumn("bad_kind", F.when(bad, kind))
            .withColumn("broken_line", F.when(bad, broken))
            # A mutation that did not apply would leave a good line counted as bad.
            .withColumn("unchanged_bad", F.coalesce(F.col("broken_line") == line, F.lit(False)))
            .withColumn("line", F.coalesce(F.col("broken_line"), line))
            .drop("broken_line")
        )

    return build
