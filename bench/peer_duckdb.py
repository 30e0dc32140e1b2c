"""The peer: the design's three reports computed by DuckDB straight from landing files.

    .venv/bin/python bench/peer_duckdb.py --landing data/landing --date 2026-03-02 --out OUT

Reads the `.json` / `.json.gz` files of the landing folder(s) `dt=D` with read_json and
explicit columns (nothing inferred), then:

- keeps the lines that pass the contract's checks for the fields the reports use
  (schema_version 1, required ids present, known enum values, counts >= 0, seq >= 1,
  ISO-8601 timestamps), one row per `event_id` (duplicates dropped);
- a message is a `message_id` of a `message_sent` event; the retry with the earliest
  `server_ts` wins (ties: smallest `event_id`); its date is the UTC date of that `server_ts`;
- **daily active messengers**: distinct senders of messages per date;
- **delivery performance**: per date, device type and network type, the count of messages
  with a device, and the mean and p95 (quantile_cont, linear interpolation) of
  `server_ts - client_ts` in seconds over those with a `client_ts` (pipeline.md fine print);
- **top topics**: SIMPLER than chatlake's scorer, on purpose: the messages with text are
  sampled at --sample-rate by a hash of `message_id`, and a message counts for a topic when
  one of the topic's `strong` terms of conf/topics/keywords.yaml occurs in its lowercased text
  as a whole word (no accent folding, stemming, weights or calibration). The 20 topics with
  most messages.

Bad lines that DuckDB cannot parse at all become rows of nulls (ignore_errors) and fail the
checks. Text is only read in flight: the outputs hold dates, device names, topic names and
numbers. Prints one JSON line: the seconds taken (reading included) and the row counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_KEYWORDS = REPO / "conf" / "topics" / "keywords.yaml"
TOP_TOPICS = 20
P95 = 0.95
SAMPLE_BUCKETS = 1_000_000
LANDING_SUFFIXES = (".json", ".json.gz")

DEVICE_TYPES = ("phone", "tablet", "desktop", "web")
PLATFORMS = ("ios", "android", "web", "windows", "macos", "linux")
NETWORK_TYPES = ("wifi", "cellular_5g", "cellular_4g", "cellular_3g", "ethernet", "unknown")
MESSAGE_TYPES = ("text", "image", "video", "audio", "file", "sticker", "location", "system",
                 "ephemeral_text")
ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"

# Only the fields the three reports need; read_json skips the rest of each line.
COLUMNS = {
    "schema_version": "BIGINT",
    "event_id": "VARCHAR",
    "event_type": "VARCHAR",
    "server_ts": "VARCHAR",
    "client_ts": "VARCHAR",
    "user_id": "VARCHAR",
    "device": "STRUCT(device_id VARCHAR, device_type VARCHAR, platform VARCHAR, "
              "app_version VARCHAR, os_version VARCHAR, network_type VARCHAR)",
    "message_id": "VARCHAR",
    "conversation_id": "VARCHAR",
    "message_type": "VARCHAR",
    "text": "VARCHAR",
    "media_count": "BIGINT",
    "size_bytes": "BIGINT",
    "seq": "BIGINT",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


MESSAGES_SQL = f"""
CREATE TEMP TABLE messages AS
WITH valid AS (
    SELECT
        event_id,
        user_id,
        message_id,
        text,
        CAST(server_ts AS TIMESTAMPTZ) AS server_ts,
        CASE WHEN client_ts IS NOT NULL THEN CAST(client_ts AS TIMESTAMPTZ) END AS client_ts,
        CASE WHEN device IS NOT NULL THEN device.device_type END AS device_type,
        CASE WHEN device IS NOT NULL THEN device.network_type END AS network_type
    FROM raw
    WHERE schema_version = 1
      AND event_type = 'message_sent'
      AND event_id IS NOT NULL AND user_id IS NOT NULL
      AND message_id IS NOT NULL AND conversation_id IS NOT NULL
      AND {_in("message_type", MESSAGE_TYPES)}
      AND media_count >= 0 AND size_bytes >= 0 AND seq >= 1
      AND regexp_matches(server_ts, '{ISO_INSTANT}')
      AND TRY_CAST(server_ts AS TIMESTAMPTZ) IS NOT NULL
      AND (client_ts IS NULL OR (regexp_matches(client_ts, '{ISO_INSTANT}')
                                 AND TRY_CAST(client_ts AS TIMESTAMPTZ) IS NOT NULL))
      AND (device IS NULL OR (device.device_id IS NOT NULL
                              AND {_in("device.device_type", DEVICE_TYPES)}
                              AND {_in("device.platform", PLATFORMS)}
                              AND device.app_version IS NOT NULL
                              AND device.os_version IS NOT NULL
                              AND {_in("device.network_type", NETWORK_TYPES)}))
),
events AS (
    -- at-least-once logging: copies of an event carry the same event_id and content
    SELECT * FROM valid
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY server_ts) = 1
)
SELECT
    message_id,
    user_id,
    CAST(server_ts AS DATE) AS date,
    server_ts,
    client_ts,
    device_type,
    network_type,
    text
