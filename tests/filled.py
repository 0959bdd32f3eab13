"""A register filled by the real pipeline, for the recruiters' tests: three vacancies, every status.

DRP (closed 12 June 2026, flags on), SG (open until 2099) and OLD (closed in January 2025,
``retention_days = 30``). Alice applies twice to DRP with the same PDF (the first is
superseded, and the file is shared), Bob attaches two PDFs, Chloé makes the last second,
Dan is late, "=2+3" tries a spreadsheet formula as a name, Frank names no vacancy, Grace
applies to SG and Olga to OLD.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from intake_bot.pipeline import run_cycle
from tests.conftest import DRP_VACANCY, NOW, Project, brussels, run_cli, write_project
from tests.mail import DRP_TITLE, application, blank_pdf

VACANCIES = DRP_VACANCY + """[vacancy.checks]
letter = "flag"

[[vacancy]]
id = "SG"
title = "Secretary General"
deadline = "2099-02-28T23:59"
timezone = "Europe/Brussels"

[[vacancy]]
id = "OLD"
title = "Archivist"
deadline = "2025-01-31T23:59"
timezone = "Europe/Brussels"
retention_days = 30
"""



@cache
def letter_pdf() -> bytes:
    """A one-page PDF with the words of a letter of application (so no flag is raised)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Dear Sir or Madam, I am writing to apply for the post. "
                         "Curriculum vitae attached. Belgian national.")
    return bytes(pdf.output())


def pdf(name: str = "Application.pdf", data: bytes | None = None) -> tuple[str, bytes, str]:
    return (name, data if data is not None else letter_pdf(), "application/pdf")


def fill(root: Path, extra: str = "") -> Project:
    """Write a project under ``root``, deliver the applications, run one real cycle."""
    project = write_project(root, VACANCIES, extra)
    scan = blank_pdf(2)  # no text: accepted with the no-text flag
    deliveries = [
        ("Alice Martin <alice@example.net>", DRP_TITLE, [pdf("Scan.pdf", scan)],
         "2026-06-10T10:00:00"),
        ("Bob Stone <bob@example.net>", DRP_TITLE, [pdf("CV.pdf"), pdf("Letter.pdf")],
         "2026-06-11T09:00:00"),
        ("Alice Martin <alice@example.net>", f"Re: {DRP_TITLE}", [pdf("Scan again.pdf", scan)],
         "2026-06-11T15:00:00"),
        ("=2+3 <eve@example.net>", DRP_TITLE, [pdf()], "2026-06-12T12:00:00"),
        ("Chloé Dupont <chloe@example.fr>", DRP_TITLE, [pdf("Candidature Chloé.pdf")],
         "2026-06-12T23:59:59"),
        ("Dan Late <dan@example.net>", DRP_TITLE, [pdf()], "2026-06-13T08:00:00"),
        ("Frank <frank@example.net>", "Job application", [pdf()], "2026-06-13T09:00:00"),
        ("Grace Hopper <grace@example.net>", "Secretary General", [pdf()],
         "2026-06-14T10:00:00"),
        ("Olga <olga@example.net>", "Archivist", [pdf()], "2025-01-10T10:00:00"),
    ]
    for sender, subject, attachments, received in deliveries:
        project.deliver(application(subject=subject, sender=sender, attachments=attachments),
                        brussels(received))
    run_cycle(project.config, clock=lambda: NOW)
    return project


def invoke(project: Project, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """Run ``intake-bot --config <project> ARGS``; returns (exit code, stdout, stderr)."""
    result = run_cli("--config", str(project.config_path), *args, input=input)
    return result.exit_code, result.stdout, result.stderr
