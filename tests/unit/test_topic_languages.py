"""Topics per language: a message is scored against its own language's terms; `und` against every
language's, in the one it matches best; a language without terms gets no assignment."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.transforms import topic_scoring

RAW = {
    "version": "kw-test",
    "weights": {"strong": 1.0, "medium": 0.55, "weak": 0.25},
    "calibration": {"temperature": 0.08, "none_score": 0.66, "min_confidence": 0.3},
    "topics": {
        "travel": {"en": {"strong": ["flight"]}, "es": {"strong": ["vuelo"]}, "de": {"strong": ["flug"]}},
        "food_and_dining": {"en": {"strong": ["dinner"]}, "es": {"strong": ["cena"]}},
        "money_and_payments": {"en": {"strong": ["rent"]}, "de": {"strong": ["miete"], "medium": ["rent"]}},
    },
}


def _taxonomy() -> topic_scoring.Taxonomy:
    # the other 13 topics with one English term each: parse_taxonomy wants all 16
    from schemas.topics import TOPIC_NAMES

    raw = {**RAW, "topics": dict(RAW["topics"])}
    for name in TOPIC_NAMES:
        raw["topics"].setdefault(name, {"en": {"strong": [f"term for {name}"]}})
    return topic_scoring.parse_taxonomy(raw)


def test_each_message_is_scored_in_its_own_language(spark: SparkSession) -> None:
    taxonomy = _taxonomy()
    keywords = topic_scoring.keyword_table(spark, taxonomy)
    messages = spark.createDataFrame(
        [
            (1, "our flight leaves at six", "en"),
            (2, "el vuelo sale a las seis", "es"),
            (3, "der Flug geht um sechs", "de"),
            # "cena" is a Spanish term: not matched in an English message
            (4, "a cena in the old town", "en"),
            # Dutch has no terms: no assignment, even with an English word in it
            (5, "de flight vertrekt om zes", "nl"),
            # undetermined: the one language whose terms it matches best (German: miete 1.0 +
            # rent 0.55 beats English: rent 1.0)
            (6, "miete rent", "und"),
            (7, "vuelo", "und"),
            (8, None, None),
        ],
        "message_event_id long, text string, language_code string",
    )
    scored = messages.transform(topic_scoring.topic_scores(keywords)).select(
        "message_event_id", "language_code", "topic_name", "score"
    )
    expected = spark.createDataFrame(
        [
            (1, "en", "travel", 1.0),
            (2, "es", "travel", 1.0),
            (3, "de", "travel", 1.0),
            (6, "de", "money_and_payments", 1.55),
            (7, "es", "travel", 1.0),
        ],
        "message_event_id long, language_code string, topic_name string, score double",
    )
    assert_df_equality(scored, expected, ignore_row_order=True, ignore_nullable=True)


def test_assignments_keep_the_language_and_confidences_stay_calibrated(spark: SparkSession) -> None:
    taxonomy = _taxonomy()
    keywords = topic_scoring.keyword_table(spark, taxonomy)
    messages = spark.createDataFrame(
        [(1, "cena y vuelo", "es"), (2, "dinner", "en")],
        "message_event_id long, text string, language_code string",
    )
    assigned = messages.transform(topic_scoring.assign_topics(keywords, taxonomy.calibration))
    rows = {(r["message_event_id"], r["topic_name"]): r for r in assigned.collect()}
    assert set(rows) == {(1, "travel"), (1, "food_and_dining"), (2, "food_and_dining")}
    assert {r["language_code"] for (m, _), r in rows.items() if m == 1} == {"es"}
    # equal evidence in two topics is shared, below the confident 0.7
    assert rows[(1, "travel")]["topic_confidence"] == rows[(1, "food_and_dining")]["topic_confidence"] < 0.7
    assert rows[(2, "food_and_dining")]["topic_confidence"] >= 0.7


def test_keyword_table_and_dim_topics_languages(spark: SparkSession) -> None:
    taxonomy = _taxonomy()
    table = topic_scoring.keyword_table(spark, taxonomy).where(F.col("topic_name") == "money_and_payments")
    expected = spark.createDataFrame(
        [("en", "rent", "money_and_payments", 1.0), ("de", "miet", "money_and_payments", 1.0),
         ("de", "rent", "money_and_payments", 0.55)],
        "language_code string, term string, topic_name string, weight double",
    )
    assert_df_equality(table, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True)
    assert taxonomy.languages == ("de", "en", "es")
    assert taxonomy.topic_languages("travel") == ("de", "en", "es")
    assert taxonomy.topic_languages("food_and_dining") == ("en", "es")
    assert taxonomy.topic_languages("music") == ("en",)
