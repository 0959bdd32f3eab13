"""SPEC.md, section by section: each promise driven as a user drives it.

The bot runs through its command line (``run_cli``, its clock fixed at ``NOW``) on the
embedded default, a Maildir in and a folder of ``.eml`` notices out, on messages in the
shapes real mail clients send. Test names quote the promise. A promise another test file
already proves end to end is not proved again here: each section's comment names where.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import textwrap
import tomllib
from collections.abc import Sequence
from typing import Any, NamedTuple

import pytest
from click.testing import Result
from pypdf import PdfReader, PdfWriter

from intake_bot.register import REPLY_KINDS, STATUSES
from tests.builders import (
    make_active_pdf,
    make_application_pdf,
    make_docx,
    make_encrypted_pdf,
    make_odt,
    make_owner_only_pdf,
    make_pdf,
    make_scanned_pdf,
    make_truncated_pdf,
)
from tests.conftest import (
    DRP_VACANCY,
    REPO,
    SG_VACANCY,
    Project,
    brussels,
    run_cli,
    write_project,
)
from tests.mail import DRP_TITLE, application, blank_pdf
from tests.readback import notices, replies, rows
from tests.test_vacancy_rules import E_RECRUITMENT, ESSAY

ON_TIME = brussels("2026-06-10T10:00:00")
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: Room for the many notices one test cycle sends to the test domains.
NO_HOURLY_CAP = "[notices]\nmax_per_domain_per_hour = 1000\n"


def cli(project: Project, *args: str) -> Result:
    """``intake-bot --config PROJECT ARGS``, at ``NOW``."""
    return run_cli("--config", str(project.config_path), *args)


def run_once(project: Project) -> Result:
    """``intake-bot run --once``, which must succeed."""
    result = cli(project, "run", "--once")
    assert result.exit_code == 0, result.output
    return result


def pdf_application(**kwargs: Any) -> bytes:
    """A candidate's e-mail with one real application PDF attached."""
    return application(attachments=[("Application.pdf", make_application_pdf(), PDF)], **kwargs)


def open_vacancy(vacancy_id: str, title: str, more: str = "") -> str:
    """A vacancy open at ``NOW``, until 28 February 2027, with ``more`` TOML lines."""
    return (f'\n[[vacancy]]\nid = "{vacancy_id}"\ntitle = "{title}"\n'
            f'deadline = "2027-02-28T23:59"\ntimezone = "Europe/Brussels"\n{more}\n')


def decided(project: Project, raw: bytes, at: dt.datetime = ON_TIME) -> dict[str, Any]:
    """Deliver one message at ``at``, run one cycle, and return the message's register row."""
    project.deliver(raw, at)
    run_once(project)
    [row] = rows(project)
    return row


def with_a_blank_page(pdf: bytes) -> bytes:
    """``pdf`` with one more, blank, page."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_blank_page()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def outcome(row: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """A register row's (status, reasons, flags)."""
    return row["status"], json.loads(row["reasons"]), json.loads(row["flags"])


# -- What it does ------------------------------------------------------------------------
# The steps, each proved below or elsewhere: the raw message archived first
# (test_pipeline.py test_valid_application_is_accepted_acknowledged_and_moved, test_crash.py),
# machines registered but never answered (Notices, below), one vacancy per subject
# (Vacancies), the rules and the deadline (Vacancy rules), the register (Register), the
# notices (Notices), the message moved only once all is recorded (test_crash.py,
# test_servers_e2e.py test_crash_between_register_and_move_does_not_register_or_answer_twice).


# -- Command line ------------------------------------------------------------------------
# Elsewhere: one-line errors and exit 2 for bad configuration (test_cli.py
# test_bad_configuration_is_one_line_and_exit_2, test_config.py *_name_file_and_key),
# unreachable servers and bad credentials (test_servers_e2e.py), `run` on a schedule that
# stops on SIGTERM/SIGINT (test_service.py, test_signals.py), never two cycles at once
# (test_integrity.py test_one_cycle_at_a_time_per_register), `demo` (test_cli.py).


@pytest.mark.parametrize("where", ["environment", "working folder"])
def test_config_defaults_to_INTAKE_BOT_CONFIG_else_config_intake_toml(
        make_project, monkeypatch, tmp_path, where):
    project = make_project()
    project.deliver(pdf_application(), ON_TIME)
    if where == "environment":
        monkeypatch.setenv("INTAKE_BOT_CONFIG", str(project.config_path))
        monkeypatch.chdir(tmp_path)  # no config/intake.toml here
    else:
        monkeypatch.delenv("INTAKE_BOT_CONFIG", raising=False)
        monkeypatch.chdir(project.root)  # config/intake.toml is here
    result = run_cli("run", "--once")
    assert result.exit_code == 0, result.output
    assert [row["status"] for row in rows(project)] == ["accepted"]


