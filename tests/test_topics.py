"""Topic assignment: text normalization, calibrated keyword scoring, its measured quality on
the held-out labeled set, and the job end to end (idempotent, text-free warehouse)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import ingest, storage, topics
from jobs.config import Config
from jobs.transforms import keys, language, sampling, text, topic_scoring
from tests.conftest import REPO, install_warehouse, load_script, make_config

DAY = dt.date(2026, 11, 1)
DATE_KEY = 20261101


def _bench() -> ModuleType:
    return load_script("topics_eval", REPO / "bench" / "topics_eval.py")


@pytest.fixture(scope="module")
def taxonomy() -> topic_scoring.Taxonomy:
    return topic_scoring.load_taxonomy()


@pytest.fixture(scope="module")
def keywords(spark: SparkSession, taxonomy: topic_scoring.Taxonomy) -> DataFrame:
    return topic_scoring.keyword_table(spark, taxonomy).cache()


def _assign(spark: SparkSession, keywords: DataFrame, taxonomy, texts: list[str]) -> DataFrame:
    messages = spark.createDataFrame(list(enumerate(texts)), "message_event_id long, text string")
    return messages.withColumn("language_code", language.language_code(F.col("text"))).transform(
        topic_scoring.assign_topics(keywords, taxonomy.calibration)
    )


# --- text -------------------------------------------------------------------------------------


def test_normalization_folds_case_accents_punctuation_emoji_and_plurals(
    spark: SparkSession,
) -> None:
    texts = spark.createDataFrame(
        [
            (1, "Feliz CUMPLEAÑOS, mi amor!! 🎂🎉"),
            (2, "Booked the hotels; Mom\u2019s flights are cheaper"),
            (3, "🎉🎉"),
            (4, None),
        ],
        "id int, t string",
    )
    result = texts.select("id", text.normalize(F.col("t")).alias("n"), text.tokens(F.col("t")).alias("w"))
    expected = spark.createDataFrame(
        [
            (1, "feliz cumpleanos mi amor", ["feliz", "cumpleano", "mi", "amor"]),
            (
                2,
                "booked the hotels moms flights are cheaper",
                ["book", "the", "hotel", "mom", "flight", "are", "cheaper"],
            ),
            (3, "", []),
            (4, None, None),
        ],
        "id int, n string, w array<string>",
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_terms_are_words_and_two_and_three_word_phrases(spark: SparkSession) -> None:
    row = spark.range(1).select(text.terms(F.lit("League of Legends!")).alias("terms")).first()
    assert row is not None
    assert sorted(row["terms"]) == sorted(["leagu", "of", "legend", "leagu of", "of legend", "leagu of legend"])


def test_plural_and_inflected_forms_meet_their_keyword(spark: SparkSession) -> None:
    pairs = [
        ("party", "parties"),
        ("movie", "movies"),
        ("game", "gaming"),
        ("shop", "shopping"),
        ("book", "booked"),
        ("match", "matches"),
        ("battery", "batteries"),
    ]
    frame = spark.createDataFrame(pairs, "a string, b string")
    stemmed = frame.select(text.phrase(F.col("a")).alias("a"), text.phrase(F.col("b")).alias("b"))
    assert [(r["a"] == r["b"]) for r in stemmed.collect()] == [True] * len(pairs)


# --- taxonomy and scoring -------------------------------------------------------------------------


def test_taxonomy_covers_every_topic_and_versions_its_content(taxonomy) -> None:
    from schemas.topics import TOPIC_NAMES

    assert {topic for _, topic, _, _ in taxonomy.terms} == set(TOPIC_NAMES)
    # every topic in the five languages analytics.md asks for
    assert {name: taxonomy.topic_languages(name) for name in TOPIC_NAMES} == {
        name: ("de", "en", "es", "fr", "pt") for name in TOPIC_NAMES
    }
    raw = yaml.safe_load(topic_scoring.DEFAULT_KEYWORDS_PATH.read_text())
    assert topic_scoring.parse_taxonomy(raw).version == taxonomy.version
    raw["topics"]["music"]["en"]["strong"].append("theremin")
    changed = topic_scoring.parse_taxonomy(raw)
    assert changed.version != taxonomy.version
    assert changed.version.split("+")[0] == taxonomy.version.split("+")[0]
    document = json.loads(changed.keywords_json("music"))
    assert document["version"] == changed.version
    assert document["terms"]["en"]["theremin"] == 1.0
    assert document["languages"] == ["de", "en", "es", "fr", "pt"]
    raw["topics"]["music"]["english"] = raw["topics"]["music"].pop("en")
    with pytest.raises(ValueError, match="not an ISO 639-1 code"):
        topic_scoring.parse_taxonomy(raw)


def test_confidences_are_calibrated_shares_in_unit_interval(spark, keywords, taxonomy) -> None:
    texts = [
        "happy birthday!! 🎂",
        "ok",
        "we owe the landlord rent and the electricity bill, split it?",
        "pizza at the match",
        "booked flights and the hotel for our trip",
        "",
    ]
    assigned = _assign(spark, keywords, taxonomy, texts)
    rows = assigned.collect()
    assert all(0.0 <= r["topic_confidence"] <= 1.0 for r in rows)
    per_message: dict[int, dict[str, float]] = {}
    for r in rows:
        per_message.setdefault(r["message_event_id"], {})[r["topic_name"]] = r["topic_confidence"]
    assert all(sum(c.values()) <= 1.0 + 1e-9 for c in per_message.values())
    assert per_message[0]["celebrations"] >= 0.7
    assert 1 not in per_message and 5 not in per_message
    assert per_message[2]["money_and_payments"] >= 0.7
    assert per_message[4]["travel"] >= 0.7
    # several topics per message: equal evidence is shared equally
    assert set(per_message[3]) == {"sports", "food_and_dining"}
    assert per_message[3]["sports"] == pytest.approx(per_message[3]["food_and_dining"])


def test_scoring_shuffles_once_and_only_after_the_keyword_join(spark, taxonomy) -> None:
    keywords = spark.createDataFrame(
        [("en", "trip", "travel", 1.0), ("en", "song", "music", 1.0)],
        "language_code string, term string, topic_name string, weight double",
    )
    # Not executed: the adaptive plan is still the initial one, every exchange visible.
    plan = _assign(spark, keywords, taxonomy, ["a trip", "a song"])._jdf.queryExecution()
    physical = plan.executedPlan().toString()
    assert physical.count("Exchange hashpartitioning(message_event_id") == 1, physical
    assert physical.count("Exchange hashpartitioning") == 1, physical
    # the shuffle sits above the broadcast join: only matched taxonomy terms cross it
    assert physical.index("Exchange hashpartitioning") < physical.index("BroadcastHashJoin"), physical


def test_quality_on_held_out_split_meets_targets(spark: SparkSession, taxonomy) -> None:
    bench = _bench()
    rows = bench.load_labeled("held_out")
    assert len(bench.load_labeled("all")) >= 400
    assert {row.topic for row in rows if row.topic} == set(bench.TOPIC_NAMES)
    measured = bench.quality(rows, bench.confidences(spark, taxonomy, rows))
    assert measured.top1_accuracy >= 0.85
    assert measured.small_talk_false_positive_rate <= 0.05


# --- the job ---------------------------------------------------------------------------------------

PLANTED = "zqxplantedtoken"
DEVICE = {
    "device_id": "dev-0000000001",
    "device_type": "phone",
    "platform": "ios",
    "app_version": "5.9.3",
    "os_version": "17.5",
    "network_type": "wifi",
}
# (message_id, event_id, conversation_id, user_id, second, text, message_type)
MESSAGES = [
    ("m_a1", "ev-a1", "c_direct", "u_1", 10, f"{PLANTED} booked the flight and hotel for our trip", "text"),
    ("m_a2", "ev-a2", "c_direct", "u_2", 20, f"{PLANTED} happy birthday!! 🎂", "text"),
    ("m_a3", "ev-a3", "c_direct", "u_1", 30, f"{PLANTED} ok", "text"),
    ("m_g1", "ev-g1", "c_group", "u_1", 40, f"{PLANTED} the rent is due, please venmo me", "text"),
    ("m_g2", "ev-g2", "c_group", "u_2", 50, None, "image"),
    # a retry of m_g1 logged later: not the winning event, so it must not count again
    ("m_g1", "ev-g1-retry", "c_group", "u_1", 55, f"{PLANTED} the rent is due, please venmo me", "text"),
]


def _event(event_id: str, event_type: str, second: int, user_id: str, **fields: object) -> str:
    ts = f"2026-11-01T10:00:{second:02d}.000Z"
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": event_id,
            "event_type": event_type,
            "server_ts": ts,
            "client_ts": ts,
            "user_id": user_id,
            "device": DEVICE,
            **fields,
        }
    )


def _write_landing(config: Config) -> None:
    lines = []
    for conversation_id, conversation_type in (("c_direct", "direct"), ("c_group", "group")):
        lines.append(
            _event(
                f"ev-create-{conversation_id}",
                "conversation_created",
                1,
                "u_1",
                conversation_id=conversation_id,
                conversation_type=conversation_type,
                conversation_name=None,
                is_encrypted=True,
                privacy_level="private",
                metadata=None,
            )
        )
        lines.append(
            _event(
                f"ev-join-{conversation_id}",
                "participant_joined",
                2,
                "u_2",
                conversation_id=conversation_id,
                role="member",
            )
        )
    for message_id, event_id, conversation_id, user_id, second, body, message_type in MESSAGES:
        lines.append(
            _event(
                event_id,
                "message_sent",
                second,
                user_id,
                message_id=message_id,
                conversation_id=conversation_id,
                message_type=message_type,
                text=body,
                media_count=0 if body else 1,
                size_bytes=100,
                seq=1,
                reply_to_message_id=None,
                metadata=None,
            )
        )
    folder = Path(config.landing_day_path(DAY.isoformat()))
    folder.mkdir(parents=True)
    (folder / "events-0.json").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _assignments(spark: SparkSession, config: Config) -> DataFrame:
    return storage.read(spark, config, "fact_message_derived_topics").drop("processed_timestamp")


def _confident_topics(spark: SparkSession, config: Config) -> DataFrame:
    """The assignments at confidence >= 0.7, with their topic's name."""
    return (
        _assignments(spark, config)
        .where(F.col("topic_confidence") >= topics.CONFIDENT)
        .join(storage.read(spark, config, "dim_topics"), on="topic_key", how="inner")
    )


