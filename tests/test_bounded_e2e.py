"""Bounded work end to end: the bot as its own process, real Dovecot, real aiosmtpd (issue 17).

The bot's peak memory is its ``ru_maxrss`` as ``wait4`` reports it for that one child
(its inspection worker included, once reaped): a generous bound, as the house asks of
tests; ``bench/hostile.py`` measures it at scale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests import hostile
from tests.builders import make_slow_text_pdf
from tests.conftest import REPO
from tests.mail import application, blank_pdf
from tests.readback import rows
from tests.test_pipeline import ON_TIME

pytestmark = pytest.mark.servers


def run_once(project, dovecot) -> tuple[int, float, float, str]:
    """``intake-bot run --once`` as a child: exit status, peak RSS in MB, seconds, stderr."""
    env = {**os.environ, "TEST_IMAP_PASSWORD": dovecot.password}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "intake_bot", "--config",
                                str(project.config_path), "run", "--once"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    err = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, time.monotonic() - started, err


def test_a_200000_part_message_keeps_the_bot_small_and_the_next_application_is_answered(
        served):
    project, dovecot, sink = served
    dovecot.append("INBOX", hostile.many_parts(200_000, filler=15), ON_TIME)  # 10 MB
    dovecot.append("INBOX", application(sender="Next <next@example.net>",
                                        attachments=[("cv.pdf", blank_pdf(), "application/pdf")]),
                   ON_TIME)
    code, peak_mb, _, err = run_once(project, dovecot)
    assert code == 0, err
    assert peak_mb < 500, f"{peak_mb:.0f} MB"  # once 1.45 GB
    hostile_row, next_row = rows(project)
    assert (hostile_row["status"], json.loads(hostile_row["reasons"])) == (
        "rejected", ["too-many-parts"])
    assert next_row["status"] == "accepted"
    assert sorted(mail.rcpt_tos[0] for mail in sink.received) == [
        "candidate@example.net", "next@example.net"]
    assert dovecot.uids("INBOX") == []


def test_twenty_slow_pdfs_do_not_hold_the_cycle(served):
    project, dovecot, sink = served
    slow = make_slow_text_pdf()  # about 15 s of text extraction each
    dovecot.append("INBOX", application(attachments=[
        (f"part{index}.pdf", slow, "application/pdf") for index in range(20)]), ON_TIME)
    dovecot.append("INBOX", application(sender="Next <next@example.net>",
                                        attachments=[("cv.pdf", blank_pdf(), "application/pdf")]),
                   ON_TIME)
    code, _, seconds, err = run_once(project, dovecot)
    assert code == 0, err
    assert seconds < 30, f"{seconds:.0f} s"  # once 103 s: the acceptance bound, not a timing
    slow_row, next_row = rows(project)
    assert json.loads(slow_row["reasons"]) == ["multiple-attachments"]
    assert next_row["status"] == "accepted" and len(sink.received) == 2
