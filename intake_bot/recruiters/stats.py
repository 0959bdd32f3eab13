"""Per-vacancy counts for recruiters: statuses, reasons, flags, arrivals per day, time left.

The same figures feed ``register stats``, the ``report`` chart and the daily digest. Days
are the vacancy's local days, because that is how its deadline and its recruiters count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from intake_bot.clock import utc_text
from intake_bot.config import Config, Vacancy
from intake_bot.localtime import format_moment, parse_utc, time_left, utc_offsets
from intake_bot.register import UNREACHED, Register

#: The title of the group of messages that matched no vacancy (unmatched, ignored, quarantined).
NO_VACANCY = "(no vacancy: unmatched, ignored or quarantined)"
UTC = ZoneInfo("UTC")


@dataclass
class VacancyStats:
    """The figures of one vacancy (``vacancy_id`` None: the messages that matched none)."""

    vacancy_id: str | None
    title: str
    zone: ZoneInfo
    closes_at: dt.datetime | None
    time_left: str
    statuses: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    arrivals: dict[dt.date, Counter[str]] = field(default_factory=dict)
    candidates: int = 0  # sender addresses, case-insensitive
    to_review: list[str] = field(default_factory=list)  # references: accepted with flags
    notices: Counter[str] = field(default_factory=Counter)  # latest notice's status
    unreached: list[str] = field(default_factory=list)  # references: notice bounced or failed
    purged: int = 0

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def deadline(self) -> str | None:
        """The last on-time minute as recruiters read it: ``12 June 2026 at 23:59 (Brussels time)``."""
        if self.closes_at is None:
            return None
        return format_moment(self.closes_at - dt.timedelta(seconds=1), self.zone, "en")

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON-ready data."""
        return {
            "vacancy_id": self.vacancy_id,
            "title": self.title,
            "deadline": self.deadline,
            "closes_at": utc_text(self.closes_at) if self.closes_at else None,
            "time_left": self.time_left,
            "submissions": self.total,
            "candidates": self.candidates,
            "statuses": dict(sorted(self.statuses.items())),
            "reasons": dict(sorted(self.reasons.items())),
            "flags": dict(sorted(self.flags.items())),
            "to_review": self.to_review,
            "notices": dict(sorted(self.notices.items())),
            "unreached": self.unreached,
            "purged": self.purged,
            "arrivals": [{"day": day.isoformat(), "total": sum(counts.values()),
                          "statuses": dict(sorted(counts.items()))}
                         for day, counts in sorted(self.arrivals.items())],
        }


def register_stats(config: Config, register: Register, now: dt.datetime,
                   vacancy_id: str | None = None, after_id: int = 0) -> list[VacancyStats]:
    """The figures per vacancy, for submissions with an id above ``after_id``.

    Every configured vacancy is listed, even with nothing yet; then vacancies that are
    only in the register (since removed from the configuration); then, when there are
    any, the messages that matched no vacancy. ``vacancy_id`` keeps just that vacancy.
    SQLite does the counting (a few aggregate queries, whatever the register's size).
    """
    groups: dict[str | None, VacancyStats] = {
        vacancy.id: _empty(vacancy, now) for vacancy in config.vacancies}
    # Qualified: json_each() has an ``id`` column of its own. Without ``after_id``, no
    # condition on ids: SQLite then counts from the index that holds every counted column.
    where, params = ("submissions.id > ?", list[Any]([after_id])) if after_id else ("1", [])
    if vacancy_id is not None:
        where += " AND submissions.vacancy_id = ?"
        params.append(vacancy_id)

    def group(key: str | None) -> VacancyStats:
        if key not in groups:
            groups[key] = VacancyStats(key, "(not configured)" if key else NO_VACANCY, UTC,
                                       None, "unknown" if key else "-")
        return groups[key]

    for key, status, count, purged in register.db.execute(
            "SELECT vacancy_id, status, COUNT(*), COUNT(purged_at) FROM submissions "
            f"WHERE {where} GROUP BY vacancy_id, status", params):
        stats = group(key)
        stats.statuses[status] += count
        stats.purged += purged
    for key, candidates in register.db.execute(
            "SELECT vacancy_id, COUNT(*) FROM (SELECT DISTINCT vacancy_id, lower(sender) "
            f"FROM submissions WHERE lower(sender) != '' AND {where}) GROUP BY vacancy_id",
            params):
        group(key).candidates = candidates
    for column in ("reasons", "flags"):
        for key, code, count in register.db.execute(
                f"SELECT vacancy_id, value, COUNT(*) FROM submissions, json_each({column}) "
                f"WHERE {column} != '[]' AND {where} GROUP BY vacancy_id, value", params):
            getattr(group(key), column)[code] = count
    _count_arrivals(register, where, params, [stats for stats in groups.values() if stats.total])
    for key, reference in register.db.execute(
            "SELECT vacancy_id, reference FROM submissions WHERE status = 'accepted' AND "
            f"flags != '[]' AND {where} ORDER BY vacancy_id, received_at, id", params):
        group(key).to_review.append(reference)
    _count_notices(register, where, params, group)
    if vacancy_id is not None:
        return [groups[vacancy_id]] if vacancy_id in groups else []
    return [stats for key, stats in groups.items() if key is not None or stats.total]


