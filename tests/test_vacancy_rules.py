"""The rules the real notices call for, through the pipeline, with real PDFs and Word files."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3

import pytest

from intake_bot.pipeline import run_cycle
from tests.builders import (
    make_application_pdf,
    make_doc,
    make_docx,
    make_odt,
    make_scanned_pdf,
)
from tests.conftest import brussels
from tests.mail import application

ON_TIME = brussels("2026-06-10T10:00:00")
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

CHECKED = """
[[vacancy]]
id = "DRP"
title = "Officer – Democratic Resilience and Partnerships"
aliases = ["Officier – Résilience démocratique et partenariats"]
deadline = "2026-06-12T23:59"
timezone = "Europe/Brussels"
languages = ["en", "fr"]
[vacancy.checks]
letter = "{policy}"
cv = "{policy}"
nationality = "{policy}"
references = "{policy}"
min_references = 3
eligibility = "{policy}"
eligible = "nato"
"""

ESSAY = """
[[vacancy]]
id = "MO-HEAD"
title = "Head, Multilateral Organizations Section"
reference = "PASP0016"
deadline = "2026-06-18T23:59"
timezone = "Europe/Brussels"
[vacancy.attachments]
count = 1
types = ["docx", "doc", "odt"]
max_words = 500
filename_must_contain = ["PASP0016", "Key challenges"]
"""

E_RECRUITMENT = """
[[vacancy]]
id = "GPS"
title = "Officer, Global Partnerships Section"
timezone = "Europe/Brussels"
channel = "e-recruitment"
apply_url = "https://www.nato.int/recruitment"
"""


def outcome(project, raw: bytes) -> tuple[str, list[str], list[str]]:
    project.deliver(raw, ON_TIME)
    run_cycle(project.config, clock=lambda: ON_TIME)
    db = sqlite3.connect(project.config.register_path)
    try:
        status, reasons, flags = db.execute(
            "SELECT status, reasons, flags FROM submissions ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        db.close()
    return status, json.loads(reasons), json.loads(flags)


def apply_with(pdf: bytes, subject: str = "Officer – Democratic Resilience and Partnerships",
               name: str = "application.pdf") -> bytes:
    return application(subject=subject, attachments=[(name, pdf, PDF)])


@pytest.mark.parametrize("pdf, findings", [
    (make_application_pdf(), []),
    (make_application_pdf(letter=False), ["missing-letter"]),
    (make_application_pdf(cv=False), ["missing-cv", "missing-nationality"]),
    (make_application_pdf(nationality=None), ["missing-nationality"]),
    (make_application_pdf(references=2), ["too-few-references"]),
    (make_application_pdf(nationality="Ukrainian"), ["not-member-national"]),
    (make_application_pdf(nationality="Ukrainian and Polish"), []),
    (make_application_pdf(language="fr", nationality="française"), []),
    (make_application_pdf(language="fr", letter=False, references=1),
     ["missing-letter", "too-few-references"]),
    (make_application_pdf(language="fr", nationality="suisse"), ["not-member-national"]),
])
def test_content_findings_flag_by_default_policy(make_project, pdf, findings):
    project = make_project(CHECKED.format(policy="flag"))
    status, reasons, flags = outcome(project, apply_with(pdf))
    assert (status, reasons, sorted(flags)) == ("accepted", [], sorted(findings))


def test_content_findings_reject_when_the_policy_says_so(make_project):
    project = make_project(CHECKED.format(policy="reject"))
    status, reasons, flags = outcome(project, apply_with(make_application_pdf(references=0)))
    assert (status, reasons, flags) == ("rejected", ["too-few-references"], [])
    body = project.notices()[0].read_text(encoding="utf-8", errors="replace")
    assert "references" in body


def test_a_scan_is_flagged_no_text_and_nothing_else(make_project):
    project = make_project(CHECKED.format(policy="reject"))
    assert outcome(project, apply_with(make_scanned_pdf())) == ("accepted", [], ["no-text"])


def test_the_acknowledgement_says_what_was_not_found_and_until_when(make_project):
    project = make_project(CHECKED.format(policy="flag"))
    outcome(project, apply_with(make_application_pdf(references=1)))
    notice = email.message_from_bytes(project.notices()[0].read_bytes(), policy=email.policy.default)
    body = notice.get_content()
    assert "could not find 3 references" in body
    assert "before the deadline of 12 June 2026 at 23:59 (Brussels time)" in body
    assert "12 juin 2026 à 23 h 59, heure de Bruxelles" in body


@pytest.mark.parametrize("name, document, reasons", [
    ("PASP0016 Key challenges.docx", make_docx(["word "] * 1 + ["essay " * 499]), []),
    ("PASP0016 Key challenges.docx", make_docx(["essay " * 501]), ["too-many-words"]),
    ("pasp0016 - KEY CHALLENGES.odt", make_odt(["essay " * 300]), []),
    ("PASP0016 Key challenges.doc", make_doc(["essay " * 200]), []),
    ("my essay.docx", make_docx(["essay " * 100]), ["bad-filename"]),
    ("PASP0016_Key_challenges.docx", make_docx(["essay " * 100]), []),
    ("PASP0016 Key challenges.pdf", make_application_pdf(), ["wrong-type"]),
])
def test_essay_rules(make_project, name, document, reasons):
    project = make_project(ESSAY)
    raw = application(subject="Head, Multilateral Organizations Section",
                      attachments=[(name, document, DOCX)])
    status, found, _ = outcome(project, raw)
    assert found == reasons and status == ("rejected" if reasons else "accepted")


def test_e_mail_to_an_e_recruitment_vacancy_is_pointed_to_the_right_channel(make_project):
    project = make_project(E_RECRUITMENT)
    raw = apply_with(make_application_pdf(), subject="Officer, Global Partnerships Section")
    assert outcome(project, raw) == ("rejected", ["wrong-channel"], [])
    notice = email.message_from_bytes(project.notices()[0].read_bytes(), policy=email.policy.default)
    assert "https://www.nato.int/recruitment" in notice.get_content()
