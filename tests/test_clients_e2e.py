"""Mail as candidates' clients send it, end to end: Dovecot in, aiosmtpd out, SPEC's outcome.

Outlook's winmail.dat and S/MIME, Thunderbird's vCard and forwarded messages, raw 8-bit
headers, internationalised addresses, Exchange's recalls and rule replies, and the bounces
Postfix and Exchange send back about the bot's own notices.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from intake_bot.pipeline import run_cycle
from tests import clients
from tests.conftest import brussels, run_cli, serve_project
from tests.mail import blank_pdf
from tests.readback import replies, rows

pytestmark = pytest.mark.servers
ON_TIME = brussels("2026-06-10T10:00:00")
PDF = blank_pdf(2)


def sent_by(raw: bytes, who: str) -> bytes:
    """The same message from another candidate (the signed parts do not cover From)."""
    return raw.replace(b"alice@example.net", f"{who}@example.net".encode())


SHAPES = {
    # name: (message, status, reasons, document name or None, notice kind or None)
    "outlook-winmail-dat": (clients.outlook_rich_text([("CV José Martin.pdf", PDF)]),
                            "accepted", [], "CV José Martin.pdf", "acknowledgement"),
    "outlook-signed": (clients.outlook_signed(PDF), "accepted", [], "Application.pdf",
                       "acknowledgement"),
    "outlook-opaque-signed": (clients.outlook_opaque_signed(PDF), "accepted", [],
                              "Application.pdf", "acknowledgement"),
    "outlook-encrypted": (clients.outlook_encrypted(PDF), "rejected", ["encrypted-message"],
                          None, "rejection"),
    "thunderbird-openpgp": (clients.thunderbird_pgp_encrypted(), "rejected",
                            ["encrypted-message"], None, "rejection"),
    "thunderbird-vcard": (clients.thunderbird(PDF, vcard=True), "accepted", [],
                          "Application.pdf", "acknowledgement"),
    "thunderbird-forwarded": (clients.thunderbird(b"", forwarded=clients.thunderbird(PDF)),
                              "accepted", [], "Application.pdf", "acknowledgement"),
    "exchange-recall": (clients.exchange_recall(), "ignored", ["recall"], None, None),
    "exchange-rule-reply": (clients.exchange_rule_reply("<earlier@example.net>"), "ignored",
                            ["auto-submitted"], None, None),
}


def test_each_client_shape_gets_its_outcome_on_real_servers(served):
    project, dovecot, sink = served
    for name, (raw, *_) in SHAPES.items():
        dovecot.append("INBOX", sent_by(raw, name), ON_TIME)
    dovecot.append("INBOX", clients.raw_windows_1252(PDF), ON_TIME)
    run_cycle(project.config)
    found = {row["sender"]: row for row in rows(project)}
    for name, (_, status, reasons, document, _) in SHAPES.items():
        row = found[f"{name}@example.net"]
        assert (row["status"], json.loads(row["reasons"]), row["document_name"]) == (
            status, reasons, document), name
        if document:
            assert row["document_sha256"] == hashlib.sha256(PDF).hexdigest(), name
    cp1252 = found["jose.garcia@example.net"]
    assert (cp1252["status"], cp1252["vacancy_id"], cp1252["sender_name"]) == (
        "accepted", "DRP", "José García")
    assert cp1252["subject"] == "Officer – Democratic Resilience and Partnerships"
    assert cp1252["document_name"] == "CV_José.pdf"
    kinds = {reply["recipient"]: reply["kind"] for reply in replies(project)}
    assert kinds == {f"{name}@example.net": kind for name, (*_, kind) in SHAPES.items() if kind} \
        | {"jose.garcia@example.net": "acknowledgement"}
    assert sorted(mail.rcpt_tos[0] for mail in sink.received) == sorted(kinds)
    assert dovecot.uids("INBOX") == [] and dovecot.uids("Quarantine") == []
    [encrypted] = [mail.message() for mail in sink.received
                   if mail.rcpt_tos == ["outlook-encrypted@example.net"]]
    assert "without encryption" in encrypted.get_body(("plain",)).get_content()


@pytest.mark.parametrize("offered", [True, False])
def test_a_non_ascii_address_is_answered_over_smtputf8_or_its_notice_fails(
        make_project, fresh_dovecot, smtp_sink_factory, monkeypatch, offered):
    sink = smtp_sink_factory(smtputf8=offered)
    project = serve_project(make_project(), fresh_dovecot, sink, monkeypatch)
    fresh_dovecot.append("INBOX", clients.utf8_sender(PDF), ON_TIME)
    run_cycle(project.config)
    [row] = rows(project)
    assert (row["status"], row["sender"], row["sender_name"]) == (
        "accepted", "josé@exämple.net", "José García")
    [reply] = replies(project)
    if offered:
        [mail] = sink.received
        assert reply["status"] == "sent" and mail.rcpt_tos == ["josé@exämple.net"]
        assert "\nTo: josé@exämple.net\r\n".encode() in mail.content  # RFC 6532: UTF-8 as is
        assert "DRP-0001" in mail.message().get_body(("plain",)).get_content()
    else:
        assert sink.received == [] and reply["status"] == "failed"
        assert "SMTPUTF8" in reply["last_error"]
    assert fresh_dovecot.uids("INBOX") == []


def test_bounces_from_postfix_and_exchange_mark_both_notices_bounced_and_are_not_answered(
        served):
    project, dovecot, sink = served
    for who in ("gone", "left"):
        dovecot.append("INBOX", sent_by(clients.thunderbird(PDF, message_id=f"<{who}@example.net>"),
                                        who), ON_TIME)
    run_cycle(project.config)
    notices = {mail.rcpt_tos[0]: mail.content for mail in sink.received}
    assert sorted(notices) == ["gone@example.net", "left@example.net"]
    dovecot.append("INBOX", clients.postfix_dsn(notices["gone@example.net"], "gone@example.net"),
                   ON_TIME)
    dovecot.append("INBOX", clients.exchange_ndr(notices["left@example.net"], "left@example.net"),
                   ON_TIME)
    summary = run_cycle(project.config)
    assert summary.sent == 0 and len(sink.received) == 2  # a bounce is never answered
    bounces = rows(project)[2:]
    assert [(r["status"], json.loads(r["reasons"])) for r in bounces] == [
        ("ignored", ["bounce"]), ("ignored", ["bounce"])]
    by_recipient = {reply["recipient"]: reply for reply in replies(project)}
    gone, left = by_recipient["gone@example.net"], by_recipient["left@example.net"]
    assert gone["status"] == left["status"] == "bounced"
    assert gone["last_error"] == ("550 5.1.1 <gone@example.net>: Recipient address rejected: "
                                  "User unknown in virtual mailbox table")
    assert left["last_error"] == ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
                                  "found by SMTP address lookup")
    assert (gone["bounced_by"], left["bounced_by"]) == (bounces[0]["id"], bounces[1]["id"])
    assert dovecot.uids("INBOX") == []
    listed = run_cli("--config", str(project.config_path), "register", "list", "--unreached",
                     "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [(r["sender"], r["notice_status"]) for r in json.loads(listed.output)] == [
        ("gone@example.net", "bounced"), ("left@example.net", "bounced")]
    again = run_cycle(project.config)
    assert again.handled == 0 and again.sent == 0 and len(sink.received) == 2