def test_without_INTAKE_BOT_CONFIG_or_config_intake_toml_the_error_names_the_file(
        monkeypatch, tmp_path):
    monkeypatch.delenv("INTAKE_BOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = run_cli("run", "--once")
    assert result.exit_code == 2
    assert result.stderr == "intake-bot: error: config/intake.toml: file not found\n"


@pytest.mark.servers
def test_bad_smtp_credentials_are_one_line_naming_the_host_and_the_notice_waits(
        make_project, smtp_sink_factory, monkeypatch):
    sink = smtp_sink_factory(users={"bot": "correct-horse-battery"})
    project = make_project()
    project.config_path.write_text(project.config_path.read_text(encoding="utf-8").replace(
        'url = "outbox:../var/outbox"', f'url = "{sink.url("bot")}"\npassword_env = "SMTP_PW"'),
        encoding="utf-8")
    monkeypatch.setenv("SMTP_PW", "wrong-secret-123")
    project.deliver(pdf_application(), ON_TIME)
    for command in (["check-config", "--connect"], ["run", "--once"]):
        result = cli(project, *command)
        assert result.exit_code == 1 and "Traceback" not in result.output
        error = result.stderr.strip().splitlines()[-1]
        assert error.startswith("intake-bot: error: ") and "SMTP 127.0.0.1:" in error
        assert "login refused for user 'bot'" in error and "wrong-secret" not in result.output
    assert [(r["status"], r["sent_at"]) for r in replies(project)] == [("pending", None)]
    assert sink.received == [] and project.inbox() == []  # registered; the notice waits


def _state(project: Project) -> tuple[Any, ...]:
    """Everything a cycle may change: the register, the notices, the Maildir's folders."""
    folders = sorted(str(p.relative_to(project.maildir)) for p in project.maildir.rglob("*")
                     if p.is_file())
    return (rows(project), replies(project), folders,
            [(p.name, p.read_bytes()) for p in project.notices()])


def test_run_once_handles_every_message_sends_every_reply_and_exits_0_and_again_changes_nothing(
        make_project):
    project = make_project(extra=NO_HOURLY_CAP)
    for index in range(3):
        project.deliver(pdf_application(sender=f"c{index}@example.net"), ON_TIME)
    project.deliver(application(subject="Job application", sender="d@example.net"), ON_TIME)
    project.deliver(application(headers={"Auto-Submitted": "auto-replied"}), ON_TIME)
    first = run_once(project)
    assert "cycle: 5 messages" in first.stdout and "4 notices sent" in first.stdout
    assert project.inbox() == [] and len(project.notices()) == 4
    assert {reply["status"] for reply in replies(project)} == {"sent"}
    before = _state(project)
    again = run_once(project)
    assert again.stdout.splitlines()[0] == "cycle: 0 messages (none); 0 notices sent"
    assert _state(project) == before


@pytest.fixture(scope="module")
def listed(tmp_path_factory) -> Project:
    """A register of five submissions of two vacancies, for `register list` and `show`."""
    project = write_project(tmp_path_factory.mktemp("listed") / "project",
                            extra=NO_HOURLY_CAP)
    project.deliver(pdf_application(sender="Alice <alice@example.net>"), ON_TIME)
    project.deliver(application(sender="bob@example.net", attachments=[
        ("a.pdf", blank_pdf(), PDF), ("b.pdf", blank_pdf(), PDF)]), ON_TIME)
    project.deliver(pdf_application(subject="Secretary General", sender="carol@example.net"),
                    ON_TIME)
    project.deliver(application(subject="Job application", sender="dan@example.net"), ON_TIME)
    project.deliver(pdf_application(sender="Alice <alice@example.net>"),
                    brussels("2026-06-11T10:00:00"))
    run_once(project)
    return project


LIST_FILTERS = {
    "none": ([], {1, 2, 3, 4, 5}),
    "vacancy": (["--vacancy", "DRP"], {1, 2, 5}),
    "status": (["--status", "accepted"], {3, 5}),
    "vacancy and status": (["--vacancy", "DRP", "--status", "superseded"], {1}),
    "status unmatched": (["--status", "unmatched"], {4}),
    "nothing matches": (["--vacancy", "SG", "--status", "rejected"], set()),
}


def _listed_ids(out: str, fmt: str) -> set[int]:
    if fmt == "json":
        return {row["id"] for row in json.loads(out)}
    if fmt == "csv":
        return {int(row["id"]) for row in csv.DictReader(io.StringIO(out))}
    return {int(line.split()[0]) for line in out.splitlines()[1:] if line.strip()}


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
@pytest.mark.parametrize("name", list(LIST_FILTERS))
def test_register_list_filters_by_vacancy_and_status_in_every_format(listed, fmt, name):
    options, expected = LIST_FILTERS[name]
    result = cli(listed, "register", "list", *options, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert _listed_ids(result.stdout, fmt) == expected


def test_register_list_csv_and_json_carry_the_register_columns(listed):
    spec_columns = {"id", "reference", "message_id", "received_at", "sender", "sender_name",
                    "reply_to", "subject", "vacancy_id", "status", "reasons", "document_path",
                    "document_sha256", "document_bytes", "document_pages", "raw_path", "flags"}
    header = next(csv.reader(io.StringIO(cli(listed, "register", "list", "--format", "csv").stdout)))
    assert spec_columns <= set(header)
    records = json.loads(cli(listed, "register", "list", "--format", "json").stdout)
    assert all(spec_columns <= set(record) for record in records)
    # In JSON the JSON columns are arrays, never text holding JSON; empty when there is none.
    assert [(r["reasons"], r["flags"]) for r in records if r["id"] in (2, 3)] == [
        (["multiple-attachments"], []), ([], [])]


def test_register_show_id_is_json_with_its_notices(listed):
    result = cli(listed, "register", "show", "2")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["id"], record["status"], record["reasons"]) == (
        2, "rejected", ["multiple-attachments"])
    [reply] = record["replies"]
    assert {"id", "kind", "recipient", "message_id", "status", "attempts", "last_error",
            "sent_at"} <= set(reply)
    assert (reply["kind"], reply["recipient"], reply["status"]) == (
        "rejection", "bob@example.net", "sent")


# -- Configuration -----------------------------------------------------------------------
# Elsewhere: imap:// and smtp:// use STARTTLS (test_imap_mailbox.py test_tls_with_the_
# operators_ca[STARTTLS], test_smtp_transport.py test_tls_login_and_delivery[starttls]) and
# refuse a clear-text password off loopback (test_netsec.py test_clear_text_to_a_remote_host_
# is_refused_with_a_one_line_reason).

SPEC_CONFIG = """
[mailbox]
url = "imaps://applications@mail.example.org:993/INBOX"  # imaps://, imap:// (STARTTLS), maildir:PATH
password_env = "INTAKE_MAILBOX_PASSWORD"  # the secret comes from this environment variable
processed_folder = "Processed"            # handled messages go here (created if missing)
quarantine_folder = "Quarantine"          # messages the bot could not handle go here

[smtp]
url = "smtps://recruitment@mail.example.org:465"  # smtps://, smtp:// (STARTTLS), outbox:PATH
password_env = "INTAKE_SMTP_PASSWORD"             # optional: no login when absent
from = "NATO PA Recruitment <recruitment@example.org>"

[register]
path = "var/register.db"      # SQLite register
documents = "var/documents"   # archived raw messages and submitted documents

[schedule]
poll_seconds = 60

[vacancies]
path = "config/vacancies.toml"
"""

SPEC_VACANCY = """
[[vacancy]]
id = "DRP"                                                # short, stable, used in references
title = "Officer – Democratic Resilience and Partnerships"
aliases = ["Officier – Résilience démocratique et partenariats"]
reference = "NATO-PA-2026-07"                             # optional code that may stand in a subject
deadline = "2026-06-12T23:59"                             # local time of `timezone`
timezone = "Europe/Brussels"
languages = ["en", "fr"]                                  # notices in these languages
[vacancy.attachments]
count = 1
types = ["pdf"]
max_bytes = 10_000_000
"""


def test_the_specifications_own_configuration_and_vacancy_load_as_written(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "intake.toml").write_text(SPEC_CONFIG, encoding="utf-8")
    (tmp_path / "config" / "vacancies.toml").write_text(SPEC_VACANCY, encoding="utf-8")
    monkeypatch.setenv("INTAKE_MAILBOX_PASSWORD", "mailbox-secret")
    monkeypatch.setenv("INTAKE_SMTP_PASSWORD", "smtp-secret")
    monkeypatch.chdir(tmp_path / "config")  # relative to the file, not to the working folder
    result = run_cli("--config", str(tmp_path / "intake.toml"), "check-config")
    assert result.exit_code == 0, result.output
    assert "DRP: Officer – Democratic Resilience and Partnerships" in result.stdout
    assert "configuration OK" in result.stdout
    assert "secret" not in result.output


def test_relative_paths_are_relative_to_the_config_files_folder(make_project, monkeypatch,
                                                                 tmp_path):
    project = make_project()  # every path in it is relative: ../var/..., vacancies.toml
    project.deliver(pdf_application(), ON_TIME)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_cli("--config", os.path.relpath(project.config_path, elsewhere), "run", "--once")
    assert result.exit_code == 0, result.output
    [row] = rows(project)
    assert row["status"] == "accepted"
    assert (project.root / "var" / "documents" / row["raw_path"]).is_file()
    assert len(project.notices()) == 1 and len(project.folder("Processed")) == 1
    assert list(elsewhere.iterdir()) == []


def test_keys_left_out_take_their_defaults(tmp_path):
    """processed_folder "Processed", quarantine_folder "Quarantine", no SMTP login, one poll a
    minute, and a vacancy without [vacancy.attachments] takes one single PDF."""
    root = tmp_path / "minimal"
    (root / "config").mkdir(parents=True)
    (root / "config" / "intake.toml").write_text(textwrap.dedent("""
        [mailbox]
        url = "maildir:../var/mailbox"
        [smtp]
        url = "outbox:../var/outbox"
        from = "recruitment@example.org"
        [register]
        path = "../var/register.db"
        documents = "../var/documents"
        [vacancies]
        path = "vacancies.toml"
        """), encoding="utf-8")
    (root / "config" / "vacancies.toml").write_text(textwrap.dedent("""
        [[vacancy]]
        id = "DRP"
        title = "Officer – Democratic Resilience and Partnerships"
        deadline = "2026-06-12T23:59"
        timezone = "Europe/Brussels"
        """), encoding="utf-8")
    project = Project(root, root / "config" / "intake.toml")
    assert project.config.poll_seconds == 60 and project.config.smtp_password_env is None
    project.deliver(application(attachments=[("a.pdf", blank_pdf(), PDF)]), ON_TIME)
    project.deliver(application(attachments=[("a.pdf", blank_pdf(), PDF),
                                             ("b.pdf", blank_pdf(), PDF)]), ON_TIME)
    project.deliver(application(attachments=[("cv.docx", make_docx(["CV"]), DOCX)]), ON_TIME)
    run_once(project)
    assert [outcome(row)[:2] for row in rows(project)] == [
        ("accepted", []), ("rejected", ["multiple-attachments"]), ("rejected", ["not-pdf"])]
    assert len(project.folder("Processed")) == 3
    notice = notices(project)[0]
    assert notice["Content-Language"] == "en"  # languages: English alone unless told


# -- Signing in with OAuth 2.0 -----------------------------------------------------------
# Proved by test_oauth_e2e.py (Dovecot's oauth2 passdb and a token endpoint: each grant,
# a token reused until near expiry and replaced once refused, a rotated refresh token saved,
# a failed sign-in one line with run --once exiting 1 and nothing moved, the service's
# back-off), test_oauth_config.py (plain http:// token_url off loopback refused),
# test_signin.py and test_oauth_edges.py (XOAUTH2, OAUTHBEARER, no token or secret logged).


# -- Vacancies: subject matching ---------------------------------------------------------
# Elsewhere: the normal form, as a table and as a property (test_match.py, test_properties.py);
# a longer title is not stolen by a shorter one (test_match.py).

MATCHED = {
    # Case, accents, runs of white space, kinds of dash, punctuation, prefixes.
    "officer - democratic resilience and partnerships": "DRP",
    "OFFICER — DEMOCRATIC RESILIENCE AND PARTNERSHIPS": "DRP",
    "Officer‐Democratic Resilience and Partnerships": "DRP",
    "Officer Democratic Resilience and Partnerships": "DRP",
    "Officer   –  Democratic\tResilience   and Partnerships": "DRP",
    "Officer\u00a0– Democratic Resilience and Partnerships": "DRP",
    "«Officer – Democratic Resilience and Partnerships»": "DRP",
    '"Officer – Democratic Resilience and Partnerships" - application of J. Smith': "DRP",
    "APPLICATION:Officer–Democratic Resilience and Partnerships.": "DRP",
    "Officer – Democratic Resilience and Partnerships (DRP)": "DRP",
    "Re: Officer – Democratic Resilience and Partnerships": "DRP",
    "RE:RE: Officer – Democratic Resilience and Partnerships": "DRP",
    "Fwd: Re: Officer – Democratic Resilience and Partnerships": "DRP",
    "TR: Officer – Democratic Resilience and Partnerships": "DRP",
    "AW: Officer – Democratic Resilience and Partnerships": "DRP",
    "WG: [EXT] Fw: Officer – Democratic Resilience and Partnerships": "DRP",
    # Copied from a web page: a soft hyphen or a zero-width space inside the title.
    "Offi\u00adcer – Democratic Resi\u00adlience and Partnerships": "DRP",
    "Officer – Demo\u200bcratic Resilience and Partnerships": "DRP",
    # An alias, with or without its accents.
    "Candidature : Officier – Résilience démocratique et partenariats": "DRP",
    "officier - resilience democratique et partenariats": "DRP",
    # The reference, anywhere.
    "Application: NATO-PA-2026-07": "DRP",
    "nato-pa-2026-07 / Jane Smith": "DRP",
    "Ref. NATO PA 2026 07": "DRP",
    "Secretary-General": "SG",
}
UNMATCHED = {
    "Job application": "unknown-vacancy",
    "Officer – Democratic Resilience": "unknown-vacancy",
    "Officer – Democratic Resilience and Partnerships / Secretary General": "ambiguous-vacancy",
    "NATO-PA-2026-07 or Secretary General?": "ambiguous-vacancy",
}


def test_a_subject_names_its_vacancy_whatever_its_case_accents_spaces_dashes_and_prefixes(
        make_project):
    project = make_project(extra=NO_HOURLY_CAP)
    for index, subject in enumerate([*MATCHED, *UNMATCHED]):
        project.deliver(pdf_application(subject=subject, sender=f"c{index}@example.net"),
                        ON_TIME)
    run_once(project)
    subjects = [*MATCHED, *UNMATCHED]
    found = {subjects[int(row["sender"][1:].partition("@")[0])]:
             row["vacancy_id"] or json.loads(row["reasons"])[0] for row in rows(project)}
    assert found == {**MATCHED, **UNMATCHED}


def test_a_closed_vacancy_still_matches_so_a_late_candidate_is_told_it_is_late(project):
    row = decided(project, pdf_application(), brussels("2026-06-20T09:00:00"))
    assert (row["vacancy_id"], row["reference"]) == ("DRP", "DRP-0001")
    assert outcome(row) == ("rejected", ["late"], [])
    [notice] = notices(project)
    body = notice.get_content()
    assert "arrived after the deadline of 12 June 2026 at 23:59 (Brussels time)" in body
    assert "no longer accepts applications" in body
    assert replies(project)[0]["kind"] == "rejection"


# -- Vacancies: the deadline and the time that counts ------------------------------------
# Elsewhere: 23:59:59 on time and 00:00:00 late in June, and across the spring change
# (test_pipeline.py); a sender's Date: before the deadline does not save a late message
# (test_pipeline.py test_forged_date_header_is_ignored); IMAP INTERNALDATE (test_imap_mailbox.py
# test_received_at_is_the_internaldate_in_utc, test_servers_e2e.py).

AUTUMN = """
[[vacancy]]
id = "AUT"
title = "Autumn Post"
deadline = "{deadline}"
timezone = "Europe/Brussels"
"""


@pytest.mark.parametrize("deadline, received, status", [
    # 25 October 2026: Brussels goes back from UTC+2 to UTC+1 at 03:00.
    ("2026-10-25T23:59", "2026-10-25T23:59:59", "accepted"),
    ("2026-10-25T23:59", "2026-10-26T00:00:00", "rejected"),
    ("2026-10-24T23:59", "2026-10-24T23:59:59", "accepted"),  # the day before, in summer time
    ("2026-10-24T23:59", "2026-10-25T00:00:00", "rejected"),
    ("2026-03-28T23:59", "2026-03-28T23:59:59", "accepted"),  # the day before spring's change
    ("2026-03-28T23:59", "2026-03-29T00:00:00", "rejected"),
])
def test_a_deadline_to_the_minute_covers_the_whole_minute_in_the_vacancys_zone(
        make_project, deadline, received, status):
    project = make_project(AUTUMN.format(deadline=deadline))
    row = decided(project, application(subject="Autumn Post",
                                       attachments=[("a.pdf", blank_pdf(), PDF)]), brussels(received))
    assert outcome(row)[:2] == (status, [] if status == "accepted" else ["late"])


def test_the_delivery_time_counts_never_the_senders_date_header(project):
    """A message delivered on time whose Date: says it was written after the deadline is on
    time; and received_at is the delivery time, in UTC."""
    raw = pdf_application().replace(b"Date: Wed, 10 Jun 2026 09:00:00 +0200",
                                    b"Date: Sat, 20 Jun 2026 09:00:00 +0200")
    row = decided(project, raw, brussels("2026-06-12T23:59:30"))
    assert outcome(row)[:2] == ("accepted", [])
    assert row["received_at"] == "2026-06-12T21:59:30Z"


# -- Vacancies: what counts as an attachment --------------------------------------------
# Elsewhere: a PDF inside a forwarded message (test_parse.py), signatures (test_parse.py),
# %PDF- after junk (test_documents.py), an owner password with AES-256 and a user password
# with RC4 (test_pipeline.py).

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0" + bytes(40)


def _part(content_type: str, data: bytes, *headers: str) -> bytes:
    """A base64 body part as mail clients write it (headers and body, no boundary)."""
    head = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + base64.encodebytes(data).replace(
        b"\n", b"\r\n")


def _text(content_type: str, text: str) -> bytes:
    return f"Content-Type: {content_type}; charset=utf-8\r\n\r\n{text}\r\n".encode()


def _multipart(subtype: str, parts: Sequence[bytes], boundary: str) -> bytes:
    """A multipart entity: its Content-Type header, a blank line, its parts."""
    body = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts)
    return (f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode() + body
            + f"--{boundary}--\r\n".encode())


