"""Time for the whole program: one clock to read, and the register's UTC text form.

Every command and cycle reads the time through a :data:`Clock` handed to it, never from
the wall clock directly, so tests fix the time and pass at any hour in any time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

#: A function that returns the current time as an aware datetime.
Clock = Callable[[], dt.datetime]


def now_utc() -> dt.datetime:
    """The wall clock, in UTC: the production :data:`Clock`."""
    return dt.datetime.now(dt.UTC)


def utc_text(moment: dt.datetime) -> str:
    """ISO 8601 UTC with a ``Z``, to the second: ``2026-06-12T21:59:59Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
