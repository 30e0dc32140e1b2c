"""Quality of topic assignment, measured on a labeled set (and on the contract's example).

    .venv/bin/python bench/topics_eval.py               held-out split of the labeled set
    .venv/bin/python bench/topics_eval.py --split all   every labeled message
    .venv/bin/python bench/topics_eval.py --contract    the contract's example messages
    .venv/bin/python bench/topics_eval.py --tune        fit temperature and none_score on the
                                                        training split (prints them; copy them
                                                        into conf/topics/keywords.yaml)
    .venv/bin/python bench/topics_eval.py --corpus DIR  real messages per language (see
                                                        bench/topics_corpus.py): a table of
                                                        top-1, false positives, and per-topic
                                                        precision and recall per language

Messages are scored by the job's own Spark transforms. A message's prediction is its most
confident topic if that confidence is >= 0.7, else none. Printed: per-topic precision and
recall of that prediction, top-1 accuracy over messages that have a topic, and the share of
small-talk messages (topic null) that get any topic at confidence >= 0.7.

The labeled set bench/data/topics_labeled.jsonl ({"text", "topic" or null} per line) was
written for this purpose; its held-out split is fixed by a hash of each text.
"""

from __future__ import annotations

import argparse
import csv
import glob
import gzip
import hashlib
import json
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from bench import topics_corpus  # noqa: E402
from jobs.transforms import language, topic_scoring  # noqa: E402
from schemas.topics import TOPIC_NAMES  # noqa: E402

LABELED = REPO / "bench" / "data" / "topics_labeled.jsonl"
CONTRACT_EXAMPLES = REPO / "tests" / "data" / "contract_example"
HELD_OUT_PERCENT = 35
CONFIDENT = topic_scoring.CONFIDENT
TARGET_TOP1 = 0.85
TARGET_SMALL_TALK_FP = 0.05


@dataclass(frozen=True)
class Labeled:
    text: str
    topic: str | None


def is_held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 100 < HELD_OUT_PERCENT


def load_labeled(split: str = "held_out", path: Path = LABELED) -> list[Labeled]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    labeled = [Labeled(row["text"], row["topic"]) for row in rows]
    if split == "all":
        return labeled
    wanted = split == "held_out"
    return [row for row in labeled if is_held_out(row.text) == wanted]


def load_contract_examples(examples: Path = CONTRACT_EXAMPLES) -> list[Labeled]:
    """The example's messages with text, labeled with their planted topic (empty = none)."""
    texts: dict[str, str] = {}
    for path in sorted(glob.glob(str(examples / "landing" / "dt=*" / "*"))):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if (
                    isinstance(event, dict)
                    and event.get("event_type") == "message_sent"
                    and isinstance(event.get("text"), str)
                    and isinstance(event.get("message_id"), str)
                ):
                    texts[event["message_id"]] = event["text"]
    with open(examples / "expected" / "messages.csv", encoding="utf-8") as handle:
        planted = {row["message_id"]: row["planted_topic"] for row in csv.DictReader(handle)}
    return [Labeled(texts[mid], planted[mid] or None) for mid in sorted(planted) if mid in texts]


def with_language(messages: DataFrame) -> DataFrame:
    """The messages with the language ingest would identify (scoring is per language)."""
    return messages.withColumn("language_code", language.language_code(F.col("text")))


def confidences(
    spark: SparkSession, taxonomy: topic_scoring.Taxonomy, rows: list[Labeled]
) -> list[dict[str, float]]:
    """Per message, {topic: confidence} from the job's transforms (all stored assignments)."""
    messages = spark.createDataFrame(
        [(index, row.text) for index, row in enumerate(rows)], "message_event_id long, text string"
    )
    keywords = topic_scoring.keyword_table(spark, taxonomy)
    assigned = with_language(messages).transform(
        topic_scoring.assign_topics(keywords, taxonomy.calibration)
    )
    result: list[dict[str, float]] = [{} for _ in rows]
    for row in assigned.collect():
        result[row["message_event_id"]][row["topic_name"]] = row["topic_confidence"]
    return result


@dataclass(frozen=True)
class Quality:
    top1_accuracy: float
    small_talk_false_positive_rate: float
    precision: dict[str, float]
    recall: dict[str, float]
    topical: int
    small_talk: int


def predicted(scored: dict[str, float]) -> str | None:
    if not scored:
        return None
    topic, confidence = max(sorted(scored.items()), key=lambda item: item[1])
    return topic if confidence >= CONFIDENT else None


def quality(rows: list[Labeled], scored: list[dict[str, float]]) -> Quality:
    predictions = [predicted(s) for s in scored]
    topical = [(row, p) for row, p in zip(rows, predictions, strict=True) if row.topic]
    small_talk = [s for row, s in zip(rows, scored, strict=True) if not row.topic]
    predicted_count = Counter(p for _, p in zip(rows, predictions, strict=True) if p)
    correct = Counter(row.topic for row, p in topical if p == row.topic)
    labeled_count = Counter(row.topic for row, _ in topical)
    false_positives = sum(1 for s in small_talk if any(c >= CONFIDENT for c in s.values()))
    return Quality(
        top1_accuracy=sum(correct.values()) / len(topical) if topical else math.nan,
        small_talk_false_positive_rate=false_positives / len(small_talk)
        if small_talk
        else math.nan,
        precision={
            t: correct[t] / predicted_count[t] if predicted_count[t] else math.nan
            for t in TOPIC_NAMES
        },
        recall={
            t: correct[t] / labeled_count[t] if labeled_count[t] else math.nan for t in TOPIC_NAMES
        },
        topical=len(topical),
        small_talk=len(small_talk),
    )


