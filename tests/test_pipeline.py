"""End to end on the embedded default: Maildir in, register and .eml notices out."""

from __future__ import annotations

import json

import pytest

from intake_bot.pipeline import run_cycle
from tests.conftest import brussels, run_cli
from tests.mail import DRP_TITLE, application, blank_pdf
from tests.readback import notices, replies, rows

ON_TIME = brussels("2026-06-10T10:00:00")
PLAIN_DRP = """
[[vacancy]]
id = "DRP"
title = "Officer – Democratic Resilience and Partnerships"
deadline = "2026-06-12T23:59"
timezone = "Europe/Brussels"
"""
DOCX = b"PK\x03\x04" + b"\x00" * 40


def pdf_application(**kwargs) -> bytes:
    return application(attachments=[("Application.pdf", blank_pdf(2), "application/pdf")], **kwargs)


def test_valid_application_is_accepted_acknowledged_and_moved(project):
    raw = pdf_application(message_id="<app1@example.net>")
    project.deliver(raw, ON_TIME)
    summary = run_cycle(project.config)
    [row] = rows(project)
    assert row["status"] == "accepted" and json.loads(row["reasons"]) == []
    assert json.loads(row["flags"]) == []
    assert row["reference"] == "DRP-0001" and row["vacancy_id"] == "DRP"
    assert row["received_at"] == "2026-06-10T08:00:00Z"
    assert row["sender"] == "alice@example.net" and row["sender_name"] == "Alice Martin"
    assert row["reply_to"] == "alice@example.net"
    assert row["document_pages"] == 2 and row["document_name"] == "Application.pdf"
    assert row["document_path"].startswith("files/") and row["raw_path"].startswith("raw/")
    assert project.stored(row["document_path"]).read_bytes().startswith(b"%PDF-")
    assert project.stored(row["raw_path"]).read_bytes() == raw
    assert project.inbox() == [] and len(project.folder("Processed")) == 1
    [notice] = notices(project)
    assert notice["To"] == "alice@example.net"
    assert notice["Auto-Submitted"] == "auto-replied"
    assert notice["X-Auto-Response-Suppress"] == "All"
    assert notice["In-Reply-To"] == "<app1@example.net>"
    assert notice["References"] == "<app1@example.net>"
    assert notice["Message-ID"] and notice["Message-ID"] != "<app1@example.net>"
    body = notice.get_content()
    assert "DRP-0001" in body and DRP_TITLE in body
    assert "10 June 2026 at 10:00 (Brussels time)" in body
    assert "10 juin 2026 à 10 h 00, heure de Bruxelles" in body
    assert "Application.pdf" in body and "2 pages" in body
    assert "shortlisted" in body
    [reply] = replies(project)
    assert reply["status"] == "sent" and reply["kind"] == "acknowledgement"
    assert summary.statuses == {"accepted": 1} and summary.sent == 1


@pytest.mark.parametrize("received, status", [
    ("2026-06-12T23:59:59", "accepted"),
    ("2026-06-13T00:00:00", "rejected"),
])
def test_deadline_minute_is_on_time_and_the_next_is_late(project, received, status):
    project.deliver(pdf_application(), brussels(received))
    run_cycle(project.config)
    [row] = rows(project)
    assert row["status"] == status
    assert json.loads(row["reasons"]) == ([] if status == "accepted" else ["late"])


def test_forged_date_header_is_ignored(project):
    raw = pdf_application().replace(b"Date: Wed, 10 Jun 2026 09:00:00 +0200",
                                    b"Date: Mon, 01 Jun 2026 09:00:00 +0200")
    project.deliver(raw, brussels("2026-06-14T09:00:00"))
    run_cycle(project.config)
    assert json.loads(rows(project)[0]["reasons"]) == ["late"]


