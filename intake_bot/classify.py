"""Tell machines from people: messages that must never be answered (RFC 3834, RFC 5230).

Returns the reason code under which a message is registered as ``ignored``, or None for a
message that may be a candidate's application.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from intake_bot.addresses import fold_address
from intake_bot.documents.sniff import TNEF_MAGIC
from intake_bot.parse import ParsedMessage

#: The reason codes of ignored messages.
IGNORED_REASONS = ("auto-submitted", "bounce", "mailing-list", "no-sender", "own-address",
                   "own-notice", "recall")
#: The tag in the Message-ID of every notice: ``<...intake@DOMAIN>``, DOMAIN being the one
#: of the bot's address, so that the bot knows its own notices when they come back.
NOTICE_ID_TAG = "intake"

#: Local parts of system senders that never read replies.
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)$", re.IGNORECASE)
_LIST_SENDERS = re.compile(r"^(listserv|majordomo|owner-.+|.+-request|.+-owner|.+-bounces?)$",
                           re.IGNORECASE)
_ROBOT_SENDERS = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply-.+|.+-noreply)$",
                            re.IGNORECASE)
_REPORT_TYPES = ("multipart/report", "message/delivery-status", "message/disposition-notification",
                 "message/feedback-report")
_ROBOT_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply",
                  # Exchange stamps the messages it generates itself: inbox-rule replies
                  # ("Mailbox Rules Agent"), journal reports, transport-rule notices. A
                  # message a rule merely redirects keeps its own headers, without it.
                  "x-ms-exchange-generated-message-source")
_ANGLE_BRACKETED = re.compile(r"<[^<>\s]+>")
#: Outlook separates X-Auto-Response-Suppress values with commas; other writers use ";" or spaces.
_TOKEN_SEPARATORS = re.compile(r"[,;\s]+")
#: Outlook's recall request, as Exchange Online sends it across the Internet: a plain
#: message "Recall: <subject>" stamped with these (older Exchange sends the request's
#: message class, IPM.Outlook.Recall, inside a winmail.dat instead).
_RECALL_HEADER = "x-ms-exchange-recallreportgenerated"
_RECALL_TRAFFIC = re.compile(r"(MessageRecallEmail|OutlookRecall)\b", re.IGNORECASE)
_RECALL_CLASS = b"IPM.Outlook.Recall"


def classify(message: ParsedMessage, own_addresses: Collection[str] = ()) -> str | None:
    """The ``ignored`` reason for a message from a machine, or None for a person.

    ``own_addresses`` are the bot's own addresses: mail from them, in any case and with any
    ``+tag`` (``recruitment+jobs@example.org``, which reaches the same mailbox), is a loop.
    """
    sender = (message.sender or "").lower()
    local_part = sender.rpartition("@")[0]
    own = {fold_address(address) for address in own_addresses}
    # RFC 5230 4.6 knows system senders by the envelope sender, which the delivering server
    # wrote into Return-Path: a list robot may keep its poster's From.
    envelope = [path.strip("<>").lower()
                for path in _ANGLE_BRACKETED.findall(message.header("return-path") or "")]
    system_parts = (local_part, *(path.rpartition("@")[0] or path for path in envelope))
    if _is_bounce(message, system_parts):
        return "bounce"
    if _is_mailing_list(message, system_parts):
        return "mailing-list"
    if _is_recall(message):
        return "recall"
    if _is_auto_submitted(message, sender, local_part):
        return "auto-submitted"
    if not sender:
        return "no-sender"
    if fold_address(sender) in own or any(fold_address(path) in own for path in envelope):
        return "own-address"
    if _is_own_notice(message, own_addresses):
        return "own-notice"
    return None


def notice_address(message: ParsedMessage, own_addresses: Collection[str] = ()) -> str | None:
    """Where a person's notice goes: the Reply-To they named (RFC 5322, 3.6.2), else the From.

    A Reply-To naming the bot itself (a loop) or a machine that never reads what it gets (a
    mailer-daemon, a list's robot, a no-reply address) is passed over for the From: a
    notice sent there would be bounced, discarded, or answered by a machine.
    """
    reply_to = message.reply_to or ""
    local_part = reply_to.rpartition("@")[0]
    if (not reply_to or fold_address(reply_to) in {fold_address(a) for a in own_addresses}
            or any(machine.match(local_part)
                   for machine in (_BOUNCE_SENDERS, _LIST_SENDERS, _ROBOT_SENDERS))):
        return message.sender
    return reply_to


def is_own_notice_id(message_id: str, own_addresses: Collection[str]) -> bool:
    """Whether a Message-ID is one the bot gave a notice (``<...intake@DOMAIN>``)."""
    suffixes = {f".{NOTICE_ID_TAG}@{address.rpartition('@')[2]}>" for address in own_addresses}
    return message_id.lower().endswith(tuple(suffixes))


def _is_own_notice(message: ParsedMessage, own_addresses: Collection[str]) -> bool:
    """One of the bot's notices come back, or a reply to one that carries no document.

    A notice forwarded back into the mailbox would otherwise be answered by another
    notice. A reply to a notice with nothing attached is a thank-you, a question for a
    person, or an auto-responder that ignored ``X-Auto-Response-Suppress``: answering it
    would say nothing useful and could start a loop. A reply that attaches a document is
    a corrected application and goes through like any other.
    """
    if message.message_id and is_own_notice_id(message.message_id, own_addresses):
        return True
    # Exchange names the message an inbox rule answered in X-MS-Exchange-Parent-Message-Id.
    answered = " ".join(message.header(name) or "" for name in
                        ("in-reply-to", "references", "x-ms-exchange-parent-message-id"))
    replies_to_notice = any(is_own_notice_id(mid, own_addresses)
                            for mid in _ANGLE_BRACKETED.findall(answered))
    return replies_to_notice and message.complete and not message.attachments


def _is_bounce(message: ParsedMessage, local_parts: Sequence[str]) -> bool:
    # The top Return-Path is the one the delivering server wrote (RFC 5321 4.4).
    return_path = message.header("return-path")
    null_return_path = return_path is not None and "".join(_uncommented(return_path).split()) in ("<>", "")
    return (null_return_path or any(_BOUNCE_SENDERS.match(part) for part in local_parts)
            or message.content_type in _REPORT_TYPES
            or any(part in _REPORT_TYPES for part in message.parts))


def _is_recall(message: ParsedMessage) -> bool:
    """An Outlook "Recall:" request: it asks to withdraw an earlier message, and is no
    application (the earlier message stands; the recruiters see the request registered).
    """
    if message.header(_RECALL_HEADER) is not None:
        return True
    if _RECALL_TRAFFIC.search(message.header("x-ms-traffictypediagnostic") or ""):
        return True
    return any(attachment.data.startswith(TNEF_MAGIC)
               and _RECALL_CLASS in attachment.data[:4096] for attachment in message.attachments)


def _is_rule_reply(message: ParsedMessage, sender: str) -> bool:
    """A reply that an Exchange inbox rule of the sender's own mailbox generated.

    Exchange adds ``X-MS-Exchange-Inbox-Rules-Loop: <mailbox>`` to every message a rule of
    that mailbox sends, replies and forwards alike. It names the sender's own address only
    when the sender's rule made the message; a rule of some other mailbox (say, the
    recruiters' own redirect into this one) names that mailbox and proves nothing.
    """
    loop = (message.header("x-ms-exchange-inbox-rules-loop") or "").lower()
    return bool(sender) and sender in {address.strip(" <>") for address in loop.split(",")}


def _is_mailing_list(message: ParsedMessage, local_parts: Sequence[str]) -> bool:
    return ("list" in _field_values(message, "precedence")
            or any(name.startswith("list-") for name in message.headers)
            or any(_LIST_SENDERS.match(part) for part in local_parts))


def _is_auto_submitted(message: ParsedMessage, sender: str, local_part: str) -> bool:
    # RFC 3834 5.1: a keyword, then optional "; parameter=value"s.
    keywords = {value.split(";")[0].strip() for value in _field_values(message, "auto-submitted")}
    suppress = {token for value in _field_values(message, "x-auto-response-suppress")
                for token in _TOKEN_SEPARATORS.split(value)}
    return (bool(keywords - {"no", ""})
            or bool(_field_values(message, "precedence") & {"bulk", "junk", "auto_reply"})
            or bool(suppress & {"all", "oof", "autoreply"})
            or any(name in message.headers for name in _ROBOT_HEADERS)
            or _is_rule_reply(message, sender)
            or bool(_ROBOT_SENDERS.match(local_part)))


def _field_values(message: ParsedMessage, name: str) -> set[str]:
    """Every value of a header, lower case and without its comments.

    RFC 3834 and RFC 5322 let a sender write ``Auto-Submitted: no (sent by hand)`` or
    ``Precedence: bulk (newsletter)``; and a message that carries a field twice (a robot's
    own header beside one a relay kept) is a robot's if any of them says so.
    """
    return {" ".join(_uncommented(value).split()).lower() for value in message.headers.get(name, [])}


def _uncommented(value: str) -> str:
    """``value`` without its (nested) RFC 5322 comments, in one pass."""
    kept: list[str] = []
    depth = 0
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)
