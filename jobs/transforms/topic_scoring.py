"""Topic assignment by a weighted keyword taxonomy, with calibrated confidences.

A message's score for a topic is the sum of the weights of the taxonomy terms (words or
phrases, after normalization) of the message's language that occur in it; a message in a
language without terms scores nothing. Scores become confidences by a
softmax over the topics plus a "no topic" option of fixed score:

    confidence(t) = exp(score_t / T) / (exp(none_score / T) + sum_j exp(score_j / T))

so a confidence is in [0, 1], a message's confidences sum to at most 1, one strong term alone
is confident, a lone weak term is not, and two topics with equal evidence share it. The
temperature T and none_score are fitted on the training split of the labeled set
(bench/topics_eval.py --tune) and stored with the keywords.

The taxonomy file is read on the driver (`load_taxonomy`); Spark gets it as a small table.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.transforms import text
from jobs.transforms.language import UNDETERMINED
from schemas.topics import TOPIC_NAMES

DEFAULT_KEYWORDS_PATH = Path(__file__).resolve().parents[2] / "conf" / "topics" / "keywords.yaml"
CONFIDENT = 0.7  # the confidence the design's reports count an assignment from
PHRASE_BONUS = 0.5  # extra weight of each word of a phrase after its first
LANGUAGE_CODE = re.compile(r"[a-z]{2}")  # the taxonomy's languages: ISO 639-1 codes


@dataclass(frozen=True)
class Calibration:
    temperature: float
    none_score: float
    min_confidence: float  # assignments below it are not stored


@dataclass(frozen=True)
class Taxonomy:
    version: str  # the file's `version` plus a hash of its content
    method: str
    # (language_code, topic_name, term as written, weight); a term listed in several tiers of
    # the same topic and language keeps its highest weight
    terms: tuple[tuple[str, str, str, float], ...]
    calibration: Calibration

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages with terms, sorted."""
        return tuple(sorted({language for language, _, _, _ in self.terms}))

    def topic_languages(self, topic_name: str) -> tuple[str, ...]:
        """The languages in which `topic_name` has terms (dim_topics.topic_languages)."""
        return tuple(sorted({language for language, topic, _, _ in self.terms if topic == topic_name}))

    def keywords_json(self, topic_name: str) -> str:
        """dim_topics.topic_keywords: the topic's weighted terms per language and the version
        they belong to."""
        per_language: dict[str, dict[str, float]] = {}
        for language, topic, term, weight in self.terms:
            if topic == topic_name:
                per_language.setdefault(language, {})[term] = weight
        return json.dumps(
            {
                "version": self.version,
                "method": self.method,
                "languages": list(self.topic_languages(topic_name)),
                "terms": {lang: dict(sorted(t.items())) for lang, t in sorted(per_language.items())},
            },
            sort_keys=True,
            ensure_ascii=False,
        )


def parse_taxonomy(raw: dict) -> Taxonomy:
    tier_weights = {str(tier): float(weight) for tier, weight in raw["weights"].items()}
    topics = raw["topics"]
    unknown = sorted(set(topics) - set(TOPIC_NAMES))
    missing = sorted(set(TOPIC_NAMES) - set(topics))
    if unknown or missing:
        raise ValueError(
            f"keyword taxonomy: unknown topics {unknown}, topics without terms {missing}"
        )
    best: dict[tuple[str, str, str], float] = {}
    for topic_name, languages in topics.items():
        for language, tiers in languages.items():
            if not (isinstance(language, str) and LANGUAGE_CODE.fullmatch(language)):
                raise ValueError(
                    f"keyword taxonomy: topic {topic_name} has '{language}', not an ISO 639-1 code"
                )
            for tier, tier_terms in tiers.items():
                if tier not in tier_weights:
                    raise ValueError(
                        f"keyword taxonomy: topic {topic_name} ({language}) has unknown tier '{tier}'"
                    )
                for term in tier_terms:
                    key = (language, topic_name, str(term).strip().lower())
                    best[key] = max(best.get(key, 0.0), tier_weights[tier])
    terms = tuple((language, topic, term, weight) for (language, topic, term), weight in sorted(best.items()))
    calibration_raw = raw["calibration"]
    calibration = Calibration(
        temperature=float(calibration_raw["temperature"]),
        none_score=float(calibration_raw["none_score"]),
        min_confidence=float(calibration_raw["min_confidence"]),
    )
    content = json.dumps({"terms": terms, "calibration": calibration_raw}, sort_keys=True)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:10]
    return Taxonomy(
        version=f"{raw['version']}+{digest}",
        method=str(raw.get("method", "weighted_keywords")),
        terms=terms,
        calibration=calibration,
    )


