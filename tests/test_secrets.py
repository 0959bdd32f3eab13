"""No password or message body in any log line; the register and documents are owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from intake_bot.pipeline import run_cycle
from intake_bot.register import Register
from tests.conftest import brussels
from tests.mail import application, blank_pdf

ON_TIME = brussels("2026-06-10T10:00:00")
BODY_MARKER = "BODY-MARKER-5f0c2d9e"
SMTP_PASSWORD = "smtp-Secret-8c41b7"


def run_verbose(project, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``intake-bot -v run --once``: every logger at DEBUG, as an operator would debug."""
    return subprocess.run([sys.executable, "-m", "intake_bot", "--config",
                           str(project.config_path), "-v", "run", "--once"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.fixture
def authenticated(served, smtp_sink_factory):
    """The served deployment, with an SMTP server that wants a login."""
    project, dovecot, _ = served
    sink = smtp_sink_factory(users={"bot": SMTP_PASSWORD})
    text = project.config_path.read_text(encoding="utf-8")
    start = text.index('url = "smtp://')
    end = text.index("\n", start)
    project.config_path.write_text(
        text[:start] + f'url = "{sink.url("bot")}"\npassword_env = "TEST_SMTP_PASSWORD"'
        + text[end:], encoding="utf-8")
    return project, dovecot, sink


@pytest.mark.servers
def test_a_debug_cycle_logs_neither_password_nor_body(authenticated):
    project, dovecot, sink = authenticated
    dovecot.append("INBOX", application(
        body=f"Dear Sir or Madam,\n{BODY_MARKER}\n",
        attachments=[("cv.pdf", blank_pdf(), "application/pdf")]), ON_TIME)
    done = run_verbose(project, {"TEST_IMAP_PASSWORD": dovecot.password,
                                 "TEST_SMTP_PASSWORD": SMTP_PASSWORD})
    assert done.returncode == 0, done.stderr
    assert len(sink.received) == 1 and sink.handler.logins == ["bot"]
    logs = done.stdout + done.stderr
    assert " DEBUG " in logs  # the level was really DEBUG
    assert dovecot.password not in logs and SMTP_PASSWORD not in logs
    assert BODY_MARKER not in logs, [line[:160] for line in logs.splitlines() if BODY_MARKER in line]


@pytest.mark.servers
def test_refused_logins_log_no_password(authenticated):
    project, dovecot, _ = authenticated
    dovecot.append("INBOX", application(attachments=[("cv.pdf", blank_pdf(), "application/pdf")]),
                   ON_TIME)
    wrong_imap = "wrong-imap-Password-31"
    done = run_verbose(project, {"TEST_IMAP_PASSWORD": wrong_imap,
                                 "TEST_SMTP_PASSWORD": SMTP_PASSWORD})
    assert done.returncode == 1 and "login refused" in done.stderr
    assert wrong_imap not in done.stdout + done.stderr and "Traceback" not in done.stderr
    wrong_smtp = "wrong-smtp-Password-47"
    done = run_verbose(project, {"TEST_IMAP_PASSWORD": dovecot.password,
                                 "TEST_SMTP_PASSWORD": wrong_smtp})
    assert done.returncode == 1 and "login refused" in done.stderr  # the notice waits, queued
    assert wrong_smtp not in done.stdout + done.stderr and dovecot.password not in done.stderr


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_register_and_documents_are_owner_only_whatever_the_umask(project):
    previous = os.umask(0)  # the most permissive: nothing may rely on the umask
    try:
        project.deliver(application(attachments=[("cv.pdf", blank_pdf(), "application/pdf")]),
                        ON_TIME)
        run_cycle(project.config)
        config = project.config
        register = Register(config.register_path)  # open: SQLite's -wal and -shm exist
        try:
            register.max_id()
            files = [config.register_path, *config.register_path.parent.glob("register.db-*")]
            assert {p.name for p in files} >= {"register.db", "register.db-wal",
                                               "register.db-shm"}
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        finally:
            register.close()
        tree = [config.documents_path, *config.documents_path.rglob("*")]
        assert len(tree) > 4
        assert {str(p): mode(p) for p in tree} == {
            str(p): 0o700 if p.is_dir() else 0o600 for p in tree}
    finally:
        os.umask(previous)


def test_a_folder_that_exists_keeps_its_mode(tmp_path):
    """The register's folder may be the operator's (a shared /srv/data, or /tmp): made
    owner-only, it would lock out everyone else who uses it. The files are owner-only."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    register = Register(shared / "deeper" / "register.db")
    register.close()
    assert mode(shared) == 0o1777
    assert mode(shared / "deeper") == 0o700 and mode(shared / "deeper" / "register.db") == 0o600
    Register(shared / "register.db").close()
    assert mode(shared) == 0o1777 and mode(shared / "register.db") == 0o600