def report(title: str, measured: Quality) -> str:
    lines = [
        f"{title}: {measured.topical} messages with a topic, {measured.small_talk} small talk",
        f"{'topic':<26} {'precision':>9} {'recall':>7}",
    ]
    for topic in TOPIC_NAMES:
        lines.append(
            f"{topic:<26} {measured.precision[topic]:>9.2f} {measured.recall[topic]:>7.2f}"
        )
    lines.append(
        f"top-1 accuracy (confidence >= {CONFIDENT}): {measured.top1_accuracy:.3f}"
        f"  (target >= {TARGET_TOP1})"
    )
    lines.append(
        f"small talk with a topic at >= {CONFIDENT}: {measured.small_talk_false_positive_rate:.3f}"
        f"  (target <= {TARGET_SMALL_TALK_FP})"
    )
    return "\n".join(lines)


def corpus_tables(
    spark: SparkSession, taxonomy: topic_scoring.Taxonomy, folder: Path, split: str
) -> str:
    """Markdown: per language, the bar's two figures, then per-topic precision and recall."""
    messages = topics_corpus.load_corpus(folder, split)
    rows = [Labeled(m.text, m.topic) for m in messages]
    scored = confidences(spark, taxonomy, rows)
    by_language: dict[str, Quality] = {}
    for code in sorted({m.language for m in messages}):
        chosen = [i for i, m in enumerate(messages) if m.language == code]
        by_language[code] = quality([rows[i] for i in chosen], [scored[i] for i in chosen])
    lines = [
        f"{folder.name}, split {split}; keywords {taxonomy.version}",
        "",
        f"| language | topical | none | top-1 at >= {CONFIDENT} (bar >= 0.8) | none with a topic (bar <= 0.08) |",
        "|---|---:|---:|---:|---:|",
    ]
    for code, measured in by_language.items():
        lines.append(
            f"| {code} | {measured.topical} | {measured.small_talk} | {measured.top1_accuracy:.3f}"
            f" | {measured.small_talk_false_positive_rate:.3f} |"
        )
    topics_seen = [t for t in TOPIC_NAMES if any(not math.isnan(q.recall[t]) for q in by_language.values())]
    lines += ["", "| topic | " + " | ".join(f"{c} P / R" for c in by_language) + " |",
              "|---|" + "---:|" * len(by_language)]
    for topic in topics_seen:
        cells = [f"{q.precision[topic]:.2f} / {q.recall[topic]:.2f}" for q in by_language.values()]
        lines.append(f"| {topic} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tune(
    spark: SparkSession, taxonomy: topic_scoring.Taxonomy, rows: list[Labeled]
) -> tuple[float, float]:
    """Temperature and none_score that maximize the likelihood of the training labels.

    The softmax of topic_scoring.calibrated, restated here over collected raw scores so a grid
    search is cheap; "none" (small talk) has probability 1 - sum of the topics' confidences.
    """
    messages = spark.createDataFrame(
        [(index, row.text) for index, row in enumerate(rows)], "message_event_id long, text string"
    )
    keywords = topic_scoring.keyword_table(spark, taxonomy)
    raw: list[dict[str, float]] = [{} for _ in rows]
    for row in with_language(messages).transform(topic_scoring.topic_scores(keywords)).collect():
        raw[row["message_event_id"]][row["topic_name"]] = row["score"]
    best = (-math.inf, 0.0, 0.0)
    for temperature in [t / 100 for t in range(5, 81, 1)]:
        for none_score in [n / 100 for n in range(0, 151, 2)]:
            likelihood = 0.0
            for row, scores in zip(rows, raw, strict=True):
                shift = max([none_score, *scores.values()])
                evidence = {t: math.exp((s - shift) / temperature) for t, s in scores.items()}
                total = math.exp((none_score - shift) / temperature) + sum(evidence.values())
                p = (
                    evidence.get(row.topic, 0.0) / total
                    if row.topic
                    else 1 - sum(evidence.values()) / total
                )
                likelihood += math.log(max(p, 1e-6))
            if likelihood > best[0]:
                best = (likelihood, temperature, none_score)
    return best[1], best[2]


def session() -> SparkSession:
    return (
        SparkSession.builder.master("local[2]")
        .appName("chatlake-topics-eval")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("held_out", "train", "all"), default="held_out")
    parser.add_argument(
        "--contract", action="store_true", help="also the contract's example messages"
    )
    parser.add_argument(
        "--tune", action="store_true", help="fit the calibration on the training split"
    )
    parser.add_argument("--keywords", default=str(topic_scoring.DEFAULT_KEYWORDS_PATH))
    parser.add_argument("--corpus", type=Path, help="a folder of real messages (bench/topics_corpus.py)")
    parser.add_argument("--corpus-split", default="test", help="which split of --corpus (default test)")
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = session()
    spark.sparkContext.setLogLevel("ERROR")
    taxonomy = topic_scoring.load_taxonomy(args.keywords)
    print(f"keywords version {taxonomy.version}, {len(taxonomy.terms)} weighted terms")
    if args.corpus:
        print(corpus_tables(spark, taxonomy, args.corpus, args.corpus_split))
        spark.stop()
        return 0
    if args.tune:
        temperature, none_score = tune(spark, taxonomy, load_labeled("train"))
        print(f"fitted on the training split: temperature {temperature}, none_score {none_score}")
    rows = load_labeled(args.split)
    print(
        report(
            f"labeled set, {args.split} split", quality(rows, confidences(spark, taxonomy, rows))
        )
    )
    if args.contract:
        examples = load_contract_examples()
        print(
            report("contract examples", quality(examples, confidences(spark, taxonomy, examples)))
        )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