def _message(index: int, entity: bytes) -> bytes:
    """A whole message whose body is ``entity`` (its own Content-Type included)."""
    return (f"From: Candidate {index} <c{index}@example.net>\r\nTo: recruitment@example.org\r\n"
            f"Subject: {DRP_TITLE}\r\nDate: Wed, 10 Jun 2026 09:00:00 +0200\r\n"
            f"Message-ID: <shape{index}@example.net>\r\nMIME-Version: 1.0\r\n").encode() + entity


BODY = _text("text/plain", "Dear Sir or Madam,\r\nplease find my application attached.")


def _html(cid: str) -> bytes:
    return _text("text/html", f'<p>Dear Sir or Madam,</p><p><img src="cid:{cid}"></p>')


_CV = make_application_pdf()
CV_ATTACHED = _part('application/pdf; name="CV.pdf"', _CV,
                    'Content-Disposition: attachment; filename="CV.pdf"')
LOGO_CID = "image001.png@01DA2B3C.4D5E6F70"


def _logo_and_cv(logo: bytes, related: bool) -> bytes:
    """Text and HTML showing a logo (inside a multipart/related, or beside it), and the CV."""
    alternative = _multipart("alternative", [BODY, _html(LOGO_CID)], "alt")
    shown = _multipart("related", [alternative, logo], "rel") if related else alternative
    return _multipart("mixed", [shown, CV_ATTACHED], "mixed")