@pytest.fixture()
def ingested(spark: SparkSession, tmp_path: Path, warehouse_template: Path) -> Config:
    # every message sampled, so the expected rows do not depend on the hash
    config = install_warehouse(warehouse_template, make_config(tmp_path, topics={"sample_rate": 1.0}))
    _write_landing(config)
    ingest.run_day(spark, config, DAY)
    return config


def test_a_message_whose_event_type_is_written_with_an_escape_is_still_a_candidate(
    spark: SparkSession, tmp_path: Path, warehouse_template: Path, taxonomy
) -> None:
    # topics parses only lines that can be message_sent events; JSON may spell the type
    # with \u escapes, and such a line is a valid message all the same
    config = install_warehouse(warehouse_template, make_config(tmp_path, topics={"sample_rate": 1.0}))
    _write_landing(config)
    landing = Path(config.landing_day_path(DAY.isoformat())) / "events-0.json"
    lines = landing.read_text(encoding="utf-8").splitlines()
    lines = [
        line.replace('"message_sent"', '"message\\u005fsent"') if '"ev-a1"' in line else line for line in lines
    ]
    escaped = next(line for line in lines if '"ev-a1"' in line)
    assert escaped.count("\\") == 1 and '"message_sent"' not in escaped
    landing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest.run_day(spark, config, DAY)

    counts = topics.run_day(spark, config, DAY, taxonomy)

    # five message lines with text (m_g1's retry among them), four messages sampled
    assert counts["lines_in_reach"] == 5 and counts["sampled"] == 4
    travel = (
        _confident_topics(spark, config)
        .where(F.col("message_event_id") == keys.surrogate_key(keys.MESSAGE, F.lit("m_a1")))
        .select("topic_name")
        .collect()
    )
    assert [row["topic_name"] for row in travel] == ["travel"]


