"""The recruiters' daily digest: what came in since the last one, totals, flags, deadlines.

It names submissions by reference only, never by a candidate's name or address: a digest
lives on in the recruiters' mailboxes, out of reach of the register's retention purge.
The ``digests`` table holds one row per digest sent, the last being the bookmark.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from intake_bot.clock import utc_text
from intake_bot.config import Config
from intake_bot.json_columns import json_list
from intake_bot.localtime import format_moment, parse_utc
from intake_bot.recruiters.stats import (
    NO_VACANCY,
    VacancyStats,
    counts_text,
    plural,
    references_text,
    register_stats,
    unreached_text,
)
from intake_bot.register import Register
from intake_bot.transport import Transport

logger = logging.getLogger(__name__)

#: At most this many references are listed per line; the rest are counted.
MAX_LISTED = 20


@dataclass(frozen=True)
class Digest:
    """A composed digest, and the last submission it covers (the next bookmark)."""

    subject: str
    text: str
    last_submission_id: int
    new: int


def last_digest(register: Register) -> dict[str, str | int] | None:
    """The latest digest sent (``sent_at``, ``last_submission_id``, ...), if any."""
    rows = list(register.db.query("SELECT * FROM digests ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def digest_due(config: Config, register: Register, now: dt.datetime) -> bool:
    """Whether today's digest should go now.

    Due when recruiters are configured, the local hour (``[digest] hour`` in ``[digest]
    timezone``) has come, and no digest went out earlier on the same local day.
    """
    if not config.digest_recruiters:
        return False
    local = now.astimezone(config.digest_timezone)
    if local.hour < config.digest_hour:
        return False
    last = last_digest(register)
    if last is None:
        return True
    sent = parse_utc(str(last["sent_at"]))
    return sent.astimezone(config.digest_timezone).date() < local.date()


def compose_digest(config: Config, register: Register, now: dt.datetime) -> Digest:
    """The digest of everything registered since the last one (the first: since the start)."""
    last = last_digest(register)
    after_id = int(last["last_submission_id"]) if last else 0
    zone = config.digest_timezone
    new = {stats.vacancy_id: stats
           for stats in register_stats(config, register, now, after_id=after_id)}
    totals = register_stats(config, register, now)
    count = sum(stats.total for stats in new.values())
    since = ("since the last digest of "
             f"{format_moment(parse_utc(str(last['sent_at'])), zone, 'en')}" if last
             else "since the register began")
    lines = [f"intake-bot digest, {format_moment(now, zone, 'en')}",
             f"{plural(count, 'new submission')} {since}.", ""]
    for stats in totals:
        fresh = new.get(stats.vacancy_id)
        vacancy = config.vacancy(stats.vacancy_id) if stats.vacancy_id else None
        # Nothing new from a vacancy that no longer (or never) takes e-mail: nothing to say.
        taking_mail = (vacancy is not None and vacancy.channel == "email"
                       and vacancy.is_open(now))
        if stats.vacancy_id is None or not (taking_mail or (fresh and fresh.total)):
            continue
        lines += _vacancy_lines(stats, fresh, _scanned_lines(register, stats.vacancy_id, after_id))
    unmatched = new.get(None)
    if unmatched and unmatched.total:
        lines += [NO_VACANCY, f"  new         {counts_text(unmatched.statuses)}", ""]
    lines.append("Details: intake-bot review (the browser view) or intake-bot register list.")
    subject = f"intake-bot digest {now.astimezone(zone):%Y-%m-%d}: {plural(count, 'new submission')}"
    return Digest(subject, "\n".join(lines) + "\n", register.max_id(), count)


def _scanned_lines(register: Register, vacancy_id: str, after_id: int) -> list[str]:
    """What the virus scan and the inspection found in the new submissions: malware kept
    apart, and PDFs with active content, with what they hold."""
    malware: list[str] = []
    active: list[str] = []
    for row in register.db.query(
            "SELECT reference, malware, flags, attachments FROM submissions WHERE id > ? AND "
            "vacancy_id = ? AND (malware != '[]' OR flags LIKE '%\"active-content\"%') "
            "ORDER BY id", [after_id, vacancy_id]):
        if json_list(row["malware"]):
            malware.append(row["reference"])
        if "active-content" in json_list(row["flags"]):
            found = dict.fromkeys(item for entry in json_list(row["attachments"])
                                  for item in entry.get("active_content", ()))
            active.append(f"{row['reference']} ({', '.join(found)})")
    lines = []
    if malware:
        lines.append(f"  malware     {_listed(malware)}: files kept apart, never shown; the "
                     "candidates were asked for a clean copy")
    if active:
        lines.append(f"  active PDFs {_listed(active)}")
    return lines


def _listed(items: list[str]) -> str:
    """The first :data:`MAX_LISTED` items, and how many more."""
    return references_text(items, MAX_LISTED)


def _vacancy_lines(total: VacancyStats, fresh: VacancyStats | None,
                   scanned: list[str]) -> list[str]:
    lines = [f"{total.vacancy_id}  {total.title}",
             f"  deadline    {total.deadline or 'none published'} ({total.time_left})"]
    if fresh and fresh.total:
        lines.append(f"  new         {fresh.total}: {counts_text(fresh.statuses)}")
        if fresh.reasons:
            lines.append(f"  new reasons {counts_text(fresh.reasons)}")
        lines += scanned
    else:
        lines.append("  new         none")
    lines.append(f"  totals      {counts_text(total.statuses) or 'none yet'}; "
                 f"{plural(total.candidates, 'candidate')}")
    if total.to_review:
        lines.append(f"  to review   {len(total.to_review)} accepted with flags: "
                     f"{_listed(total.to_review)}")
    if total.unreached:
        lines.append(f"  unreached   {unreached_text(total.unreached, MAX_LISTED)}")
    return lines + [""]


def send_digest(config: Config, register: Register, transport: Transport,
                now: dt.datetime) -> Digest:
    """Compose the digest, send it to ``[digest] recruiters`` and move the bookmark.

    Raises the transport's :class:`TemporaryFailure` or :class:`PermanentFailure`; the
    bookmark then stays, so the next attempt covers the same submissions.
    """
    digest = compose_digest(config, register, now)
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = ", ".join(config.digest_recruiters)
    message["Subject"] = digest.subject
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = make_msgid("digest", domain=config.from_addr_spec.rpartition("@")[2])
    # RFC 3834: machine-made, so that the recruiters' out-of-office replies stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(digest.text)
    transport.send(message.as_bytes(), config.from_addr_spec, list(config.digest_recruiters))
    with register.transaction():
        register.db.table("digests").insert({
            "sent_at": utc_text(now), "last_submission_id": digest.last_submission_id,
            "recipients": ", ".join(config.digest_recruiters), "subject": digest.subject})
    logger.info("digest sent to %s: %s", ", ".join(config.digest_recruiters), digest.subject)
    return digest


def send_digest_if_due(config: Config, register: Register, transport: Transport,
                       now: dt.datetime) -> Digest | None:
    """Send today's digest if it is due (see :func:`digest_due`); the service's daily call."""
    if not digest_due(config, register, now):
        return None
    return send_digest(config, register, transport, now)
