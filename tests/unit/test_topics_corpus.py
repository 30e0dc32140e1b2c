"""The bench's real-text corpora: which labels count, as what, and the mapping's own checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import topics_corpus
from tests.conftest import REPO

MAPPING = """
source: test
topics:
  calendar_set: meetings_and_scheduling
  takeaway_order: food_and_dining
none: [alarm_set, weather_query]
"""


def _corpus(root: Path, mapping: str, lines: dict[str, list[dict]]) -> Path:
    folder = root / "sample"
    folder.mkdir()
    (folder / "sample.topics.yaml").write_text(mapping, encoding="utf-8")
    for name, rows in lines.items():
        (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return folder


def test_topical_none_and_ambiguous_labels(tmp_path: Path) -> None:
    folder = _corpus(tmp_path, MAPPING, {
        "en.test.jsonl": [
            {"text": "add lunch with ana to my calendar", "label": "calendar/calendar_set"},
            {"text": "wake me up at seven", "label": "alarm/alarm_set"},
            {"text": "check my email", "label": "email/email_query"},
            {"text": "   ", "label": "weather/weather_query"},
        ],
        "de.test.jsonl": [{"text": "bestelle pizza", "label": "takeaway/takeaway_order"}],
        "de.train.jsonl": [{"text": "wie wird das wetter", "label": "weather/weather_query"}],
    })
    assert topics_corpus.load_corpus(folder, "test") == [
        topics_corpus.CorpusMessage("bestelle pizza", "food_and_dining", "de"),
        topics_corpus.CorpusMessage("add lunch with ana to my calendar", "meetings_and_scheduling", "en"),
        topics_corpus.CorpusMessage("wake me up at seven", None, "en"),
    ]
    assert topics_corpus.load_corpus(folder, "train") == [
        topics_corpus.CorpusMessage("wie wird das wetter", None, "de")
    ]


def test_a_mapping_to_an_unknown_topic_or_to_both_sides_is_refused(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("topics: {calendar_set: calendars}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown topics \\['calendars'\\]"):
        topics_corpus.load_mapping(unknown)
    both = tmp_path / "both.yaml"
    both.write_text("topics: {alarm_set: meetings_and_scheduling}\nnone: [alarm_set]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="both topical and none: \\['alarm_set'\\]"):
        topics_corpus.load_mapping(both)


def test_the_committed_corpora_load_with_topical_and_none_messages() -> None:
    folders = sorted(path.parent for path in (REPO / "bench" / "data").glob("*/*.topics.yaml"))
    assert folders, "no corpus under bench/data"
    for folder in folders:
        for split in sorted({path.name.split(".")[1] for path in folder.glob("*.jsonl")}):
            messages = topics_corpus.load_corpus(folder, split)
            assert any(m.topic for m in messages) and any(m.topic is None for m in messages), (folder, split)
