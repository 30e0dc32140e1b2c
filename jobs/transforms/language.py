"""The language of a message's text, identified in flight (analytics.md, "Languages").

`language_code(text)` is the ISO 639-1 code of the text, `und` when the text has too few letters
or the identifier is not confident, and null without text. Built-in functions clean the text
(ids, numbers, links, mentions, emoji say nothing about the language) and decide what is too
short; only what is left goes to the identifier, py3langid (BSD-3, its naive Bayes model of byte
n-grams ships inside the package: nothing is downloaded at run time), in a vectorized pandas UDF.
bench/LANGUAGE_ID.md says why py3langid, and how fast and accurate it is.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

UNDETERMINED = "und"
IDENTIFIER_VERSION = "py3langid-0.4"
# The languages the identifier chooses among. All 97 of py3langid's models confuse short chat
# messages with rare languages ("pizza tonight?" as Maltese, "thanks!" as Xhosa); this set is
# the twenty most spoken languages (analytics.md's bar) and the other languages with tens of
# millions of speakers or a large share of the web, each with an ISO 639-1 code.
LANGUAGES: tuple[str, ...] = (
    # the twenty most spoken that have an ISO 639-1 code
    "en", "zh", "hi", "es", "fr", "ar", "bn", "pt", "ru", "ur",
    "id", "de", "ja", "mr", "te", "tr", "ta", "vi", "ko", "it",
    # other large or web-heavy languages
    "pa", "gu", "kn", "ml", "fa", "pl", "uk", "nl", "ro", "el", "cs", "sv", "hu", "he",
    "th", "ms", "tl", "sw", "fi", "da", "no", "sk", "bg", "hr", "sr", "ca", "az", "uz",
    "am", "ha", "yo", "ne", "si", "my", "km",
)
# py3langid labels some Chinese and Arabic varieties with ISO 639-3 codes; ISO 639-1 has one
# code for each macrolanguage.
ALIASES = {"yue": "zh", "wuu": "zh", "ary": "ar", "arz": "ar"}
# Below this many letters (after cleaning) a text is `und` without asking: "ok", "lol", "👍".
MIN_LETTERS = 4
# py3langid's probability (normalized over LANGUAGES) below which the answer is `und`. Its
# softmax is tempered by sqrt(bytes), so short texts get modest probabilities even when right:
# at 0.2, a fifth of right answers on 8-19 character catalog strings would be lost below 0.35.
MIN_CONFIDENCE = 0.2

# Tokens that carry no language: links, @mentions, #tags, and any word with a digit (ids,
# times, amounts, "2-2", "5k"). Java regex, for regexp_replace.
NO_LANGUAGE = r"(?:https?://|www\.)\S+|[@#]\S+|\S*\d\S*"
# Anything that is neither a letter, a combining mark nor an apostrophe separates words.
SEPARATORS = r"[^\p{L}\p{M}']+"


@functools.cache
def _identifier() -> Any:
    """py3langid's model, loaded once per Python worker (a fraction of a second)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([*LANGUAGES, *ALIASES])
    return identifier


def identify(text: str | None) -> str | None:
    """The ISO 639-1 code of cleaned text, `und` below MIN_CONFIDENCE; None for None."""
    if text is None:
        return None
    code, probability = _identifier().classify(text)
    if probability < MIN_CONFIDENCE:
        return UNDETERMINED
    return ALIASES.get(code, code)


def identify_all(texts: pd.Series) -> pd.Series:
    """`identify` over a batch (what the pandas UDF runs on an executor)."""
    return pd.Series([identify(t) for t in texts.where(texts.notna(), None)], dtype=object)


_identify_udf = F.pandas_udf(identify_all, T.StringType())  # type: ignore[call-overload]


def cleaned(text: Column) -> Column:
    """The words of `text` that say something about its language, single-spaced."""
    without_tokens = F.regexp_replace(text, NO_LANGUAGE, " ")
    return F.trim(F.regexp_replace(without_tokens, SEPARATORS, " "))


def letter_count(text: Column) -> Column:
    return F.length(F.regexp_replace(text, r"[^\p{L}]", ""))


def language_code(text: Column) -> Column:
    """ISO 639-1 code of `text`; `und` if too short or not confident; null for null."""
    words = cleaned(text)
    enough = letter_count(words) >= MIN_LETTERS
    # The UDF sees null for every row it need not classify, and answers it at once.
    identified = _identify_udf(F.when(enough, words))
    return F.when(text.isNull(), F.lit(None).cast("string")).when(~enough, F.lit(UNDETERMINED)).otherwise(
        identified
    )
