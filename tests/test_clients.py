"""The decision core on mail as clients send it: headers, containers, cards, robots, bounces."""

from __future__ import annotations

import base64
import email

import pytest

from intake_bot.bounces import failures_in_text, read_report
from intake_bot.classify import classify
from intake_bot.decide import bounced_notices, unpacked
from intake_bot.documents import unpack_container
from intake_bot.parse import decode_text, parse_message, read_eight_bit
from tests import clients
from tests.mail import DRP_TITLE, application, blank_pdf

PDF = blank_pdf()
OWN = {"recruitment@example.org"}
NOTICE_ID = "<1.2.intake@example.org>"
NOTICE = (b"From: NATO PA Recruitment <recruitment@example.org>\r\nTo: gone@example.net\r\n"
          b"Subject: Application received\r\nMessage-ID: " + NOTICE_ID.encode()
          + b"\r\nDKIM-Signature: v=1; d=example.org;\r\n h=from:to:subject:message-id:date;"
          b" bh=x; b=y\r\nAuto-Submitted: auto-replied\r\n\r\nThank you.\r\n")


# --- 8-bit headers and charsets ------------------------------------------------------------


@pytest.mark.parametrize("raw, text", [
    ("Résilience".encode(), "Résilience"),
    ("Résilience – Officer".encode("cp1252"), "Résilience – Officer"),
    (b"plain", "plain"),
])
def test_undecoded_bytes_read_as_utf8_else_windows_1252(raw, text):
    assert read_eight_bit(raw.decode("ascii", "surrogateescape")) == text


def test_a_value_is_judged_whole_so_real_characters_stay():
    value = "Zoë " + "Müller".encode("cp1252").decode("ascii", "surrogateescape")
    assert read_eight_bit(value) == "Zoë Müller"


@pytest.mark.parametrize("charset", ["x-unknown", "base64", "us-ascii", "utf-8", None, "idna"])
def test_text_in_a_charset_that_is_unknown_or_wrong_is_still_read(charset):
    assert decode_text("Caf\u00e9 cr\u00e8me".encode("cp1252"), charset) == "Café crème"
    assert decode_text("Café crème".encode(), charset) == "Café crème"


def test_a_raw_windows_1252_subject_matches_and_names_read_right():
    parsed = parse_message(clients.raw_windows_1252(PDF))
    assert parsed.subject == DRP_TITLE and parsed.sender_name == "José García"
    assert [a.filename for a in parsed.attachments] == ["CV_José.pdf"]


def test_an_encoded_word_in_an_unknown_charset_is_read_as_windows_1252():
    raw = application(subject="placeholder").replace(
        b"Subject: placeholder", b"Subject: =?x-mac-unknown?Q?Officer_=96_Democratic?=")
    assert parse_message(raw).subject == "Officer – Democratic"


def test_a_utf8_address_is_a_usable_sender():
    parsed = parse_message(clients.utf8_sender(PDF))
    assert parsed.sender == "josé@exämple.net" and parsed.sender_name == "José García"


# --- Attachments: cards, signatures, containers ---------------------------------------------


@pytest.mark.parametrize("name, mime, data", [
    ("alice.vcf", "text/x-vcard", b"BEGIN:VCARD\r\nVERSION:2.1\r\nEND:VCARD\r\n"),
    ("alice.vcf", "application/octet-stream", b"BEGIN:VCARD\r\nEND:VCARD\r\n"),
    (None, "text/directory", b"BEGIN:VCARD\r\nEND:VCARD\r\n"),
    ("card.txt", "text/plain", b"\xef\xbb\xbfbegin:vcard\r\nEND:VCARD\r\n"),
])
def test_contact_cards_are_not_attachments(name, mime, data):
    raw = application(attachments=[("cv.pdf", PDF, "application/pdf"), (name, data, mime)])
    assert [a.filename for a in parse_message(raw).attachments] == ["cv.pdf"]


def test_a_pdf_named_like_a_card_is_still_the_document():
    raw = application(attachments=[("cv.vcf", PDF, "text/vcard")])
    assert [a.data for a in parse_message(raw).attachments] == [PDF]


def test_thunderbirds_vcard_leaves_one_attachment():
    assert len(parse_message(clients.thunderbird(PDF, vcard=True)).attachments) == 1


def _signature_relabelled(pdf: bytes) -> bytes:
    """A clear-signed message whose smime.p7s a gateway relabelled application/octet-stream."""
    raw = clients.outlook_signed(pdf)
    return raw.replace(b"application/x-pkcs7-signature; name", b"application/octet-stream; name")


@pytest.mark.parametrize("build", [clients.outlook_signed, clients.outlook_opaque_signed,
                                   _signature_relabelled])
