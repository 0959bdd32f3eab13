"""A candidate card: one submission as a person would describe it, for the browser view.

Who sent it, for what, when (the vacancy's local time, and how long before or after the
deadline), the decision in the very sentences the notice used, the documents, the notices
sent and what became of them, the candidate's other submissions for the vacancy, and the
e-mail itself in readable form. Pure: the browser view's plugin reads the register and the
archived message and hands them in; this module only words them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from intake_bot.config import Vacancy
from intake_bot.json_columns import json_list
from intake_bot.localtime import format_moment, parse_utc, span_text
from intake_bot.notices import NoticeFacts, Notices, format_deadline, title_in
from intake_bot.parse import parse_message

#: What each status means, in a recruiter's words (after the status itself).
STATUS_WORDS = {
    "accepted": "this application counts.",
    "rejected": "the candidate was told why, and how to put it right.",
    "superseded": "the candidate sent another application for this vacancy, which is the one "
                  "that counts.",
    "unmatched": "the subject named no vacancy; the candidate was asked which vacancy they "
                 "meant.",
    "ignored": "sent by a machine (an auto-reply, a bounce, a list); never answered.",
    "quarantined": "the bot could not handle this message; an operator can replay it once "
                   "the cause is fixed.",
}
#: The codes that no vacancy's notice explains (the message matched no vacancy, or was
#: not answered at all).
OTHER_REASONS = {
    "unknown-vacancy": "The subject names no vacancy.",
    "ambiguous-vacancy": "The subject could name more than one vacancy.",
    "auto-submitted": "An automatic message (out of office, auto-reply).",
    "bounce": "A delivery failure report.",
    "mailing-list": "A message from a mailing list.",
    "no-sender": "The message has no usable sender address.",
    "own-address": "A message from the bot's own address.",
    "own-notice": "One of the bot's own notices, come back.",
    "processing-error": "A step broke while handling the message.",
}
#: What each notice status means (others, added later, are shown as they are).
NOTICE_STATUS_WORDS = {
    "pending": "waiting to be sent",
    "sending": "being sent (or cut short by a stop)",
    "sent": "sent",
    "failed": "not sent, or not confirmed (see the error)",
    "bounced": "bounced: the candidate's server refused it",
}
NO_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: The headers of the e-mail shown on the card, in this order.
MAIL_HEADERS = ("from", "reply-to", "to", "cc", "date", "subject", "message-id")


@dataclass(frozen=True)
class Explanation:
    """A reason or flag as the notice put it: the code, the problem, the fix."""

    code: str
    problem: str
    fix: str = ""


#: Flags for recruiters only, which no notice words: what they say, and what to do.
RECRUITER_FLAGS = {
    "active-content": Explanation(
        "active-content", "A PDF holds active content: {found}.",
        "Open it in a viewer that runs no scripts, or ask the candidate for a plain copy."),
}


@dataclass(frozen=True)
class Mail:
    """The archived e-mail, readable: its main headers, its text, its attachments."""

    headers: list[tuple[str, str]]
    text: str
    attachments: list[tuple[str, str, str]]  # name, type, size in words


@dataclass
class Card:
    """Everything the card shows, worded; times already in the vacancy's zone."""

    id: int
    name: str
    address: str | None
    reply_to: str | None
    vacancy_id: str | None
    vacancy_title: str | None
    reference: str | None
    received: str
    against_deadline: str | None
    status: str
    status_words: str
    reasons: list[Explanation] = field(default_factory=list)
    flags: list[Explanation] = field(default_factory=list)
    notice_skipped: str | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    mail: Mail | None = None
    purged: str | None = None
    error: str | None = None


def build_card(notices: Notices, row: dict[str, Any], replies: list[dict[str, Any]],
               history: list[dict[str, Any]], raw: bytes | None, now: dt.datetime) -> Card:
    """The card of one submission (``row``, a register row), with its notices (``replies``
    rows), the candidate's other submissions for the vacancy (``history`` rows) and the
    archived message (``raw``, None when purged or out of reach). ``notices`` words the
    reasons as the candidate's notice did."""
    config = notices.config
    vacancy = config.vacancy(row["vacancy_id"]) if row["vacancy_id"] else None
    zone = config.local_zone(row["vacancy_id"])
    received = parse_utc(row["received_at"])
    language = _language(vacancy)
    reasons, flags = explain_codes(notices, row["vacancy_id"], json_list(row["reasons"]),
                                   json_list(row["flags"]), row, now)
    return Card(
        id=row["id"],
        name=row["sender_name"] or row["sender"] or "(no name)",
        address=row["sender"],
        reply_to=row["reply_to"] if row["reply_to"] != row["sender"] else None,
        vacancy_id=row["vacancy_id"],
        vacancy_title=title_in(vacancy, language) if vacancy else None,
        reference=row["reference"],
        received=format_moment(received, zone, "en"),
        against_deadline=_against_deadline(vacancy, received),
        status=row["status"],
        status_words=STATUS_WORDS.get(row["status"], row["status"]),
        reasons=reasons,
        flags=flags,
        notice_skipped=row["notice_skipped"],
        documents=_documents(row),
        notices=[_notice(reply, zone) for reply in replies],
        history=[_other(other, zone) for other in history],
        mail=readable_mail(raw) if raw is not None else None,
        purged=format_moment(parse_utc(row["purged_at"]), zone, "en") if row["purged_at"]
        else None,
        error=row["error"],
    )


