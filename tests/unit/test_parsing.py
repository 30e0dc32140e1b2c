"""The parser: every kind of bad record gets its reason; good lines are typed exactly."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.landing import RAW_LINE_SCHEMA
from jobs.transforms.parsing import parse_events

DAY = dt.date(2026, 11, 1)
GOOD = {
    "schema_version": 1, "event_id": "ev-1", "event_type": "message_sent",
    "server_ts": "2026-11-01T08:15:02.125Z", "client_ts": "2026-11-01T13:45:01.900+05:30",
    "user_id": "u_1",
    "device": {"device_id": "d1", "device_type": "phone", "platform": "ios", "app_version": "5.1.0",
               "os_version": "18.1", "network_type": "wifi"},
    "message_id": "m1", "conversation_id": "c1", "message_type": "text", "text": "héllo 👍🏽",
    "media_count": 0, "size_bytes": 40, "seq": 1, "reply_to_message_id": None, "metadata": None,
}


def with_changes(**changes: object) -> str:
    event = {**GOOD, **changes}
    return json.dumps({k: v for k, v in event.items() if v is not ...})


BAD_LINES = [
    ('{"schema_version": 1, "event_id": ', "invalid_json"),
    ("<html>502</html>", "invalid_json"),
    (with_changes() + "{}", "invalid_json"),
    ("[1, 2, 3]", "not_an_object"),
    (with_changes(schema_version=2), "unsupported_schema_version"),
    (with_changes(event_type="typing"), "unknown_event_type"),
    (with_changes(event_id=...), "missing_field:event_id"),
    (with_changes(user_id=12345), "wrong_type:user_id"),
    (with_changes(seq="3"), "wrong_type:seq"),
    (with_changes(seq=1.5), "wrong_type:seq"),
    (with_changes(seq=0), "out_of_range:seq"),
    (with_changes(media_count=-1), "out_of_range:media_count"),
    (with_changes(size_bytes=2**40), "out_of_range:size_bytes"),
    (with_changes(message_type="gif"), "invalid_value:message_type"),
    (with_changes(server_ts="yesterday"), "invalid_timestamp:server_ts"),
    (with_changes(server_ts="2026-11-31T08:00:00Z"), "invalid_timestamp:server_ts"),
    (with_changes(server_ts="2027-01-01T00:00:00Z"), "future_timestamp:server_ts"),
    (with_changes(client_ts="tomorrow"), "invalid_timestamp:client_ts"),
    (with_changes(device="phone"), "wrong_type:device"),
    (with_changes(device={**GOOD["device"], "network_type": "2g"}), "invalid_value:device.network_type"),
    (with_changes(metadata="x"), "wrong_type:metadata"),
]


def parse(spark: SparkSession, lines: list[str]):
    rows = [(line, "file:/landing/dt=2026-11-01/events-0.json", i + 1) for i, line in enumerate(lines)]
    return spark.createDataFrame(rows, RAW_LINE_SCHEMA).transform(parse_events(DAY, 24))


def test_every_bad_kind_has_its_reason(spark: SparkSession) -> None:
    parsed = parse(spark, [line for line, _ in BAD_LINES]).select("line_number", "reject_reason")
    expected = spark.createDataFrame(
        [(i + 1, reason) for i, (_, reason) in enumerate(BAD_LINES)], parsed.schema
    )
    assert_df_equality(parsed, expected, ignore_row_order=True, ignore_nullable=True)


def test_good_line_is_typed_exactly(spark: SparkSession) -> None:
    row = parse(spark, [with_changes(), "", "   "]).collect()
    assert len(row) == 1, "blank lines are skipped, not bad records"
    event = row[0]
    assert event["reject_reason"] is None
    assert event["server_ts"] == dt.datetime(2026, 11, 1, 8, 15, 2, 125000)
    assert event["client_ts"] == dt.datetime(2026, 11, 1, 8, 15, 1, 900000)
    assert event["client_utc_offset_minutes"] == 330
    assert (event["seq"], event["media_count"], event["device_type"]) == (1, 0, "phone")
    assert event["record_json"] is None


@pytest.mark.parametrize("offset, minutes", [("Z", 0), ("-03:30", -210), ("+09:45", 585)])
def test_client_offsets(spark: SparkSession, offset: str, minutes: int) -> None:
    line = with_changes(client_ts=f"2026-11-01T08:00:00{offset}")
    assert parse(spark, [line]).first()["client_utc_offset_minutes"] == minutes


def test_quarantined_fields_never_hold_text(spark: SparkSession) -> None:
    secret = "zebra-quokka-secret"
    broken = '{"text": "' + secret + '", broken'
    rows = parse(spark, [with_changes(text=secret, seq="x"), broken]).collect()
    assert [r["reject_reason"] for r in rows] == ["wrong_type:seq", "invalid_json"]
    assert secret not in (rows[0]["record_json"] or "") and '"seq":"x"' in rows[0]["record_json"]
    assert rows[1]["record_json"] is None
    assert rows[1]["line_length"] == len(broken.encode()) and len(rows[1]["line_sha256"]) == 64


def test_fields_of_other_event_types_and_names_in_other_case_are_not_read(spark: SparkSession) -> None:
    status = {k: v for k, v in GOOD.items() if k not in {"message_type", "text", "media_count", "size_bytes",
                                                          "seq", "reply_to_message_id", "metadata"}}
    lines = [
        # a status line carrying fields of message_sent (one of them of the wrong type)
        json.dumps({**status, "event_type": "message_status", "status": "read", "message_type": 5, "seq": "x"}),
        # JSON names are case-sensitive: EVENT_ID and User_Id are unknown fields
        with_changes(EVENT_ID="ev-other", User_Id="u_other"),
    ]
    parsed = parse(spark, lines).select(
        "line_number", "reject_reason", "event_id", "user_id", "status", "message_type", "seq", "text"
    )
    expected = spark.createDataFrame(
        [(1, None, "ev-1", "u_1", "read", None, None, None), (2, None, "ev-1", "u_1", None, "text", 1, "héllo 👍🏽")],
        parsed.schema,
    )
    assert_df_equality(parsed, expected, ignore_row_order=True, ignore_nullable=True)


def test_landing_day_as_a_column_judges_each_line_by_its_own_folder(spark: SparkSession) -> None:
    """The stream reads many folders at once: the same check as ingest's, per line's day."""
    beyond = with_changes(server_ts="2026-11-03T00:30:00Z")  # past 2026-11-01 + 24 h, within 2026-11-02 + 24 h
    rows = [(beyond, "file:/landing/dt=2026-11-01/a.json", 1), (beyond, "file:/landing/dt=2026-11-02/a.json", 2)]
    lines = spark.createDataFrame(rows, RAW_LINE_SCHEMA)
    landing_day = F.to_date(F.regexp_extract("source_file", r"/dt=(\d{4}-\d{2}-\d{2})/", 1))
    parsed = lines.transform(parse_events(landing_day, 24)).select("line_number", "reject_reason")
    expected = spark.createDataFrame([(1, "future_timestamp:server_ts"), (2, None)], parsed.schema)
    assert_df_equality(parsed, expected, ignore_row_order=True, ignore_nullable=True)
    by_date = lines.transform(parse_events(DAY, 24)).select("line_number", "reject_reason")
    assert [r["reject_reason"] for r in by_date.orderBy("line_number").collect()] == [
        "future_timestamp:server_ts", "future_timestamp:server_ts"
    ]