def test_a_signed_message_is_judged_on_its_content(build):
    parsed = parse_message(build(PDF))
    assert [(a.filename, a.data) for a in parsed.attachments] == [("Application.pdf", PDF)]
    assert "Please find my application" in parsed.body_text and not parsed.encrypted


@pytest.mark.parametrize("raw", [clients.outlook_encrypted(PDF),
                                 clients.thunderbird_pgp_encrypted()])
def test_an_encrypted_message_is_marked_and_has_no_attachment(raw):
    parsed = parse_message(raw)
    assert parsed.encrypted and parsed.attachments == ()


def test_an_enveloped_part_without_smime_type_is_known_by_its_cms_type():
    raw = clients.outlook_encrypted(PDF).replace(b"\tsmime-type=enveloped-data;\r\n", b"")
    assert b"smime-type" not in raw and parse_message(raw).encrypted


def test_a_forwarded_application_counts_as_attached():
    parsed = parse_message(clients.thunderbird(b"", forwarded=clients.thunderbird(PDF)))
    assert [(a.filename, a.data) for a in parsed.attachments] == [("Application.pdf", PDF)]


def test_a_forwarded_application_base64_encoded_counts_as_attached():
    # RFC 2046 wants message/rfc822 unencoded; Python's add_attachment of a message's bytes
    # (and some webmail) base64-encodes it all the same.
    forwarded = application(attachments=[("Application.pdf", PDF, "application/pdf")])
    raw = application(attachments=[("Fwd.eml", forwarded, "message/rfc822")])
    assert b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64" in raw
    parsed = parse_message(raw)
    assert [(a.filename, a.data) for a in parsed.attachments] == [("Application.pdf", PDF)]
    assert "Please find my application attached." in parsed.body_text


def test_winmail_dat_gives_the_files_inside_with_their_own_names():
    raw = clients.outlook_rich_text([("CV José Martin.pdf", PDF), ("Lettre.pdf", b"%PDF-1.4")])
    [winmail] = parse_message(raw).attachments
    assert winmail.filename == "winmail.dat"
    assert [(a.filename, a.data) for a in unpacked((winmail,), unpack_container)] == [
        ("CV José Martin.pdf", PDF), ("Lettre.pdf", b"%PDF-1.4")]


def test_a_winmail_dat_with_only_a_rich_text_body_is_no_attachment():
    assert unpacked(parse_message(clients.outlook_rich_text([])).attachments,
                    unpack_container) == ()


def test_a_windows_1252_title_is_the_name_when_no_long_name_is_given():
    stream = clients.make_tnef([("CV José.pdf", PDF)], long_names=False)
    assert unpack_container(stream) == [("CV José.pdf", PDF)]


# --- Robots ----------------------------------------------------------------------------


def test_an_exchange_recall_is_ignored_as_recall():
    assert classify(parse_message(clients.exchange_recall()), OWN) == "recall"


def test_an_older_outlook_recall_is_known_by_its_message_class_in_winmail_dat():
    raw = clients.outlook_rich_text([], subject="Recall: " + DRP_TITLE,
                                    message_class="IPM.Outlook.Recall")
    assert classify(parse_message(raw), OWN) == "recall"


def test_an_exchange_inbox_rule_reply_is_a_machine():
    assert classify(parse_message(clients.exchange_rule_reply("<x@example.net>")), OWN) == (
        "auto-submitted")


def test_a_rule_of_the_senders_own_mailbox_marks_a_machine_but_a_redirect_does_not():
    own_rule = application(headers={"X-MS-Exchange-Inbox-Rules-Loop": "alice@example.net"})
    redirect = application(headers={"X-MS-Exchange-Inbox-Rules-Loop": "jobs@example.org"})
    assert classify(parse_message(own_rule), OWN) == "auto-submitted"
    assert classify(parse_message(redirect), OWN) is None


def test_a_rule_reply_to_a_notice_is_known_by_its_parent_message_id():
    raw = application(headers={"X-MS-Exchange-Parent-Message-Id": NOTICE_ID})
    assert classify(parse_message(raw), OWN) == "own-notice"


# --- Bounces -----------------------------------------------------------------------------


@pytest.mark.parametrize("build, diagnostic", [
    (clients.postfix_dsn, "550 5.1.1 <gone@example.net>: Recipient address rejected: User "
                          "unknown in virtual mailbox table"),
    (clients.exchange_ndr, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found "
                           "by SMTP address lookup"),
])
def test_a_report_names_the_returned_notice_and_the_diagnostic(build, diagnostic):
    parsed = parse_message(build(NOTICE, "gone@example.net"))
    assert classify(parsed, OWN) == "bounce"
    [failure] = parsed.delivery_failures
    assert (failure.message_id, failure.recipient, failure.diagnostic) == (
        NOTICE_ID, "gone@example.net", diagnostic)
    assert bounced_notices(parsed, OWN) == (failure,)


