"""Messages in the shapes real clients and servers send: Outlook, Thunderbird, Exchange, Postfix.

Each builder returns the whole message as bytes, laid out as the client writes it (header
order, boundaries, transfer encodings, Outlook's ``x-`` MIME types). The containers inside
are real: a TNEF stream with its attributes and checksums (MS-OXTNEF), CMS structures
signed and encrypted with ``cryptography`` (RFC 5652). ``tests/test_client_fixtures.py``
checks each against an independent tool (Debian's ``tnef``, ``openssl cms``), so that
they are right, not merely what our own parser expects.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import functools
import struct
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from tests.mail import DRP_TITLE

CANDIDATE = "Alice Martin <alice@example.net>"
BOT = "recruitment@example.org"


def _lines(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n"


def _base64(data: bytes) -> bytes:
    """Base64 in 76-character lines with CRLF, as Outlook and Thunderbird write it."""
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _subject(text: str) -> bytes:
    return email.policy.SMTP.header_factory("Subject", text).fold(
        policy=email.policy.SMTP).encode("ascii").rstrip(b"\r\n")


# --- TNEF (Outlook's winmail.dat) ----------------------------------------------------------

_MESSAGE, _ATTACHMENT = 1, 2
# Attribute types (atp*) and ids (att*), MS-OXTNEF 2.1.3.
_ATP_STRING, _ATP_DATE, _ATP_BYTE, _ATP_WORD, _ATP_DWORD = 0x0001, 0x0003, 0x0006, 0x0007, 0x0008
_PT_LONG, _PT_STRING8, _PT_UNICODE, _PT_BINARY = 0x0003, 0x001E, 0x001F, 0x0102


def tnef_attribute(level: int, attribute: int, kind: int, data: bytes) -> bytes:
    """One TNEF attribute: level, id and type, length, data, and the data's checksum."""
    return (struct.pack("<BHHI", level, attribute, kind, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))


def _mapi_value(kind: int, value: bytes | int) -> bytes:
    if kind == _PT_LONG:
        assert isinstance(value, int)
        return struct.pack("<I", value)
    assert isinstance(value, bytes)
    padded = value + b"\x00" * (-len(value) % 4)
    return struct.pack("<II", 1, len(value)) + padded


def mapi_properties(properties: list[tuple[int, int, bytes | int]]) -> bytes:
    """A MAPI property list (MS-OXTNEF 2.1.3.4): count, then type, id and value of each."""
    out = struct.pack("<I", len(properties))
    for kind, identifier, value in properties:
        out += struct.pack("<HH", kind, identifier) + _mapi_value(kind, value)
    return out


def _date(moment: dt.datetime) -> bytes:
    return struct.pack("<7H", moment.year, moment.month, moment.day, moment.hour,
                       moment.minute, moment.second, moment.isoweekday() % 7)


def _unicode(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\x00\x00"


def make_tnef(files: list[tuple[str, bytes]], message_class: str = "IPM.Microsoft Mail.Note",
              long_names: bool = True) -> bytes:
    """A TNEF stream as Outlook writes it, holding ``files`` (name, bytes).

    Message attributes first (TNEF version, code page 1252, message class, the rich-text
    body as MAPI properties), then per file: rendering data, title (the name in
    windows-1252), dates, data, and the MAPI properties with the long file name (UTF-16,
    left out without ``long_names``, as older Outlooks do) and MIME type.
    """
    when = dt.datetime(2026, 6, 10, 9, 0, 0)
    rtf = rb"{\rtf1\ansi\ansicpg1252 Please find my application attached.\par}"
    compressed_rtf = struct.pack("<IIII", len(rtf) + 12, len(rtf), 0x414C454D, 0) + rtf  # "MELA"
    out = b"\x78\x9f\x3e\x22" + struct.pack("<H", 0x1A2B)
    out += tnef_attribute(_MESSAGE, 0x9006, _ATP_DWORD, struct.pack("<I", 0x00010000))
    out += tnef_attribute(_MESSAGE, 0x9007, _ATP_BYTE, struct.pack("<II", 1252, 0))
    out += tnef_attribute(_MESSAGE, 0x8008, _ATP_WORD, message_class.encode("ascii") + b"\x00")
    out += tnef_attribute(_MESSAGE, 0x9003, _ATP_BYTE, mapi_properties([
        (_PT_LONG, 0x3FDE, 1252),  # PR_INTERNET_CPID
        (_PT_BINARY, 0x1009, compressed_rtf),  # PR_RTF_COMPRESSED
    ]))
    for name, data in files:
        title = name.encode("cp1252", "replace")
        long_name = [(_PT_UNICODE, 0x3707, _unicode(name))] if long_names else []  # PR_ATTACH_LONG_FILENAME
        out += tnef_attribute(_ATTACHMENT, 0x9002, _ATP_BYTE,
                              struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0xFFFF, 0xFFFF, 0))
        out += tnef_attribute(_ATTACHMENT, 0x8010, _ATP_STRING, title + b"\x00")
        out += tnef_attribute(_ATTACHMENT, 0x8012, _ATP_DATE, _date(when))
        out += tnef_attribute(_ATTACHMENT, 0x8013, _ATP_DATE, _date(when))
        out += tnef_attribute(_ATTACHMENT, 0x800F, _ATP_BYTE, data)
        out += tnef_attribute(_ATTACHMENT, 0x9005, _ATP_BYTE, mapi_properties([
            (_PT_LONG, 0x3705, 1),  # PR_ATTACH_METHOD: by value
            *long_name,
            (_PT_STRING8, 0x370E, b"application/pdf\x00"),  # PR_ATTACH_MIME_TAG
        ]))
    return out


