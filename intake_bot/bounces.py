"""Read a delivery-status notification: which message could not be delivered, and why.

RFC 3464 reports (``multipart/report; report-type=delivery-status``) are what Postfix,
Exim, Exchange, Microsoft 365 and Gmail send: a human-readable part, a
``message/delivery-status`` part with one block of fields per recipient (``Action:
failed``, ``Status: 5.1.1``, ``Diagnostic-Code: smtp; 550 5.1.1 ...``) and the returned
message, whole (``message/rfc822``) or its header section only (``text/rfc822-headers``).
Older or simpler mailers send plain text with a copy of the message's headers in the
body; :func:`failures_in_text` reads those. Some gateways return the message as a part
of a plain ``multipart/mixed``; :func:`returned_without_report` reads those. Either way
the returned message is named by its ``Message-ID`` header, the only thing that ties a
bounce to a notice the bot sent.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

#: The parts of a report this module reads; more are not looked at.
MAX_REPORT_PARTS = 20
#: A diagnostic is kept to this many characters (it goes into ``replies.last_error``).
MAX_DIAGNOSTIC_CHARS = 500

# A Message-ID field at the start of a line, its value maybe folded onto the next, the
# line maybe indented or quoted with ">" as some mailers quote the returned headers: a
# quoted header section, not a DKIM signature's ``h=...:message-id:...`` list, which
# mentions the name mid-line and never before an angle bracket.
_MESSAGE_ID_FIELD = re.compile(r"^[ \t>]*message-id:\s*(<[^<>\s]{1,500}>)",
                               re.IGNORECASE | re.MULTILINE)
# An SMTP reply with an enhanced status code, as bounces quote it: "550 5.1.1 <x>: unknown".
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b[^\n]*")
#: The report's fields: RFC 3464's, and RFC 6533's in UTF-8, which a server sends about a
#: message that went out over SMTPUTF8 (a notice to a non-ASCII address).
_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_FIELD_TYPE = re.compile(r"^\s*[a-z0-9-]+\s*;\s*", re.IGNORECASE)


@dataclass(frozen=True)
class DeliveryFailure:
    """A message that could not be delivered to one recipient, for good."""

    message_id: str  # the returned message's Message-ID, angle brackets included
    recipient: str | None  # the Final-Recipient, when the report names one
    diagnostic: str  # "550 5.1.1 <x@example.net>: Recipient address rejected: User unknown"


def read_report(message: Message) -> tuple[DeliveryFailure, ...]:
    """The permanent failures an RFC 3464 report states, each with the returned Message-ID.

    Looks at a ``multipart/report`` at the top of ``message`` or among its direct parts.
    Only ``Action: failed`` counts: a ``delayed`` report says the message is still being
    tried. Empty when the report names no returned message (nothing to tie it to).
    """
    report = _find_report(message)
    if report is None:
        return ()
    parts = [part for part in _children(report)[:MAX_REPORT_PARTS] if isinstance(part, Message)]
    message_id = next(filter(None, map(_returned_message_id, parts)), None)
    status_parts = [part for part in parts if part.get_content_type() in _STATUS_TYPES]
    blocks = [block for part in status_parts for block in _status_blocks(part)]
    if message_id is None:
        # Gmail names the message in the report's own fields as well.
        message_id = next(filter(None, (_angle_id(block.get("x-original-message-id"))
                                        for block in blocks[:1])), None)
    if message_id is None:
        return ()
    failures = []
    for block in blocks[1:MAX_REPORT_PARTS]:
        action = str(block.get("action", "")).strip().lower()
        status = str(block.get("status", "")).strip()
        if action == "failed" or (not action and status.startswith("5")):
            failures.append(DeliveryFailure(message_id, _recipient(block), _diagnostic(block)))
    return tuple(failures)


def returned_without_report(message: Message) -> tuple[DeliveryFailure, ...]:
    """The failure a bounce with no RFC 3464 report states by returning the message itself.

    Some mailers and gateways answer with a ``multipart/mixed``: their own text, and the
    message returned as a ``message/rfc822`` (or its headers as ``text/rfc822-headers``)
    part. The diagnostic is the first SMTP reply their text quotes, else a generic phrase.
    """
    if message.get_content_maintype() != "multipart" or _find_report(message) is not None:
        return ()
    parts = [part for part in _children(message)[:MAX_REPORT_PARTS] if isinstance(part, Message)]
    message_id = next(filter(None, map(_returned_message_id, parts)), None)
    if message_id is None:
        return ()
    text = next((_payload_text(part) for part in parts
                 if part.get_content_type() == "text/plain"), "")
    return (DeliveryFailure(message_id, None, _quoted_reply(text)),)


def failures_in_text(text: str) -> tuple[DeliveryFailure, ...]:
    """The failure a plain-text bounce describes, read from the copy of the message it quotes.

    For mailers that send no RFC 3464 report: the returned message's ``Message-ID:`` line
    is found at the start of a line, and the diagnostic is the first SMTP reply with an
    enhanced status code (``550 5.1.1 ...``), else a generic phrase.
    """
    found = _MESSAGE_ID_FIELD.search(text)
    if found is None:
        return ()
    return (DeliveryFailure(found.group(1), None, _quoted_reply(text)),)


def _quoted_reply(text: str) -> str:
    """The first SMTP reply with an enhanced status code that ``text`` quotes, else a phrase."""
    reply = _SMTP_REPLY.search(text)
    return _one_line(reply.group(0)) if reply else "delivery failed (no SMTP reply quoted)"


def _find_report(message: Message) -> Message | None:
    if message.get_content_type() == "multipart/report":
        return message
    children = _children(message) if message.get_content_maintype() == "multipart" else []
    return next((child for child in children[:MAX_REPORT_PARTS] if isinstance(child, Message)
                 and child.get_content_type() == "multipart/report"), None)


def _children(part: Message) -> list[object]:
    payload = part.get_payload() if part.is_multipart() else None
    return list(payload) if isinstance(payload, list) else []


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a status part: the message's, then one per recipient.

    The standard parser splits ``message/delivery-status`` into blocks itself, but reads
    the UTF-8 form (``message/global-delivery-status``) as one message: the first block
    its header section, the recipients' blocks its body, split here.
    """
    children = [child for child in _children(part) if isinstance(child, Message)]
    if part.get_content_type() == "message/delivery-status" or len(children) != 1:
        return children
    text = _payload_text(children[0])  # RFC 6533 fields are UTF-8
    return children + [HeaderParser().parsestr(chunk, headersonly=True)
                       for chunk in _BLANK_LINE.split(text.strip())[:MAX_REPORT_PARTS]
                       if chunk.strip()]


