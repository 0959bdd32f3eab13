"""What the recruiters' commands select, checked in one place: vacancies, statuses, codes, times.

Every command that takes ``--vacancy``, ``--status``, ``--reason``, ``--flag``,
``--since``/``--until`` or ``--before`` checks it here, so a typo is the same one-line error
(exit 2) in every command instead of an empty result. Times compare instants: a date or
date-time with an offset (``Z``, ``+02:00``) is that instant; one without is read in the
time zone of the vacancy the command names, else in the recruiters' zone (``[digest]
timezone``, by default the first vacancy's), which is how recruiters read their deadlines.
A date alone is its midnight: ``--since 2026-06-12 --until 2026-06-13`` is that one day.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from intake_bot.codes import known_codes
from intake_bot.config import Config
from intake_bot.recruiters.errors import RequestError
from intake_bot.register import STATUSES, Register

EXAMPLES = "e.g. 2026-06-12, 2026-06-12T09:00 or 2026-06-12T09:00+02:00"


@dataclass(frozen=True)
class Selection:
    """Which submissions a command reads; every field checked, times aware."""

    vacancy: str | None = None
    status: str | None = None
    reason: str | None = None
    flag: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def select(config: Config, register: Register, *, vacancy: str | None = None,
           status: str | None = None, reason: str | None = None, flag: str | None = None,
           since: str | None = None, until: str | None = None) -> Selection:
    """Check what a command was asked to select; raise :class:`RequestError` on a mistake."""
    if vacancy is not None:
        check_vacancy(config, register, vacancy)
    if status is not None:
        _check_known("status", status, STATUSES)
    for kind, code in (("reason", reason), ("flag", flag)):
        if code is not None:
            check_code(register, kind, code)
    zone = config.local_zone(vacancy)
    return Selection(vacancy, status, reason, flag,
                     parse_moment("--since", since, zone) if since is not None else None,
                     parse_moment("--until", until, zone) if until is not None else None)


def check_vacancy(config: Config, register: Register, vacancy_id: str) -> None:
    """Raise :class:`RequestError` unless the vacancy is configured or in the register."""
    if config.vacancy(vacancy_id) is not None:
        return
    found = register.db.execute("SELECT 1 FROM submissions WHERE vacancy_id = ? LIMIT 1",
                                [vacancy_id]).fetchone()
    if not found:
        known = ", ".join(v.id for v in config.vacancies)
        raise RequestError(f"unknown vacancy {vacancy_id!r} (configured: {known})")


def check_code(register: Register, kind: str, code: str) -> None:
    """Raise :class:`RequestError` unless ``code`` is a code this version knows or the
    register holds (one recorded by an older version)."""
    known = known_codes()
    if code in known:
        return
    column = "reasons" if kind == "reason" else "flags"
    recorded = register.db.execute(
        f"SELECT 1 FROM submissions, json_each(submissions.{column}) WHERE value = ? LIMIT 1",
        [code]).fetchone()
    if not recorded:
        _check_known(kind, code, known)


def _check_known(kind: str, value: str, known: Iterable[str]) -> None:
    if value in known:
        return
    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(sorted(known))}"
    raise RequestError(f"unknown {kind} {value!r} ({hint})")


def parse_moment(option: str, text: str, zone: ZoneInfo) -> dt.datetime:
    """An instant from ``2026-06-12``, ``2026-06-12T09:00``, ``2026-06-12 09:00:30Z`` or
    ``2026-06-12T09:00+02:00``; without an offset, a local time of ``zone``.

    Raises :class:`RequestError` naming ``option`` for anything else (``yesterday``,
    ``2026-6-12``, a time that the zone skips or repeats at a clock change).
    """
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RequestError(f"{option}: {text!r} is not a date or a date-time ({EXAMPLES})") \
            from None
    if moment.tzinfo is not None:
        return moment
    local = moment.replace(tzinfo=zone)
    # A local time that does not exist (the hour skipped in spring) or exists twice (the
    # hour repeated in autumn) would silently shift the bound by an hour: say so instead.
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        raise RequestError(f"{option}: {text} is ambiguous or skipped in {zone.key} at a clock "
                           "change: give an offset, e.g. +02:00")
    return local
