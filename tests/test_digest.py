"""The recruiters' daily digest: once a day after the configured hour, covering what is new."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from intake_bot.pipeline import run_cycle
from intake_bot.recruiters.digest import compose_digest, send_digest_if_due
from intake_bot.register import Register
from intake_bot.transport.outbox import OutboxTransport
from tests.conftest import Project, brussels, run_cli
from tests.filled import fill, pdf
from tests.mail import DRP_TITLE, application

DIGEST = '[digest]\nrecruiters = ["ann@example.org", "Hr Team <hr@example.org>"]\nhour = 8\n'


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return fill(tmp_path / "project", DIGEST)


def digests(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(folder.glob("*.eml"))]


def test_digest_goes_once_a_day_after_the_hour(project, tmp_path):
    config = project.config
    outbox = tmp_path / "digests"
    transport = OutboxTransport(outbox)
    register = Register(config.register_path)
    try:
        assert send_digest_if_due(config, register, transport, brussels("2026-06-14T07:59:59")) is None
        first = send_digest_if_due(config, register, transport, brussels("2026-06-14T08:00:00"))
        assert first is not None and first.new == 9
        assert send_digest_if_due(config, register, transport, brussels("2026-06-14T23:00:00")) is None
        # A new application arrives; the next day's digest covers only it.
        project.deliver(application(subject=DRP_TITLE, sender="Zoe <zoe@example.net>",
                                    attachments=[pdf()]), brussels("2026-06-14T12:00:00"))
        run_cycle(config)
        second = send_digest_if_due(config, register, transport, brussels("2026-06-15T09:30:00"))
    finally:
        register.close()
    assert second is not None and second.new == 1
    assert second.subject == "intake-bot digest 2026-06-15: 1 new submission"
    assert "1 new submission since the last digest of 14 June 2026 at 08:00 (Brussels time)." in second.text
    [one, two] = sorted(digests(outbox), key=lambda m: m["Date"].datetime)
    assert one["To"] == "ann@example.org, hr@example.org"
    assert one["From"] == "NATO PA Recruitment <recruitment@example.org>"
    assert one["Auto-Submitted"] == "auto-generated"
    assert one["Subject"] == "intake-bot digest 2026-06-14: 9 new submissions"
    assert "DRP-0007 " not in one.get_content() and two.get_content() == second.text


def test_digest_text_names_references_never_candidates(project):
    register = Register(project.config.register_path)
    try:
        digest = compose_digest(project.config, register, brussels("2026-06-12T08:00:00"))
    finally:
        register.close()
    lines = digest.text.splitlines()
    assert lines[:2] == ["intake-bot digest, 12 June 2026 at 08:00 (Brussels time)",
                         "9 new submissions since the register began."]
    drp = lines.index("DRP  Officer – Democratic Resilience and Partnerships")
    assert lines[drp + 1:drp + 6] == [
        "  deadline    12 June 2026 at 23:59 (Brussels time) (open, 16 hours left)",
        "  new         6: accepted 3, rejected 2, superseded 1",
        "  new reasons late 1, multiple-attachments 1",
        "  totals      accepted 3, rejected 2, superseded 1; 5 candidates",
        "  to review   1 accepted with flags: DRP-0003",
    ]
    assert "OLD  Archivist" in lines  # closed, but it has news
    for private in ("alice", "Alice", "Chloé", "grace@example.net", "=2+3"):
        assert private not in digest.text


def test_closed_vacancies_with_nothing_new_are_left_out(project, tmp_path):
    config = project.config
    register = Register(config.register_path)
    try:
        send_digest_if_due(config, register, OutboxTransport(tmp_path), brussels("2026-11-01T09:00:00"))
        digest = compose_digest(config, register, brussels("2026-11-02T09:00:00"))
    finally:
        register.close()
    assert "0 new submissions since the last digest" in digest.text
    assert "SG  Secretary General" in digest.text  # still open
    assert "DRP" not in digest.text and "OLD" not in digest.text


def test_digest_command_prints_and_sends(project):
    args = ["--config", str(project.config_path), "digest"]
    result = run_cli(*args)
    assert result.exit_code == 0
    assert result.stdout.startswith("Subject: intake-bot digest ")
    before = set(project.notices())
    result = run_cli(*args, "--send")
    assert result.exit_code == 0
    assert result.stdout.startswith("digest sent to ann@example.org, hr@example.org: ")
    [sent] = set(project.notices()) - before
    assert b"Auto-Submitted: auto-generated" in sent.read_bytes()
    result = run_cli(*args)
    assert "0 new submissions since the last digest" in result.stdout


def test_run_once_sends_the_digest_when_due(project):
    result = run_cli("--config", str(project.config_path), "run", "--once")
    assert result.exit_code == 0
    assert "retention of OLD: purged 1 submission" in result.stdout
    assert "digest sent to ann@example.org, hr@example.org: intake-bot digest" in result.stdout
    again = run_cli("--config", str(project.config_path), "run", "--once")
    assert again.stdout.strip() == "cycle: 0 messages (none); 0 notices sent"


def test_digest_send_without_recruiters_is_a_config_error(tmp_path):
    project = fill(tmp_path / "plain")
    result = run_cli("--config", str(project.config_path), "digest", "--send")
    assert result.exit_code == 2
    assert result.stderr.endswith("[digest] recruiters: not set: nobody to send to\n")