def outlook_rich_text(files: list[tuple[str, bytes]], subject: str = DRP_TITLE,
                      sender: str = CANDIDATE, message_id: str = "<AM0PR01MB5821@example.net>",
                      message_class: str = "IPM.Microsoft Mail.Note",
                      extra_headers: tuple[bytes, ...] = ()) -> bytes:
    """An Outlook rich-text message: a plain-text body and everything else in winmail.dat."""
    boundary = b"_002_AM0PR01MB58213A1B2C3D4E5F6_"
    winmail = make_tnef(files, message_class)
    return _lines(
        b"From: " + sender.encode(), b'To: "' + BOT.encode() + b'" <' + BOT.encode() + b">",
        _subject(subject), b"Thread-Topic: " + subject.encode("ascii", "replace"),
        b"Thread-Index: AdvbJ3n4b3FzV2h5T3R8Zm9vYmFyYg==",
        b"Date: Wed, 10 Jun 2026 07:00:00 +0000", b"Message-ID: " + message_id.encode(),
        b"Accept-Language: en-GB, en-US", b"Content-Language: en-GB",
        b"X-MS-Has-Attach: yes", b"X-MS-TNEF-Correlator: " + message_id.encode(), *extra_headers,
        b'Content-Type: multipart/mixed;\r\n\tboundary="' + boundary + b'"', b"MIME-Version: 1.0",
        b"", b"--" + boundary, b'Content-Type: text/plain; charset="us-ascii"',
        b"Content-Transfer-Encoding: quoted-printable", b"",
        b"Dear Sir or Madam,", b"", b"Please find my application attached.", b"",
        b"--" + boundary, b'Content-Type: application/ms-tnef; name="winmail.dat"',
        b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment; filename="winmail.dat"', b"",
        _base64(winmail).rstrip(b"\r\n"), b"", b"--" + boundary + b"--")


# --- S/MIME (Outlook) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A candidate's S/MIME key and self-signed certificate (PEM bytes for openssl too)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


