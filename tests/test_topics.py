"""Topic assignment: text normalization, calibrated keyword scoring, its measured quality on
the held-out labeled set, and the job end to end (idempotent, text-free warehouse)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from types import ModuleType

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms import text, topic_scoring
from tests.conftest import REPO

DAY = dt.date(2026, 11, 1)
DATE_KEY = 20261101


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("topics_eval", REPO / "bench" / "topics_eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["topics_eval"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def taxonomy() -> topic_scoring.Taxonomy:
    return topic_scoring.load_taxonomy()


@pytest.fixture(scope="module")
def keywords(spark: SparkSession, taxonomy: topic_scoring.Taxonomy) -> DataFrame:
    return topic_scoring.keyword_table(spark, taxonomy).cache()


def _assign(spark: SparkSession, keywords: DataFrame, taxonomy, texts: list[str]) -> DataFrame:
    messages = spark.createDataFrame(list(enumerate(texts)), "message_event_id long, text string")
    return messages.transform(topic_scoring.assign_topics(keywords, taxonomy.calibration))


# --- text -------------------------------------------------------------------------------------


def test_normalization_folds_case_accents_punctuation_emoji_and_plurals(
    spark: SparkSession,
) -> None:
    texts = spark.createDataFrame(
        [
            (1, "Feliz CUMPLEAÑOS, mi amor!! 🎂🎉"),
            (2, "Booked the hotels; Mom’s flights are cheaper"),
            (3, "🎉🎉"),
            (4, None),
        ],
        "id int, t string",
    )
    result = texts.select(
        "id", text.normalize(F.col("t")).alias("n"), text.tokens(F.col("t")).alias("w")
    )
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
    assert sorted(row["terms"]) == sorted(
        ["leagu", "of", "legend", "leagu of", "of legend", "leagu of legend"]
    )


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

    assert {topic for topic, _, _ in taxonomy.terms} == set(TOPIC_NAMES)
    raw = __import__("yaml").safe_load(topic_scoring.DEFAULT_KEYWORDS_PATH.read_text())
    assert topic_scoring.parse_taxonomy(raw).version == taxonomy.version
    raw["topics"]["music"]["strong"].append("theremin")
    changed = topic_scoring.parse_taxonomy(raw)
    assert changed.version != taxonomy.version
    assert changed.version.split("+")[0] == taxonomy.version.split("+")[0]
    document = json.loads(changed.keywords_json("music"))
    assert document["version"] == changed.version
    assert document["terms"]["theremin"] == 1.0


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
        [("trip", "travel", 1.0), ("song", "music", 1.0)],
        "term string, topic_name string, weight double",
    )
    # Not executed: the adaptive plan is still the initial one, every exchange visible.
    plan = _assign(spark, keywords, taxonomy, ["a trip", "a song"])._jdf.queryExecution()
    physical = plan.executedPlan().toString()
    assert physical.count("Exchange hashpartitioning(message_event_id") == 1, physical
    assert physical.count("Exchange hashpartitioning") == 1, physical
    # the shuffle sits above the broadcast join: only matched taxonomy terms cross it
    assert physical.index("Exchange hashpartitioning") < physical.index("BroadcastHashJoin"), (
        physical
    )


def test_quality_on_held_out_split_meets_targets(spark: SparkSession, taxonomy) -> None:
    bench = _bench()
    rows = bench.load_labeled("held_out")
    assert len(bench.load_labeled("all")) >= 400
    assert {row.topic for row in rows if row.topic} == set(bench.TOPIC_NAMES)
    measured = bench.quality(rows, bench.confidences(spark, taxonomy, rows))
    assert measured.top1_accuracy >= 0.85
    assert measured.small_talk_false_positive_rate <= 0.05
