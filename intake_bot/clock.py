"""Time for the whole program: one clock to read, and the register's UTC text form.

Every command and cycle reads the time through a :data:`Clock` handed to it, never from
the wall clock directly, so tests fix the time and pass at any hour in any time zone.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

#: A function that returns the current time as an aware datetime.
Clock = Callable[[], dt.datetime]
#: A function that returns seconds on a clock that never goes back (``time.monotonic``):
#: what durations and time budgets are measured on, never the date.
Monotonic = Callable[[], float]


class TimeBudget:
    """The seconds a piece of work may take, counted from when the budget is made."""

    def __init__(self, seconds: float, monotonic: Monotonic = time.monotonic) -> None:
        self._monotonic = monotonic
        self._end = monotonic() + seconds

    def left(self) -> float:
        """Seconds left; zero or less once spent."""
        return self._end - self._monotonic()


def now_utc() -> dt.datetime:
    """The wall clock, in UTC: the production :data:`Clock`."""
    return dt.datetime.now(dt.UTC)


def utc_text(moment: dt.datetime) -> str:
    """ISO 8601 UTC with a ``Z``, to the second: ``2026-06-12T21:59:59Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