def _count_notices(register: Register, where: str, params: list[Any],
                   group: Callable[[str | None], VacancyStats]) -> None:
    """Each submission's latest notice by status, and the submissions never reached."""
    latest = ("FROM submissions JOIN replies ON replies.submission_id = submissions.id "
              "WHERE replies.id = (SELECT MAX(id) FROM replies AS later "
              f"WHERE later.submission_id = submissions.id) AND {where}")
    for key, status, count in register.db.execute(
            f"SELECT submissions.vacancy_id, replies.status, COUNT(*) {latest} "
            "GROUP BY submissions.vacancy_id, replies.status", params):
        group(key).notices[status] = count
    for key, reference, submission_id in register.db.execute(
            f"SELECT submissions.vacancy_id, reference, submissions.id {latest} AND "
            f"replies.status IN ({', '.join('?' for _ in UNREACHED)}) "
            "ORDER BY submissions.vacancy_id, received_at, submissions.id",
            [*params, *UNREACHED]):
        group(key).unreached.append(reference or f"#{submission_id}")


def _count_arrivals(register: Register, where: str, params: list[Any],
                    groups: list[VacancyStats]) -> None:
    """Arrivals per local day and status, counted by SQLite: ``date()`` of each time with
    the zone's offset of its period (between clock changes)."""
    first, last = register.db.execute(
        "SELECT MIN(received_at), MAX(received_at) FROM submissions").fetchone()
    if first is None:
        return
    # Most vacancies share a zone: search its clock changes once.
    offsets_of: dict[ZoneInfo, list[tuple[dt.datetime, dt.timedelta]]] = {}
    for stats in groups:
        if stats.zone not in offsets_of:
            offsets_of[stats.zone] = utc_offsets(stats.zone, parse_utc(first), parse_utc(last))
        periods = offsets_of[stats.zone]
        shifts = [f"{int(offset.total_seconds()) // 60:+d} minutes" for _, offset in periods]
        cases = list[Any]()
        for (since, _), shift in zip(periods[1:], shifts, strict=False):
            cases += [utc_text(since), shift]
        day = (f"date(received_at, CASE {'WHEN received_at < ? THEN ? ' * len(cases[::2])}"
               "ELSE ? END)" if cases else "date(received_at, ?)")
        for status, local_day, count in register.db.execute(
                f"SELECT status, {day} AS day, COUNT(*) FROM submissions "
                f"WHERE vacancy_id IS ? AND {where} GROUP BY status, day",
                [*cases, shifts[-1], stats.vacancy_id, *params]):
            stats.arrivals.setdefault(dt.date.fromisoformat(local_day), Counter())[status] += count


def _empty(vacancy: Vacancy, now: dt.datetime) -> VacancyStats:
    return VacancyStats(vacancy.id, vacancy.title, vacancy.timezone, vacancy.closes_at,
                        time_left(vacancy.closes_at, now))


def stats_lines(stats: VacancyStats) -> list[str]:
    """One vacancy's figures as aligned text, for ``register stats`` and the digest."""
    lines = [f"{stats.vacancy_id or '-'}  {stats.title}"]
    if stats.vacancy_id is not None:
        lines.append(f"  deadline    {stats.deadline or 'none published'} ({stats.time_left})")
    review = f"; {len(stats.to_review)} to review (accepted with flags)" if stats.to_review else ""
    purged = f"; {stats.purged} purged" if stats.purged else ""
    lines.append(f"  submissions {stats.total} from "
                 f"{plural(stats.candidates, 'candidate')}{review}{purged}")
    for label, counts in (("statuses", stats.statuses), ("reasons", stats.reasons),
                          ("flags", stats.flags), ("notices", stats.notices)):
        if counts:
            lines.append(f"  {label:<11} {counts_text(counts)}")
    if stats.unreached:
        lines.append(f"  unreached   {unreached_text(stats.unreached)}")
    width = max([3, *(len(str(sum(counts.values()))) for counts in stats.arrivals.values())])
    for index, (day, counts) in enumerate(sorted(stats.arrivals.items())):
        label = "arrivals" if index == 0 else ""
        lines.append(f"  {label:<11} {day.isoformat()}  {sum(counts.values()):>{width}}  "
                     f"({counts_text(counts)})")
    return lines


def unreached_text(references: list[str], listed: int = 20) -> str:
    """``2 never got their notice (bounced or failed): DRP-0003, DRP-0007``."""
    return (f"{len(references)} never got their notice (bounced or failed): "
            f"{references_text(references, listed)}")


def references_text(references: list[str], listed: int = 20) -> str:
    """``DRP-0003, DRP-0007 and 3 more``: the first ``listed`` references, the rest counted."""
    more = len(references) - listed
    return ", ".join(references[:listed]) + (f" and {more} more" if more > 0 else "")


def plural(count: int, noun: str) -> str:
    """``1 candidate``, ``2 candidates``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def counts_text(counts: Counter[str]) -> str:
    """``accepted 2, rejected 1``: counts in name order."""
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