def test_job_assigns_topics_idempotently_and_stores_no_text(spark, ingested, taxonomy) -> None:
    config = ingested
    counts = topics.run_day(spark, config, DAY, taxonomy)
    # m_g1's retry is a line with text but not its message's winning event: sampled once
    assert counts["lines_in_reach"] == 5 and counts["sampled"] == 4
    confident = (
        _confident_topics(spark, config)
        .select("message_event_id", "topic_name", "sample_rate", "date_key", "topic_extraction_version")
    )
    expected = spark.createDataFrame(
        [("m_a1", "travel"), ("m_a2", "celebrations"), ("m_g1", "money_and_payments")],
        "message_id string, topic_name string",
    ).select(
        keys.surrogate_key(keys.MESSAGE, "message_id").alias("message_event_id"),
        "topic_name",
        F.lit(1.0).alias("sample_rate"),
        F.lit(DATE_KEY).alias("date_key"),
        F.lit(taxonomy.version).alias("topic_extraction_version"),
    )
    assert sorted(confident.collect()) == sorted(expected.collect())

    first = _assignments(spark, config).localCheckpoint()
    topics.run_day(spark, config, DAY, taxonomy)
    assert_df_equality(first, _assignments(spark, config), ignore_row_order=True)

    dim = {r["topic_name"]: r for r in storage.read(spark, config, "dim_topics").collect()}
    # 3 of the 4 messages with text carry one confident topic each, all sampled at rate 1
    assert dim["travel"]["topic_prevalence"] == pytest.approx(0.25)
    assert dim["gaming"]["topic_prevalence"] == 0.0
    assert json.loads(dim["travel"]["topic_keywords"])["version"] == taxonomy.version
    assert dim["travel"]["topic_languages"] == "de,en,es,fr,pt"
    # each assignment records the language it was made in
    assert {r["language_code"] for r in _assignments(spark, config).collect()} == {"en"}

    leaked = [
        str(path)
        for path in Path(config.warehouse_path).rglob("*")
        if path.is_file() and PLANTED.encode() in path.read_bytes()
    ]
    assert leaked == []

    # a new keywords version adds its own rows; the old version's rows stay as they were
    raw = yaml.safe_load(topic_scoring.DEFAULT_KEYWORDS_PATH.read_text())
    raw["version"] = "kw-test"
    newer = topic_scoring.parse_taxonomy(raw)
    first_count = first.count()
    topics.run_day(spark, config, DAY, newer)
    versions = _assignments(spark, config).groupBy("topic_extraction_version").count().collect()
    assert {r["topic_extraction_version"]: r["count"] for r in versions} == {
        taxonomy.version: first_count,
        newer.version: first_count,
    }


