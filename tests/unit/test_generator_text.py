"""The generator's text in five languages: each (language, topic) draws from its own lists, and
English draws what it drew before the other languages (the pick rule written out again here)."""

from __future__ import annotations

import math

from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.generator import text
from schemas.topics import TOPIC_NAMES

# uniforms across [0, 1), both ends of every list included
UNIFORMS = [k / 23 for k in range(23)] + [0.999999]


def _at(values: tuple[str, ...], uniform: float) -> str:
    """The element `uniform` falls on: floor(u * n), as the English lists were always read."""
    return values[min(math.floor(uniform * len(values)), len(values) - 1)]


def _sentence(code: str, topic: str, uniform: float) -> str:
    vocabulary = text.VOCABULARIES[code]
    templates, a_words, b_words = vocabulary.topics[topic]
    return (_at(templates, uniform).replace("{a}", _at(a_words, uniform))
            .replace("{b}", _at(b_words, uniform)).replace("{when}", _at(vocabulary.when, uniform))
            .replace("{who}", _at(text.WHO, uniform)).replace("{n}", str(math.floor(uniform * 8) + 2)))


def test_each_language_and_topic_draws_from_its_own_lists(spark: SparkSession) -> None:
    rows = [(n, t, u) for n in range(len(text.LANGUAGES)) for t in range(len(TOPIC_NAMES))
            for u in UNIFORMS]
    frame = spark.createDataFrame(rows, "language int, topic int, u double")
    u = F.col("u")
    actual = frame.select(
        "language", "topic", "u",
        text.topic_sentence(F.col("language"), F.col("topic"), u, u, u, u, u, u).alias("sentence"),
        text.small_talk(F.col("language"), u).alias("small_talk"),
        text.prefix(F.col("language"), u).alias("prefix"),
        text.suffix(F.col("language"), u).alias("suffix"),
        text.caption(F.col("language"), u).alias("caption"),
    )
    expected = []
    for n, t, uniform in rows:
        code = text.LANGUAGES[n]
        vocabulary = text.VOCABULARIES[code]
        expected.append((n, t, uniform, _sentence(code, TOPIC_NAMES[t], uniform),
                         _at(vocabulary.small_talk, uniform), _at(vocabulary.prefixes, uniform),
                         _at(vocabulary.suffixes, uniform), _at(vocabulary.captions, uniform)))
    assert_df_equality(
        actual,
        spark.createDataFrame(expected, "language int, topic int, u double, sentence string, "
                                        "small_talk string, prefix string, suffix string, caption string"),
        ignore_row_order=True, ignore_nullable=True,
    )


def test_english_is_the_first_language_and_keeps_its_lists() -> None:
    assert text.LANGUAGES[0] == "en"
    english = text.VOCABULARIES["en"]
    assert english.topics is text.TOPIC_PHRASES
    assert (english.small_talk, english.when, english.prefixes, english.suffixes, english.captions) == (
        text.SMALL_TALK, text.WHEN, text.PREFIXES, text.SUFFIXES, text.CAPTIONS)


def test_every_language_has_its_own_templates_with_known_placeholders() -> None:
    english = {t for templates, _, _ in text.TOPIC_PHRASES.values() for t in templates}
    for code in text.LANGUAGES:
        for topic, (templates, a_words, b_words) in text.VOCABULARIES[code].topics.items():
            assert templates and a_words and b_words, (code, topic)
            for template in templates:
                rest = template
                for placeholder in ("{a}", "{b}", "{when}", "{who}", "{n}"):
                    rest = rest.replace(placeholder, "")
                assert "{" not in rest and "}" not in rest, (code, template)
                assert code == "en" or template not in english, (code, template)
