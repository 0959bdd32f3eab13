"""Realistic deadline-night applications for the benchmark: about 270 KiB each, built fast.

The documents come from ``tests/builders.py`` (a three-page application PDF: letter, CV with
a nationality, three referees) with a real JPEG photo stamped on the CV page, as candidates'
CVs carry one: the size comes from a compressed image stream, not from junk bytes. Each
message gets its own copy of the documents, made unique by a fixed-width token in the PDF's
Info dictionary (or the Word file's zip comment), so that the archive really writes every
document, as it would on a real deadline night; swapping bytes of the same width keeps the
PDF's cross-reference offsets valid.

The mix: 80 % valid applications, then equal shares of late ones, two PDFs, a Word file
instead of the PDF, an unknown vacancy, and robots (out-of-office replies, never answered).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import docx
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

from tests.builders import make_application_pdf, make_pdf

BRUSSELS = ZoneInfo("Europe/Brussels")
#: The shipped DRP vacancy's deadline is 12 June 2026, 23:59 Brussels time.
ON_TIME = dt.datetime(2026, 6, 12, 20, 0, tzinfo=BRUSSELS)
LATE = dt.datetime(2026, 6, 13, 0, 0, 30, tzinfo=BRUSSELS)
DRP_TITLE = "Officer – Democratic Resilience and Partnerships"
DRP_TITLE_FR = "Officier – Résilience démocratique et partenariats"
BOT_ADDRESS = "recruitment@example.org"

#: Kinds of message, and how many of every 25 are of each kind (80 % valid).
MIX = (("valid", 20), ("late", 1), ("two-pdfs", 1), ("word", 1), ("unmatched", 1), ("robot", 1))
#: The kinds the bot answers (robots are registered, never answered).
ANSWERED = frozenset(kind for kind, _ in MIX if kind != "robot")

_TOKEN = b"BENCH" + b"0" * 15  # replaced by a unique token of the same width per message
_CRLF = b"\r\n"


@dataclass(frozen=True)
class BenchMessage:
    """One generated message: its kind, Message-ID, raw bytes and INTERNALDATE."""

    kind: str
    message_id: str
    raw: bytes
    received_at: dt.datetime


def kind_of(index: int) -> str:
    """The kind of the ``index``-th message, cycling through :data:`MIX` in a fixed pattern."""
    slot = index % sum(count for _, count in MIX)
    for kind, count in MIX:
        if slot < count:
            return kind
        slot -= count
    raise AssertionError("unreachable")


def messages(count: int, run: str | None = None, start: int = 0) -> Iterator[BenchMessage]:
    """Yield ``count`` messages, built one at a time so that memory stays flat.

    ``run`` makes Message-IDs and senders unique across runs (random by default); ``start``
    continues a numbering.
    """
    run = run or secrets.token_hex(4)
    for index in range(start, start + count):
        yield build(kind_of(index), index, run)


def build(kind: str, index: int, run: str) -> BenchMessage:
    """Build the ``index``-th message of a given kind."""
    token = f"BENCH{run:0>8}{index:07d}".encode()
    assert len(token) == len(_TOKEN), "run: at most 8 characters; index: below 10 million"
    french = index % 5 == 4
    name = f"Candidate {index}"
    sender = f"cand{index}.{run}@example.net"
    message_id = f"<bench.{run}.{index}@example.net>"
    received = ON_TIME + dt.timedelta(seconds=index % 14_000 * 0.25)
    subject = DRP_TITLE_FR if french else DRP_TITLE
    attachments: list[tuple[str, str, bytes]] = []
    extra_headers: list[str] = []
    body = ("Madame, Monsieur,\r\n\r\nVeuillez trouver ci-joint ma candidature.\r\n"
            if french else "Dear Sir or Madam,\r\n\r\nPlease find my application attached.\r\n")
    application = (f"{name} - application.pdf", "application/pdf",
                   _unique(_application_pdf(french), token))
    if kind == "valid":
        attachments.append(application)
    elif kind == "late":
        attachments.append(application)
        received = LATE + dt.timedelta(seconds=index % 3600)
    elif kind == "two-pdfs":
        attachments += [application, ("References.pdf", "application/pdf", _references_pdf())]
    elif kind == "word":
        attachments.append((f"{name} - application.docx", "application/vnd.openxmlformats-"
                            "officedocument.wordprocessingml.document", _unique(_docx(), token)))
    elif kind == "unmatched":
        subject = "Job application"
        attachments.append(application)
    elif kind == "robot":
        subject = f"Automatic reply: {DRP_TITLE}"
        extra_headers = ["Auto-Submitted: auto-replied", "X-Autoreply: yes"]
        body = "I am out of the office until 15 June with limited access to e-mail.\r\n"
    else:
        raise ValueError(f"unknown kind of message: {kind}")
    raw = _mime(name, sender, subject, message_id, received, extra_headers, body, attachments)
    return BenchMessage(kind, message_id, raw, received)


def _mime(name: str, sender: str, subject: str, message_id: str, date: dt.datetime,
          extra_headers: list[str], body: str,
          attachments: list[tuple[str, str, bytes]]) -> bytes:
    """Lay out the message as a mail client does: multipart/mixed, base64 attachments, CRLF."""
    boundary = f"----=_Part_{secrets.token_hex(12)}"
    headers = [
        f"Received: from mail.example.net (mail.example.net [192.0.2.25]) by mx.example.org "
        f"with ESMTPS; {format_datetime(date)}",
        f"From: {name} <{sender}>",
        f"To: NATO PA Recruitment <{BOT_ADDRESS}>",
        f"Subject: {Header(subject, 'utf-8').encode()}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "User-Agent: Mozilla Thunderbird",
        *extra_headers,
    ]
    text = body.encode()
    if not attachments:
        headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        return _CRLF.join(h.encode() for h in headers) + _CRLF * 2 + text
    headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    parts = [b"--" + boundary.encode() + _CRLF
             + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             + text]
    for filename, mime, data in attachments:
        encoded_name = Header(filename, "utf-8").encode() if not filename.isascii() else filename
        parts.append(
            b"--" + boundary.encode() + _CRLF
            + f'Content-Type: {mime}; name="{encoded_name}"\r\n'
              f'Content-Disposition: attachment; filename="{encoded_name}"\r\n'
              "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + base64.encodebytes(data).replace(b"\n", _CRLF))
    return (_CRLF.join(h.encode() for h in headers) + _CRLF * 2
            + b"This is a multi-part message in MIME format.\r\n"
            + b"".join(parts) + b"--" + boundary.encode() + b"--" + _CRLF)


def _unique(document: bytes, token: bytes) -> bytes:
    return document.replace(_TOKEN, token, 1)


@functools.cache
def _photo() -> bytes:
    """A photo-like JPEG of about 190 KB: smooth shading and sensor noise, as a camera gives."""
    size = (720, 900)
    shading = Image.linear_gradient("L").resize(size)
    channels = [Image.blend(shading, Image.effect_noise(size, sigma).convert("L"), 0.35)
                for sigma in (40, 55, 70)]
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, "JPEG", quality=80)
    return out.getvalue()


@functools.cache
def _photo_page() -> PdfReader:
    """A one-page PDF holding only the photo, top right, to stamp on the CV page."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(io.BytesIO(_photo()), x=150, y=12, w=45)
    return PdfReader(io.BytesIO(bytes(pdf.output())))


