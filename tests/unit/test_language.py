"""language_code in flight: ISO 639-1 codes, `und` for short or unsure text, null without text."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.transforms import events as ev
from jobs.transforms import language


def test_language_code_of_messages_in_many_languages(spark: SparkSession) -> None:
    rows = [
        ("the cast of that soap opera is great", "en"),
        ("nos vemos mañana en la playa, ¿vale?", "es"),
        ("Hast du morgen Zeit für ein Meeting?", "de"),
        ("on se voit demain au resto pour le dîner ?", "fr"),
        ("valeu pela ajuda, até amanhã no escritório", "pt"),
        ("Завтра встречаемся в кафе у вокзала", "ru"),  # noqa: RUF001 (Cyrillic on purpose)
        ("明日は会議があります", "ja"),
        ("我们明天一起去吃饭吧", "zh"),
        ("내일 저녁에 같이 영화 보러 갈래요?", "ko"),
        ("हम कल सुबह बाज़ार चलेंगे", "hi"),
        # ids, numbers, links and emoji say nothing: the words decide
        ("zqx3ebfac72d5 the pharmacy had my allergy pills ready 🙈 https://x.example/a1", "en"),
        ("@marta #viaje el vuelo sale a las 7:45 desde la terminal 2 ✈️", "es"),
    ]
    frame = spark.createDataFrame(rows, "text string, expected string")
    actual = frame.select("text", language.language_code(F.col("text")).alias("language_code"))
    assert_df_equality(
        actual, frame.select("text", F.col("expected").alias("language_code")), ignore_nullable=True
    )


def test_short_text_is_undetermined_and_no_text_is_null(spark: SparkSession) -> None:
    rows = [
        ("ok", "und"),  # fewer than MIN_LETTERS letters
        ("👍👍🎉", "und"),
        ("zqx3627119300 lol", "und"),  # the id is not a word: three letters are left
        ("12:30 @ana 50€", "und"),
        ("", "und"),
        ("thanks", "und"),  # letters enough, but the identifier is not confident
        (None, None),
    ]
    frame = spark.createDataFrame(rows, "text string, expected string")
    actual = frame.select("text", language.language_code(F.col("text")).alias("language_code"))
    assert_df_equality(
        actual, frame.select("text", F.col("expected").alias("language_code")), ignore_nullable=True
    )


def test_cleaning_keeps_words_and_drops_what_has_no_language(spark: SparkSession) -> None:
    rows = [
        ("zqxc2e162af90 Started a new diet, no more sugar 😂", "Started a new diet no more sugar"),
        ("see https://example.org/x?y=1 and www.example.com now", "see and now"),
        ("@bob #gym ran 10k at 7am, it's 2-2!", "ran at it's"),
        ("Ça coûte 20 €, d'accord ?", "Ça coûte d'accord"),
    ]
    frame = spark.createDataFrame(rows, "text string, expected string")
    actual = frame.select("text", language.cleaned(F.col("text")).alias("words"))
    assert_df_equality(actual, frame.select("text", F.col("expected").alias("words")), ignore_nullable=True)


def test_identify_maps_varieties_to_iso_639_1_and_abstains_when_unsure() -> None:
    assert language.identify(None) is None
    assert language.identify("這個週末我們去飲茶好唔好") == "zh"  # Cantonese, yue for py3langid
    assert language.identify("asdf qwer zxcv") == language.UNDETERMINED
    assert all(len(code) == 2 for code in language.LANGUAGES)
    assert set(language.ALIASES.values()) <= set(language.LANGUAGES)


def test_text_features_keep_the_language_and_drop_the_text(spark: SparkSession) -> None:
    rows = [("e1", "what a goal in the second half 🎉"), ("e2", None), ("e3", "ok")]
    frame = spark.createDataFrame(rows, "event_id string, text string")
    actual = frame.transform(ev.with_text_features).select("event_id", "has_text", "language_code")
    expected = spark.createDataFrame(
        [("e1", True, "en"), ("e2", False, None), ("e3", True, "und")],
        "event_id string, has_text boolean, language_code string",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)
    assert "text" not in frame.transform(ev.with_text_features).columns