def _returned_message_id(part: Message) -> str | None:
    """The Message-ID of the returned message or of its returned header section."""
    content_type = part.get_content_type()
    if content_type in ("message/rfc822", "message/global", "message/global-headers"):
        inner = _children(part)
        if not inner or not isinstance(inner[0], Message):
            return None
        if str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
            return _angle_id(inner[0].get("message-id"))
        # Base64 where RFC 2046 wants none (as Python's add_attachment writes it): the
        # standard parser read the base64 text as a message with no header.
        text = _payload_text(inner[0])
        return _header_id(base64.b64decode(text.encode("ascii", "ignore")).decode("utf-8", "replace"))
    if content_type == "text/rfc822-headers":
        return _header_id(_payload_text(part))
    return None


def _header_id(text: str) -> str | None:
    """The Message-ID of a header section (and whatever follows it) given as text."""
    return _angle_id(HeaderParser().parsestr(text, headersonly=True).get("message-id"))


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _angle_id(value: object) -> str | None:
    if value is None:
        return None
    found = re.search(r"<[^<>\s]{1,500}>", str(value))
    return found.group(0) if found else None


def _recipient(block: Message) -> str | None:
    value = block.get("final-recipient") or block.get("original-recipient")
    return _one_line(_FIELD_TYPE.sub("", str(value))) if value is not None else None


def _diagnostic(block: Message) -> str:
    """``550 5.1.1 <x>: Recipient address rejected``: the code without its ``smtp;`` type."""
    code = block.get("diagnostic-code")
    if code is not None:
        return _one_line(_FIELD_TYPE.sub("", str(code)))
    status = str(block.get("status", "")).strip() or "5.0.0"
    return _one_line(f"{status} delivery failed (the report gives no diagnostic code)")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_DIAGNOSTIC_CHARS]
