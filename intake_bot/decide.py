"""The pure decision core: from a parsed message to what should happen to it, as data.

parse -> classify -> match -> inspect -> rules -> decision. Nothing here touches the
mailbox, the disk or the register; inspection is passed in so the core stays testable,
and the virus scan's verdicts, made at the edge before, come in as data.

Documents are opened only when that can change the decision: not once the attachment
count (or the channel, the message's size or parts, or the virus scan) rejects the message
whatever they hold, and not once the message's time budget has no whole inspection slot
left. The documents left unopened are known by their kind alone
(:func:`~intake_bot.documents.sniffed`); when the budget ran out, the submission is flagged
``not-inspected`` for a recruiter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from intake_bot.authres import SenderVerdict, sender_verdict
from intake_bot.bounces import DeliveryFailure, failures_in_text
from intake_bot.classify import classify, is_own_notice_id
from intake_bot.clock import TimeBudget
from intake_bot.config import Config, Vacancy
from intake_bot.documents import (
    TIMEOUT_SECONDS,
    DocumentInfo,
    inspect_document,
    sniffed,
    unpack_container,
)
from intake_bot.language import detect_language, order_languages
from intake_bot.match import match_subject
from intake_bot.parse import Attachment, ParsedMessage, safe_display_name
from intake_bot.rules import Application, Document, apply_rules, inspection_moot, needs_text
from intake_bot.scan import Verdicts

Inspector = Callable[..., DocumentInfo]
#: Opens a container attachment (an Outlook winmail.dat): its files, or None for no container.
Unpacker = Callable[[bytes], list[tuple[str | None, bytes]] | None]

NOTICE_FOR_STATUS = {"accepted": "acknowledgement", "rejected": "rejection",
                     "unmatched": "unmatched"}


@dataclass(frozen=True)
class Decision:
    """What the effects half must record and send for one message."""

    status: str  # accepted | rejected | unmatched | ignored
    reasons: tuple[str, ...]
    flags: tuple[str, ...] = ()
    vacancy: Vacancy | None = None
    attachments: tuple[Attachment, ...] = ()
    documents: tuple[Document, ...] = ()
    languages: tuple[str, ...] = ("en",)
    matched_form: str | None = None
    #: Our receiving server's verdict on the From domain; None without ``authserv_id``.
    authentication: SenderVerdict | None = None
    #: For a bounce: the bot's own notices it reports undeliverable (see :mod:`bounces`).
    bounced: tuple[DeliveryFailure, ...] = ()

    @property
    def notice(self) -> str | None:
        """The kind of notice the candidate is owed, None for ignored messages."""
        return NOTICE_FOR_STATUS.get(self.status)

    @property
    def notice_skipped(self) -> str | None:
        """Why the notice owed is not sent: ``unauthenticated`` when our server did not
        find the From domain authentic (a forged From must not be answered: backscatter)."""
        if self.notice and self.authentication and not self.authentication.authenticated:
            return "unauthenticated"
        return None


def decide(message: ParsedMessage, received_at: dt.datetime, config: Config,
           inspect: Inspector = inspect_document, verdicts: Verdicts | None = None,
           attachments: tuple[Attachment, ...] | None = None, *,
           budget: TimeBudget | None = None,
           server_received_at: dt.datetime | None = None) -> Decision:
    """Decide one message: ignored, unmatched, rejected (with every reason) or accepted.

    ``verdicts`` holds the virus scan's finding for each attachment's bytes (None when
    scanning is off); an attachment missing from them raises KeyError, since a file that
    was never scanned must not pass for a clean one. ``received_at`` is the time that
    counts for the deadline; ``server_received_at`` the receiving server's own date when
    it was later (then flagged ``future-date``). ``budget`` bounds the time its documents
    may take to inspect: a document is opened only while a whole inspection slot
    (``TIMEOUT_SECONDS``) is left.
    ``attachments`` are the candidate's attachments as the edge unpacked them (see
    :func:`unpacked`), the message's own by default: they are what is scanned, what the
    rules judge and what is filed.
    """
    own = config.own_addresses
    robot = classify(message, own)
    if robot:
        return Decision(status="ignored", reasons=(robot,),
                        bounced=bounced_notices(message, own) if robot == "bounce" else ())
    authentication = (sender_verdict(message.headers.get("authentication-results", []),
                                     message.sender, config.authserv_id)
                      if config.authserv_id else None)
    preferred = detect_language(f"{message.subject}\n{message.body_text}")
    match = match_subject(message.subject, config.vacancies)
    if match.vacancy is None:
        all_languages = [lang for v in config.vacancies for lang in v.languages]
        return Decision(status="unmatched", reasons=(match.reason or "unknown-vacancy",),
                        languages=order_languages(all_languages, preferred),
                        authentication=authentication)
    vacancy = match.vacancy
    if match.matched_form in vacancy.aliases:
        preferred = detect_language(match.matched_form) or preferred
    attachments = message.attachments if attachments is None else attachments
    application = Application(
        vacancy=vacancy, received_at=received_at, complete=message.complete,
        too_many_parts=message.too_many_parts, server_received_at=server_received_at,
        encrypted=message.encrypted,
        documents=tuple(Document(name=attachment.filename, size=len(attachment.data),
                                 info=sniffed(attachment.data),
                                 malware=None if verdicts is None else verdicts[attachment.data])
                        for attachment in attachments))
    if not inspection_moot(application):
        application = _inspected(application, attachments, inspect, budget)
    documents = application.documents
    reasons, flags = apply_rules(application)
    return Decision(
        status="rejected" if reasons else "accepted",
        reasons=tuple(reasons),
        flags=tuple(flags),
        vacancy=vacancy,
        attachments=attachments,
        documents=documents,
        languages=order_languages(vacancy.languages, preferred),
        matched_form=match.matched_form,
        authentication=authentication,
    )


def _inspected(application: Application, attachments: tuple[Attachment, ...],
               inspect: Inspector, budget: TimeBudget | None) -> Application:
    """The application with its documents opened, as many as the time budget allows."""
    want_text = needs_text(application.vacancy)
    documents = []
    for attachment, document in zip(attachments, application.documents, strict=True):
        if budget is not None and budget.left() < TIMEOUT_SECONDS:
            documents.append(document)  # left unopened: its kind is all that is known
        else:
            documents.append(replace(document, info=inspect(attachment.data,
                                                             want_text=want_text)))
    return replace(application, documents=tuple(documents),
                   out_of_time=any(not d.info.inspected for d in documents))


def bounced_notices(message: ParsedMessage, own: Collection[str]) -> tuple[DeliveryFailure, ...]:
    """The bot's own notices that a bounce reports undeliverable, each with its diagnostic.

    The RFC 3464 report is read first; a bounce without one (a plain-text bounce quoting
    the message) is read for the copy it quotes. A bounce about any other message (say,
    a recruiters' digest) names no notice.
    """
    failures = message.delivery_failures or failures_in_text(message.body_text)
    return tuple(failure for failure in failures if is_own_notice_id(failure.message_id, own))


def unpacked(attachments: tuple[Attachment, ...],
             unpack: Unpacker = unpack_container) -> tuple[Attachment, ...]:
    """The attachments with each container replaced by the files inside it, in order.

    An Outlook winmail.dat's files are the candidate's attachments: each keeps its own
    name (sanitised like any file name) and bytes. A container that cannot be opened
    stays as it came. ``unpack`` opens them in the inspection worker: I/O, for the edge.
    """
    found: list[Attachment] = []
    for attachment in attachments:
        files = unpack(attachment.data)
        if files is None:
            found.append(attachment)
            continue
        found += [Attachment(data=data, filename=safe_display_name(name),
                             content_type="application/octet-stream", declared_size=len(data))
                  for name, data in files]
    return tuple(found)