def _language(vacancy: Vacancy | None) -> str:
    """Recruiters read the English sentences when the vacancy has them."""
    if vacancy is None or "en" in vacancy.languages:
        return "en"
    return vacancy.languages[0]


def _against_deadline(vacancy: Vacancy | None, received: dt.datetime) -> str | None:
    """``12 June 2026 at 23:59 (Brussels time): received 2 days before``."""
    if vacancy is None or vacancy.closes_at is None:
        return None
    deadline = format_deadline(vacancy, "en")
    if received < vacancy.closes_at:
        return f"{deadline}: received {span_text(vacancy.closes_at - received)} before"
    late = received - vacancy.closes_at
    after = f"{int(late.total_seconds())} seconds" if late < dt.timedelta(minutes=1) \
        else span_text(late)
    return f"{deadline}: received {after} after, too late"


def explain_codes(notices: Notices, vacancy_id: str | None, reasons: list[str],
                  flags: list[str], row: dict[str, Any],
                  now: dt.datetime | None = None) -> tuple[list[Explanation], list[Explanation]]:
    """Reasons and flags in the words of the notice (``reasons.toml``), with the fix.

    ``row`` holds what is known of the submission (a register row, or the columns a list
    or query shows); missing facts are left out of the sentences. Codes that no vacancy's
    notice explains (unmatched, ignored, quarantined) get a recruiter's sentence.
    """
    vacancy = notices.config.vacancy(vacancy_id) if vacancy_id else None
    if vacancy is None or row.get("status") in ("ignored", "quarantined"):
        return ([Explanation(code, OTHER_REASONS.get(code, code)) for code in reasons],
                [Explanation(code, OTHER_REASONS.get(code, code)) for code in flags])
    documents = json_list(row.get("attachments"))
    # No sentence quotes the times: any will do when a list shows no received_at.
    received = parse_utc(row["received_at"]) if row.get("received_at") else now or NO_TIME
    facts = NoticeFacts(
        kind="rejection", languages=[_language(vacancy)], recipient="",
        candidate_name=row.get("sender_name") or "", subject=row.get("subject") or "",
        received_at=received,
        in_reply_to=None, vacancy=vacancy, reasons=reasons, flags=flags,
        document_name=row.get("document_name"), document_pages=row.get("document_pages"),
        document_count=len(documents),
        max_document_pages=max((d.get("pages") or 0 for d in documents), default=None))
    problems, findings = notices.explanations(facts, _language(vacancy), now or received)
    return ([Explanation(p["code"], p["problem"], p["fix"]) for p in problems],
            [_for_recruiters(Explanation(f["code"], f["problem"], f["fix"]), documents)
             for f in findings])


def _for_recruiters(flag: Explanation, documents: list[dict[str, Any]]) -> Explanation:
    """A recruiters' flag in their words, with what the documents hold (when known)."""
    words = RECRUITER_FLAGS.get(flag.code)
    if words is None:
        return flag
    found = ", ".join(dict.fromkeys(item for entry in documents
                                    for item in entry.get("active_content", ())))
    return replace(words, problem=words.problem.format(found=found or "see the documents"))


def _documents(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Each document: its name, type, pages and size, and whether it can be opened."""
    documents = []
    for index, entry in enumerate(json_list(row["attachments"])):
        pages = entry.get("pages")
        details = [str(entry.get("type") or "file").upper()]
        if pages:
            details.append(f"{pages} page{'s' if pages != 1 else ''}")
        if entry.get("bytes") is not None:
            details.append(size_text(int(entry["bytes"])))
        if entry.get("active_content"):
            details.append("holds " + ", ".join(entry["active_content"]))
        if entry.get("quarantine"):  # never shown: the virus scan found something in it
            details.append("kept apart: the virus scan found "
                           + (entry.get("malware") or "something harmful in this message"))
        documents.append({"index": index, "name": entry.get("name") or f"document {index + 1}",
                          "details": ", ".join(details), "available": bool(entry.get("path"))})
    return documents


def size_text(size: int) -> str:
    """``812 bytes``, ``48 KB``, ``1.2 MB``."""
    if size < 1_000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1_000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


def _notice(reply: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    sent = reply.get("sent_at")
    return {"id": reply["id"], "kind": reply["kind"], "recipient": reply["recipient"],
            "status": reply["status"],
            "status_words": NOTICE_STATUS_WORDS.get(reply["status"], reply["status"]),
            "sent": format_moment(parse_utc(sent), zone, "en") if sent else None,
            "attempts": reply["attempts"], "last_error": reply["last_error"],
            "subject": reply["subject"]}


def _other(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    return {"id": row["id"], "reference": row["reference"] or f"#{row['id']}",
            "status": row["status"], "received": format_moment(parse_utc(row["received_at"]),
                                                                zone, "en"),
            "document_name": row["document_name"]}


def readable_mail(raw: bytes) -> Mail:
    """The e-mail as its reader saw it, parsed the way the pipeline parsed it."""
    parsed = parse_message(raw)
    headers = [(name.title().replace("Id", "ID"), "; ".join(parsed.headers[name]))
               for name in MAIL_HEADERS if parsed.headers.get(name)]
    attachments = [(a.filename or "(no name)", a.content_type, size_text(len(a.data)))
                   for a in parsed.attachments]
    return Mail(headers, parsed.body_text.strip(), attachments)
