"""Hostile and broken e-mails and PDFs, built byte by byte, for the tests and bench/hostile.py.

Every builder returns a whole message (bytes) whose subject names the DRP vacancy by its
reference, so that it goes past matching into the rules. ``MESSAGES`` names the message
builders; ``PDFS`` the hand-made hostile PDFs, each wrapped in an application by
:func:`with_pdf`.
"""

from __future__ import annotations

import base64
import functools
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.clients import tnef_attribute
from tests.mail import blank_pdf

SUBJECT = b"Application NATO-PA-2026-07"
#: The DRP vacancy with the reference the subjects use, and text extraction on, so that the
#: inspector reads every content stream, bombs included.
VACANCY = """
[[vacancy]]
id = "DRP"
title = "Officer – Democratic Resilience and Partnerships"
reference = "NATO-PA-2026-07"
deadline = "2026-06-12T23:59"
timezone = "Europe/Brussels"
[vacancy.checks]
letter = "flag"
"""
#: The same vacancy taking one to twenty documents: what only the time budget bounds.
UP_TO_TWENTY_VACANCY = VACANCY.replace("[vacancy.checks]", """[vacancy.attachments]
min_count = 1
max_count = 20
[vacancy.checks]""")


def headers(name: str, *extra: bytes, subject: bytes = SUBJECT,
            sender: bytes = b"Candidate <candidate@example.net>") -> bytes:
    """A header section (without the blank line) with a Message-ID made of ``name``."""
    lines = [b"From: " + sender, b"To: recruitment@example.org", b"Subject: " + subject,
             b"Date: Wed, 10 Jun 2026 09:00:00 +0200",
             b"Message-ID: <" + name.encode() + b"@hostile.example>", b"MIME-Version: 1.0",
             *extra]
    return b"\r\n".join(lines) + b"\r\n"


def pdf_part(data: bytes, disposition: bytes = b'attachment; filename="cv.pdf"') -> bytes:
    """A base64 application/pdf body part (headers and body, no boundary)."""
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: " + disposition + b"\r\n\r\n" + encoded)


def multipart(head: bytes, parts: list[bytes], boundary: bytes = b"b0",
              close: bool = True) -> bytes:
    """A multipart/mixed message of ``parts`` under the header section ``head``."""
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return (head + b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
            + body + (b"--" + boundary + b"--\r\n" if close else b""))


TEXT = b"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease find my application attached."


def deep_nesting(depth: int = 100) -> bytes:
    """A PDF at the bottom of ``depth`` nested multiparts."""
    inner = pdf_part(blank_pdf())
    for level in reversed(range(1, depth)):
        boundary = b"n%d" % level
        inner = (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--'
                 + boundary + b"\r\n" + inner + b"\r\n--" + boundary + b"--")
    return multipart(headers("deep-nesting"), [TEXT, inner])


def missing_closing_boundary() -> bytes:
    """A multipart whose closing boundary never comes."""
    return multipart(headers("no-closing-boundary"), [TEXT, pdf_part(blank_pdf())], close=False)


def invalid_charsets() -> bytes:
    """Charsets no codec knows, in an encoded word, a text part and a file name."""
    return multipart(
        headers("bad-charsets", subject=SUBJECT + b" =?x-no-such-charset?q?caf=E9?="),
        [b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xff\xfe\xfd caf\xe9",
         pdf_part(blank_pdf(), b'attachment; filename="=?x-bogus?b?!!!notbase64?="')])


def eight_bit_headers() -> bytes:
    """Raw UTF-8 and Latin-1 bytes in headers, where only ASCII belongs."""
    return multipart(
        headers("eight-bit", b"X-Latin1: caf\xe9 cr\xe8me",
                subject=SUBJECT + " – Résilience".encode(),
                sender="Zoë Ünal <zoe@example.net>".encode()),
        [TEXT, pdf_part(blank_pdf(), 'attachment; filename="Lettre_é.pdf"'.encode())])


def nul_bytes() -> bytes:
    """NUL bytes in the subject, the display name, the body and a file name."""
    return multipart(
        headers("nul-bytes", subject=SUBJECT + b" \x00nul", sender=b"N\x00ul <nul@example.net>"),
        [b"Content-Type: text/plain\r\n\r\nbody\x00with\x00nuls",
         pdf_part(blank_pdf(), b"attachment; filename*=utf-8''cv%00evil.pdf")])


def injected_headers(subject: bytes = SUBJECT, name: str = "injection") -> bytes:
    """A subject and a display name whose encoded words decode to CR LF and ``Bcc:``."""
    crlf_bcc = b"=0D=0ABcc=3A_victim=40evil=2Eexample=0D=0AX-Injected=3A_yes"
    return multipart(
        headers(name, subject=b"=?utf-8?q?" + subject.replace(b" ", b"_") + crlf_bcc
                + b"?=", sender=b"=?utf-8?q?Eve" + crlf_bcc + b"?= <eve@example.net>"),
        [TEXT, pdf_part(blank_pdf())])