@functools.cache
def identity(address: str = "alice@example.net") -> Identity:
    """An RSA key and a self-signed e-mail certificate for ``address`` (made once)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Alice Martin"),
                      x509.NameAttribute(NameOID.EMAIL_ADDRESS, address)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(0x5E1F)
                   .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
                   .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(address)]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    return Identity(key, certificate)


def signed_entity(pdf: bytes, name: str = "Application.pdf") -> bytes:
    """The MIME entity a signed Outlook message signs: a text body and the PDF, CRLF lines."""
    boundary = b"_004_AM0PR01MB58219B8C7D6E5F4_"
    return _lines(
        b'Content-Type: multipart/mixed;\r\n\tboundary="' + boundary + b'"', b"",
        b"--" + boundary, b'Content-Type: text/plain; charset="us-ascii"',
        b"Content-Transfer-Encoding: quoted-printable", b"",
        b"Dear Sir or Madam,", b"", b"Please find my application attached.", b"",
        b"--" + boundary, b'Content-Type: application/pdf; name="' + name.encode() + b'"',
        b'Content-Description: ' + name.encode(),
        b'Content-Disposition: attachment; filename="' + name.encode() + b'"',
        b"Content-Transfer-Encoding: base64", b"", _base64(pdf).rstrip(b"\r\n"), b"",
        b"--" + boundary + b"--")


def _signature(entity: bytes, detached: bool) -> bytes:
    signer = identity()
    options = [pkcs7.PKCS7Options.Binary] + ([pkcs7.PKCS7Options.DetachedSignature]
                                             if detached else [])
    return (pkcs7.PKCS7SignatureBuilder().set_data(entity)
            .add_signer(signer.certificate, signer.key, hashes.SHA256())
            .sign(serialization.Encoding.DER, options))


def _outlook_head(subject: str, message_id: str) -> list[bytes]:
    return [b"From: " + CANDIDATE.encode(), b"To: <" + BOT.encode() + b">", _subject(subject),
            b"Thread-Topic: " + subject.encode("ascii", "replace"),
            b"Date: Wed, 10 Jun 2026 07:00:00 +0000", b"Message-ID: " + message_id.encode(),
            b"Accept-Language: en-GB", b"Content-Language: en-GB", b"X-MS-Has-Attach: yes",
            b"X-MS-TNEF-Correlator:"]


def outlook_signed(pdf: bytes, subject: str = DRP_TITLE,
                   message_id: str = "<AM0PR01MB5822@example.net>") -> bytes:
    """Outlook's clear-signed message: ``multipart/signed`` with ``smime.p7s``.

    What is signed is the first part exactly as it stands between the delimiters: the
    CRLF before the next delimiter belongs to the delimiter (RFC 2046), not to the part.
    """
    boundary = b"_005_AM0PR01MB5822C1D2E3F4_"
    content = signed_entity(pdf)[:-2]
    return _lines(
        *_outlook_head(subject, message_id),
        b'Content-Type: multipart/signed;\r\n\tprotocol="application/x-pkcs7-signature";'
        b"\r\n\tmicalg=2.16.840.1.101.3.4.2.1;\r\n\tboundary=\"" + boundary + b'"',
        b"MIME-Version: 1.0", b"", b"--" + boundary, content,
        b"--" + boundary, b'Content-Type: application/x-pkcs7-signature; name="smime.p7s"',
        b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment; filename="smime.p7s"', b"",
        _base64(_signature(content, detached=True)).rstrip(b"\r\n"), b"",
        b"--" + boundary + b"--")


def _pkcs7_mime(smime_type: bytes, der: bytes, subject: str, message_id: str) -> bytes:
    return _lines(
        *_outlook_head(subject, message_id),
        b"Content-Type: application/pkcs7-mime;\r\n\tsmime-type=" + smime_type
        + b';\r\n\tname="smime.p7m"', b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment; filename="smime.p7m"', b"MIME-Version: 1.0", b"",
        _base64(der).rstrip(b"\r\n"))


def outlook_opaque_signed(pdf: bytes, subject: str = DRP_TITLE,
                          message_id: str = "<AM0PR01MB5823@example.net>") -> bytes:
    """Outlook's opaque-signed message: ``application/pkcs7-mime; smime-type=signed-data``."""
    return _pkcs7_mime(b"signed-data", _signature(signed_entity(pdf), detached=False),
                       subject, message_id)


def enveloped_der(entity: bytes, recipient: Identity | None = None) -> bytes:
    """``entity`` encrypted for ``recipient`` (the recruiters' certificate, say), as DER."""
    recipient = recipient or identity("recruitment@example.org")
    return (pkcs7.PKCS7EnvelopeBuilder().set_data(entity)
            .add_recipient(recipient.certificate)
            .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))


def outlook_encrypted(pdf: bytes, subject: str = DRP_TITLE,
                      message_id: str = "<AM0PR01MB5824@example.net>") -> bytes:
    """Outlook's encrypted message: ``application/pkcs7-mime; smime-type=enveloped-data``."""
    return _pkcs7_mime(b"enveloped-data", enveloped_der(signed_entity(pdf)), subject, message_id)


