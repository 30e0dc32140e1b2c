"""Compare language identifiers on real, human-written short text found on the machine.

The text: the translated messages of the gettext catalogs (`.mo`) under /usr/share/locale,
written by each project's human translators (GTK, GLib, coreutils, apt, PostgreSQL, ...), and
their English source strings. Short UI sentences and error messages, in every one of the
twenty most spoken languages that has catalogs here. Nothing is downloaded and nothing is
copied into the repo: the script reads the catalogs where the OS installed them.

    .venv/bin/python bench/language_id_eval.py [--per-language 300] [--out bench/LANGUAGE_ID.json]

Needs the candidates installed beside chatlake (`pip install py3langid lingua-language-detector
langdetect`); a candidate that is not installed is skipped. Throughput is measured on one core
(one Python thread, one text at a time, as an executor's UDF sees them).
"""

from __future__ import annotations

import argparse
import gettext
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
LOCALE_ROOT = Path("/usr/share/locale")
# The twenty most spoken languages (total speakers) that have an ISO 639-1 code and catalogs
# on a Debian machine: Nigerian Pidgin, Cantonese and Wu have neither, so Korean, Italian and
# Punjabi stand in for them.
LANGUAGES = {
    "en": None, "zh": "zh_CN", "hi": "hi", "es": "es", "fr": "fr", "ar": "ar", "bn": "bn",
    "pt": "pt", "ru": "ru", "ur": "ur", "id": "id", "de": "de", "ja": "ja", "pa": "pa",
    "mr": "mr", "te": "te", "tr": "tr", "ta": "ta", "vi": "vi", "ko": "ko", "it": "it",
}
MIN_CHARS, MAX_CHARS = 20, 140  # the contract's bar is for messages of 20 characters or more
SHORT_MIN = 8  # a second, harder set: 8 to 19 characters
# printf/format placeholders, markup, mnemonics and escapes that no chat message has
NOISE = re.compile(r"%[-+ #0-9.*]*[a-zA-Z]|%\([a-z_]+\)[a-z]|\{[^}]*\}|<[^>]+>|\\[nt]|[_&](?=\w)")


def clean(message: str) -> str:
    return " ".join(NOISE.sub(" ", message).split())


def catalog_strings(locale: str | None) -> list[str]:
    """Translated strings of `locale` (msgstr), or the English source strings (msgid) for None."""
    folder = LOCALE_ROOT / (locale or "de") / "LC_MESSAGES"
    found: list[str] = []
    for mo in sorted(folder.glob("*.mo")):
        if mo.name.startswith("iso_"):  # language and country names: not sentences
            continue
        try:
            with mo.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        except Exception:
            continue
        for msgid, msgstr in catalog.items():
            source = msgid[1] if isinstance(msgid, tuple) else msgid
            if not source or not isinstance(source, str) or not isinstance(msgstr, str):
                continue
            if locale is not None and clean(msgstr) == clean(source):
                continue  # left untranslated: English in another language's catalog
            found.append(clean(source if locale is None else msgstr))
    return found


