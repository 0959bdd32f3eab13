"""Loop protection: the bot never answers a machine, itself, or its own notices coming back."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from intake_bot.classify import classify
from intake_bot.parse import parse_message
from intake_bot.pipeline import run_cycle
from tests.conftest import brussels
from tests.mail import application, blank_pdf
from tests.readback import notices, rows

ON_TIME = brussels("2026-06-10T10:00:00")
OWN = {"recruitment@example.org"}
NOTICE_ID = "<178.42.7.intake@example.org>"
PDF = [("cv.pdf", blank_pdf(), "application/pdf")]


@pytest.mark.parametrize("headers, attachments, reason", [
    ({"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}, PDF,
     "auto-submitted"),  # the headers every notice carries
    ({"Auto-Submitted": "auto-generated"}, PDF, "auto-submitted"),
    ({"Precedence": "junk"}, PDF, "auto-submitted"),
    ({"Precedence": "list"}, PDF, "mailing-list"),
    ({"List-Unsubscribe": "<https://lists.example.org/leave>"}, PDF, "mailing-list"),
    ({"Return-Path": "<>"}, PDF, "bounce"),
    ({"Return-Path": "<recruitment@example.org>"}, PDF, "own-address"),
    ({"In-Reply-To": NOTICE_ID}, (), "own-notice"),
    ({"References": f"<a@example.net> {NOTICE_ID}"}, (), "own-notice"),
    ({"In-Reply-To": NOTICE_ID}, PDF, None),  # a corrected application, sent as a reply
    ({"In-Reply-To": "<178.42.7.intake@elsewhere.example>"}, (), None),
])
def test_machines_and_loops(headers, attachments, reason):
    raw = application(headers=headers, attachments=attachments)
    assert classify(parse_message(raw), OWN) == reason


def test_a_notice_with_our_message_id_is_our_own():
    raw = application(message_id=NOTICE_ID.replace("178", "179"), attachments=PDF)
    assert classify(parse_message(raw), OWN) == "own-notice"


@pytest.mark.parametrize("sender", ["no-reply@example.com", "Do Not Reply <donotreply@x.org>",
                                    "MAILER-DAEMON@mx.example.net", "postmaster@example.net"])
def test_system_senders(sender):
    assert classify(parse_message(application(sender=sender, attachments=PDF)), OWN) in (
        "auto-submitted", "bounce")


def test_a_delivery_report_is_never_answered(project):
    report = (b"From: Mail Delivery <mx@example.net>\r\nSubject: NATO-PA-2026-07\r\n"
              b"MIME-Version: 1.0\r\nContent-Type: multipart/report; "
              b"report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain"
              b"\r\n\r\nundeliverable\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n"
              b"Status: 5.1.1\r\n--r--\r\n")
    project.deliver(report, ON_TIME)
    run_cycle(project.config)
    assert json.loads(rows(project)[0]["reasons"]) == ["bounce"] and notices(project) == []


def test_our_notice_coming_back_is_not_answered_again(project):
    project.deliver(application(attachments=PDF), ON_TIME)
    run_cycle(project.config)
    [notice] = project.notices()
    project.deliver(notice.read_bytes(), ON_TIME)  # e.g. a forwarding rule sends it back
    stripped = b"\r\n".join(line for line in notice.read_bytes().splitlines()
                            if not line.startswith((b"Auto-Submitted", b"X-Auto-Response")))
    project.deliver(stripped, ON_TIME)  # even by a relay that drops those headers
    run_cycle(project.config)
    assert [(r["status"], json.loads(r["reasons"])) for r in rows(project)[1:]] == [
        ("ignored", ["auto-submitted"]), ("ignored", ["own-address"])]
    assert len(project.notices()) == 1


def test_a_reply_to_a_notice_is_answered_only_when_it_brings_a_document(project):
    project.deliver(application(attachments=PDF), ON_TIME)
    run_cycle(project.config)
    [notice] = notices(project)
    reply = {"In-Reply-To": notice["Message-ID"], "References": notice["Message-ID"]}
    subject = "Re: " + notice["Subject"]
    project.deliver(application(subject=subject, headers=reply, body="Thank you!\n"), ON_TIME)
    project.deliver(application(subject=subject, headers=reply, attachments=PDF), ON_TIME)
    run_cycle(project.config)
    thanks, corrected = rows(project)[1:]
    assert (thanks["status"], json.loads(thanks["reasons"])) == ("ignored", ["own-notice"])
    assert corrected["status"] == "accepted" and len(notices(project)) == 2


def test_the_daily_limit_reaches_across_cycles(make_project):
    project = make_project(extra="[notices]\nmax_per_address_per_day = 2\n")
    start = dt.datetime(2026, 6, 10, 8, tzinfo=dt.UTC)

    def cycle(subject: str, hours: float) -> dict:
        project.deliver(application(subject=subject), start)
        run_cycle(project.config, clock=lambda: start + dt.timedelta(hours=hours))
        return rows(project)[-1]

    assert cycle("hello 1", 0)["notice_skipped"] is None
    assert cycle("hello 2", 1)["notice_skipped"] is None
    limited = cycle("hello 3", 23)
    assert limited["status"] == "unmatched" and limited["notice_skipped"] == "cap"
    assert len(project.notices()) == 2
    assert cycle("hello 4", 24.5)["notice_skipped"] is None  # the first left the window
    assert len(project.notices()) == 3
