"""Real, human-written messages for measuring topic quality per language (bench/topics_eval.py).

A corpus is a folder of `<lang>.<split>.jsonl` files, one message per line:
`{"text": ..., "label": <the corpus's own label>, "lang": <ISO 639-1>, "split": ...}`, and a
mapping `<corpus>.topics.yaml` beside it that says which of the corpus's labels are about one of
chatlake's topics and which are about none of them:

    source: ...                 # for readers: where the messages come from, their licence
    topics:                     # corpus label -> topic_name
      calendar_set: meetings_and_scheduling
    none: [alarm_set, weather_query]

A label in neither list is ambiguous for our taxonomy (a shopping list, an e-mail): its messages
are left out, so that neither a hit nor a miss is counted for them. The texts are never written
anywhere by the bench; only the figures are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from schemas.topics import TOPIC_NAMES


@dataclass(frozen=True)
class CorpusMessage:
    text: str
    topic: str | None  # None: about none of the topics
    language: str  # the corpus's language, not the identified one


@dataclass(frozen=True)
class LabelMapping:
    topics: dict[str, str]
    none: frozenset[str]

    def topic_of(self, label: str) -> tuple[bool, str | None]:
        """(counted, topic): whether messages with `label` are counted, and their topic. A
        label `scenario/intent` is looked up by its intent, the last part."""
        intent = label.rsplit("/", 1)[-1]
        if intent in self.topics:
            return True, self.topics[intent]
        return (intent in self.none), None


def load_mapping(path: Path) -> LabelMapping:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics = {str(label): str(topic) for label, topic in (raw.get("topics") or {}).items()}
    unknown = sorted(set(topics.values()) - set(TOPIC_NAMES))
    if unknown:
        raise ValueError(f"{path}: unknown topics {unknown}")
    none = frozenset(str(label) for label in raw.get("none") or [])
    both = sorted(none & set(topics))
    if both:
        raise ValueError(f"{path}: labels both topical and none: {both}")
    return LabelMapping(topics=topics, none=none)


def load_corpus(folder: Path, split: str) -> list[CorpusMessage]:
    """The counted messages of `split` in `folder`, every language."""
    mapping = load_mapping(folder / f"{folder.name}.topics.yaml")
    messages: list[CorpusMessage] = []
    for path in sorted(folder.glob(f"*.{split}.jsonl")):
        language = path.name.split(".", 1)[0]
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            counted, topic = mapping.topic_of(str(row["label"]))
            if counted and str(row["text"]).strip():
                messages.append(CorpusMessage(str(row["text"]), topic, language))
    if not messages:
        raise ValueError(f"{folder}: no counted messages in split '{split}'")
    return messages
