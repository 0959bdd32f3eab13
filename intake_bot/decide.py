"""The pure decision core: from a parsed message to what should happen to it, as data.

parse -> classify -> match -> inspect -> rules -> decision. Nothing here touches the
mailbox, the disk or the register; inspection is passed in so the core stays testable,
and the virus scan's verdicts, made at the edge before, come in as data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from intake_bot.authres import SenderVerdict, sender_verdict
from intake_bot.classify import classify
from intake_bot.config import Config, Vacancy
from intake_bot.documents import DocumentInfo, inspect_document
from intake_bot.language import detect_language, order_languages
from intake_bot.match import match_subject
from intake_bot.parse import Attachment, ParsedMessage
from intake_bot.rules import Application, Document, apply_rules, needs_text
from intake_bot.scan import Verdicts

Inspector = Callable[..., DocumentInfo]

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
           inspect: Inspector = inspect_document, verdicts: Verdicts | None = None) -> Decision:
    """Decide one message: ignored, unmatched, rejected (with every reason) or accepted.

    ``verdicts`` holds the virus scan's finding for each attachment's bytes (None when
    scanning is off); an attachment missing from them raises KeyError, since a file that
    was never scanned must not pass for a clean one.
    """
    own = {config.from_addr_spec.lower()}
    robot = classify(message, own)
    if robot:
        return Decision(status="ignored", reasons=(robot,))
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
    want_text = needs_text(vacancy)
    documents = tuple(
        Document(name=attachment.filename, size=len(attachment.data),
                 info=inspect(attachment.data, want_text=want_text),
                 malware=None if verdicts is None else verdicts[attachment.data])
        for attachment in message.attachments)
    application = Application(vacancy=vacancy, received_at=received_at, documents=documents,
                              complete=message.complete,
                              too_many_parts=message.too_many_parts)
    reasons, flags = apply_rules(application)
    return Decision(
        status="rejected" if reasons else "accepted",
        reasons=tuple(reasons),
        flags=tuple(flags),
        vacancy=vacancy,
        attachments=message.attachments,
        documents=documents,
        languages=order_languages(vacancy.languages, preferred),
        matched_form=match.matched_form,
        authentication=authentication,
    )
