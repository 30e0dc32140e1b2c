"""The topic taxonomy (docs/metrics.md, "Topics"): categories (level 1) and topics (level 2)."""

from __future__ import annotations

# (topic_name, topic_category); messages are assigned the level-2 topics.
TOPICS: tuple[tuple[str, str], ...] = (
    ("food_and_dining", "lifestyle"),
    ("travel", "lifestyle"),
    ("fitness_and_health", "lifestyle"),
    ("shopping", "lifestyle"),
    ("music", "entertainment"),
    ("movies_and_tv", "entertainment"),
    ("gaming", "entertainment"),
    ("sports", "entertainment"),
    ("meetings_and_scheduling", "work"),
    ("projects_and_deadlines", "work"),
    ("jobs_and_careers", "work"),
    ("software_and_apps", "technology"),
    ("gadgets_and_devices", "technology"),
    ("money_and_payments", "finance"),
    ("family_and_friends", "personal"),
    ("celebrations", "personal"),
)
TOPIC_NAMES: tuple[str, ...] = tuple(name for name, _ in TOPICS)
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(category for _, category in TOPICS))