#: Attachment names that try to choose where a file is written.
EVIL_NAMES = {  # the name meant -> the Content-Disposition parameter that carries it
    "../../../../tmp/intake-evil-relative.pdf": b'="../../../../tmp/intake-evil-relative.pdf"',
    "/tmp/intake-evil-absolute.pdf": b'="/tmp/intake-evil-absolute.pdf"',
    "C:\\Windows\\intake-evil.pdf": b'="C:\\\\Windows\\\\intake-evil.pdf"',
    "cv\x00.pdf": b"*=utf-8''cv%00.pdf",
    "../../intake-evil-encoded.pdf": b'="=?utf-8?q?..=2F..=2Fintake-evil-encoded.pdf?="',
    "x" * 1000 + ".pdf": b'="' + b"x" * 1000 + b'.pdf"',
    "CON.pdf": b'="CON.pdf"',
    "nul": b'="nul"',
    "..": b'=".."',
}


def evil_file_names() -> bytes:
    """One PDF per name in :data:`EVIL_NAMES` (each a different document)."""
    return multipart(headers("evil-names"), [TEXT] + [
        pdf_part(blank_pdf(index + 1), b"attachment; filename" + value)
        for index, value in enumerate(EVIL_NAMES.values())])


def duplicate_message_id_headers() -> bytes:
    """Two Message-ID headers in one message."""
    return multipart(headers("dup-header", b"Message-ID: <second@hostile.example>"),
                     [TEXT, pdf_part(blank_pdf())])


def no_message_id() -> bytes:
    """No Message-ID at all."""
    head = b"".join(line + b"\r\n" for line in headers("none").split(b"\r\n")
                    if line and not line.startswith(b"Message-ID"))
    return multipart(head, [TEXT, pdf_part(blank_pdf())])


def many_parts(count: int = 2_000, filler: int = 1) -> bytes:
    """A PDF, then ``count`` tiny text parts of ``filler`` bytes each.

    200,000 parts of 15 bytes make the 10 MB message that once took the service to 1.45 GB.
    """
    tiny = b"Content-Type: text/plain\r\n\r\n" + b"x" * filler
    return multipart(headers(f"many-parts-{count}"), [pdf_part(blank_pdf()), *[tiny] * count])


def header_flood(count: int = 5_000) -> bytes:
    """``count`` one-line header fields (200,000 of them, 1.6 MB, once took 840 MB)."""
    return multipart(headers("header-flood", *[b"X-Flood: x"] * count), [TEXT, pdf_part(blank_pdf())])


def encoded_word_headers(count: int = 40, words: int = 600) -> bytes:
    """``count`` headers of ``words`` encoded words each: one 300 KB such subject took 2.9 GB."""
    value = b" ".join([b"=?utf-8?q?ab?="] * words)
    return multipart(headers("encoded-words", *[b"X-Words: " + value] * count),
                     [TEXT, pdf_part(blank_pdf())])


def long_subject(words: int = 20_000) -> bytes:
    """A subject of ``words`` encoded words after the reference (300 KB): cut, then parsed."""
    return multipart(headers("long-subject", subject=SUBJECT + b" " + b" ".join(
        [b"=?utf-8?q?ab?="] * words)), [TEXT, pdf_part(blank_pdf())])


def many_lines(count: int = 300_000) -> bytes:
    """A text body of ``count`` empty lines before the PDF."""
    return multipart(headers("many-lines"), [TEXT + b"\r\n" * count, pdf_part(blank_pdf())])


def random_bytes(seed: int = 0, size: int = 4096) -> bytes:
    """Bytes with no structure at all."""
    return random.Random(seed).randbytes(size)


def write_oversized(path: Path, size: int, name: str = "oversized") -> None:
    """Write a message of about ``size`` bytes to ``path`` without holding it in memory."""
    line = base64.encodebytes(bytes(range(256)) * 3).replace(b"\n", b"\r\n")
    with path.open("wb") as handle:
        handle.write(multipart(headers(name), [TEXT], close=False))
        handle.write(b"--b0\r\n" + pdf_part(b""))
        written = handle.tell()
        while written < size:
            handle.write(line)
            written += len(line)
        handle.write(b"\r\n--b0--\r\n")


# --- hostile PDFs, written by hand ---------------------------------------------------