@pytest.mark.parametrize("received, late", [
    ("2026-03-29T23:59:59+02:00", False),  # the deadline day starts in winter time, ends in summer
    ("2026-03-29T21:59:59+00:00", False),
    ("2026-03-29T22:00:00+00:00", True),
])
def test_deadline_across_a_dst_change(make_project, received, late):
    import datetime as dt
    project = make_project("""
[[vacancy]]
id = "DST"
title = "Spring Post"
deadline = "2026-03-29T23:59"
timezone = "Europe/Brussels"
""")
    project.deliver(application(subject="Spring Post",
                                attachments=[("a.pdf", blank_pdf(), "application/pdf")]),
                    dt.datetime.fromisoformat(received))
    run_cycle(project.config)
    assert ("late" in json.loads(rows(project)[0]["reasons"])) is late


def test_every_reason_is_collected(project):
    raw = application(attachments=[("a.pdf", blank_pdf(), "application/pdf"),
                                   ("b.pdf", blank_pdf(), "application/pdf")])
    project.deliver(raw, brussels("2026-06-20T10:00:00"))
    run_cycle(project.config)
    [row] = rows(project)
    assert row["status"] == "rejected"
    assert json.loads(row["reasons"]) == ["multiple-attachments", "late"]
    body = notices(project)[0].get_content()
    assert "after the deadline" in body and "2 documents" in body


@pytest.mark.parametrize("attachments, reason", [
    ([], "no-attachment"),
    ([("cv.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")],
     "not-pdf"),
    ([("cv.pdf", b"this is not a pdf", "application/pdf")], "not-pdf"),
    ([("cv.pdf", blank_pdf(3)[:200], "application/pdf")], "unreadable-pdf"),
    ([("cv.pdf", blank_pdf(1, user_password="secret"), "application/pdf")], "encrypted-pdf"),
])
def test_attachment_reasons(project, attachments, reason):
    project.deliver(application(attachments=attachments), ON_TIME)
    run_cycle(project.config, clock=lambda: ON_TIME)
    [row] = rows(project)
    assert row["status"] == "rejected" and json.loads(row["reasons"]) == [reason]
    [notice] = notices(project)
    assert "How to fix it" in notice.get_content()
    assert "You may send a corrected application until 12 June 2026 at 23:59" in notice.get_content()


def test_owner_password_only_pdf_is_fine(project):
    import io

    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    project.deliver(application(attachments=[("cv.pdf", buffer.getvalue(), "application/pdf")]),
                    ON_TIME)
    run_cycle(project.config)
    assert rows(project)[0]["status"] == "accepted"


def test_too_large_document(make_project):
    project = make_project(PLAIN_DRP + """[vacancy.attachments]
count = 1
types = ["pdf"]
max_bytes = 500
""")
    project.deliver(pdf_application(), ON_TIME)
    run_cycle(project.config)
    assert json.loads(rows(project)[0]["reasons"]) == ["too-large"]


def test_message_above_the_service_limit_is_too_large_without_decoding(make_project):
    project = make_project(extra="[limits]\nmax_message_bytes = 2000\n")
    project.deliver(application(attachments=[("a.pdf", blank_pdf(1) + b"%" * 5000,
                                              "application/pdf")]), ON_TIME)
    run_cycle(project.config)
    [row] = rows(project)
    assert row["status"] == "rejected" and json.loads(row["reasons"]) == ["too-large"]
    assert row["document_path"] is None


def test_unmatched_subject_gets_the_list_of_open_vacancies(project):
    project.deliver(pdf_application(subject="Job application"), ON_TIME)
    run_cycle(project.config, clock=lambda: brussels("2026-06-20T10:00:00"))
    [row] = rows(project)
    assert row["status"] == "unmatched" and json.loads(row["reasons"]) == ["unknown-vacancy"]
    assert row["reference"] is None and row["vacancy_id"] is None
    [notice] = notices(project)
    body = notice.get_content()
    assert "Secretary General" in body  # the open vacancy, as an exact subject line
    assert DRP_TITLE not in body  # closed on 20 June
    assert replies(project)[0]["kind"] == "unmatched"