def thunderbird_pgp_encrypted(subject: str = DRP_TITLE) -> bytes:
    """Thunderbird's OpenPGP-encrypted message (PGP/MIME, RFC 3156), its ciphertext armoured."""
    boundary = b"------------5Gz8rQ2yZ1XkLcXbV0m3pDq"
    armoured = (b"-----BEGIN PGP MESSAGE-----\r\n\r\n"
                + _base64(bytes(range(256)) * 4) + b"=AbCd\r\n-----END PGP MESSAGE-----")
    return _lines(
        b"Message-ID: <4f1c2b7e-pgp@example.net>", b"Date: Wed, 10 Jun 2026 09:00:00 +0200",
        b"MIME-Version: 1.0", b"User-Agent: Mozilla Thunderbird", b"Content-Language: en-GB",
        b"To: " + BOT.encode(), b"From: " + CANDIDATE.encode(), _subject(subject),
        b"Content-Type: multipart/encrypted;\r\n protocol=\"application/pgp-encrypted\";"
        b"\r\n boundary=\"" + boundary + b'"', b"",
        b"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)",
        b"--" + boundary, b"Content-Type: application/pgp-encrypted",
        b"Content-Description: PGP/MIME version identification", b"", b"Version: 1", b"",
        b"--" + boundary, b'Content-Type: application/octet-stream; name="encrypted.asc"',
        b"Content-Description: OpenPGP encrypted message",
        b'Content-Disposition: inline; filename="encrypted.asc"', b"", armoured, b"",
        b"--" + boundary + b"--")


# --- Thunderbird ------------------------------------------------------------------------------


def thunderbird(pdf: bytes, *, vcard: bool = False, forwarded: bytes | None = None,
                subject: str = DRP_TITLE, sender: str = CANDIDATE,
                message_id: str = "<8c0b6c35-1a7e-4f7a-9e5b-2f3c1d0e9a01@example.net>") -> bytes:
    """A Thunderbird message with the PDF, optionally the sender's vCard ("Attach My vCard")
    or instead of the PDF a message forwarded as an attachment (``message/rfc822``)."""
    # Thunderbird draws a boundary per message: one of its own messages, forwarded inside
    # another, never shares the outer one's.
    boundary = b"------------" + (b"Fw" if forwarded else b"0n") + b"4Yx2v8WcQ7mKp3LdF6gHsT"
    parts = [_lines(b"Content-Type: text/plain; charset=UTF-8; format=flowed",
                    b"Content-Transfer-Encoding: 7bit", b"",
                    b"Dear Sir or Madam,", b"", b"Please find my application attached.", b"")]
    if forwarded is None:
        parts.append(_lines(b'Content-Type: application/pdf; name="Application.pdf"',
                            b'Content-Disposition: attachment; filename="Application.pdf"',
                            b"Content-Transfer-Encoding: base64", b"") + _base64(pdf))
    else:
        parts.append(_lines(b'Content-Type: message/rfc822; charset=UTF-8;',
                            b' name="Officer - Democratic Resilience and Partnerships.eml"',
                            b"Content-Disposition: attachment;",
                            b' filename="Officer - Democratic Resilience and Partnerships.eml"',
                            b"") + forwarded)
    if vcard:
        card = _lines(b"BEGIN:VCARD", b"VERSION:4.0", b"FN:Alice Martin", b"N:Martin;Alice;;;",
                      b"EMAIL;PREF=1:alice@example.net", b"END:VCARD")
        parts.append(_lines(b'Content-Type: text/vcard; charset=UTF-8; name="alice.vcf"',
                            b'Content-Disposition: attachment; filename="alice.vcf"',
                            b"Content-Transfer-Encoding: base64", b"") + _base64(card))
    head = _lines(
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"',
        b"Message-ID: " + message_id.encode(), b"Date: Wed, 10 Jun 2026 09:00:00 +0200",
        b"MIME-Version: 1.0", b"User-Agent: Mozilla Thunderbird", b"Content-Language: en-GB",
        b"To: " + BOT.encode(), b"From: " + sender.encode("utf-8"), _subject(subject), b"",
        b"This is a multi-part message in MIME format.")
    body = b"".join(b"--" + boundary + b"\r\n" + part for part in parts)
    return head + body + b"--" + boundary + b"--\r\n"