SHAPES = [
    pytest.param(_multipart("mixed", [
        BODY,
        _part('application/pdf; x-unix-mode=0644; name="CV.pdf"', _CV,
              'Content-Disposition: inline; filename="CV.pdf"'),
        _text("text/plain", "Kind regards,"),
    ], "apple"), "CV.pdf", id="Apple Mail: the PDF inline between two text parts"),
    pytest.param(_logo_and_cv(_part(
        'image/png; name="image001.png"', PNG, 'Content-Disposition: inline; filename="image001.png"',
        f"Content-ID: <{LOGO_CID}>"), related=True),
        "CV.pdf", id="Outlook: a signature logo inline in multipart/related"),
    pytest.param(_logo_and_cv(_part(
        'image/png; name="logo.png"', PNG, 'Content-Disposition: attachment; filename="logo.png"',
        f"Content-ID: <{LOGO_CID}>"), related=False),
        "CV.pdf", id="a logo the HTML shows, sent with Content-Disposition: attachment"),
    pytest.param(_logo_and_cv(_part(
        'image/jpeg; name="photo.jpg"', JPEG, f"Content-ID: <{LOGO_CID}>",
        "X-Attachment-Id: ii_lk3x"), related=True),
        "CV.pdf", id="Gmail: an inline image with a Content-ID and no disposition"),
    pytest.param(_multipart("mixed", [BODY, _part("application/octet-stream", _CV)], "noname"),
                 None, id="a PDF with no file name, as application/octet-stream"),
    pytest.param(_multipart("mixed", [
        BODY, _part(DOCX, _CV, 'Content-Disposition: attachment; filename="CV.docx"')], "named"),
        "CV.docx", id="a PDF named .docx and declared a Word document"),
    pytest.param(_multipart("mixed", [
        _multipart("alternative", [BODY, _html(LOGO_CID.replace("@", "%40"))], "alt"),
        CV_ATTACHED, _part('image/png; name="logo.png"', PNG, f"Content-ID: <{LOGO_CID}>",
                           'Content-Disposition: attachment; filename="logo.png"')], "pct"),
        "CV.pdf", id="a logo the HTML shows by a %-encoded cid: URL (RFC 2392)"),
    pytest.param(CV_ATTACHED, "CV.pdf", id="a PDF that is the whole message"),
    pytest.param(_multipart("related", [
        _html("cv"), _part("application/pdf", _CV, "Content-ID: <cv>",
                           "Content-Disposition: inline")], "html"),
        None, id="a PDF that an HTML-only message shows by cid:"),
    pytest.param(_multipart("mixed", [BODY, _part("text/plain", _CV)], "text"), None,
                 id="a PDF with no file name declared text/plain"),
]


@pytest.mark.parametrize("entity, name", SHAPES)
def test_a_pdf_is_the_candidates_document_whatever_its_name_type_or_disposition_and_logos_are_not(
        project, entity, name):
    row = decided(project, _message(1, entity))
    assert outcome(row)[:2] == ("accepted", [])
    assert (row["document_name"], row["document_pages"]) == (name, 3)
    assert project.stored(row["document_path"]).read_bytes() == _CV


@pytest.mark.parametrize("document, reasons", [
    (make_owner_only_pdf(aes=True), []),
    (make_owner_only_pdf(aes=False), []),
    (make_encrypted_pdf("secret", aes=True), ["encrypted-pdf"]),
    (make_encrypted_pdf("secret", aes=False), ["encrypted-pdf"]),
    (make_truncated_pdf(), ["unreadable-pdf"]),
    (b"%PDF-1.7\nnot really a PDF at all\n", ["unreadable-pdf"]),
    (b"Dear Sir, this is my CV as plain text.\n", ["not-pdf"]),
])
def test_encrypted_pdf_only_when_a_password_is_needed_to_open_it(project, document, reasons):
    row = decided(project, application(attachments=[("CV.pdf", document, PDF)]))
    assert outcome(row)[1] == reasons


# -- Vacancy rules beyond the attachment count -------------------------------------------
# Elsewhere: max_words, filename_must_contain whatever the case, wrong-type for a PDF to a
# Word vacancy (test_vacancy_rules.py test_essay_rules); content checks flag or reject,
# English and French, dual nationality (test_vacancy_rules.py); a scan is no-text under
# "reject" too (test_vacancy_rules.py); wrong-channel quotes apply_url (test_vacancy_rules.py);
# resubmission "first" (test_pipeline.py).

COUNTED = open_vacancy("CNT", "Analyst, Documents Counted", "[vacancy.attachments]\n{counts}")


@pytest.mark.parametrize("counts, attached, reasons", [
    ("count = 2", 1, ["too-few-attachments"]),
    ("count = 2", 2, []),
    ("count = 2", 3, ["multiple-attachments"]),
    ("min_count = 2", 1, ["too-few-attachments"]),
    ("min_count = 2", 5, []),
    ("max_count = 3", 0, ["no-attachment"]),
    ("max_count = 3", 3, []),
    ("max_count = 3", 4, ["multiple-attachments"]),
    ("min_count = 0\nmax_count = 1", 0, []),
    ("min_count = 2\nmax_count = 3", 3, []),
])
def test_count_or_min_count_and_max_count(make_project, counts, attached, reasons):
    project = make_project(COUNTED.format(counts=counts))
    row = decided(project, application(subject="Analyst, Documents Counted", attachments=[
        (f"part{index}.pdf", blank_pdf(), PDF) for index in range(attached)]))
    assert outcome(row)[1] == reasons
    if counts == "min_count = 2" and reasons:
        assert "this vacancy asks for at least 2 PDF documents" in notices(project)[0].get_content()


def test_an_e_recruitment_vacancy_as_the_specification_writes_it_needs_no_deadline_or_zone(
        make_project):
    project = make_project(textwrap.dedent("""
        [[vacancy]]
        id = "PASP"
        title = "Assistant, Committee Secretariat"
        channel = "e-recruitment"
        apply_url = "https://nato.taleo.net/careersection/2/jobdetail.ftl?job=250875"
        next_steps = "Only shortlisted candidates will be contacted."
        resubmission = "latest"
        [vacancy.attachments]
        types = ["pdf"]
        count = 1
        max_bytes = 10_000_000
        """))
    row = decided(project, pdf_application(subject="Assistant, Committee Secretariat"))
    assert outcome(row) == ("rejected", ["wrong-channel"], [])
    assert "https://nato.taleo.net/careersection/2/jobdetail.ftl?job=250875" in (
        notices(project)[0].get_content())


