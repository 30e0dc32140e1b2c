"""Two runs that write the same table at once.

Delta commits optimistically: when another run committed a conflicting change first, the
later commit fails with a concurrent-modification error and nothing of it is written. Every
chatlake command is idempotent (MERGE on natural ids, replaceWhere on what the run owns), so
the right answer is to run the command again, from the start, on the new table state. This
module does that a few times with a growing pause, then gives up with a clear message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from delta.exceptions import base as delta_errors

from jobs.progress import LOGGER

T = TypeVar("T")
MAX_ATTEMPTS = 3
FIRST_PAUSE_SECONDS = 5.0
CONFLICTS: tuple[type[BaseException], ...] = (
    delta_errors.DeltaConcurrentModificationException,
    delta_errors.ConcurrentWriteException,
    delta_errors.MetadataChangedException,
    delta_errors.ProtocolChangedException,
    delta_errors.ConcurrentAppendException,
    delta_errors.ConcurrentDeleteReadException,
    delta_errors.ConcurrentDeleteDeleteException,
    delta_errors.ConcurrentTransactionException,
)


class ConcurrentRunError(RuntimeError):
    """Other runs kept changing the same tables; the message says what to do."""


def conflict_in(error: BaseException) -> BaseException | None:
    """The concurrent-modification error behind `error` (itself or a cause), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CONFLICTS):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def retrying_conflicts(
    job: Callable[[], T], attempts: int = MAX_ATTEMPTS, first_pause: float = FIRST_PAUSE_SECONDS
) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return job()
        except Exception as error:
            conflict = conflict_in(error)
            if conflict is None:
                raise
            reason = str(conflict).splitlines()[0] if str(conflict) else type(conflict).__name__
            if attempt == attempts:
                raise ConcurrentRunError(
                    f"another run kept changing the same tables ({attempts} attempts; last: {reason}); "
                    "nothing half-written is left, run the command again once the other run is done"
                ) from error
            pause = first_pause * 2 ** (attempt - 1)
            LOGGER.warning(
                "another run changed the same table at the same time (%s); running again from the start, "
                "which is safe because every step is idempotent (attempt %d of %d, in %.0fs)",
                reason, attempt + 1, attempts, pause,
            )
            time.sleep(pause)
    raise AssertionError("unreachable")
