"""Build the demo's sample applications (intake_bot/demo_samples/*.eml) from scratch.

Run with the test extras installed (fpdf2, python-docx): ``python scripts/make_demo_samples.py``.
The output is committed; this script documents how it was made and remakes it.
"""

from __future__ import annotations

import sys
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.builders import make_application_pdf, make_docx  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "intake_bot" / "demo_samples"
TITLE = "Officer – Democratic Resilience and Partnerships"
TITLE_FR = "Officier – Résilience démocratique et partenariats"
TO = "NATO PA Recruitment <recruitment@example.org>"


def message(
    sender: str,
    subject: str,
    body: str,
    sent: str,
    attachments: list[tuple[str, bytes, str]] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = TO
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.fromisoformat(sent))
    msg["Message-ID"] = make_msgid("demo", domain="example.net")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


SAMPLES = [
    (
        "01-valid-application",
        "2026-06-10T09:12:00+02:00",
        "a complete application: one PDF with letter, CV (Belgian) and three references",
        lambda: message(
            "Alice Martin <alice.martin@example.net>",
            TITLE,
            "Dear Sir or Madam,\n\nPlease find attached my application.\n\nKind regards,\nAlice Martin\n",
            "2026-06-10T09:11:00+02:00",
            [
                (
                    "Alice Martin - application.pdf",
                    make_application_pdf(nationality="Belgian"),
                    "application/pdf",
                )
            ],
        ),
    ),
    (
        "02-french-application",
        "2026-06-11T17:40:00+02:00",
        "a complete application in French, French title in the subject",
        lambda: message(
            "Jeanne Dupont <jeanne.dupont@example.fr>",
            f"Candidature : {TITLE_FR}",
            "Madame, Monsieur,\n\nVeuillez trouver ci-joint ma candidature pour le poste.\n\n"
            "Cordialement,\nJeanne Dupont\n",
            "2026-06-11T17:39:00+02:00",
            [
                (
                    "candidature-dupont.pdf",
                    make_application_pdf(nationality="française", language="fr"),
                    "application/pdf",
                )
            ],
        ),
    ),
    (
        "03-late-application",
        "2026-06-13T00:00:30+02:00",
        "a complete application received 30 seconds after the deadline",
        lambda: message(
            "Bram de Vries <bram.devries@example.nl>",
            f"Application: {TITLE}",
            "Dear Sir or Madam,\n\nMy application is attached.\n\nBest regards,\nBram de Vries\n",
            "2026-06-12T23:58:00+02:00",
            [("application.pdf", make_application_pdf(nationality="Dutch"), "application/pdf")],
        ),
    ),
    (
        "04-two-pdfs",
        "2026-06-09T14:03:00+02:00",
        "letter and CV sent as two separate PDFs",
        lambda: message(
            "Carlos Ruiz <carlos.ruiz@example.es>",
            f"Re: {TITLE.upper()}",
            "Hello,\n\nAttached are my CV and my cover letter.\n\nCarlos Ruiz\n",
            "2026-06-09T14:02:00+02:00",
            [
                ("CV.pdf", make_application_pdf(nationality="Spanish", letter=False), "application/pdf"),
                ("Letter.pdf", make_application_pdf(cv=False, references=0), "application/pdf"),
            ],
        ),
    ),
    (
        "05-word-document",
        "2026-06-08T11:20:00+02:00",
        "the application as a Word document instead of a PDF",
        lambda: message(
            "Piotr Nowak <piotr.nowak@example.pl>",
            "Officer - Democratic Resilience and Partnerships",
            "Dear recruitment team,\n\nPlease find my application attached.\n\nPiotr Nowak\n",
            "2026-06-08T11:19:00+02:00",
            [
                (
                    "application.docx",
                    make_docx(
                        [
                            "Dear Sir or Madam,",
                            "I am writing to apply.",
                            "Curriculum vitae",
                            "Nationality: Polish",
                        ]
                    ),
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                )
            ],
        ),
    ),
    (
        "06-no-vacancy-in-subject",
        "2026-06-07T08:45:00+02:00",
        "a subject that names no vacancy",
        lambda: message(
            "Emma Svensson <emma.svensson@example.se>",
            "Job application",
            "Hello,\n\nI would like to apply for the open position.\n\nEmma\n",
            "2026-06-07T08:44:00+02:00",
            [("Emma Svensson CV.pdf", make_application_pdf(nationality="Swedish"), "application/pdf")],
        ),
    ),
    (
        "07-out-of-office",
        "2026-06-10T09:13:00+02:00",
        "an out-of-office auto-reply (never answered)",
        lambda: message(
            "Office Manager <office@example.com>",
            f"Out of office: {TITLE}",
            "I am out of the office until 20 June.\n",
            "2026-06-10T09:13:00+02:00",
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        ),
    ),
    (
        "08-references-missing",
        "2026-06-12T23:59:40+02:00",
        "one PDF without references, 20 seconds before the deadline: accepted, flagged",
        lambda: message(
            "Mehmet Yilmaz <mehmet.yilmaz@example.com.tr>",
            f"Application – {TITLE}",
            "Dear Sir or Madam,\n\nPlease find my application attached.\n\n"
            "Yours faithfully,\nMehmet Yilmaz\n",
            "2026-06-12T23:59:00+02:00",
            [
                (
                    "Yilmaz_application.pdf",
                    make_application_pdf(nationality="Turkish", references=0),
                    "application/pdf",
                )
            ],
        ),
    ),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = ["# The demo's sample applications and when the server 'accepted' them.", ""]
    for stem, delivered, what, build in SAMPLES:
        (OUT / f"{stem}.eml").write_bytes(build())
        manifest += [
            "[[sample]]",
            f'file = "{stem}.eml"',
            f'delivered = "{delivered}"',
            f'what = "{what}"',
            "",
        ]
    (OUT / "manifest.toml").write_text("\n".join(manifest), encoding="utf-8")
    print(f"wrote {len(SAMPLES)} samples to {OUT}")


if __name__ == "__main__":
    main()
