"""Keeping erased users' ids out of the run history, the logs and error lines.

A `delete-users` request names user ids; the erasure itself remembers them only as keyed
hashes (`erasure_log`). Everything around it must not undo that: the command line stored in
`pipeline_runs`, the step lines, warnings and the one-line error of a failed run. This module
holds the one rule for each:

- `redact_arguments` turns a command line into the text `pipeline_runs.arguments` keeps: the
  value of `--user-ids` becomes a count (`--user-ids <3 ids>`); a `--requests` file's path
  stays, its content never enters.
- `protect` registers values (ids, their surrogate keys) for the rest of the run; `scrub`
  replaces every registered value in a text, and `ScrubFilter` does so for every record of
  the `chatlake` logger.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

USER_IDS_OPTION = "--user-ids"
REDACTED = "<redacted>"
# What a redacted `--user-ids` value looks like; a command line already redacted is left alone.
REDACTED_IDS = re.compile(r"^<\d+ ids?>$")

_protected: set[str] = set()


@dataclass(frozen=True)
class RedactedArguments:
    text: str
    user_ids: list[str]


def split_user_ids(value: str) -> list[str]:
    """`U1,U2` as the command line reads it: comma-separated, blanks dropped."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _count(ids: Sequence[str]) -> str:
    return f"<{len(ids)} id{'' if len(ids) == 1 else 's'}>"


def redact_arguments(tokens: Sequence[str]) -> RedactedArguments:
    """The command line `tokens` with each `--user-ids` value replaced by its count, and the
    ids it named (in order, as given)."""
    kept: list[str] = []
    user_ids: list[str] = []
    expecting_ids = False
    for token in tokens:
        if expecting_ids:
            expecting_ids = False
            if not REDACTED_IDS.match(token):
                ids = split_user_ids(token)
                user_ids += ids
                token = _count(ids)
        elif token == USER_IDS_OPTION:
            expecting_ids = True
        elif token.startswith(f"{USER_IDS_OPTION}="):
            value = token.split("=", 1)[1]
            if not REDACTED_IDS.match(value):
                ids = split_user_ids(value)
                user_ids += ids
                token = f"{USER_IDS_OPTION}={_count(ids)}"
        kept.append(token)
    return RedactedArguments(" ".join(kept), user_ids)


def protect(values: Iterable[object]) -> None:
    """From now on, `scrub` (and so every `chatlake` log line) hides these values."""
    _protected.update(str(v) for v in values if str(v))


def forget_protected() -> None:
    _protected.clear()


def scrub(text: str, values: Iterable[str] = ()) -> str:
    """`text` with every protected value (and every one of `values`) replaced by <redacted>.

    Longer values go first, so that an id which contains another is hidden whole."""
    hidden = sorted(_protected | set(values), key=len, reverse=True)
    if not hidden:
        return text
    pattern = re.compile("|".join(re.escape(v) for v in hidden))
    return pattern.sub(REDACTED, text)


class ScrubFilter(logging.Filter):
    """Rewrites each record's message with `scrub` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _protected:
            record.msg = scrub(record.getMessage())
            record.args = None
        return True
