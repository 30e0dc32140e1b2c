"""No keyword of the taxonomy normalizes to one of its language's most common words: such a
term would match nearly every message in that language (a German "Nichte" stemmed to "nicht")."""

from __future__ import annotations

from pathlib import Path

import yaml
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.transforms import text, topic_scoring

COMMON_WORDS = Path(__file__).resolve().parents[1] / "data" / "common_words.yaml"


def test_no_keyword_is_a_common_word_of_its_language(spark: SparkSession) -> None:
    taxonomy = topic_scoring.load_taxonomy()
    common = yaml.safe_load(COMMON_WORDS.read_text(encoding="utf-8"))
    assert set(common) == set(taxonomy.languages)
    common_words = (
        spark.createDataFrame(
            [(language, word) for language, words in common.items() for word in words],
            "language_code string, word string",
        )
        .select("language_code", F.explode(text.tokens(F.col("word"))).alias("term"))
        .distinct()
    )
    clashes = (
        topic_scoring.keyword_table(spark, taxonomy)
        .join(common_words, on=["language_code", "term"], how="inner")
        .select("language_code", "term", "topic_name")
        .orderBy("language_code", "term", "topic_name")
        .collect()
    )
    assert [tuple(row) for row in clashes] == []