def test_below_rate_one_the_sample_is_each_types_own_rate_after_the_early_cut(
    spark: SparkSession, tmp_path: Path, warehouse_template: Path, taxonomy
) -> None:
    # topics drops messages at or above the highest rate (here direct's 0.3) before it parses;
    # group's (the default) lower rate must still apply after it. Sample positions: m_a2 0.045, m_g1 0.222,
    # m_a1 0.280, m_a3 0.357, so m_g1 passes the early cut but not its own rate.
    positions = {
        row["message_id"]: row["position"]
        for row in spark.createDataFrame([(m[0],) for m in MESSAGES], "message_id string")
        .select("message_id", sampling.sample_position("message_id").alias("position"))
        .collect()
    }
    assert positions["m_a2"] < positions["m_g1"] < 0.3 and positions["m_g1"] > 0.2
    assert positions["m_a1"] < 0.3 < positions["m_a3"]
    config = install_warehouse(
        warehouse_template,
        make_config(tmp_path, topics={"sample_rate": 0.2, "sample_rate_by_type": {"direct": 0.3}}),
    )
    _write_landing(config)
    ingest.run_day(spark, config, DAY)

    counts = topics.run_day(spark, config, DAY, taxonomy)

    # m_a3's line is beyond reach and not parsed; m_g1's retry is parsed but not sampled
    assert counts["lines_in_reach"] == 4 and counts["sampled"] == 2
    confident = (
        _confident_topics(spark, config)
        .select("message_event_id", "topic_name", "sample_rate")
    )
    expected = spark.createDataFrame(
        [("m_a1", "travel"), ("m_a2", "celebrations")], "message_id string, topic_name string"
    ).select(
        keys.surrogate_key(keys.MESSAGE, "message_id").alias("message_event_id"),
        "topic_name",
        F.lit(0.3).alias("sample_rate"),
    )
    assert_df_equality(confident, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
