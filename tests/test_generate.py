"""The synthetic generator against an independent, pure-Python reading of raw-events.md, and the
languages of its messages as the project's identifier and topic assignment see them."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.config import Config
from jobs.generate import generate
from jobs.generator.text import LANGUAGES as GENERATED_LANGUAGES
from jobs.generator.world import World
from jobs.transforms import language, topic_scoring
from tests.conftest import make_config

START = dt.date(2026, 11, 1)
DAYS = 2
# About a hundred conversations: enough for their languages' shares to mean something.
MESSAGES_PER_DAY = 1_500
SEED = 11
# Higher than the default 1% so that a tiny run holds every kind of bad record.
BAD_RATE = 0.05

# --- the contract, written out again on purpose (not imported from the code under test) ---
EVENT_TYPES = {"message_sent", "message_status", "conversation_created", "participant_joined",
               "participant_left", "user_registered", "user_updated"}
DEVICE_ENUMS = {
    "device_type": {"phone", "tablet", "desktop", "web"},
    "platform": {"ios", "android", "web", "windows", "macos", "linux"},
    "network_type": {"wifi", "cellular_5g", "cellular_4g", "cellular_3g", "ethernet", "unknown"},
}
STR, INT, BOOL, OBJ = "string", "int", "bool", "object"
# field -> (type, required, allowed values or minimum)
TYPE_FIELDS: dict[str, dict[str, tuple[str, bool, Any]]] = {
    "message_sent": {
        "message_id": (STR, True, None), "conversation_id": (STR, True, None),
        "message_type": (STR, True, {"text", "image", "video", "audio", "file", "sticker",
                                     "location", "system", "ephemeral_text"}),
        "text": (STR, False, None), "media_count": (INT, True, 0), "size_bytes": (INT, True, 0),
        "seq": (INT, True, 1), "reply_to_message_id": (STR, False, None),
        "metadata": (OBJ, False, None),
    },
    "message_status": {
        "message_id": (STR, True, None), "conversation_id": (STR, True, None),
        "status": (STR, True, {"sent", "delivered", "read", "failed"}),
    },
    "conversation_created": {
        "conversation_id": (STR, True, None),
        "conversation_type": (STR, True, {"direct", "group", "channel"}),
        "conversation_name": (STR, False, None), "is_encrypted": (BOOL, True, None),
        "privacy_level": (STR, True, {"private", "members", "public"}),
        "metadata": (OBJ, False, None),
    },
    "participant_joined": {"conversation_id": (STR, True, None),
                           "role": (STR, True, {"owner", "admin", "member"})},
    "participant_left": {"conversation_id": (STR, True, None)},
    "user_registered": {
        "account_type": (STR, True, {"free", "premium", "business"}),
        "messaging_status": (STR, True, {"active", "away", "suspended"}),
        "is_test_account": (BOOL, True, None), "preferences": (OBJ, False, None),
    },
}
TYPE_FIELDS["user_updated"] = TYPE_FIELDS["user_registered"]

# The generator's clients retry a message_sent within this many seconds (same message_id).
RETRY_WINDOW_S = 91

# The languages the generator writes in and their shares of conversations (a conversation is
# held in one language).
LANGUAGE_WEIGHTS = {"en": 0.60, "es": 0.15, "pt": 0.10, "de": 0.08, "fr": 0.07}

# The generator's kinds of bad record -> the reason this validator finds.
REASON_OF_KIND = {
    "not_json": "not_json", "truncated_json": "not_json", "missing_field": "missing_field",
    "wrong_type": "wrong_type", "bad_value": "bad_value", "bad_timestamp": "bad_timestamp",
    "unknown_event_type": "unknown_event_type", "schema_version_2": "schema_version",
    "negative_count": "below_minimum",
}


class BadRecordError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _has_type(value: Any, kind: str) -> bool:
    if kind == INT:
        return type(value) is int  # not bool, not float
    if kind == BOOL:
        return type(value) is bool
    if kind == OBJ:
        return isinstance(value, dict)
    return isinstance(value, str)


def _instant(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRecordError("bad_timestamp") from None
    if moment.tzinfo is None:
        raise BadRecordError("bad_timestamp")
    return moment


def _field(record: dict[str, Any], name: str, kind: str, required: bool, rule: Any) -> None:
    value = record.get(name)
    if value is None:
        if required:
            raise BadRecordError("missing_field")
        return
    if not _has_type(value, kind):
        raise BadRecordError("wrong_type")
    if isinstance(rule, set) and value not in rule:
        raise BadRecordError("bad_value")
    if isinstance(rule, int) and value < rule:
        raise BadRecordError("below_minimum")


def validate(line: str) -> dict[str, Any]:
    """The parsed event of a good line; raises BadRecordError(reason) otherwise."""
    try:
        record = json.loads(line)
    except ValueError:
        raise BadRecordError("not_json") from None
    if not isinstance(record, dict):
        raise BadRecordError("not_json")
    _field(record, "schema_version", INT, True, None)
    if record["schema_version"] != 1:
        raise BadRecordError("schema_version")
    for name in ("event_id", "event_type", "server_ts", "user_id"):
        _field(record, name, STR, True, None)
    _field(record, "client_ts", STR, False, None)
    _field(record, "device", OBJ, False, None)
    if record["event_type"] not in EVENT_TYPES:
        raise BadRecordError("unknown_event_type")
    _instant(record["server_ts"])
    if record.get("client_ts") is not None:
        _instant(record["client_ts"])
    if record.get("device") is not None:
        for name in ("device_id", "device_type", "platform", "app_version", "os_version",
                     "network_type"):
            _field(record["device"], name, STR, True, DEVICE_ENUMS.get(name))
    for name, (kind, required, rule) in TYPE_FIELDS[record["event_type"]].items():
        _field(record, name, kind, required, rule)
    return record


# --- reading the landing zone --------------------------------------------------------------


def landing_files(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*"))
            if p.is_file()}


def landing_lines(landing: Path) -> list[tuple[dt.date, str]]:
    lines = []
    for path in sorted(landing.glob("dt=*/*")):
        day = dt.date.fromisoformat(path.parent.name.removeprefix("dt="))
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        lines.extend((day, line) for line in data.decode("utf-8").split("\n") if line.strip())
    return lines


@pytest.fixture(scope="module")
def generated(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Config, dict[str, int]]:
    config = make_config(tmp_path_factory.mktemp("generated"))
    counts = generate(spark, config.landing_path, START, DAYS, MESSAGES_PER_DAY, SEED,
                      bad_rate=BAD_RATE)
    return config, counts


def test_landing_layout_has_only_stable_json_and_gzip_files(generated):
    config, _ = generated
    names = sorted(landing_files(Path(config.landing_path)))
    assert names == [f"dt={START + dt.timedelta(days=d)}/{name}" for d in range(DAYS)
                     for name in ("events-0.json", "events-1.json.gz", "events-2.json")]
    for path in Path(config.landing_path).glob("dt=*/*.gz"):
        assert gzip.decompress(path.read_bytes())  # a real gzip stream


def test_every_line_is_valid_or_a_planned_bad_record(generated):
    config, counts = generated
    lines = landing_lines(Path(config.landing_path))
    reasons: Counter[str] = Counter()
    good = []
    for day, line in lines:
        try:
            good.append((day, validate(line)))
        except BadRecordError as bad:
            reasons[bad.reason] += 1
    assert len(lines) == counts["lines"]
    assert sum(reasons.values()) == counts["bad_lines"]
    expected: Counter[str] = Counter()
    for kind, reason in REASON_OF_KIND.items():
        assert counts[f"bad_{kind}"] > 0, f"no bad record of kind {kind}"
        expected[reason] += counts[f"bad_{kind}"]
    assert reasons == expected
    assert {record["event_type"] for _, record in good} == EVENT_TYPES
    for day, record in good:
        # a line lands on or after the date of its event, at most 3 days later
        lag = (day - _instant(record["server_ts"]).date()).days
        assert 0 <= lag <= 3, record["event_id"]


def test_messiness_is_present(generated):
    config, counts = generated
    good = []
    for day, line in landing_lines(Path(config.landing_path)):
        with contextlib.suppress(BadRecordError):
            good.append((day, line, validate(line)))
    by_event: defaultdict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for day, line, record in good:
        by_event[record["event_id"]].append((day, line))
    duplicates = [copies for copies in by_event.values() if len(copies) > 1]
    assert duplicates and counts["duplicate_lines"] >= len(duplicates)
    assert all(len({line for _, line in copies}) == 1 for copies in duplicates)
    assert any(len({day for day, _ in copies}) > 1 for copies in duplicates)

    late = [r for day, _, r in good if _instant(r["server_ts"]).date() < day]
    assert late and counts["late_lines"] > 0
    assert {r["event_type"] for r in late} >= {"message_status"}

    sent: defaultdict[str, set[str]] = defaultdict(set)
    sent_day: dict[str, dt.date] = {}
    for day, _, r in good:
        if r["event_type"] == "message_sent":
            sent[r["message_id"]].add(r["event_id"])
            sent_day[r["message_id"]] = min(day, sent_day.get(r["message_id"], day))
    assert any(len(ids) > 1 for ids in sent.values()), "no client retry"
    assert counts["message_retries"] > 0

    records = [r for _, _, r in good]
    texts = [r["text"] for r in records if r["event_type"] == "message_sent" and r["text"]]
    assert any(any(ord(ch) > 0x2FFF for ch in t) for t in texts), "no CJK or emoji text"
    assert any(any(0x7F < ord(ch) < 0x2000 for ch in t) for t in texts), "no accented text"
    assert any(r.get("reply_to_message_id") for r in records)
    assert any(r.get("client_ts") is None for r in records)
    offsets = {r["client_ts"][-6:] for r in records if r.get("client_ts")}
    assert {"+05:30", "-03:30"} & offsets
    assert {r["conversation_type"] for r in records
            if r["event_type"] == "conversation_created"} == {"direct", "group", "channel"}
    versions: defaultdict[str, set[str]] = defaultdict(set)
    for r in records:
        if r.get("device"):
            versions[r["device"]["device_id"]].add(r["device"]["network_type"])
    assert any(len(v) > 1 for v in versions.values()), "no device changed its network"
    statuses = [r for _, _, r in good if r["event_type"] == "message_status"]
    senders = {r["message_id"]: r["user_id"] for r in records if r["event_type"] == "message_sent"}
    for status in statuses:
        sender = senders.get(status["message_id"])
        if sender is not None:
            # sent/failed come from the sender, delivered/read from someone else
            assert (status["user_id"] == sender) == (status["status"] in {"sent", "failed"})
    seqs: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in records:
        if r["event_type"] == "message_sent":
            seqs[r["conversation_id"]].append((r["server_ts"], r["seq"]))
    first_by_message = {}
    for r in sorted(records, key=lambda r: r["server_ts"]):
        if r["event_type"] == "message_sent":
            first_by_message.setdefault(r["message_id"], r)
    by_conversation: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in first_by_message.values():
        by_conversation[r["conversation_id"]].append(r)
    # seq increases with server_ts, but for a retry standing in for an original that became a
    # bad record: it carries the original's seq and arrives up to RETRY_WINDOW_S later.
    inversions = 0
    for messages in by_conversation.values():
        by_time = sorted(messages, key=lambda m: (_instant(m["server_ts"]), m["seq"]))
        assert len({m["seq"] for m in by_time}) == len(by_time), "seq not unique"
        for earlier, later in itertools.pairwise(by_time):
            if later["seq"] < earlier["seq"]:
                inversions += 1
                gap = _instant(later["server_ts"]) - _instant(earlier["server_ts"])
                assert gap.total_seconds() <= RETRY_WINDOW_S, "seq not increasing with server_ts"
    assert inversions <= 0.005 * len(first_by_message)


def test_same_seed_gives_identical_bytes_and_another_seed_differs(spark, config, generated):
    first_config, _ = generated
    first = landing_files(Path(first_config.landing_path))
    # Regenerating into a landing zone that already holds these days replaces them.
    stale = Path(config.landing_path) / f"dt={START}" / "stale.json"
    stale.parent.mkdir(parents=True)
    stale.write_text('{"left": "over"}\n', encoding="utf-8")
    generate(spark, config.landing_path, START, DAYS, MESSAGES_PER_DAY, SEED, bad_rate=BAD_RATE)
    assert landing_files(Path(config.landing_path)) == first
    other = make_config(Path(config.landing_path).parent / "other")
    generate(spark, other.landing_path, START, DAYS, MESSAGES_PER_DAY, SEED + 1,
             bad_rate=BAD_RATE)
    other_files = landing_files(Path(other.landing_path))
    assert other_files.keys() == first.keys()
    assert all(other_files[name] != first[name] for name in first)


def _first_texts(landing: Path) -> dict[str, tuple[str, str]]:
    """message_id -> (conversation_id, text) of every good message_sent line with text."""
    texts = {}
    for _, line in landing_lines(landing):
        with contextlib.suppress(BadRecordError):
            record = validate(line)
            if record["event_type"] == "message_sent" and record.get("text"):
                texts.setdefault(record["message_id"], (record["conversation_id"], record["text"]))
    return texts


def test_messages_are_written_in_five_languages_with_topics_in_each(spark, generated):
    config, _ = generated
    texts = _first_texts(Path(config.landing_path))
    frame = spark.createDataFrame(
        [(n, conversation, text) for n, (conversation, text) in enumerate(texts.values())],
        "message_event_id long, conversation_id string, text string",
    ).withColumn("language_code", language.language_code(F.col("text"))).cache()
    rows = frame.select("message_event_id", "conversation_id", "language_code").collect()
    identified = [r for r in rows if r["language_code"] != language.UNDETERMINED]
    by_language = Counter(r["language_code"] for r in identified)
    for code in LANGUAGE_WEIGHTS:
        assert by_language[code] >= 10, f"few messages identified as {code}: {by_language}"
    # the rest: the identifier's slips on short chat ("haha" as Tagalog, "já volto" as Hungarian)
    assert sum(by_language[c] for c in LANGUAGE_WEIGHTS) >= 0.9 * len(identified), by_language

    # A conversation is held in one language: the language most of its messages are in (the
    # others: system texts in English, a "danke schön" in English small talk, the slips above).
    per_conversation: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for r in identified:
        per_conversation[r["conversation_id"]][r["language_code"]] += 1
    held_in = {c: counts.most_common(1)[0][0] for c, counts in per_conversation.items()}
    in_held_language = sum(counts[held_in[c]] for c, counts in per_conversation.items())
    assert in_held_language >= 0.85 * len(identified)
    shares = Counter(held_in.values())
    conversations = len(held_in)
    assert conversations >= 80
    for code, weight in LANGUAGE_WEIGHTS.items():
        # within three binomial standard deviations of the weight
        spread = 3 * (weight * (1 - weight) / conversations) ** 0.5
        assert abs(shares[code] / conversations - weight) <= spread, (code, shares)

    # The draw itself, over many more conversations than a test can generate messages for.
    world = World(seed=SEED, start=START, days=DAYS, messages_per_day=MESSAGES_PER_DAY)
    drawn = (spark.range(20_000).select(F.col("id").alias("conversation"))
             .transform(world.with_conversation).groupBy("c_language").count().collect())
    drawn_shares = {GENERATED_LANGUAGES[r["c_language"]]: r["count"] / 20_000 for r in drawn}
    assert drawn_shares == pytest.approx(LANGUAGE_WEIGHTS, abs=0.012)

    # Topic assignment finds topics in every language, about as often as in English.
    taxonomy = topic_scoring.load_taxonomy()
    keywords = topic_scoring.keyword_table(spark, taxonomy)
    confident = (frame.transform(topic_scoring.assign_topics(keywords, taxonomy.calibration))
                 .where(F.col("topic_confidence") >= topic_scoring.CONFIDENT)
                 .groupBy("language_code").count().collect())
    with_topic = {r["language_code"]: r["count"] / by_language[r["language_code"]]
                  for r in confident if r["language_code"] in LANGUAGE_WEIGHTS}
    assert with_topic["en"] >= 0.5, with_topic
    for code in LANGUAGE_WEIGHTS:
        assert with_topic.get(code, 0.0) >= 0.6 * with_topic["en"], (code, with_topic)
    frame.unpersist()
