"""Parsing hostile and ordinary messages: headers decode, attachments are what was attached."""

from __future__ import annotations

import base64
import random
from email.message import EmailMessage

import pytest

from intake_bot import parse
from intake_bot.parse import parse_message, safe_display_name
from tests import hostile
from tests.mail import application, blank_pdf, parse_with_the_stdlib_alone

PDF = b"%PDF-1.4\n% fake but starts like a PDF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def test_rfc2047_subject_folded_over_lines_decodes_to_one_line():
    raw = (b"From: a@example.net\r\nSubject: =?utf-8?q?Officer_=E2=80=93_Democratic_Resilience?=\r\n"
           b" =?utf-8?q?_and_Partnerships?=\r\n\r\nhi\r\n")
    assert parse_message(raw).subject == "Officer – Democratic Resilience and Partnerships"


def test_raw_utf8_subject_and_display_name():
    raw = ("From: Zoë Ünal <zoe@example.net>\r\nSubject: Officier – Résilience\r\n\r\nhi\r\n"
           ).encode()
    parsed = parse_message(raw)
    assert parsed.subject == "Officier – Résilience"
    assert parsed.sender_name == "Zoë Ünal"
    assert parsed.sender == "zoe@example.net"


def test_encoded_crlf_in_subject_and_name_cannot_make_new_lines():
    raw = (b"From: =?utf-8?q?Eve=0D=0ABcc=3A_victim=40example=2Eorg?= <eve@example.net>\r\n"
           b"Subject: =?utf-8?q?Hello=0D=0ABcc=3A_victim=40example=2Eorg?=\r\n\r\nhi\r\n")
    parsed = parse_message(raw)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    assert "\n" not in parsed.sender_name
    assert parsed.sender == "eve@example.net"


def test_reply_to_is_read_and_from_kept():
    parsed = parse_message(application(headers={"Reply-To": "Alice Home <alice@home.example>"}))
    assert parsed.sender == "alice@example.net"
    assert parsed.reply_to == "alice@home.example"


def test_pdf_without_file_name_and_inline_pdf_are_attachments():
    parsed = parse_message(application(attachments=[(None, PDF, "application/octet-stream")]))
    assert [a.data for a in parsed.attachments] == [PDF]
    parsed = parse_message(application(attachments=[("cv.pdf", PDF, "application/pdf")],
                                       inline=True))
    assert len(parsed.attachments) == 1


def test_a_pdf_declared_text_is_a_document_but_a_text_that_mentions_one_is_text():
    parsed = parse_message(application(body="My CV follows; it is a %PDF-1.7 file.",
                                       attachments=[(None, PDF, "text/plain")], inline=True))
    assert [a.data for a in parsed.attachments] == [PDF]
    assert parsed.body_text.startswith("My CV follows")


def test_image_shown_by_the_html_body_is_not_an_attachment():
    message = EmailMessage()
    message["From"] = "a@example.net"
    message["Subject"] = "x"
    message.set_content("text")
    message.add_alternative('<p>Hi</p><img src="cid:logo123@example.net">', subtype="html")
    html = message.get_payload()[1]
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo123@example.net>",
                     disposition="attachment", filename="logo.png")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="cv.pdf")
    parsed = parse_message(message.as_bytes())
    assert [a.filename for a in parsed.attachments] == ["cv.pdf"]


def test_pdf_inside_a_forwarded_message_is_found():
    inner = EmailMessage()
    inner["From"] = "a@example.net"
    inner["Subject"] = "my application"
    inner.set_content("see attached")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="cv.pdf")
    outer = EmailMessage()
    outer["From"] = "a@example.net"
    outer["Subject"] = "Fwd: my application"
    outer.set_content("forwarding")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    assert [a.filename for a in parsed.attachments] == ["cv.pdf"]


def test_signature_parts_are_not_attachments():
    raw = application(attachments=[("cv.pdf", PDF, "application/pdf"),
                                   ("smime.p7s", b"\x30\x82", "application/pkcs7-signature")])
    assert len(parse_message(raw).attachments) == 1


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"),
    ("/absolute/path/cv.pdf", "cv.pdf"),
    ("C:\\Users\\me\\cv.pdf", "cv.pdf"),
    ("cv\x00.pdf", "cv .pdf"),
    ("CON", "_CON"),
    ("nul.pdf", "_nul.pdf"),
    ("...", None),
    ("", None),
    (None, None),
])
def test_safe_display_name(name, expected):
    assert safe_display_name(name) == expected