def test_ambiguous_subject(project):
    project.deliver(pdf_application(subject=f"{DRP_TITLE} and Secretary General"), ON_TIME)
    run_cycle(project.config)
    assert json.loads(rows(project)[0]["reasons"]) == ["ambiguous-vacancy"]


def test_a_pdf_that_runs_javascript_on_open_is_accepted_and_flagged_for_recruiters(project):
    from tests.builders import make_active_pdf

    project.deliver(application(attachments=[
        ("Application.pdf", make_active_pdf("javascript-on-open"), "application/pdf")]), ON_TIME)
    run_cycle(project.config)
    [row] = rows(project)
    assert (row["status"], json.loads(row["flags"])) == ("accepted", ["active-content"])
    [entry] = json.loads(row["attachments"])
    assert entry["active_content"] == ["JavaScript on open"]
    assert project.stored(entry["path"]).read_bytes().startswith(b"%PDF-")
    # A flag for recruiters: the acknowledgement has nothing for the candidate to fix.
    body = notices(project)[0].get_content()
    assert "could not find everything" not in body and "JavaScript" not in body


def test_robots_are_registered_but_never_answered(project):
    project.deliver(application(headers={"Auto-Submitted": "auto-replied"}), ON_TIME)
    project.deliver(application(sender="MAILER-DAEMON@example.net"), ON_TIME)
    run_cycle(project.config)
    assert [(r["status"], json.loads(r["reasons"])) for r in rows(project)] == [
        ("ignored", ["auto-submitted"]), ("ignored", ["bounce"])]
    assert notices(project) == [] and replies(project) == []
    assert project.inbox() == [] and len(project.folder("Processed")) == 2


def test_redelivery_is_registered_and_answered_once(project):
    raw = pdf_application(message_id="<same@example.net>")
    project.deliver(raw, ON_TIME, name="1.a.test")
    project.deliver(b"Received: from relay by mx; Wed, 10 Jun 2026 10:00:01 +0200\r\n" + raw,
                    ON_TIME, name="2.b.test")
    run_cycle(project.config)
    project.deliver(raw, ON_TIME, name="3.c.test")
    run_cycle(project.config)
    assert len(rows(project)) == 1 and len(replies(project)) == 1 and len(notices(project)) == 1
    assert project.inbox() == [] and len(project.folder("Processed")) == 3


def test_later_accepted_submission_supersedes_the_earlier(project):
    project.deliver(pdf_application(), ON_TIME)
    run_cycle(project.config)
    project.deliver(pdf_application(sender="Alice <ALICE@example.net>"),
                    brussels("2026-06-11T10:00:00"))
    run_cycle(project.config)
    first, second = rows(project)
    assert first["status"] == "superseded" and first["superseded_by"] == second["id"]
    assert second["status"] == "accepted" and second["reference"] == "DRP-0002"


def test_second_run_changes_nothing(project):
    project.deliver(pdf_application(), ON_TIME)
    run_cycle(project.config)
    before = (rows(project), replies(project), [p.read_bytes() for p in project.notices()])
    summary = run_cycle(project.config)
    assert summary.handled == 0 and summary.sent == 0
    assert (rows(project), replies(project), [p.read_bytes() for p in project.notices()]) == before


def test_a_message_that_breaks_a_step_is_quarantined_and_the_cycle_goes_on(project):
    def broken_inspector(data, **_):
        if b"BOOM" in data:
            raise RuntimeError("inspector exploded")
        from intake_bot.documents import inspect_document
        return inspect_document(data, want_text=False)

    project.deliver(application(attachments=[("a.pdf", blank_pdf() + b"BOOM", "application/pdf")]),
                    ON_TIME)
    project.deliver(pdf_application(sender="Bob <bob@example.net>"), ON_TIME)
    run_cycle(project.config, inspect=broken_inspector)
    first, second = rows(project)
    assert first["status"] == "quarantined" and "inspector exploded" in first["error"]
    assert second["status"] == "accepted"
    assert len(project.folder("Quarantine")) == 1 and len(project.folder("Processed")) == 1
    assert len(replies(project)) == 1