def test_a_utf8_report_about_a_notice_sent_over_smtputf8_names_it():
    # RFC 6533, as Postfix sends it about a message that went out over SMTPUTF8.
    report = (clients.postfix_dsn(NOTICE, "josé@exämple.net")
              .replace(b"report-type=delivery-status", b"report-type=global-delivery-status")
              .replace(b"message/delivery-status", b"message/global-delivery-status")
              .replace(b"text/rfc822-headers", b"message/global-headers"))
    [failure] = bounced_notices(parse_message(report), OWN)
    assert (failure.message_id, failure.recipient) == (NOTICE_ID, "josé@exämple.net")
    assert failure.diagnostic.startswith("550 5.1.1 <josé@exämple.net>: Recipient address")


def test_a_report_returning_the_notice_base64_encoded_names_it():
    report = clients.postfix_dsn(NOTICE, "gone@example.net")
    head, _, _ = report.partition(b"--3F5D21A0B2.1781078400/mx.example.org\r\n"
                                  b"Content-Description: Undelivered Message Headers")
    returned = (b"--3F5D21A0B2.1781078400/mx.example.org\r\nContent-Type: message/rfc822\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n"
                # long enough for the parser's folding of base64 runs to apply
                + base64.encodebytes(NOTICE + b"We read every application. " * 80)
                + b"--3F5D21A0B2.1781078400/mx.example.org--\r\n")
    [failure] = bounced_notices(parse_message(head + returned), OWN)
    assert failure.message_id == NOTICE_ID and failure.diagnostic.startswith("550 5.1.1")


def test_a_delay_report_is_no_failure():
    parsed = parse_message(clients.postfix_dsn(NOTICE, "slow@example.net", action="delayed",
                                               status="4.4.1"))
    assert classify(parsed, OWN) == "bounce" and parsed.delivery_failures == ()


def test_a_plain_text_bounce_is_read_from_the_headers_it_quotes():
    parsed = parse_message(clients.exim_plain_bounce(NOTICE, "gone@example.net"))
    assert parsed.delivery_failures == ()
    [failure] = bounced_notices(parsed, OWN)
    assert failure.message_id == NOTICE_ID
    assert failure.diagnostic == "550 5.1.1 <gone@example.net>: mailbox unavailable"


@pytest.mark.parametrize("quoted", [
    "Message-ID: <a@b>", "message-id:\n <a@b>", "   Message-Id: <a@b>", "> Message-ID: <a@b>",
], ids=["as sent", "folded", "indented", "quoted with >"])
def test_a_plain_text_bounce_finds_the_message_id_however_it_quotes_the_headers(quoted):
    text = f"550 5.1.1 no such user\n\n  From: x@example.org\n{quoted}\n  Subject: y\n"
    assert [f.message_id for f in failures_in_text(text)] == ["<a@b>"]


def test_a_bounce_with_no_report_that_returns_the_message_names_the_notice():
    bounce = (b"Return-Path: <>\r\nFrom: postmaster@gateway.example.net\r\n"
              b"To: recruitment@example.org\r\nSubject: Undeliverable\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
              b"Content-Type: text/plain\r\n\r\nDelivery failed: 550 5.1.1 user unknown\r\n"
              b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + NOTICE + b"\r\n--b--\r\n")
    parsed = parse_message(bounce)
    assert classify(parsed, OWN) == "bounce"
    [failure] = bounced_notices(parsed, OWN)
    assert (failure.message_id, failure.diagnostic) == (NOTICE_ID, "550 5.1.1 user unknown")


def test_a_dkim_signature_naming_message_id_is_not_the_message_id():
    text = ("Original message headers:\n h=from:to:\n message-id:date;\n"
            "Message-ID: <a@b>\n")
    assert [f.message_id for f in failures_in_text(text)] == ["<a@b>"]


def test_a_bounce_about_another_message_names_no_notice():
    digest = NOTICE.replace(NOTICE_ID.encode(), b"<9.8.digest@example.org>")
    parsed = parse_message(clients.postfix_dsn(digest, "recruiter@example.org"))
    assert parsed.delivery_failures and bounced_notices(parsed, OWN) == ()


def test_gmails_report_names_the_message_in_its_own_fields():
    report = clients.postfix_dsn(NOTICE, "gone@example.net")
    head, _, _ = report.partition(b"Content-Description: Undelivered Message Headers")
    gmail = head.replace(b"Arrival-Date:", b"X-Original-Message-ID: " + NOTICE_ID.encode()
                         + b"\r\nArrival-Date:") + b"--\r\n"
    [failure] = read_report(email.message_from_bytes(gmail))
    assert failure.message_id == NOTICE_ID