def pdf(*objects: bytes, trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A PDF of the numbered ``objects`` (1, 2, ...) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d " % (len(objects) + 1) + trailer + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def page(extra: bytes = b"") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + extra + b">>"


@functools.cache
def flate_bomb(inflated: int = 200_000_000) -> bytes:
    """A page whose content stream, about 200 KB, inflates to ``inflated`` bytes."""
    packer = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    stream = b"".join(packer.compress(chunk) for _ in range(inflated // len(chunk)))
    stream += packer.flush()
    return pdf(CATALOG, PAGES, page(b"/Contents 4 0 R /Resources << >> "),
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
               + b"\nendstream")


def nested_arrays(depth: int = 50_000) -> bytes:
    """A page carrying an array nested ``depth`` levels deep."""
    return pdf(CATALOG, PAGES, page(b"/Junk " + b"[" * depth + b"]" * depth + b" "))


def cyclic_page_tree() -> bytes:
    """A page tree whose node lists its own parent as a child."""
    return pdf(CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
               b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 2 >>",
               b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>")


def huge_page_count(references: int = 200_000) -> bytes:
    """One page object listed ``references`` times, under a /Count of two billion."""
    kids = b"3 0 R " * references
    return pdf(CATALOG, b"<< /Type /Pages /Kids [" + kids + b"] /Count 2147483647 >>", page())


def truncated() -> bytes:
    return blank_pdf(3)[:300]


def encrypted() -> bytes:
    return blank_pdf(1, user_password="secret")


PDFS: dict[str, Callable[[], bytes]] = {
    "flate-bomb": flate_bomb, "nested-arrays": nested_arrays, "cyclic-page-tree": cyclic_page_tree,
    "huge-page-count": huge_page_count, "truncated": truncated, "encrypted": encrypted,
}


def with_pdf(name: str, data: bytes) -> bytes:
    """An application carrying ``data`` as its one PDF."""
    return multipart(headers(f"pdf-{name}"), [TEXT, pdf_part(data)])


# --- Hostile containers: Outlook's winmail.dat (TNEF) and S/MIME (DER) ----------------------


def container_part(content_type: bytes, data: bytes, filename: bytes) -> bytes:
    """A base64 attachment of ``content_type`` named ``filename`` (headers and body)."""
    return (b"Content-Type: " + content_type + b"\r\nContent-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="' + filename + b'"\r\n\r\n'
            + base64.encodebytes(data).replace(b"\n", b"\r\n"))


def _tnef(*attributes: bytes) -> bytes:
    return b"\x78\x9f\x3e\x22\x01\x00" + b"".join(attributes)


def tnef_bomb() -> bytes:
    """A 40-byte winmail.dat whose one MAPI property declares 4,294,967,295 values.

    tnefparse trusts the count and builds an object for each value past the stream's end:
    without the worker's limits, minutes of work and gigabytes of memory.
    """
    properties = struct.pack("<IHHI", 1, 0x1002, 0x6001, 0xFFFFFFFF)  # one short, multi-valued
    stream = _tnef(tnef_attribute(1, 0x9003, 0x0006, properties))
    return multipart(headers("tnef-bomb"), [TEXT, container_part(
        b'application/ms-tnef; name="winmail.dat"', stream, b"winmail.dat")])


def malformed_tnef() -> bytes:
    """A winmail.dat whose attachment data comes before any attachment starts (tnefparse
    fails on it), beside nothing else."""
    stream = _tnef(tnef_attribute(2, 0x800F, 0x0006, blank_pdf()))
    return multipart(headers("malformed-tnef"), [TEXT, container_part(
        b'application/ms-tnef; name="winmail.dat"', stream, b"winmail.dat")])


def garbage_der() -> bytes:
    """An opaque S/MIME signed part whose DER is random bytes after a plausible start."""
    data = bytes.fromhex("3082ffff06092a864886f70d010702a0") + random.Random(7).randbytes(4000)
    return multipart(headers("garbage-der"), [TEXT, container_part(
        b'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"', data, b"smime.p7m")])


def nested_der(depth: int = 100_000) -> bytes:
    """An opaque S/MIME signed part made of ``depth`` nested indefinite-length SEQUENCEs."""
    data = b"\x30\x80" * depth + b"\x00\x00" * depth
    return multipart(headers("nested-der"), [TEXT, container_part(
        b'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"', data, b"smime.p7m")])


MESSAGES: dict[str, Callable[[], bytes]] = {
    "deep-nesting": deep_nesting, "missing-closing-boundary": missing_closing_boundary,
    "invalid-charsets": invalid_charsets, "eight-bit-headers": eight_bit_headers,
    "nul-bytes": nul_bytes, "injected-headers": injected_headers,
    "evil-file-names": evil_file_names, "duplicate-message-id-headers": duplicate_message_id_headers,
    "no-message-id": no_message_id, "random-bytes": random_bytes,
    "many-parts": many_parts, "header-flood": header_flood,
    "encoded-word-headers": encoded_word_headers, "long-subject": long_subject,
    "many-lines": many_lines,
    "tnef-bomb": tnef_bomb, "malformed-tnef": malformed_tnef, "garbage-der": garbage_der,
    "nested-der": nested_der,
}
