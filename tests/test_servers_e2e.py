"""End to end against real servers: applications in Dovecot, notices to an aiosmtpd sink."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from intake_bot.mailbox import MailboxError
from intake_bot.pipeline import run_cycle
from tests.conftest import brussels
from tests.mail import application, blank_pdf
from tests.readback import replies, rows

pytestmark = pytest.mark.servers
ON_TIME = brussels("2026-06-10T10:00:00")


def pdf_application(sender: str = "Alice Martin <alice@example.net>", **kwargs) -> bytes:
    return application(sender=sender,
                       attachments=[("Application.pdf", blank_pdf(2), "application/pdf")], **kwargs)


def test_applications_in_dovecot_are_registered_answered_and_moved(served):
    project, dovecot, sink = served
    dovecot.append("INBOX", pdf_application(message_id="<a1@example.net>"), ON_TIME)
    dovecot.append("INBOX", pdf_application(sender="bob@example.net"),
                   brussels("2026-06-13T00:00:00"))
    dovecot.append("INBOX", application(headers={"Auto-Submitted": "auto-replied"}), ON_TIME)
    summary = run_cycle(project.config)
    found = rows(project)
    assert [(r["status"], json.loads(r["reasons"])) for r in found] == [
        ("accepted", []), ("rejected", ["late"]), ("ignored", ["auto-submitted"])]
    assert found[0]["received_at"] == "2026-06-10T08:00:00Z"
    assert found[0]["mailbox_key"].startswith("imap:")
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 3
    assert len(sink.received) == 2 and sink.connections == 1
    notice = sink.received[0].message()
    assert sink.received[0].rcpt_tos == ["alice@example.net"]
    assert notice["Auto-Submitted"] == "auto-replied" and notice["In-Reply-To"] == "<a1@example.net>"
    assert summary.sent == 2
    # nothing changes on a second run
    again = run_cycle(project.config)
    assert again.handled == 0 and again.sent == 0 and len(sink.received) == 2


def test_crash_between_register_and_move_does_not_register_or_answer_twice(served):
    project, dovecot, sink = served
    dovecot.append("INBOX", pdf_application(), ON_TIME)
    config = project.config
    from intake_bot.mailbox.imap import ImapMailbox

    original_move = ImapMailbox.move_many
    ImapMailbox.move_many = lambda self, keys, folder: (_ for _ in ()).throw(SystemExit("killed"))
    try:
        with pytest.raises(SystemExit):
            run_cycle(config)
    finally:
        ImapMailbox.move_many = original_move
    assert len(dovecot.uids("INBOX")) == 1 and len(sink.received) == 1
    summary = run_cycle(config)
    assert summary.handled == 0 and summary.already_registered == 1
    assert len(rows(project)) == 1 and len(sink.received) == 1
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 1


def test_dovecot_stopped_mid_run_loses_nothing(served):
    project, dovecot, sink = served
    for index in range(3):
        dovecot.append("INBOX", pdf_application(sender=f"c{index}@example.net"), ON_TIME)

    def stop_after_first(count: int) -> None:
        if count == 1:
            dovecot.stop()

    try:
        # The fetched batch is still handled; its moves fail and the messages stay put.
        first = run_cycle(project.config, progress=stop_after_first)
    except MailboxError:
        first = None
    finally:
        dovecot.start()
    assert first is None or first.move_failures >= 1
    run_cycle(project.config)
    found = rows(project)
    assert len(found) == 3 and {r["status"] for r in found} == {"accepted"}
    assert sorted(r.rcpt_tos[0] for r in sink.received) == [
        "c0@example.net", "c1@example.net", "c2@example.net"]
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 3


def test_smtp_451_then_accepting_retries_with_backoff(served):
    project, dovecot, sink = served
    sink.handler.answer_next(1, "451 4.3.0 Try again later")
    dovecot.append("INBOX", pdf_application(), ON_TIME)
    now = dt.datetime.now(dt.UTC)
    run_cycle(project.config, clock=lambda: now)
    [reply] = replies(project)
    assert reply["status"] == "pending" and reply["attempts"] == 1 and "451" in reply["last_error"]
    assert dovecot.uids("INBOX") == []  # registered and queued: the message may leave the inbox
    run_cycle(project.config, clock=lambda: now)  # back-off not over: nothing sent
    assert len(sink.received) == 0
    run_cycle(project.config, clock=lambda: now + dt.timedelta(hours=1))
    [reply] = replies(project)
    assert reply["status"] == "sent" and reply["attempts"] == 2 and len(sink.received) == 1


def test_smtp_550_fails_one_notice_and_never_blocks_the_others(served):
    project, dovecot, sink = served
    sink.handler.refuse_recipient("gone@example.net", "550 5.1.1 No such user")
    dovecot.append("INBOX", pdf_application(sender="gone@example.net"), ON_TIME)
    dovecot.append("INBOX", pdf_application(sender="bob@example.net"), ON_TIME)
    run_cycle(project.config)
    statuses = {r["recipient"]: r["status"] for r in replies(project)}
    assert statuses == {"gone@example.net": "failed", "bob@example.net": "sent"}
    assert [r.rcpt_tos for r in sink.received] == [["bob@example.net"]]


def intake_bot(project, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run the command line as an operator would, in its own process."""
    return subprocess.run([sys.executable, "-m", "intake_bot", "--config",
                           str(project.config_path), *args],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=60)