#: The vacancy of "Vacancy rules beyond the attachment count", as the specification writes
#: it: an e-mail vacancy with neither deadline nor zone.
SPEC_RULES_VACANCY = """
[[vacancy]]
id = "PASP"
title = "Assistant, Committee Secretariat"
channel = "email"             # or "e-recruitment": an e-mailed application gets `wrong-channel`
apply_url = "https://..."     # where an e-recruitment vacancy takes applications (quoted in the notice)
next_steps = "Only shortlisted candidates will be contacted."
resubmission = "latest"       # or "first"
[vacancy.attachments]
types = ["pdf"]               # among pdf, docx, doc, odt, recognised by content
count = 1                     # or min_count / max_count
max_bytes = 10_000_000
max_pages = 10                # PDF pages                      -> too-many-pages
max_words = 500               # words in a Word/ODF body       -> too-many-words
filename_must_contain = ["PASP0016", "Key challenges"]  # case-insensitive -> bad-filename
[vacancy.checks]              # each "reject", "flag" or "off" (default "off")
letter = "flag"               # no letter of application        -> missing-letter
cv = "flag"                   # no CV                            -> missing-cv
nationality = "flag"          # the CV states no nationality     -> missing-nationality
references = "flag"           # fewer than min_references referees with contact details -> too-few-references
min_references = 3
eligibility = "flag"          # no stated nationality is eligible -> not-member-national
eligible = "nato"             # "nato" (the 32 member states) or a list of country names
"""


def test_an_e_mail_vacancy_as_the_specification_writes_it_is_open_without_a_deadline(
        make_project):
    """No deadline: never late, and no notice names a date it does not have."""
    project = make_project(SPEC_RULES_VACANCY + SG_VACANCY, NO_HOURLY_CAP)
    assert "PASP: Assistant, Committee Secretariat" in cli(project, "check-config").stdout
    essay = [("PASP0016 Key challenges.pdf", make_application_pdf(references=2), PDF)]
    project.deliver(application(subject="Assistant, Committee Secretariat", sender="a@example.net",
                                attachments=essay), ON_TIME)
    project.deliver(application(subject="Assistant, Committee Secretariat", sender="b@example.net",
                                attachments=essay * 2), brussels("2026-11-20T10:00:00"))
    project.deliver(application(subject="Job application", sender="c@example.net"), ON_TIME)
    run_once(project)
    assert {row["sender"]: outcome(row) for row in rows(project)} == {
        "a@example.net": ("accepted", [], ["too-few-references"]),
        "b@example.net": ("rejected", ["multiple-attachments"], []),  # months later, not late
        "c@example.net": ("unmatched", ["unknown-vacancy"], [])}
    by_recipient = {str(notice["To"]): notice.get_content() for notice in notices(project)}
    flagged, rejection, unmatched = (by_recipient[f"{name}@example.net"] for name in "abc")
    assert "you may send a complete application; your latest" in flagged
    assert "You may send a corrected application." in rejection
    assert "  Assistant, Committee Secretariat\n  Secretary General\n" in unmatched
    assert all("deadline" not in text and "until" not in text.replace(
        "applications until 28 February 2027", "") for text in (flagged, rejection))


def test_a_deadline_without_its_zone_is_one_line_naming_the_key(make_project):
    project = make_project(SG_VACANCY.replace('timezone = "Europe/Brussels"\n', ""))
    result = cli(project, "check-config")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.endswith(
        "vacancies.toml:2: [[vacancy]] SG timezone: missing (required with a deadline)\n")


TYPED = open_vacancy("TYP", "Assistant, Committee Secretariat",
                     "[vacancy.attachments]\ntypes = {types}")


@pytest.mark.parametrize("types, document, reasons", [
    ('["pdf"]', ("cv.docx", make_docx(["My CV"]), DOCX), ["not-pdf"]),
    ('["pdf"]', ("cv.odt", make_odt(["My CV"]), "application/vnd.oasis.opendocument.text"),
     ["not-pdf"]),
    ('["pdf", "docx"]', ("cv.odt", make_odt(["My CV"]), "application/vnd.oasis.opendocument.text"),
     ["wrong-type"]),
    ('["docx"]', ("cv.pdf", blank_pdf(), PDF), ["wrong-type"]),
    ('["docx"]', ("cv.pdf", make_docx(["My CV"]), PDF), []),  # by content, not by name
    ('["odt", "pdf"]', ("cv", make_odt(["My CV"]), "application/octet-stream"), []),
])
def test_a_type_outside_types_is_not_pdf_when_types_is_pdf_alone_else_wrong_type(
        make_project, types, document, reasons):
    project = make_project(TYPED.format(types=types))
    row = decided(project, application(subject="Assistant, Committee Secretariat",
                                       attachments=[document]))
    assert outcome(row)[1] == reasons


ELIGIBLE = open_vacancy("NAT", "Officer, Nationality Checked", """languages = ["en", "fr"]
[vacancy.checks]
eligibility = "reject"
eligible = {eligible}""")


@pytest.mark.parametrize("eligible, nationality, language, reasons", [
    ('"nato"', "Belgian", "en", []),
    ('"nato"', "Ukrainian", "en", ["not-member-national"]),
    ('"nato"', "Swiss and Italian", "en", []),  # one eligible nationality is enough
    ('"nato"', "British / Canadian", "en", []),
    ('"nato"', "Belgium", "en", []),  # a country name, not a demonym
    ('"nato"', "française", "fr", []),
    ('"nato"', "suisse", "fr", ["not-member-national"]),
    ('"nato"', "turque", "fr", []),
    ('["Switzerland", "Austria"]', "Swiss", "en", []),
    ('["Switzerland", "Austria"]', "autrichienne", "fr", []),
    ('["Switzerland", "Austria"]', "French", "en", ["not-member-national"]),
    # Every UN member state is known, in both languages: not merely "no nationality found".
    ('"nato"', "Filipino", "en", ["not-member-national"]),
    ('"nato"', "liechtensteinoise", "fr", ["not-member-national"]),
    ('"nato"', "Liechtensteiner and Austrian", "en", ["not-member-national"]),
    ('["Liechtenstein"]', "Liechtensteiner", "en", []),
    ('["Philippines", "Malaysia"]', "philippine", "fr", []),
    ('["Philippines", "Malaysia"]', "tchadienne", "fr", ["not-member-national"]),
    ('["Eswatini"]', "Swazi", "en", []),
])
def test_nationalities_in_english_or_french_are_read_against_nato_or_the_vacancys_list(
        make_project, eligible, nationality, language, reasons):
    project = make_project(ELIGIBLE.format(eligible=eligible))
    document = make_application_pdf(nationality=nationality, language=language)
    row = decided(project, application(subject="Officer, Nationality Checked",
                                       attachments=[("Application.pdf", document, PDF)]))
    assert outcome(row)[:2] == ("rejected" if reasons else "accepted", reasons)


CHECKED = open_vacancy("CHK", "Analyst, Content Checks",
                       '[vacancy.checks]\nletter = "{letter}"\ncv = "{cv}"')


@pytest.mark.parametrize("letter, cv, expected", [
    ("reject", "flag", ("rejected", ["missing-letter"], ["missing-cv"])),
    ("flag", "flag", ("accepted", [], ["missing-letter", "missing-cv"])),
    ("off", "flag", ("accepted", [], ["missing-cv"])),
    ("off", "off", ("accepted", [], [])),
])
def test_reject_goes_into_reasons_flag_into_flags_and_off_is_silent(make_project, letter, cv,
                                                                      expected):
    project = make_project(CHECKED.format(letter=letter, cv=cv))
    document = make_pdf(["Some unrelated text with no letter and no CV in it at all."])
    row = decided(project, application(subject="Analyst, Content Checks",
                                       attachments=[("Application.pdf", document, PDF)]))
    assert outcome(row) == expected
    if expected[2] and expected[0] == "accepted":  # the acknowledgement says what was missing
        assert "could not find" in notices(project)[0].get_content()