def sample(strings: list[str], low: int, high: int, n: int) -> list[str]:
    """n distinct strings of low..high characters with letters, chosen by a hash (stable)."""
    kept = {s for s in strings if low <= len(s) <= high and sum(c.isalpha() for c in s) >= low // 2}
    return sorted(kept, key=lambda s: hashlib.sha256(s.encode()).hexdigest())[:n]


def candidates() -> dict[str, tuple[Callable[[str], str], str]]:
    """name -> (identify(text) -> ISO 639-1 code or 'und', what it is)."""
    found: dict[str, tuple[Callable[[str], str], str]] = {}
    try:
        from jobs.transforms import language

        words = re.compile(language.NO_LANGUAGE)

        def kept(c: str) -> bool:  # language.SEPARATORS: not a letter, a mark or an apostrophe
            return c.isalpha() or unicodedata.category(c).startswith("M") or c == "'"

        def chatlake(t: str) -> str:
            # the same cleaning and rules as jobs/transforms/language.py, in Python
            cleaned = " ".join("".join(c if kept(c) else " " for c in words.sub(" ", t)).split())
            if sum(c.isalpha() for c in cleaned) < language.MIN_LETTERS:
                return language.UNDETERMINED
            return language.identify(cleaned) or language.UNDETERMINED

        found["chatlake"] = (
            chatlake,
            f"py3langid over {len(language.LANGUAGES)} languages, und below "
            f"p={language.MIN_CONFIDENCE} (what ingest runs)",
        )
    except ImportError:
        pass
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        py3 = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        found["py3langid"] = (lambda t: py3.classify(t)[0], "97 languages, naive Bayes on byte n-grams")
    except ImportError:
        pass
    try:
        from lingua import LanguageDetectorBuilder

        for name, builder in (
            ("lingua-low", LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode()),
            ("lingua-high", LanguageDetectorBuilder.from_all_languages()),
        ):
            detector = builder.with_preloaded_language_models().build()

            def identify(t: str, d=detector) -> str:
                language = d.detect_language_of(t)
                return language.iso_code_639_1.name.lower() if language else "und"

            found[name] = (identify, "75 languages, n-gram models in Rust")
    except ImportError:
        pass
    try:
        from langdetect import DetectorFactory, detect
        from langdetect.lang_detect_exception import LangDetectException

        DetectorFactory.seed = 0  # langdetect samples at random: fixed seed for repeatable answers

        def identify_ld(t: str) -> str:
            try:
                return detect(t).split("-")[0]
            except LangDetectException:
                return "und"

        found["langdetect"] = (identify_ld, "55 languages, port of Google's language-detection")
    except ImportError:
        pass
    return found


def evaluate(per_language: int, only: set[str] | None = None) -> dict:
    sets: dict[str, dict[str, list[str]]] = {"20+": {}, "8-19": {}}
    for code, locale in LANGUAGES.items():
        strings = catalog_strings(locale)
        sets["20+"][code] = sample(strings, MIN_CHARS, MAX_CHARS, per_language)
        sets["8-19"][code] = sample(strings, SHORT_MIN, MIN_CHARS - 1, per_language)
    results: dict = {
        "source": "gettext catalogs under /usr/share/locale (human translations; English msgids)",
        "texts": {name: {c: len(v) for c, v in per.items()} for name, per in sets.items()},
        "candidates": {},
    }
    for name, (identify, about) in candidates().items():
        if only and name not in only:
            continue
        identify("warm up the model")
        entry: dict = {"about": about}
        for set_name, per in sets.items():
            per_lang = {}
            started, count = time.perf_counter(), 0
            for code, texts in per.items():
                right = sum(1 for t in texts if identify(t) == code)
                count += len(texts)
                per_lang[code] = round(right / len(texts), 3) if texts else None
            elapsed = time.perf_counter() - started
            totals = [v for v in per_lang.values() if v is not None]
            entry[set_name] = {
                "accuracy_mean": round(sum(totals) / len(totals), 3),
                "worst": min(per_lang.items(), key=lambda kv: kv[1] if kv[1] is not None else 2),
                "per_language": per_lang,
                "texts_per_second_one_core": round(count / elapsed),
            }
        results["candidates"][name] = entry
        print(name, json.dumps({k: v for k, v in entry.items() if k != "about"})[:400], file=sys.stderr)
    return results


def spark_throughput(rows: int) -> dict:
    """Rows per second of ingest's language_code on one core (local[1]), against the same pass
    without it (character_count and sentiment_score only), over catalog texts of all languages."""
    import os

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from jobs.transforms import language
    from jobs.transforms.sentiment import sentiment_score

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    texts = [t for code, locale in LANGUAGES.items() for t in sample(catalog_strings(locale), 1, 200, 200)]
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    base = spark.createDataFrame([(t,) for t in texts], "text string").cache()
    base.count()
    frame = spark.range(max(1, rows // len(texts)), numPartitions=1).crossJoin(base).select("text")
    timings = {}
    for name, extra in (
        ("without", []),
        ("with_language_code", [language.language_code(F.col("text")).alias("language_code")]),
    ):
        columns = [F.length("text").alias("n"), sentiment_score(F.col("text")).alias("s"), *extra]
        frame.select(*columns).write.format("noop").mode("overwrite").save()  # warm-up
        started = time.perf_counter()
        frame.select(*columns).write.format("noop").mode("overwrite").save()
        timings[name] = time.perf_counter() - started
    total = frame.count()
    spark.stop()
    added = timings["with_language_code"] - timings["without"]
    return {
        "rows": total,
        "seconds_without": round(timings["without"], 2),
        "seconds_with": round(timings["with_language_code"], 2),
        "language_code_rows_per_second_one_core": round(total / added) if added > 0 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "language_id.json")
    parser.add_argument("--only", nargs="*", help="these candidates only")
    parser.add_argument("--spark-rows", type=int, default=0, help="also time the UDF in Spark on this many rows")
    args = parser.parse_args()
    if args.spark_rows:
        print(json.dumps(spark_throughput(args.spark_rows)))
        return
    results = evaluate(args.per_language, set(args.only or ()))
    args.out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
