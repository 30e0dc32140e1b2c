"""Text normalization and tokenizing for topic assignment, with Spark's built-in functions only.

The same functions normalize message text and the taxonomy's keywords, so a keyword matches
every spelling that normalizes like it: case, accents, punctuation, emoji and regular English
plural and -ing/-ed endings do not matter.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# Spark has no unaccent: fold the common Latin accented letters one to one with translate.
# Letters that fold to two (ß, æ, œ, ø...) are rewritten with regexp_replace first.
ACCENTED = "àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżž"
FOLDED = "aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnoooooooorrrsssstttuuuuuuuuuuwyyyzzz"
MULTI_LETTER_FOLDS = (("ß", "ss"), ("æ", "ae"), ("œ", "oe"), ("ø", "o"), ("þ", "th"))

# Apostrophes join their word ("don't" -> "dont", "mom's" -> "moms" -> "mom").
APOSTROPHES = "['\u2019`\u00b4]"  # ', right single quote, grave, acute
# After folding, anything but ASCII letters and digits separates words: punctuation, emoji,
# symbols and scripts the taxonomy has no terms in.
NON_WORD = "[^a-z0-9]+"
# slice() needs a length: more words than any message has
MAX_WORDS = 1 << 20

# Light stemming, applied in order to each token (Java regex, as regexp_replace takes):
STEM_RULES: tuple[tuple[str, str], ...] = (
    # plural/3rd person -s, but not -ss, -us ("glass", "bus") nor very short words ("yes")
    (r"^(.{2,}[^su])s$", "$1"),
    # doubled consonant before -ing/-ed: "shopping" -> "shop", "planned" -> "plan"
    (r"^(.{2,}?)([bdgmnprt])\2(ing|ed)$", "$1$2"),
    # -ing/-ed with a stem of three letters or more: "booking" -> "book", "called" -> "call"
    (r"^(.{3,}?)(ing|ed)$", "$1"),
    # final silent e: "movie(s)" and "game(s)/gaming" meet at "movi", "gam"
    (r"^(.{3,})e$", "$1"),
    # final y as i: "party" and "parties" -> "parti"
    (r"^(.{2,})y$", "$1i"),
)


def fold_accents(text: Column) -> Column:
    folded = F.lower(text)
    for letter, replacement in MULTI_LETTER_FOLDS:
        folded = F.regexp_replace(folded, letter, replacement)
    return F.translate(folded, ACCENTED, FOLDED)


def normalize(text: Column) -> Column:
    """Lowercase, accents folded, apostrophes dropped, everything else but [a-z0-9] a space."""
    without_apostrophes = F.regexp_replace(fold_accents(text), APOSTROPHES, "")
    return F.trim(F.regexp_replace(without_apostrophes, NON_WORD, " "))


def stem(token: Column) -> Column:
    for pattern, replacement in STEM_RULES:
        token = F.regexp_replace(token, pattern, replacement)
    return token


def tokens(text: Column) -> Column:
    """The stemmed words of `text`, in order (an empty array for empty or emoji-only text)."""
    words = F.filter(F.split(normalize(text), " "), lambda word: word != "")
    return F.transform(words, stem)


def terms(text: Column) -> Column:
    """Distinct matchable terms of `text`: its stemmed words and its two- and three-word phrases."""
    words = tokens(text)
    rest = F.slice(words, 2, MAX_WORDS)
    # zip_with pads the shorter array with nulls, which concat_ws skips: a padded pair or
    # triple has fewer words than it should and is dropped by the word count check.
    pairs = F.zip_with(words, rest, lambda a, b: F.concat_ws(" ", a, b))
    triples = F.zip_with(pairs, F.slice(words, 3, MAX_WORDS), lambda ab, c: F.concat_ws(" ", ab, c))
    pairs = F.filter(pairs, lambda pair: F.size(F.split(pair, " ")) == 2)
    triples = F.filter(triples, lambda triple: F.size(F.split(triple, " ")) == 3)
    return F.array_distinct(F.concat(words, pairs, triples))


def phrase(text: Column) -> Column:
    """A keyword in matchable form: its stemmed words joined by single spaces."""
    return F.array_join(tokens(text), " ")