def load_taxonomy(path: str | Path = DEFAULT_KEYWORDS_PATH) -> Taxonomy:
    """Read the curated keyword file (on the driver)."""
    return parse_taxonomy(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def keyword_table(spark: SparkSession, taxonomy: Taxonomy) -> DataFrame:
    """(language_code, term, topic_name, weight) with terms in matchable form, one row per
    language, term and topic."""
    raw = spark.createDataFrame(
        list(taxonomy.terms),
        "language_code string, topic_name string, written string, weight double",
    )
    term = text.phrase(F.col("written"))
    words = F.size(F.split(F.col("term"), " "))
    return (
        raw.select("language_code", "topic_name", term.alias("term"), "weight")
        .where(F.col("term") != "")
        # A phrase is stronger evidence than each of its words: "transfer window" must beat
        # "transfer" (money) for sports, so each word after the first adds half its weight.
        .withColumn("weight", F.col("weight") * (F.lit(1.0) + PHRASE_BONUS * (words - 1)))
        # two written forms may normalize alike ("party", "parties"): count the term once
        .groupBy("language_code", "term", "topic_name")
        .agg(F.max("weight").alias("weight"))
    )


def topic_scores(
    keywords: DataFrame, text_column: str = "text", carry: Sequence[str] = ()
) -> Callable[[DataFrame], DataFrame]:
    """messages(message_event_id, text, language_code, *carry)
    -> (message_event_id, *carry, language_code, topic_name, score).

    Only messages with at least one matching term of their language (of any language, for a
    message whose language is `und`) get rows, all in one language. Text leaves the
    frame at the first projection; what is shuffled afterwards is matched taxonomy terms and
    ids only.
    """

    def transform(messages: DataFrame) -> DataFrame:
        message_language = F.col("message_language")
        scores = (
            messages.select(
                "message_event_id",
                *carry,
                F.col("language_code").alias("message_language"),
                F.explode(text.terms(F.col(text_column))).alias("term"),
            )
            .join(F.broadcast(keywords), on="term", how="inner")
            # A message's own language's terms; a language without terms matches nothing. A
            # message whose language is undetermined (short, or the identifier unsure) may
            # match the terms of every language, and is scored in the one it matches best.
            .where((F.col("language_code") == message_language) | (message_language == UNDETERMINED))
            .drop("message_language")
            # One shuffle by message serves the sums, the choice of language and the softmax.
            .repartition("message_event_id")
            .groupBy("message_event_id", *carry, "language_code", "topic_name")
            .agg(F.sum("weight").alias("score"))
        )
        per_language = Window.partitionBy("message_event_id", "language_code")
        # the best language: the largest total score, ties to the smaller code (deterministic)
        languages_ranked = (
            Window.partitionBy("message_event_id")
            .orderBy(F.col("language_score").desc(), F.col("language_code"))
            .rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
        )
        return (
            scores.withColumn("language_score", F.sum("score").over(per_language))
            .withColumn("best_language", F.first("language_code").over(languages_ranked))
            .where(F.col("language_code") == F.col("best_language"))
            .drop("language_score", "best_language")
        )

    return transform


def calibrated(calibration: Calibration) -> Callable[[DataFrame], DataFrame]:
    """(message_event_id, topic_name, score, ...) -> ... + topic_confidence, weak ones dropped."""

    def transform(scores: DataFrame) -> DataFrame:
        per_message = Window.partitionBy("message_event_id")
        # Shift by the message's largest score (at least none_score) so exp never overflows.
        shift = F.greatest(F.max("score").over(per_message), F.lit(calibration.none_score))
        temperature = F.lit(calibration.temperature)
        evidence = F.exp((F.col("score") - F.col("shift")) / temperature)
        no_topic = F.exp((F.lit(calibration.none_score) - F.col("shift")) / temperature)
        return (
            scores.withColumn("shift", shift)
            .withColumn("evidence", evidence)
            .withColumn(
                "topic_confidence",
                F.col("evidence") / (no_topic + F.sum("evidence").over(per_message)),
            )
            .where(F.col("topic_confidence") >= calibration.min_confidence)
            .drop("shift", "evidence", "score")
        )

    return transform


def assign_topics(
    keywords: DataFrame,
    calibration: Calibration,
    text_column: str = "text",
    carry: Sequence[str] = (),
) -> Callable[[DataFrame], DataFrame]:
    """messages(message_event_id, text, language_code, *carry)
    -> (message_event_id, *carry, language_code, topic_name, topic_confidence)."""

    def transform(messages: DataFrame) -> DataFrame:
        return messages.transform(topic_scores(keywords, text_column, carry)).transform(
            calibrated(calibration)
        )

    return transform