FROM events
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY server_ts, event_id) = 1
"""

DAU_SQL = """
SELECT date, COUNT(DISTINCT user_id) AS daily_active_messengers
FROM messages
GROUP BY date
ORDER BY date
"""

DELIVERY_SQL = f"""
WITH latencies AS (
    SELECT
        date,
        device_type,
        network_type,
        CAST(epoch_us(server_ts) - epoch_us(client_ts) AS DOUBLE) / 1000000 AS latency_seconds
    FROM messages
    WHERE device_type IS NOT NULL
)
SELECT
    date,
    device_type,
    network_type,
    COUNT(*)                                 AS message_count,
    AVG(latency_seconds)                     AS avg_delivery_latency,
    quantile_cont(latency_seconds, {P95})    AS p95_latency
FROM latencies
GROUP BY date, device_type, network_type
ORDER BY date, avg_delivery_latency DESC
"""

SAMPLED_SQL = f"""
SELECT lower(text) AS lowered
FROM messages
WHERE text IS NOT NULL
  AND hash(message_id) % {SAMPLE_BUCKETS} < CAST($rate * {SAMPLE_BUCKETS} AS UBIGINT)
"""


def topics_sql(patterns: list[tuple[str, str]]) -> str:
    """One scan of the sample counting every topic's matches. Each pattern is a constant, so
    DuckDB compiles it once (a pattern joined in from a table is compiled per row)."""
    counts = ",\n    ".join(
        f"COUNT(*) FILTER (WHERE regexp_matches(lowered, '{pattern.replace(chr(39), chr(39) * 2)}'))"
        f' AS "{topic}"'
        for topic, pattern in patterns
    )
    return f"SELECT\n    {counts}\nFROM ({SAMPLED_SQL})"


def topic_patterns(keywords_file: Path) -> list[tuple[str, str]]:
    """(topic, RE2 pattern matching any of its strong terms as whole words)."""
    raw = yaml.safe_load(keywords_file.read_text(encoding="utf-8"))
    patterns = []
    for topic, tiers in sorted(raw["topics"].items()):
        terms = sorted({str(term).lower() for term in tiers.get("strong", [])})
        alternatives = "|".join(re.escape(term).replace(r"\ ", " ") for term in terms)
        patterns.append((topic, rf"\b(?:{alternatives})\b"))
    return patterns


def landing_files(landing: Path, days: list[dt.date]) -> list[str]:
    files: list[str] = []
    for day in days:
        folder = landing / f"dt={day.isoformat()}"
        files.extend(p for p in sorted(glob.glob(str(folder / "*"))) if p.endswith(LANDING_SUFFIXES))
    return files


def run_reports(files: list[str], sample_rate: float, keywords_file: Path,
                threads: int | None = None) -> dict[str, Any]:
    """The three reports as lists of row tuples, plus timings and counts."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    started = time.perf_counter()
    raw = con.read_json(files, format="newline_delimited", columns=COLUMNS, ignore_errors=True)
    con.register("raw", raw)
    con.execute(MESSAGES_SQL)
    read_seconds = time.perf_counter() - started
    dau = con.execute(DAU_SQL).fetchall()
    delivery = con.execute(DELIVERY_SQL).fetchall()
    patterns = topic_patterns(keywords_file)
    counted = con.execute(topics_sql(patterns), {"rate": sample_rate}).fetchone() or ()
    ranked = sorted(((int(n), topic) for (topic, _), n in zip(patterns, counted, strict=True) if n),
                    key=lambda pair: (-pair[0], pair[1]))
    topics = [(topic, n) for n, topic in ranked[:TOP_TOPICS]]
    seconds = time.perf_counter() - started
    (messages,) = con.execute("SELECT COUNT(*) FROM messages").fetchone() or (0,)
    con.close()
    return {
        "seconds": seconds,
        "read_and_dedup_seconds": read_seconds,
        "files": len(files),
        "messages": int(messages),
        "reports": {"daily_active_messengers": dau, "delivery_performance": delivery,
                    "top_topics": topics},
    }


def _write_csv(path: Path, header: list[str], rows: list[tuple[Any, ...]]) -> None:
    lines = [",".join(header)]
    lines.extend(",".join("" if v is None else str(v) for v in row) for row in rows)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


HEADERS = {
    "daily_active_messengers": ["date", "daily_active_messengers"],
    "delivery_performance": ["date", "device_type", "network_type", "message_count",
                             "avg_delivery_latency", "p95_latency"],
    "top_topics": ["topic_name", "message_count"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--landing", type=Path, required=True, help="the landing path")
    parser.add_argument("--date", type=dt.date.fromisoformat, action="append", required=True,
                        help="landing day dt=D (repeat for several days)")
    parser.add_argument("--sample-rate", type=float, default=0.25)
    parser.add_argument("--keywords", type=Path, default=DEFAULT_KEYWORDS)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: cores)")
    parser.add_argument("--out", type=Path, help="folder for the three reports as CSV")
    args = parser.parse_args(argv)
    files = landing_files(args.landing, args.date)
    if not files:
        print(f"peer: no landing files for {args.date} under {args.landing}", file=sys.stderr)
        return 1
    result = run_reports(files, args.sample_rate, args.keywords, args.threads)
    reports = result.pop("reports")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for name, rows in reports.items():
            _write_csv(args.out / f"{name}.csv", HEADERS[name], rows)
    result["rows"] = {name: len(rows) for name, rows in reports.items()}
    # this process's own peak: a run of a second is too short for the harness to poll
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
