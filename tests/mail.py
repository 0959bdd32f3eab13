"""Build real MIME messages for the tests, as candidates' mail clients would send them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from intake_bot import parse
from intake_bot.parse import ParsedMessage

DRP_TITLE = "Officer – Democratic Resilience and Partnerships"


def application(subject: str = DRP_TITLE, sender: str = "Alice Martin <alice@example.net>",
                attachments: Sequence[tuple[str | None, bytes, str]] = (),
                body: str = "Dear Sir or Madam,\n\nPlease find my application attached.\n",
                headers: dict[str, str] | None = None, message_id: str | None = None,
                inline: bool = False) -> bytes:
    """A candidate's e-mail; attachments are (file name or None, bytes, MIME type)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "recruitment@example.org"
    message["Subject"] = subject
    message["Date"] = "Wed, 10 Jun 2026 09:00:00 +0200"
    message["Message-ID"] = message_id or make_msgid(domain="example.net")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename,
                               disposition="inline" if inline else "attachment")
    return message.as_bytes()


def blank_pdf(pages: int = 1, user_password: str | None = None) -> bytes:
    """A real PDF of blank pages, optionally encrypted with a user password (pypdf's writer)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def parse_with_the_stdlib_alone(raw: bytes) -> ParsedMessage:
    """``parse_message`` without its shortcuts (folded base64 runs, headers parsed once):
    what the standard parser alone finds, for the tests that prove the shortcuts change
    nothing."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parse._EncodedRuns, "_RUN", re.compile(rb"(?!)"))  # folds nothing
        patch.setattr(parse, "_PARSE_ONCE", parse._Bounded())  # policy.default, with the caps
        return parse.parse_message(raw)