def test_a_later_accepted_submission_supersedes_only_the_same_addresss_accepted_one(
        make_project):
    project = make_project(extra=NO_HOURLY_CAP)
    project.deliver(pdf_application(sender="alice@example.net"), ON_TIME)
    project.deliver(pdf_application(sender="bob@example.net"), ON_TIME)
    project.deliver(pdf_application(subject="Secretary General", sender="alice@example.net"),
                    ON_TIME)
    later = brussels("2026-06-11T10:00:00")
    project.deliver(application(sender="alice@example.net", attachments=[]), later)
    run_once(project)
    project.deliver(pdf_application(sender="Alice <Alice@Example.NET>"),
                    brussels("2026-06-12T10:00:00"))
    run_once(project)
    assert [(row["sender"], row["vacancy_id"], row["status"]) for row in rows(project)] == [
        ("alice@example.net", "DRP", "superseded"),  # by the last one, not by the rejection
        ("bob@example.net", "DRP", "accepted"),
        ("alice@example.net", "SG", "accepted"),  # another vacancy
        ("alice@example.net", "DRP", "rejected"),
        ("Alice@Example.NET", "DRP", "accepted"),
    ]
    assert rows(project)[0]["superseded_by"] == 5


# -- Mail as candidates' clients send it -------------------------------------------------
# Proved on Dovecot and aiosmtpd by test_clients_e2e.py (winmail.dat, S/MIME signed and
# opaque signed, S/MIME and OpenPGP encrypted -> encrypted-message, vCard, a forwarded
# application, raw windows-1252 headers, SMTPUTF8 or a failed notice, Exchange recalls and
# rule replies, Postfix and Exchange bounces marking notices bounced), and piece by piece by
# test_clients.py; the attachment shapes above add Apple Mail, Outlook and Gmail.


# -- Answering safely; virus scanning ----------------------------------------------------
# Proved by test_answering_safely.py (authserv_id, Reply-To only for an authenticated From,
# caps, a session cut after DATA sent again once), test_authres.py (other authserv-ids
# ignored), test_reflect.py and test_pipeline.py (no link, address or control character
# quoted; the neutral greeting), test_notice_caps.py, test_bounded_e2e.py and
# test_bounded_work.py (200,000 parts, documents unopened after the count rule, the time
# budget); test_scan.py with a real clamd (malware kept apart, never served or exported,
# clamd down leaves the inbox alone, check-config --connect, active-content).


# -- Register ----------------------------------------------------------------------------
# Elsewhere: registered and answered once when delivered twice (test_pipeline.py
# test_redelivery_is_registered_and_answered_once); a file name is never a path on disk
# (test_hostile_mime.py test_hostile_file_names_are_display_names_and_nothing_is_written_outside);
# every reason code, status and column documented (test_docs.py).

SUBMISSIONS_COLUMNS = ("id", "reference", "message_id", "received_at", "sender", "sender_name",
                       "reply_to", "subject", "vacancy_id", "status", "reasons", "document_path",
                       "document_sha256", "document_bytes", "document_pages", "raw_path", "flags")
REPLIES_COLUMNS = ("id", "submission_id", "kind", "recipient", "message_id", "status",
                   "attempts", "last_error", "sent_at")