def test_notice_goes_to_reply_to_and_injection_adds_no_header(project):
    raw = application(
        attachments=[("a.pdf", blank_pdf(), "application/pdf")],
        headers={"Reply-To": "alice@home.example"},
        subject=f"=?utf-8?q?{DRP_TITLE.replace(' ', '_').replace('–', '=E2=80=93')}"
                "=0D=0ABcc=3A_victim=40example=2Eorg?=")
    project.deliver(raw, ON_TIME)
    run_cycle(project.config)
    [notice] = notices(project)
    assert notice["To"] == "alice@home.example"
    assert notice["Bcc"] is None and "victim" not in str(notice["To"])
    raw_notice = project.notices()[0].read_bytes()
    assert b"\nBcc:" not in raw_notice


@pytest.mark.parametrize("reply_to", ["MAILER-DAEMON@example.net", "postmaster@example.net",
                                      "no-reply@example.net", "jobs-request@lists.example.net",
                                      "Recruitment@Example.org"])
def test_a_reply_to_naming_a_machine_or_the_bot_is_passed_over_for_the_from(project, reply_to):
    """A notice there would bounce, vanish or loop; the person who wrote is the From."""
    project.deliver(pdf_application(headers={"Reply-To": reply_to}), ON_TIME)
    run_cycle(project.config)
    [notice] = notices(project)
    assert notice["To"] == "alice@example.net"
    assert rows(project)[0]["reply_to"] == "alice@example.net"


def test_the_daily_cap_counts_one_mailbox_whatever_its_case_and_tag(make_project):
    project = make_project(extra="[notices]\nmax_per_address_per_day = 2\n")
    for index, sender in enumerate(["Alice+1@Example.NET", "alice+2@example.net",
                                    "ALICE@EXAMPLE.NET", "bob+1@example.net"]):
        project.deliver(pdf_application(subject=f"hello {index}", sender=sender), ON_TIME)
    run_cycle(project.config)
    assert sorted(str(n["To"]) for n in notices(project)) == [
        "Alice+1@Example.NET", "alice+2@example.net", "bob+1@example.net"]
    limited = rows(project)[2]
    assert limited["status"] == "unmatched" and limited["notice_skipped"] == "cap"


def test_french_candidate_gets_french_first(project):
    raw = application(subject="Candidature – Officier – Résilience démocratique et partenariats",
                      body="Madame, Monsieur,\n\nVeuillez trouver ci-joint ma candidature.\n",
                      attachments=[("cv.pdf", blank_pdf(), "application/pdf")])
    project.deliver(raw, ON_TIME)
    run_cycle(project.config)
    notice = notices(project)[0]
    body = notice.get_content()
    assert body.index("Bonjour Alice Martin") < body.index("Dear Alice Martin")
    assert notice["Subject"].startswith("Candidature reçue")
    assert rows(project)[0]["language"] == "fr"


def test_resubmission_first_keeps_the_first(make_project):
    project = make_project(PLAIN_DRP + 'resubmission = "first"\n')
    project.deliver(pdf_application(), ON_TIME)
    project.deliver(pdf_application(), brussels("2026-06-11T10:00:00"))
    run_cycle(project.config)
    first, second = rows(project)
    assert first["status"] == "accepted"
    assert second["status"] == "superseded" and second["superseded_by"] == first["id"]
    assert "DRP-0001" in notices(project)[1].get_content() or "DRP-0001" in notices(project)[0].get_content()


def test_a_resubmission_notice_names_the_replaced_reference(project):
    project.deliver(pdf_application(), ON_TIME)
    project.deliver(pdf_application(), brussels("2026-06-11T10:00:00"))
    run_cycle(project.config)
    # The outbox's files are named by Message-ID, whose order is random for two notices
    # made within the same 10 ms: find the second by what it says, not by its position.
    texts = [notice.get_content() for notice in notices(project)]
    [second] = [text for text in texts if "replaces your earlier one" in text]
    assert len(texts) == 2 and "replaces your earlier one (DRP-0001)" in second
    assert notices(project)[0]["Content-Language"] == "en, fr"


