"""Per-vacancy counts for recruiters: statuses, reasons, flags, arrivals per day, time left.

The same figures feed ``register stats``, the ``report`` chart and the daily digest. Days
are the vacancy's local days, because that is how its deadline and its recruiters count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from intake_bot.clock import utc_text
from intake_bot.config import Config, Vacancy
from intake_bot.json_columns import json_list
from intake_bot.localtime import format_moment, parse_utc, time_left
from intake_bot.recruiters.errors import RecruiterError
from intake_bot.register import Register

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
    senders: set[str] = field(default_factory=set)
    to_review: list[str] = field(default_factory=list)  # references: accepted with flags
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
            "candidates": len(self.senders),
            "statuses": dict(sorted(self.statuses.items())),
            "reasons": dict(sorted(self.reasons.items())),
            "flags": dict(sorted(self.flags.items())),
            "to_review": self.to_review,
            "purged": self.purged,
            "arrivals": [{"day": day.isoformat(), "total": sum(counts.values()),
                          "statuses": dict(sorted(counts.items()))}
                         for day, counts in sorted(self.arrivals.items())],
        }


def check_vacancy(config: Config, register: Register, vacancy_id: str) -> None:
    """Raise :class:`RecruiterError` unless the vacancy is configured or in the register."""
    if config.vacancy(vacancy_id) is not None:
        return
    found = register.db.execute("SELECT 1 FROM submissions WHERE vacancy_id = ? LIMIT 1",
                                [vacancy_id]).fetchone()
    if not found:
        known = ", ".join(v.id for v in config.vacancies)
        raise RecruiterError(f"unknown vacancy {vacancy_id!r} (configured: {known})")


def register_stats(config: Config, register: Register, now: dt.datetime,
                   vacancy_id: str | None = None, after_id: int = 0) -> list[VacancyStats]:
    """The figures per vacancy, for submissions with an id above ``after_id``.

    Every configured vacancy is listed, even with nothing yet; then vacancies that are
    only in the register (since removed from the configuration); then, when there are
    any, the messages that matched no vacancy. ``vacancy_id`` keeps just that vacancy.
    """
    groups: dict[str | None, VacancyStats] = {
        vacancy.id: _empty(vacancy, now) for vacancy in config.vacancies}
    sql = ("SELECT id, reference, vacancy_id, status, reasons, flags, received_at, "
           "lower(sender) AS sender, purged_at FROM submissions WHERE id > ?")
    params: list[Any] = [after_id]
    if vacancy_id is not None:
        sql += " AND vacancy_id = ?"
        params.append(vacancy_id)
    for row in register.db.query(sql + " ORDER BY id", params):
        key = row["vacancy_id"]
        if key not in groups:
            groups[key] = VacancyStats(key, "(not configured)" if key else NO_VACANCY, UTC,
                                       None, "unknown" if key else "-")
        _count(groups[key], row)
    if vacancy_id is not None:
        return [groups[vacancy_id]] if vacancy_id in groups else []
    return [stats for key, stats in groups.items() if key is not None or stats.total]


def _empty(vacancy: Vacancy, now: dt.datetime) -> VacancyStats:
    return VacancyStats(vacancy.id, vacancy.title, vacancy.timezone, vacancy.closes_at,
                        time_left(vacancy.closes_at, now))


def _count(stats: VacancyStats, row: dict[str, Any]) -> None:
    flags = json_list(row["flags"])
    stats.statuses[row["status"]] += 1
    stats.reasons.update(json_list(row["reasons"]))
    stats.flags.update(flags)
    day = parse_utc(row["received_at"]).astimezone(stats.zone).date()
    stats.arrivals.setdefault(day, Counter())[row["status"]] += 1
    if row["sender"]:
        stats.senders.add(row["sender"])
    if row["status"] == "accepted" and flags:
        stats.to_review.append(row["reference"])
    if row["purged_at"]:
        stats.purged += 1


def stats_lines(stats: VacancyStats) -> list[str]:
    """One vacancy's figures as aligned text, for ``register stats`` and the digest."""
    lines = [f"{stats.vacancy_id or '-'}  {stats.title}"]
    if stats.vacancy_id is not None:
        lines.append(f"  deadline    {stats.deadline or 'none published'} ({stats.time_left})")
    review = f"; {len(stats.to_review)} to review (accepted with flags)" if stats.to_review else ""
    purged = f"; {stats.purged} purged" if stats.purged else ""
    lines.append(f"  submissions {stats.total} from "
                 f"{plural(len(stats.senders), 'candidate')}{review}{purged}")
    for label, counts in (("statuses", stats.statuses), ("reasons", stats.reasons),
                          ("flags", stats.flags)):
        if counts:
            lines.append(f"  {label:<11} {counts_text(counts)}")
    for index, (day, counts) in enumerate(sorted(stats.arrivals.items())):
        label = "arrivals" if index == 0 else ""
        lines.append(f"  {label:<11} {day.isoformat()}  {sum(counts.values()):>3}  "
                     f"({counts_text(counts)})")
    return lines


def plural(count: int, noun: str) -> str:
    """``1 candidate``, ``2 candidates``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def counts_text(counts: Counter[str]) -> str:
    """``accepted 2, rejected 1``: counts in name order."""
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