@functools.cache
def _application_pdf(french: bool) -> bytes:
    """The three-page application with the photo on its CV page and a token in its Info."""
    text = (make_application_pdf(language="fr", nationality="belge") if french
            else make_application_pdf(nationality="Belgian"))
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text)))
    writer.pages[1].merge_page(_photo_page().pages[0])
    writer.add_metadata({"/Title": _TOKEN.decode()})
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert data.count(_TOKEN) == 1 and len(PdfReader(io.BytesIO(data)).pages) == 3
    return data


@functools.cache
def _references_pdf() -> bytes:
    return make_pdf(["References\n\nDr Anna Kowalska, University of Warsaw, "
                     "anna.kowalska@uw.edu.pl"])


@functools.cache
def _docx() -> bytes:
    """A Word application with the same photo, and the token as its zip comment."""
    document = docx.Document()
    for paragraph in ("Dear Sir or Madam,", "I am writing to apply for the post of "
                      f"{DRP_TITLE}.", "Curriculum vitae", "Nationality: Belgian"):
        document.add_paragraph(paragraph)
    document.add_picture(io.BytesIO(_photo()))
    out = io.BytesIO()
    document.save(out)
    with zipfile.ZipFile(out, "a") as archive:
        archive.comment = _TOKEN
    return out.getvalue()