def test_an_html_template_adds_an_escaped_html_alternative(make_project):
    project = make_project(extra='[notices]\ntemplates = "mytemplates"\n')
    for language in ("en", "fr"):
        folder = project.config_path.parent / "mytemplates" / "DRP" / language
        folder.mkdir(parents=True)
        (folder / "acknowledgement.html.j2").write_text(
            "<p>{{ candidate_name }}: {{ reference }}</p>", encoding="utf-8")
    project.deliver(pdf_application(sender='"<b>Eve</b>" <eve@example.net>'), ON_TIME)
    run_cycle(project.config)
    [notice] = notices(project)
    html = notice.get_body(preferencelist=("html",)).get_content()
    assert "DRP-0001" in html and "<b>" not in html and "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "DRP-0001" in notice.get_body(preferencelist=("plain",)).get_content()


def test_a_notice_quotes_no_link_or_address_the_message_chose(project):
    hostile = "Please log in at http://evil.example/nato"
    project.deliver(application(
        sender=f'"{hostile}" <alice@example.net>',
        attachments=[("Verify at evil[.]example now.pdf", blank_pdf(2), "application/pdf")]),
        ON_TIME)
    project.deliver(application(sender='"Bob \u202eMartin" <bob@example.net>',
                                subject="Job - unlock at hxxps://evil.example/x victim@victim.example"),
                    ON_TIME)
    run_cycle(project.config)
    bodies = {str(n["To"]): n.get_body(("plain",)).get_content() for n in notices(project)}
    alice, bob = bodies["alice@example.net"], bodies["bob@example.net"]
    assert "Dear candidate," in alice and "Madame, Monsieur," in alice
    assert "Document: (unnamed file), 2 pages." in alice
    assert "Dear Bob Martin," in bob and 'We received your e-mail "Job - unlock at"' in bob
    for body in bodies.values():
        assert "evil" not in body and "victim" not in body and "log in" not in body
    # The register keeps what the message said, for the recruiters.
    assert rows(project)[0]["sender_name"] == hostile


def test_a_worker_that_cannot_start_judges_nothing_and_the_message_waits(project, monkeypatch):
    """Out of memory or processes, no worker starts: that says nothing about the PDF."""
    from intake_bot.documents import InspectionUnavailable, inspect, shutdown_worker

    project.deliver(application(attachments=[("CV.pdf", blank_pdf(), "application/pdf")]),
                    brussels("2026-06-10T10:00:00"))
    shutdown_worker()
    monkeypatch.setattr(inspect._WORKER, "module", "intake_bot.no_such_worker")  # exits at once
    with pytest.raises(InspectionUnavailable, match="worker failed to start"):
        run_cycle(project.config)
    assert rows(project) == [] and notices(project) == [] and len(project.inbox()) == 1

    monkeypatch.undo()  # the machine recovers: the next cycle judges the message
    summary = run_cycle(project.config)
    assert summary.statuses == {"accepted": 1} and project.inbox() == []


def test_run_once_says_in_one_line_that_no_worker_starts(project, monkeypatch):
    from intake_bot.documents import inspect, shutdown_worker

    project.deliver(application(attachments=[("CV.pdf", blank_pdf(), "application/pdf")]),
                    brussels("2026-06-10T10:00:00"))
    shutdown_worker()
    monkeypatch.setattr(inspect._WORKER, "module", "intake_bot.no_such_worker")
    result = run_cli("--config", str(project.config_path), "run", "--once")
    shutdown_worker()
    assert result.exit_code == 1 and len(project.inbox()) == 1
    assert result.stderr.startswith("intake-bot: error: document inspection worker: worker "
                                    "failed to start")
    assert len(result.stderr.splitlines()) == 1