# --- Headers as old or international clients write them --------------------------------------


def raw_windows_1252(pdf: bytes) -> bytes:
    """A client that writes its Windows code page into the headers as it is: no encoded words."""
    boundary = b"----=_NextPart_000_0012_01DA2B3C.4D5E6F70"
    return _lines(
        b"From: \"Jos\xe9 Garc\xeda\" <jose.garcia@example.net>", b"To: <" + BOT.encode() + b">",
        b"Subject: " + DRP_TITLE.encode("cp1252"), b"Date: Wed, 10 Jun 2026 09:00:00 +0200",
        b"Message-ID: <000001da2b3c$4d5e6f70$0a00a8c0@example.net>", b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed;\r\n\tboundary="' + boundary + b'"',
        b"X-Mailer: Microsoft Office Outlook 12.0", b"", b"This is a multi-part message in MIME format.",
        b"", b"--" + boundary, b'Content-Type: text/plain;\r\n\tcharset="us-ascii"',
        b"Content-Transfer-Encoding: 8bit", b"", b"Veuillez trouver ci-joint ma candidature.", b"",
        b"--" + boundary, b'Content-Type: application/pdf;\r\n\tname="CV_Jos\xe9.pdf"',
        b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment;\r\n\tfilename="CV_Jos\xe9.pdf"', b"",
        _base64(pdf).rstrip(b"\r\n"), b"", b"--" + boundary + b"--")


def utf8_sender(pdf: bytes, address: str = "josé@exämple.net") -> bytes:
    """An internationalised message (RFC 6532): UTF-8 headers, a non-ASCII address."""
    return thunderbird(pdf, sender=f"José García <{address}>",
                       message_id="<c1d2e3f4-utf8@xn--exmple-cua.net>")


# --- Exchange: recalls and inbox-rule replies ------------------------------------------------


def exchange_recall(subject: str = DRP_TITLE) -> bytes:
    """A recall request as Exchange Online sends it across the Internet."""
    return _lines(
        b"From: Alice Martin <alice@example.net>", b"Date: Wed, 10 Jun 2026 09:05:00 +0000",
        _subject("Recall: " + subject), b"Message-Id: <3RI8B60J4MU4.B8HML3SKIYJ31@am0pr01mb5821>",
        b"To: " + BOT.encode(), b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=utf-8",
        b"X-MS-PublicTrafficType: Email",
        b"X-MS-TrafficTypeDiagnostic: AM0PR01MB5821:EE_MessageRecallEmail",
        b"X-MS-Exchange-RecallReportGenerated: true",
        b"X-MS-Exchange-RecallReportCfmGenerated: true", b"X-OriginatorOrg: example.net", b"",
        b'Alice Martin would like to recall the message, "' + subject.encode() + b'".')


def exchange_rule_reply(answered: str, subject: str = DRP_TITLE,
                        sender: str = "alice@example.net") -> bytes:
    """A reply an Exchange inbox rule ("have server reply using a specific message") sent.

    As Exchange 2016 on premises writes it when its organisation strips the
    ``Auto-Submitted`` header at the edge: the Exchange stamps remain.
    """
    return _lines(
        b"From: Alice Martin <" + sender.encode() + b">", b"To: <" + BOT.encode() + b">",
        _subject("RE: " + subject), b"Thread-Topic: " + subject.encode("ascii", "replace"),
        b"Date: Wed, 10 Jun 2026 09:10:00 +0000",
        b"Message-ID: <b5d66930e76243eb8bddd885ad3fafdd@EX2016.example.net>",
        b"In-Reply-To: " + answered.encode(), b"References: " + answered.encode(),
        b"X-MS-Has-Attach:", b"X-MS-Exchange-Inbox-Rules-Loop: " + sender.encode(),
        b"X-MS-TNEF-Correlator:", b"x-ms-exchange-transport-fromentityheader: Hosted",
        b"x-ms-exchange-parent-message-id: " + answered.encode(),
        b"x-ms-exchange-generated-message-source: Mailbox Rules Agent",
        b'Content-Type: text/plain; charset="us-ascii"',
        b"Content-Transfer-Encoding: quoted-printable", b"MIME-Version: 1.0", b"",
        b"Thank you for your message. I am travelling until 20 June.")