def test_very_long_file_name_is_cut_keeping_its_extension():
    name = safe_display_name("a" * 1000 + ".pdf")
    assert name is not None and len(name) <= 150 and name.endswith(".pdf")


@pytest.mark.parametrize("raw", [
    b"", b"\x00\x01\x02", b"garbage without headers",
    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nno end",
    b"Content-Type: text/plain; charset=no-such-charset\r\nSubject: \xff\xfe\r\n\r\n\xff\xfe",
    b"Subject: nul \x00 byte\r\nFrom: a\x00@example.net\r\n\r\nbody\x00",
    b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
])
def test_broken_messages_parse_without_raising(raw):
    parse_message(raw)


def test_deep_nesting_is_bounded():
    depth = 100
    head = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                    for i in range(depth))
    parsed = parse_message(b"From: a@example.net\r\n" + head + b"Content-Type: text/plain\r\n\r\nx")
    assert "NestingTooDeep" in parsed.defects


def test_message_id_is_kept_and_missing_one_is_none():
    assert parse_message(application(message_id="<abc@example.net>")).message_id == "<abc@example.net>"
    assert parse_message(b"From: a@example.net\r\n\r\nx").message_id is None


# -- the parser's shortcuts: the same result as the standard parser alone -----------------


def _base64_lines(data: bytes, linesep: bytes = b"\r\n") -> bytes:
    encoded = base64.b64encode(data)
    return linesep.join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def _folding_samples() -> dict[str, bytes]:
    noise = random.Random(7).randbytes(20_000)
    lines = _base64_lines(noise)
    head = (b"From: a@example.net\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n")

    def part(headers: bytes, body: bytes) -> bytes:
        return b"--b\r\n" + headers + b"\r\n\r\n" + body + b"\r\n"

    return {
        "base64 attachment": head + part(b"Content-Type: application/pdf\r\n"
                                         b"Content-Transfer-Encoding: base64", lines) + b"--b--\r\n",
        # Base64-looking lines that are the text itself: restored, not joined.
        "7bit text of base64 lines": head + part(b"Content-Type: text/plain", lines) + b"--b--\r\n",
        # Soft line breaks end in "=": not base64 lines, never folded.
        "quoted-printable": head + part(b"Content-Type: text/plain\r\n"
                                        b"Content-Transfer-Encoding: quoted-printable",
                                        lines.replace(b"\r\n", b"=\r\n")) + b"--b--\r\n",
        "bare LF line ends": (head + part(b"Content-Type: application/pdf\r\n"
                                          b"Content-Transfer-Encoding: base64",
                                          _base64_lines(noise, b"\n"))).replace(b"\r\n", b"\n"),
        "run right before the closing boundary, no line end": head + b"--b\r\n\r\n" + lines
                                                              + b"\r\n--b--",
        "run in place of the header section": lines + b"\r\n\r\nbody\r\n",
        "no closing boundary": head + part(b"Content-Transfer-Encoding: base64", lines),
        "forwarded message": head + part(b"Content-Type: message/rfc822",
                                         b"Subject: inner\r\nContent-Type: application/pdf\r\n"
                                         b"Content-Transfer-Encoding: base64\r\n\r\n" + lines)
                             + b"--b--\r\n",
        "pdf application": application(attachments=[("cv.pdf", blank_pdf(30), "application/pdf")]),
        **{f"hostile {name}": build() for name, build in hostile.MESSAGES.items()},
    }


@pytest.mark.parametrize("name", sorted(_folding_samples()))
def test_the_parsers_shortcuts_change_nothing_it_finds(name):
    raw = _folding_samples()[name]
    if not name.startswith(("hostile", "pdf", "quoted")):  # each holds a run that is folded
        assert len(parse._EncodedRuns(raw).stand_ins) < len(raw) // 10
    assert parse_message(raw) == parse_with_the_stdlib_alone(raw)


def test_text_that_looks_like_a_stand_in_is_left_alone():
    text = b"Zz" + b"0" * 24 + b"00000000"
    raw = b"From: a@example.net\r\nSubject: x\r\n\r\n" + text + b"\r\n"
    assert parse_message(raw).body_text.strip() == text.decode()
