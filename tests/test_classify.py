"""Robots are registered as ignored and never answered (RFC 3834, RFC 5230)."""

from __future__ import annotations

import pytest

from intake_bot.classify import classify
from intake_bot.parse import parse_message
from tests.mail import application

OWN = {"recruitment@example.org"}


def classify_with(headers: dict[str, str] | None = None, sender: str = "Alice <alice@example.net>",
                  raw: bytes | None = None) -> str | None:
    return classify(parse_message(raw or application(sender=sender, headers=headers)), OWN)


def test_a_person_is_not_a_robot():
    assert classify_with() is None
    assert classify_with({"Auto-Submitted": "no"}) is None
    assert classify_with({"Precedence": "first-class"}) is None


@pytest.mark.parametrize("headers, reason", [
    ({"Auto-Submitted": "auto-replied"}, "auto-submitted"),
    ({"Auto-Submitted": "auto-generated"}, "auto-submitted"),
    ({"Auto-Submitted": "auto-notified; owner-email=x@y.z"}, "auto-submitted"),
    ({"Precedence": "bulk"}, "auto-submitted"),
    ({"Precedence": "junk"}, "auto-submitted"),
    ({"X-Auto-Response-Suppress": "All"}, "auto-submitted"),
    ({"X-Auto-Response-Suppress": "DR, OOF"}, "auto-submitted"),
    ({"X-Autoreply": "yes"}, "auto-submitted"),
    ({"Precedence": "list"}, "mailing-list"),
    ({"List-Id": "<jobs.lists.example.org>"}, "mailing-list"),
    ({"List-Unsubscribe": "<mailto:leave@example.org>"}, "mailing-list"),
    ({"Return-Path": "<>"}, "bounce"),
])
def test_robot_headers(headers, reason):
    assert classify_with(headers) == reason


def with_fields(*fields: tuple[str, str]) -> bytes:
    """A person's message carrying ``fields`` as written, a field twice included."""
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return (f"From: Alice <alice@example.net>\r\nSubject: Officer\r\nMessage-ID: <a@example.net>"
            f"\r\n{head}\r\nhello\r\n").encode()


@pytest.mark.parametrize("fields, reason", [
    # RFC 3834 5.1 and RFC 5322 3.2.2: comments around the keyword change nothing
    ([("Auto-Submitted", "no (sent by hand)")], None),
    ([("Auto-Submitted", "(a person) No")], None),
    ([("Auto-Submitted", "auto-replied (vacation)")], "auto-submitted"),
    ([("Precedence", "bulk (newsletter)")], "auto-submitted"),
    ([("Precedence", "List (announce)")], "mailing-list"),
    ([("Return-Path", "<> (null sender)")], "bounce"),
    # a field written twice: any robot's value wins
    ([("Auto-Submitted", "no"), ("Auto-Submitted", "auto-generated")], "auto-submitted"),
    ([("Precedence", "first-class"), ("Precedence", "junk")], "auto-submitted"),
    # the top Return-Path is the delivering server's
    ([("Return-Path", "<alice@example.net>"), ("Return-Path", "<>")], None),
    # RFC 5230 4.6: system senders by their envelope address, whatever the From says
    ([("Return-Path", "<owner-jobs@lists.example.org>")], "mailing-list"),
    ([("Return-Path", "<jobs-request@lists.example.org>")], "mailing-list"),
    ([("Return-Path", "<LISTSERV@lists.example.org>")], "mailing-list"),
    ([("Return-Path", "<MAILER-DAEMON@mx.example.net>")], "bounce"),
    ([("Return-Path", "<MAILER-DAEMON>")], "bounce"),
    # X-Auto-Response-Suppress as other writers separate it
    ([("X-Auto-Response-Suppress", "DR; OOF")], "auto-submitted"),
    ([("X-Auto-Response-Suppress", "DR OOF")], "auto-submitted"),
    ([("X-Auto-Response-Suppress", "RN, NRN")], None),
])
def test_fields_as_senders_write_them(fields, reason):
    assert classify_with(raw=with_fields(*fields)) == reason


@pytest.mark.parametrize("sender, reason", [
    ("MAILER-DAEMON@mx.example.net", "bounce"),
    ("Mail Delivery System <postmaster@example.net>", "bounce"),
    ("jobs-request@lists.example.org", "mailing-list"),
    ("owner-jobs@lists.example.org", "mailing-list"),
    ("LISTSERV@lists.example.org", "mailing-list"),
    ("majordomo@example.org", "mailing-list"),
    ("no-reply@example.com", "auto-submitted"),
    ("noreply@example.com", "auto-submitted"),
    ("NATO PA Recruitment <recruitment@example.org>", "own-address"),
    ("RECRUITMENT+jobs@Example.org", "own-address"),
    ("not an address", "no-sender"),
    ("", "no-sender"),
])
def test_system_and_unusable_senders(sender, reason):
    assert classify_with(sender=sender) == reason


def test_delivery_status_report_is_a_bounce():
    raw = (b"From: someone@example.net\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\n"
           b"Content-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n")
    assert classify_with(raw=raw) == "bounce"


def test_message_without_from_has_no_sender():
    raw = b"Subject: Officer\r\nMessage-ID: <x@y>\r\n\r\nhello\r\n"
    assert classify_with(raw=raw) == "no-sender"


def test_the_mailbox_and_smtp_users_that_are_addresses_are_the_bots_own(make_project):
    project = make_project()
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text.replace(
        'url = "maildir:../var/mailbox"',
        'url = "imaps://Applications@example.org@outlook.office365.com/INBOX"').replace(
        'url = "outbox:../var/outbox"', 'url = "smtp://relay@example.org@smtp.example.org:587"'),
        encoding="utf-8")
    own = project.config.own_addresses
    assert own == {"recruitment@example.org", "applications@example.org", "relay@example.org"}
    for sender in ("applications@example.org", "Relay+x@example.org"):
        assert classify(parse_message(application(sender=sender)), own) == "own-address"