def test_the_register_has_the_tables_and_columns_the_specification_names(listed):
    db = sqlite3.connect(listed.config.register_path)
    try:
        columns = {table: {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                   for table in ("submissions", "replies")}
    finally:
        db.close()
    assert set(SUBMISSIONS_COLUMNS) <= columns["submissions"]
    assert set(REPLIES_COLUMNS) <= columns["replies"]
    assert set(STATUSES) >= {"accepted", "rejected", "unmatched", "ignored", "quarantined",
                             "superseded"}
    assert set(REPLY_KINDS) >= {"acknowledgement", "rejection", "unmatched"}


def test_every_submission_row_reads_as_the_specification_says(listed):
    by_id = {row["id"]: row for row in rows(listed)}
    accepted, rejected, unmatched = by_id[5], by_id[2], by_id[4]
    assert accepted["reference"] == "DRP-0003" and unmatched["reference"] is None
    assert accepted["received_at"] == "2026-06-11T08:00:00Z"
    assert (accepted["sender"], accepted["sender_name"], accepted["reply_to"]) == (
        "alice@example.net", "Alice", "alice@example.net")
    assert accepted["subject"] == DRP_TITLE and unmatched["vacancy_id"] is None
    document = listed.stored(accepted["document_path"]).read_bytes()
    assert accepted["document_bytes"] == len(document) and accepted["document_pages"] == 3
    assert accepted["document_sha256"] == hashlib.sha256(document).hexdigest()
    assert listed.stored(rejected["raw_path"]).read_bytes().startswith(b"From: bob@example.net")
    assert (json.loads(accepted["reasons"]), json.loads(accepted["flags"])) == ([], [])
    assert all(reply["status"] == "sent" and reply["attempts"] == 1 and reply["sent_at"]
               for reply in replies(listed))


# Every reason code the specification lists, each reached by the message a candidate or a
# machine would send, in one deployment and one cycle (encrypted-message: test_clients_e2e.py;
# malware: test_scan.py, with a real clamd).
REACHED_VACANCIES = (DRP_VACANCY + SG_VACANCY + ESSAY + E_RECRUITMENT + open_vacancy(
    "CHK", "Analyst, Content Checks", """[vacancy.attachments]
max_pages = 3
[vacancy.checks]
letter = "reject"
cv = "reject"
nationality = "reject"
references = "reject"
min_references = 3
eligibility = "reject"
""") + open_vacancy("SMALL", "Clerk, Registry", "[vacancy.attachments]\nmax_bytes = 2000"))
ESSAY_NAME = "PASP0016 Key challenges.docx"
LATE = brussels("2026-06-13T00:00:00")
CHECKED_TITLE = "Analyst, Content Checks"


class Earns(NamedTuple):
    """A message that earns a reason code: its subject, attachments and outcome."""

    subject: str
    attachments: list[tuple[str | None, bytes, str]]
    outcome: tuple[str, list[str], list[str]]  # status, reasons, flags
    headers: dict[str, str] = {}
    sender: str | None = None  # None: a candidate of its own


def rejected(*reasons: str) -> tuple[str, list[str], list[str]]:
    return "rejected", list(reasons), []


def pdf(document: bytes, name: str = "cv.pdf") -> list[tuple[str | None, bytes, str]]:
    return [(name, document, PDF)]


def docx(document: bytes, name: str = ESSAY_NAME) -> list[tuple[str | None, bytes, str]]:
    return [(name, document, DOCX)]


REACHED = {
    "no-attachment": Earns(DRP_TITLE, [], rejected("no-attachment")),
    "multiple-attachments": Earns(DRP_TITLE, pdf(blank_pdf()) + pdf(blank_pdf(), "b.pdf"),
                                  rejected("multiple-attachments")),
    "not-pdf": Earns(DRP_TITLE, docx(make_docx(["CV"]), "cv.docx"), rejected("not-pdf")),
    "unreadable-pdf": Earns(DRP_TITLE, pdf(make_truncated_pdf()), rejected("unreadable-pdf")),
    "encrypted-pdf": Earns(DRP_TITLE, pdf(make_encrypted_pdf()), rejected("encrypted-pdf")),
    "too-large": Earns("Clerk, Registry", pdf(make_application_pdf()), rejected("too-large")),
    "late": Earns(DRP_TITLE, pdf(make_application_pdf()), rejected("late")),
    "unknown-vacancy": Earns("My application", pdf(blank_pdf()),
                             ("unmatched", ["unknown-vacancy"], [])),
    "ambiguous-vacancy": Earns(f"{DRP_TITLE} or Secretary General", pdf(blank_pdf()),
                               ("unmatched", ["ambiguous-vacancy"], [])),
    "wrong-type": Earns("PASP0016", pdf(blank_pdf(), "PASP0016 Key challenges.pdf"),
                        rejected("wrong-type")),
    "too-many-pages": Earns(CHECKED_TITLE, pdf(with_a_blank_page(_CV)), rejected("too-many-pages")),
    "too-many-words": Earns("PASP0016", docx(make_docx(["essay " * 501])),
                            rejected("too-many-words")),
    "bad-filename": Earns("PASP0016", docx(make_docx(["essay " * 10]), "essay.docx"),
                          rejected("bad-filename")),
    "wrong-channel": Earns("Officer, Global Partnerships Section", pdf(make_application_pdf()),
                           rejected("wrong-channel")),
    "missing-letter": Earns(CHECKED_TITLE, pdf(make_application_pdf(letter=False)),
                            rejected("missing-letter")),
    "missing-cv": Earns(CHECKED_TITLE, pdf(make_application_pdf(cv=False)),
                        rejected("missing-cv", "missing-nationality")),
    "missing-nationality": Earns(CHECKED_TITLE, pdf(make_application_pdf(nationality=None)),
                                 rejected("missing-nationality")),
    "too-few-references": Earns(CHECKED_TITLE, pdf(make_application_pdf(references=2)),
                                rejected("too-few-references")),
    "not-member-national": Earns(CHECKED_TITLE, pdf(make_application_pdf(nationality="Ukrainian")),
                                 rejected("not-member-national")),
    "no-text": Earns(CHECKED_TITLE, pdf(make_scanned_pdf()), ("accepted", [], ["no-text"])),
    "active-content": Earns(DRP_TITLE, pdf(make_active_pdf("javascript-on-open")),
                            ("accepted", [], ["active-content"])),
    "auto-submitted": Earns(DRP_TITLE, [], ("ignored", ["auto-submitted"], []),
                            {"Auto-Submitted": "auto-replied"}),
    "bounce": Earns("Undelivered Mail Returned to Sender", [], ("ignored", ["bounce"], []),
                    sender="MAILER-DAEMON@mail.example.net"),
    "mailing-list": Earns("[jobs] digest", [], ("ignored", ["mailing-list"], []),
                          {"List-Id": "<jobs.lists.example.net>"}),
    "no-sender": Earns(DRP_TITLE, [], ("ignored", ["no-sender"], []),
                       sender="undisclosed-recipients:;"),
}


@pytest.fixture(scope="module")
def reached(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """One deployment that received each message of REACHED; code -> its row and notice."""
    project = write_project(tmp_path_factory.mktemp("reached") / "project", REACHED_VACANCIES,
                            NO_HOURLY_CAP)
    for index, (code, earns) in enumerate(REACHED.items()):
        sender = earns.sender or f"Candidate {index} <c{index}@example{index}.net>"
        raw = application(subject=earns.subject, attachments=earns.attachments,
                          headers=earns.headers, sender=sender, message_id=f"<{code}@example.net>")
        project.deliver(raw, LATE if code == "late" else ON_TIME)
    run_once(project)
    answers = {notice["In-Reply-To"]: notice for notice in notices(project)}
    kinds = {reply["submission_id"]: reply["kind"] for reply in replies(project)}
    return {row["message_id"].strip("<>").partition("@")[0]: {
        "row": row, "notice": answers.get(row["message_id"]), "kind": kinds.get(row["id"])}
        for row in rows(project)}


@pytest.mark.parametrize("code", list(REACHED))
def test_every_reason_code_is_reached_by_the_message_that_earns_it(reached, code):
    assert outcome(reached[code]["row"]) == REACHED[code].outcome


def test_every_reason_code_of_the_specification_is_reached_or_proved_elsewhere():
    listed = ("no-attachment", "multiple-attachments", "not-pdf", "unreadable-pdf",
              "encrypted-pdf", "too-large", "late", "unknown-vacancy", "ambiguous-vacancy",
              "wrong-type", "too-many-pages", "too-many-words", "bad-filename", "wrong-channel",
              "missing-letter", "missing-cv", "missing-nationality", "too-few-references",
              "not-member-national", "no-text", "active-content", "encrypted-message", "malware",
              "auto-submitted", "bounce", "mailing-list", "no-sender")
    elsewhere = {"encrypted-message", "malware"}
    assert set(listed) - elsewhere == set(REACHED)


# -- Notices -----------------------------------------------------------------------------
# Elsewhere: the acknowledgement's headers and text (test_pipeline.py
# test_valid_application_is_accepted_acknowledged_and_moved), French first for a French
# candidate (test_pipeline.py), an HTML alternative (test_pipeline.py), the daily cap per
# address (test_pipeline.py, test_notice_caps.py), notices quote no link (test_reflect.py).

REJECTED = [code for code, earns in REACHED.items() if earns.outcome[0] == "rejected"]
IGNORED = [code for code, earns in REACHED.items() if earns.outcome[0] == "ignored"]
REASON_TEXTS = {language: tomllib.loads((REPO / "templates" / "emails" / language / "reasons.toml")
                                        .read_text(encoding="utf-8"))
                for language in ("en", "fr")}


def _literal_start(template: str) -> str:
    """The words a reason's text starts with, before its first variable."""
    return template.split("{{")[0].strip()[:40]


@pytest.mark.parametrize("code", REJECTED)
def test_a_rejection_names_each_problem_says_how_to_fix_it_and_whether_to_resubmit(reached, code):
    entry = reached[code]
    assert entry["kind"] == "rejection"
    body = entry["notice"].get_body(("plain",)).get_content()
    reasons = json.loads(entry["row"]["reasons"])
    for reason in reasons:
        assert _literal_start(REASON_TEXTS["en"][reason]["problem"]) in body
        assert _literal_start(REASON_TEXTS["en"][reason]["fix"]) in body
    assert body.count("How to fix it:") == len(reasons)
    vacancy = entry["row"]["vacancy_id"]
    if vacancy == "GPS":
        assert "https://www.nato.int/recruitment" in body
        assert "Please use the e-recruitment system instead of e-mail." in body
    elif vacancy in ("DRP", "MO-HEAD"):  # closed before the clock's NOW
        assert "has passed, so this vacancy no longer accepts applications." in body
    else:
        assert "You may send a corrected application until 28 February 2027 at 23:59" in body


def test_a_rejection_in_two_languages_explains_each_problem_in_both(reached):
    body = reached["multiple-attachments"]["notice"].get_body(("plain",)).get_content()
    assert "Your e-mail had 2 documents attached" in body
    assert _literal_start(REASON_TEXTS["fr"]["multiple-attachments"]["problem"]) in body
    assert reached["multiple-attachments"]["notice"]["Content-Language"] == "en, fr"


@pytest.mark.parametrize("code", ["no-text", "active-content", "unknown-vacancy"])
def test_accepted_and_unmatched_messages_get_their_own_notice(reached, code):
    expected = {"accepted": "acknowledgement", "unmatched": "unmatched"}
    assert reached[code]["kind"] == expected[reached[code]["row"]["status"]]
    body = reached[code]["notice"].get_body(("plain",)).get_content()
    if code == "unknown-vacancy":  # "which vacancy?", with the open vacancies to choose from
        assert "Secretary General" in body and "Analyst, Content Checks" in body
        assert DRP_TITLE not in body


def test_every_notice_carries_the_headers_that_stop_loops_and_thread_the_reply(reached):
    answered = [entry for entry in reached.values() if entry["notice"] is not None]
    assert len(answered) == len(reached) - len(IGNORED)
    ids = set()
    for entry in answered:
        notice, row = entry["notice"], entry["row"]
        assert notice["Auto-Submitted"] == "auto-replied"
        assert notice["X-Auto-Response-Suppress"] == "All"
        assert notice["In-Reply-To"] == row["message_id"]
        assert row["message_id"] in notice["References"]
        assert notice["To"].addresses[0].addr_spec == row["reply_to"]
        ids.add(notice["Message-ID"])
    assert len(ids) == len(answered) and not ids & {e["row"]["message_id"] for e in answered}


THREAD = [f"<{n}.thread@example.net>" for n in range(14)]


@pytest.mark.parametrize(("headers", "earlier"), [
    ({}, []),
    ({"In-Reply-To": THREAD[1]}, THREAD[1:2]),
    ({"In-Reply-To": THREAD[1], "References": f"{THREAD[0]} {THREAD[1]}"}, THREAD[:2]),
    ({"References": " ".join(THREAD)}, THREAD[:1] + THREAD[-9:]),  # a long thread, trimmed
], ids=["a new message", "a reply", "a reply in a thread", "a long thread"])
def test_a_notice_continues_the_candidates_thread(project, headers, earlier):
    project.deliver(pdf_application(headers=headers, message_id="<mine@example.net>"), ON_TIME)
    run_once(project)
    [notice] = notices(project)
    assert notice["In-Reply-To"] == "<mine@example.net>"
    assert notice["References"].split() == [*earlier, "<mine@example.net>"]


def test_a_bilingual_subject_reads_back_exactly_whatever_its_length(make_project):
    # Python's policy folded some lengths of a long non-ASCII subject with a space on
    # both sides of the fold: "Candidature  reçue".
    titles = {f"L{n:02d}": f"Post {n:02d} " + "ab" * n for n in range(1, 13)}
    project = make_project("".join(open_vacancy(vid, title, 'languages = ["en", "fr"]')
                                   for vid, title in titles.items()), extra=NO_HOURLY_CAP)
    for index, title in enumerate(titles.values()):
        project.deliver(pdf_application(subject=title, sender=f"c{index}@example.net"), ON_TIME)
    run_once(project)
    subjects = {str(notice["Subject"]) for notice in notices(project)}
    assert subjects == {f"Application received: {title} ({vid}-0001) / Candidature reçue : "
                        f"{title} ({vid}-0001)" for vid, title in titles.items()}


def test_a_vacancy_without_a_zone_gives_its_times_in_utc_in_both_languages(make_project):
    project = make_project('[[vacancy]]\nid = "POOL"\ntitle = "Analyst Pool"\n'
                           'languages = ["en", "fr"]\n')
    project.deliver(pdf_application(subject="Analyst Pool"), ON_TIME)
    run_once(project)
    body = notices(project)[0].get_body(("plain",)).get_content()
    assert "on 10 June 2026 at 08:00 (UTC)." in body and "le 10 juin 2026 à 8 h 00 UTC." in body


def test_notices_are_in_the_vacancys_languages_alone(make_project):
    french_only = DRP_VACANCY.replace('languages = ["en", "fr"]', 'languages = ["fr"]')
    project = make_project(french_only + SG_VACANCY)  # SG: English alone
    project.deliver(pdf_application(), ON_TIME)
    project.deliver(pdf_application(subject="Secretary General", sender="bruno@example.net",
                                    body="Madame, Monsieur,\n\nVeuillez trouver ci-joint ma "
                                         "candidature.\n"), ON_TIME)
    run_once(project)
    languages = {str(notice["To"]): (notice["Content-Language"], notice["Subject"])
                 for notice in notices(project)}
    assert languages == {
        "alice@example.net": ("fr", "Candidature reçue : Officier – Résilience démocratique et "
                                    "partenariats (DRP-0001)"),
        "bruno@example.net": ("en", "Application received: Secretary General (SG-0001)"),
    }


def test_a_notice_goes_to_reply_to_when_there_is_one(project):
    project.deliver(pdf_application(headers={"Reply-To": "Alice Home <alice@home.example>"}),
                    ON_TIME)
    run_once(project)
    assert rows(project)[0]["reply_to"] == "alice@home.example"
    assert str(notices(project)[0]["To"]) == "alice@home.example"


#: Machines, by the headers and senders RFC 3834 and RFC 5230 name: (headers, sender); a
#: sender of None: no From header at all.
MACHINES = {
    "null return path": ({"Return-Path": "<>"}, ""),
    "Auto-Submitted: auto-generated": ({"Auto-Submitted": "auto-generated"}, ""),
    "Auto-Submitted: auto-replied": ({"Auto-Submitted": "auto-replied"}, ""),
    "Auto-Submitted: auto-notified; owner-email=x@example.net": (
        {"Auto-Submitted": "auto-notified; owner-email=x@example.net"}, ""),
    "Precedence: bulk": ({"Precedence": "bulk"}, ""),
    "Precedence: junk": ({"Precedence": "junk"}, ""),
    "Precedence: list": ({"Precedence": "list"}, ""),
    "List-Id": ({"List-Id": "Jobs <jobs.lists.example.net>"}, ""),
    "List-Unsubscribe": ({"List-Unsubscribe": "<mailto:leave@lists.example.net>"}, ""),
    "List-Post": ({"List-Post": "<mailto:jobs@lists.example.net>"}, ""),
    "X-Auto-Response-Suppress: All": ({"X-Auto-Response-Suppress": "All"}, ""),
    "X-Auto-Response-Suppress: OOF": ({"X-Auto-Response-Suppress": "OOF"}, ""),
    "X-Auto-Response-Suppress: DR, OOF, AutoReply": (
        {"X-Auto-Response-Suppress": "DR, OOF, AutoReply"}, ""),
    "MAILER-DAEMON": ({}, "MAILER-DAEMON@mx.example.net"),
    "mailer-daemon": ({}, "Mail Delivery System <mailer-daemon@mx.example.net>"),
    "LISTSERV": ({}, "LISTSERV@lists.example.net"),
    "majordomo": ({}, "majordomo@lists.example.net"),
    "*-request": ({}, "jobs-request@lists.example.net"),
    "owner-*": ({}, "owner-jobs@lists.example.net"),
    "the bot's own address": ({}, "NATO PA Recruitment <recruitment@example.org>"),
    "the bot's own address in capitals": ({}, "RECRUITMENT@EXAMPLE.ORG"),
    "no From at all": ({}, None),
}
PEOPLE = {
    "Auto-Submitted: no": ({"Auto-Submitted": "no"}, ""),
    "Precedence: first-class": ({"Precedence": "first-class"}, ""),
    "a person called Owner": ({}, "Owen Owner <owner@example.net>"),
    "a person whose name ends in request": ({}, "request@example.net"),
}


def test_machines_are_registered_ignored_and_never_answered_people_are_answered(make_project):
    project = make_project(extra=NO_HOURLY_CAP)
    for index, (name, (headers, sender)) in enumerate({**MACHINES, **PEOPLE}.items()):
        raw = pdf_application(subject=f"{DRP_TITLE} ({name})", headers=headers,
                              sender=sender or f"c{index}@example{index}.net")
        if sender is None:
            raw = raw.replace(f"From: c{index}@example{index}.net\n".encode(), b"", 1)
            assert b"\nFrom:" not in raw
        project.deliver(raw, ON_TIME)
    run_once(project)
    statuses = {row["subject"].rpartition("(")[2].rstrip(")"): row["status"]
                for row in rows(project)}
    assert statuses == {**dict.fromkeys(MACHINES, "ignored"), **dict.fromkeys(PEOPLE, "accepted")}
    answered = {reply["submission_id"] for reply in replies(project)}
    assert {row["id"] for row in rows(project) if row["status"] == "accepted"} == answered
    assert len(project.notices()) == len(PEOPLE)
    assert project.inbox() == []