# --- Delivery-status notifications -----------------------------------------------------------


def _header_section(message: bytes) -> bytes:
    end = message.find(b"\r\n\r\n")
    end = message.find(b"\n\n") if end < 0 else end
    section = message[:end] if end >= 0 else message
    return section.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def postfix_dsn(returned: bytes, recipient: str,
                diagnostic: str = "550 5.1.1 <{r}>: Recipient address rejected: User unknown "
                                  "in virtual mailbox table",
                action: str = "failed", status: str = "5.1.1") -> bytes:
    """Postfix's bounce: ``multipart/report`` returning the message's header section only.

    Postfix sends ``text/rfc822-headers`` ("Undelivered Message Headers") when it returns
    headers only, as for a delay notice or past ``bounce_size_limit``.
    """
    diagnostic = diagnostic.format(r=recipient)
    boundary = b"3F5D21A0B2.1781078400/mx.example.org"
    # Postfix folds a long Diagnostic-Code at a space, continuing with four spaces.
    cut = diagnostic.find(" ", 45)
    folded = diagnostic if cut < 0 else diagnostic[:cut] + "\r\n   " + diagnostic[cut:]
    return _lines(
        b"Return-Path: <>", b"Received: by mx.example.org (Postfix)",
        b"\tid 3F5D21A0B2; Wed, 10 Jun 2026 10:00:03 +0200 (CEST)",
        b"Date: Wed, 10 Jun 2026 10:00:03 +0200 (CEST)",
        b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)",
        b"Subject: Undelivered Mail Returned to Sender", b"To: " + BOT.encode(),
        b"Auto-Submitted: auto-replied", b"MIME-Version: 1.0",
        b"Content-Type: multipart/report; report-type=delivery-status;",
        b'\tboundary="' + boundary + b'"', b"Content-Transfer-Encoding: 8bit",
        b"Message-Id: <20260610080003.3F5D21A0B2@mx.example.org>", b"",
        b"This is a MIME-encapsulated message.", b"",
        b"--" + boundary, b"Content-Description: Notification",
        b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: 8bit", b"",
        b"This is the mail system at host mx.example.org.", b"",
        b"I'm sorry to have to inform you that your message could not",
        b"be delivered to one or more recipients. It's attached below.", b"",
        b"                   The mail system", b"",
        b"<" + recipient.encode() + b">: host mx.example.net[192.0.2.25] said: "
        + diagnostic.encode() + b" (in reply to RCPT TO command)", b"",
        b"--" + boundary, b"Content-Description: Delivery report",
        b"Content-Type: message/delivery-status", b"",
        b"Reporting-MTA: dns; mx.example.org", b"X-Postfix-Queue-ID: 3F5D21A0B2",
        b"X-Postfix-Sender: rfc822; " + BOT.encode(),
        b"Arrival-Date: Wed, 10 Jun 2026 10:00:01 +0200 (CEST)", b"",
        b"Final-Recipient: rfc822; " + recipient.encode(),
        b"Original-Recipient: rfc822;" + recipient.encode(), b"Action: " + action.encode(),
        b"Status: " + status.encode(), b"Remote-MTA: dns; mx.example.net",
        b"Diagnostic-Code: smtp; " + folded.encode(), b"",
        b"--" + boundary, b"Content-Description: Undelivered Message Headers",
        b"Content-Type: text/rfc822-headers", b"Content-Transfer-Encoding: 8bit", b"",
        b"Return-Path: <" + BOT.encode() + b">",
        b"Received: from intake.example.org (intake.example.org [192.0.2.10])",
        b"\tby mx.example.org (Postfix) with ESMTPS id 3F5D21A0B2",
        b"\tfor <" + recipient.encode() + b">; Wed, 10 Jun 2026 10:00:01 +0200 (CEST)",
        _header_section(returned), b"", b"--" + boundary + b"--")


