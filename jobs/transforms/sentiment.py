"""A lexicon sentiment score in [-1, 1] from message text, computed in flight.

Words and emoji carry weights; the score is tanh of the summed weights scaled by the message
length, so a long neutral message with one positive word stays near 0. Built-in functions
only: the lexicon is a literal map and the sum a higher-order `aggregate`, so no shuffle and
no Python on the executors.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

POSITIVE = {
    "good": 1.0, "great": 1.5, "awesome": 2.0, "amazing": 2.0, "love": 1.5, "loved": 1.5,
    "like": 0.5, "nice": 1.0, "happy": 1.5, "glad": 1.0, "thanks": 1.0, "thank": 1.0,
    "cool": 1.0, "fun": 1.0, "best": 1.5, "excellent": 2.0, "perfect": 1.5, "wonderful": 2.0,
    "congrats": 1.5, "congratulations": 1.5, "yay": 1.5, "lol": 0.5, "haha": 0.5, "hahaha": 0.5,
    "enjoy": 1.0, "enjoyed": 1.0, "beautiful": 1.5, "fantastic": 2.0, "excited": 1.5, "sure": 0.3,
    "welcome": 0.5, "delicious": 1.5, "win": 1.0, "won": 1.0, "yes": 0.3, "super": 1.0,
    "genial": 1.0, "gracias": 1.0, "merci": 1.0, "danke": 1.0, "bien": 0.5, "bueno": 0.5,
}
NEGATIVE = {
    "bad": -1.0, "terrible": -2.0, "awful": -2.0, "hate": -1.5, "hated": -1.5, "sad": -1.5,
    "angry": -1.5, "sorry": -0.5, "annoying": -1.0, "annoyed": -1.0, "worst": -2.0, "boring": -1.0,
    "sick": -1.0, "ill": -0.8, "tired": -0.8, "late": -0.5, "problem": -0.8, "problems": -0.8,
    "broken": -1.0, "fail": -1.0, "failed": -1.0, "lost": -1.0, "lose": -1.0, "wrong": -1.0,
    "ugh": -1.0, "no": -0.3, "not": -0.3, "never": -0.5, "cancelled": -0.8, "canceled": -0.8,
    "delayed": -0.8, "expensive": -0.5, "bug": -0.5, "crash": -1.0, "crashed": -1.0, "hurt": -1.0,
    "worried": -1.0, "stress": -1.0, "stressed": -1.0, "mal": -0.5, "triste": -1.5,
}
POSITIVE_EMOJI = "😀😃😄😁😆😊🙂😍🥰😘👍🎉❤💕🙌👏😂🤣✨🥳"
NEGATIVE_EMOJI = "😞😢😭😠😡👎💔😩😫😤🙁☹😱"
EMOJI_WEIGHT = 1.0
# Saturation: the summed weight per sqrt(word) at which the score reaches tanh(1) = 0.76.
SCALE = 1.5
WORD_SPLIT = r"[^\p{L}\p{N}']+"


def sentiment_score(text: Column) -> Column:
    """tanh(Σ weights / (SCALE * sqrt(words + 1))); 0 for empty or neutral text; null for null."""
    lexicon = F.create_map(*[F.lit(x) for pair in {**POSITIVE, **NEGATIVE}.items() for x in pair])
    words = F.filter(F.split(F.lower(text), WORD_SPLIT), lambda word: word != "")
    word_total = F.aggregate(
        words, F.lit(0.0), lambda total, word: total + F.coalesce(F.element_at(lexicon, word), F.lit(0.0))
    )
    positive_emoji = F.length(text) - F.length(F.regexp_replace(text, f"[{POSITIVE_EMOJI}]", ""))
    negative_emoji = F.length(text) - F.length(F.regexp_replace(text, f"[{NEGATIVE_EMOJI}]", ""))
    total = word_total + (positive_emoji - negative_emoji) * EMOJI_WEIGHT
    return F.when(
        text.isNotNull(),
        F.round(F.tanh(total / (F.lit(SCALE) * F.sqrt(F.size(words) + 1))), 4),
    )