def run_bot(project, env: dict[str, str]) -> subprocess.CompletedProcess:
    return intake_bot(project, env, "run", "--once")


def test_bad_imap_password_is_one_line_without_the_password(served):
    project, dovecot, _ = served
    process = run_bot(project, {"TEST_IMAP_PASSWORD": "wrong-secret-123"})
    assert process.returncode == 1
    [line] = [text for text in process.stderr.splitlines() if "error" in text]
    assert "127.0.0.1" in line and "wrong-secret-123" not in process.stderr + process.stdout
    assert "Traceback" not in process.stderr


def test_unreachable_imap_server_is_one_line(served):
    project, dovecot, _ = served
    dovecot.stop()
    try:
        process = run_bot(project, {"TEST_IMAP_PASSWORD": dovecot.password})
    finally:
        dovecot.start()
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert process.stderr.strip().splitlines()[-1].startswith("intake-bot: error: IMAP 127.0.0.1")


def test_missing_password_variable_is_a_configuration_error(served, monkeypatch):
    project, _, _ = served
    monkeypatch.delenv("TEST_IMAP_PASSWORD")
    process = run_bot(project, {})
    assert process.returncode == 2
    assert "password_env: the environment variable TEST_IMAP_PASSWORD is not set" in process.stderr


def test_unreachable_smtp_server_queues_the_notices_and_exits_1(served):
    project, dovecot, sink = served
    dovecot.append("INBOX", pdf_application(), ON_TIME)
    dovecot.append("INBOX", pdf_application(sender="bob@example.net"), ON_TIME)
    sink.stop()
    process = run_bot(project, {"TEST_IMAP_PASSWORD": dovecot.password})
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert "notices not sent: SMTP 127.0.0.1" in process.stderr.strip().splitlines()[-1]
    assert dovecot.uids("INBOX") == []  # registered, notices queued: the messages may move
    assert [r["status"] for r in replies(project)] == ["pending", "pending"]
    assert [r["attempts"] for r in replies(project)] == [1, 0]  # one try, then it stopped


def test_replies_retry_resends_a_failed_notice_on_demand(served):
    project, dovecot, sink = served
    sink.handler.refuse_recipient("alice@example.net", "550 5.1.1 Mailbox unavailable")
    dovecot.append("INBOX", pdf_application(), ON_TIME)
    run_cycle(project.config)
    [reply] = replies(project)
    assert reply["status"] == "failed" and "550" in reply["last_error"]
    sink.handler.accept_recipient("alice@example.net")  # the candidate's mailbox is back
    process = intake_bot(project, {"TEST_IMAP_PASSWORD": dovecot.password},
                         "replies", "retry", str(reply["id"]))
    assert process.returncode == 0, process.stderr
    assert "1 notice(s) queued again; 1 notice sent" in process.stdout
    [reply] = replies(project)
    assert reply["status"] == "sent" and len(sink.received) == 1


def check_connect(project, env: dict[str, str]) -> subprocess.CompletedProcess:
    return intake_bot(project, env, "check-config", "--connect")


def test_check_config_connect_logs_in_to_both_servers(served):
    project, dovecot, sink = served
    process = check_connect(project, {"TEST_IMAP_PASSWORD": dovecot.password})
    assert process.returncode == 0, process.stderr
    assert "mailbox: connected and logged in" in process.stdout
    assert "smtp: connected" in process.stdout
    sink.stop()
    process = check_connect(project, {"TEST_IMAP_PASSWORD": dovecot.password})
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert process.stderr.strip().splitlines()[-1].startswith("intake-bot: error: SMTP 127.0.0.1")
    process = check_connect(project, {"TEST_IMAP_PASSWORD": "not-the-password"})
    assert process.returncode == 1 and "login refused" in process.stderr