def exchange_ndr(returned: bytes, recipient: str,
                 diagnostic: str = "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
                                   "found by SMTP address lookup") -> bytes:
    """Exchange Online's non-delivery report: ``multipart/report`` with the message whole.

    The human part is ``multipart/alternative`` with the "Diagnostic information for
    administrators" and the original headers; then ``message/delivery-status``; then the
    returned message itself as ``message/rfc822``.
    """
    outer, human = b"_000_NDR_AM0PR01MB6000_", b"_001_NDR_AM0PR01MB6000_"
    original = email.message_from_bytes(returned, policy=email.policy.default)
    subject = str(original["Subject"] or "")
    headers_text = _header_section(returned)
    returned_crlf = returned.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    local = recipient.split("@")[0].encode()
    return _lines(
        b"Return-Path: <>",
        b"From: Microsoft Outlook\r\n\t<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.net>",
        b"To: <" + BOT.encode() + b">", b"Date: Wed, 10 Jun 2026 08:00:04 +0000",
        b"Content-Type: multipart/report; report-type=delivery-status;",
        b'\tboundary="' + outer + b'"', b"X-MS-Exchange-Message-Is-Ndr:",
        b"Content-Language: en-US",
        b"Message-ID: <a2c0c1e2-4b3a-4f5e-9d8c-7b6a5f4e3d2c@AM0PR01MB6000.eurprd01.prod.exchangelabs.com>",
        b"In-Reply-To: " + str(original["Message-ID"]).encode(),
        b"References: " + str(original["Message-ID"]).encode(),
        b"Thread-Topic: " + subject.encode("utf-8"),
        _subject("Undeliverable: " + subject), b"Auto-Submitted: auto-replied",
        b"X-MS-PublicTrafficType: Email", b"MIME-Version: 1.0", b"",
        b"--" + outer, b"Content-Type: multipart/alternative; differences=Content-Type;",
        b'\tboundary="' + human + b'"', b"", b"--" + human,
        b'Content-Type: text/plain; charset="us-ascii"', b"Content-Transfer-Encoding: 7bit", b"",
        b"Your message to " + recipient.encode() + b" couldn't be delivered.",
        local + b" wasn't found at " + recipient.split("@")[1].encode() + b".", b"",
        b"Diagnostic information for administrators:", b"",
        b"Generating server: AM0PR01MB6000.eurprd01.prod.exchangelabs.com", b"",
        recipient.encode(), b"Remote Server returned '" + diagnostic.encode() + b"'", b"",
        b"Original message headers:", b"", headers_text, b"",
        b"--" + human, b'Content-Type: text/html; charset="us-ascii"',
        b"Content-Transfer-Encoding: 7bit", b"",
        b"<html><body><p>Your message to " + recipient.encode() + b" couldn't be delivered."
        b"</p></body></html>", b"", b"--" + human + b"--", b"",
        b"--" + outer, b"Content-Type: message/delivery-status", b"",
        b"Reporting-MTA: dns;AM0PR01MB6000.eurprd01.prod.exchangelabs.com",
        b"Received-From-MTA: dns;intake.example.org",
        b"Arrival-Date: Wed, 10 Jun 2026 08:00:02 +0000", b"",
        b"Final-Recipient: rfc822;" + recipient.encode(), b"Action: failed",
        b"Status: 5.1.10", b"Diagnostic-Code: smtp;" + diagnostic.encode(),
        b"X-Display-Name: " + local, b"", b"--" + outer,
        b"Content-Type: message/rfc822", b"", returned_crlf.rstrip(b"\r\n"), b"",
        b"--" + outer + b"--")


def exim_plain_bounce(returned: bytes, recipient: str) -> bytes:
    """A plain-text bounce with no report (older Exim, qmail), quoting the message's headers."""
    return _lines(
        b"Return-path: <>", b"From: Mail Delivery System <Mailer-Daemon@mx.example.com>",
        b"To: " + BOT.encode(), b"Subject: Mail delivery failed: returning message to sender",
        b"Message-Id: <E1sGxYz-0001Ab-2C@mx.example.com>",
        b"Date: Wed, 10 Jun 2026 10:00:05 +0200", b"",
        b"This message was created automatically by mail delivery software.", b"",
        b"A message that you sent could not be delivered to one or more of its",
        b"recipients. This is a permanent error. The following address(es) failed:", b"",
        b"  " + recipient.encode(), b"    host mx.example.com [192.0.2.30]",
        b"    SMTP error from remote mail server after RCPT TO:<" + recipient.encode() + b">:",
        b"    550 5.1.1 <" + recipient.encode() + b">: mailbox unavailable", b"",
        b"------ This is a copy of the message's headers. ------", b"",
        _header_section(returned))
