"""Kill -9 the real service at every step of a message's handling, restart it, lose nothing.

Each test runs ``python -m intake_bot run --once`` as a process against the session's
Dovecot and an aiosmtpd sink, kills it with SIGKILL at a named step (the pipeline's
``INTAKE_BOT_CRASH_AT`` testing aid), in the middle of an SMTP transaction, or at random
moments, then runs it again. Afterwards every message is registered exactly once, filed
in the processed folder exactly once, answered exactly once (twice at most when the kill
cut a send short), and ``register check`` finds nothing wrong.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from intake_bot.integrity import check_register
from intake_bot.pipeline import CRASH_AT_ENV, CRASH_POINTS
from tests.conftest import brussels
from tests.mail import application, blank_pdf
from tests.readback import replies
from tests.readback import rows as submissions

pytestmark = pytest.mark.servers
ON_TIME = brussels("2026-06-10T10:00:00")
#: Message-ID -> (sender, status): an application, a rejected one, and a robot.
EXPECTED = {
    "<accepted@example.net>": ("alice@example.net", "accepted"),
    "<rejected@example.net>": ("bob@example.net", "rejected"),
    "<robot@example.net>": ("robot@example.net", "ignored"),
}


def deliver_three(dovecot) -> None:
    pdf = [("Application.pdf", blank_pdf(2), "application/pdf")]
    dovecot.append("INBOX", application(sender="Alice <alice@example.net>", attachments=pdf,
                                        message_id="<accepted@example.net>"), ON_TIME)
    dovecot.append("INBOX", application(sender="Bob <bob@example.net>",
                                        message_id="<rejected@example.net>"), ON_TIME)
    dovecot.append("INBOX", application(sender="robot@example.net", attachments=pdf,
                                        headers={"Auto-Submitted": "auto-replied"},
                                        message_id="<robot@example.net>"), ON_TIME)


def service(project, dovecot, crash_at: str | None = None) -> subprocess.Popen:
    """``intake-bot run --once`` as its own process, optionally set to die at a step."""
    env = {**os.environ, "TEST_IMAP_PASSWORD": dovecot.password}
    env.pop(CRASH_AT_ENV, None)
    if crash_at:
        env[CRASH_AT_ENV] = crash_at
    return subprocess.Popen([sys.executable, "-m", "intake_bot", "--config",
                             str(project.config_path), "run", "--once"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_once(project, dovecot, crash_at: str | None = None) -> tuple[int, str]:
    process = service(project, dovecot, crash_at)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


def filed_message_ids(dovecot, folder: str) -> Counter[str]:
    """How many copies of each Message-ID a Dovecot folder holds."""
    with dovecot.client() as client:
        if not client.folder_exists(folder):
            return Counter()
        client.select_folder(folder, readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    return Counter(data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip()
                   for data in fetched.values())


def assert_each_handled_once(project, dovecot, sink, expected=EXPECTED,
                             cut_short: frozenset[str] = frozenset()) -> None:
    """Registered, filed and answered once; ``cut_short`` recipients may have two notices."""
    rows = submissions(project)
    assert sorted(r["message_id"] for r in rows) == sorted(expected)
    assert {r["message_id"]: r["status"] for r in rows} == {k: v[1] for k, v in expected.items()}
    assert {r["moved_to"] for r in rows} == {"Processed"}
    assert dovecot.uids("INBOX") == []
    assert filed_message_ids(dovecot, "Processed") == Counter(list(expected))
    answered = Counter(mail.rcpt_tos[0] for mail in sink.received)
    owed = {sender for sender, status in expected.values() if status != "ignored"}
    assert set(answered) == owed
    for recipient, count in answered.items():
        assert count <= (2 if recipient in cut_short else 1), (recipient, count)
    assert sorted(r["recipient"] for r in replies(project)) == sorted(owed)
    report = check_register(project.config)
    assert report.problems == [], report.problems


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_at_a_step_and_restarted_handles_each_message_once(served, point):
    project, dovecot, sink = served
    deliver_three(dovecot)
    code, err = run_once(project, dovecot, crash_at=point)
    assert code == -signal.SIGKILL, f"the step {point!r} was never reached:\n{err}"
    code, err = run_once(project, dovecot)
    assert code == 0, err
    # Killed after the server took the notice but before the register knew: sent again.
    assert_each_handled_once(project, dovecot, sink,
                             cut_short=frozenset({"alice@example.net"} if point == "sent" else ()))
    assert {r["status"] for r in replies(project)} == {"sent"}
    again = len(sink.received)
    assert run_once(project, dovecot)[0] == 0 and len(sink.received) == again


def test_killed_while_the_smtp_server_holds_the_notice(served, monkeypatch):
    project, dovecot, sink = served
    deliver_three(dovecot)
    holding, release = threading.Event(), threading.Event()
    keep = sink.handler.handle_DATA

    async def hold_first_notice(server, session, envelope):
        if holding.is_set():
            return await keep(server, session, envelope)
        holding.set()
        await keep(server, session, envelope)  # the server has the whole message...
        while not release.is_set():  # ...but the client dies before hearing "250"
            await asyncio.sleep(0.02)
        return "250 OK"

    monkeypatch.setattr(sink.handler, "handle_DATA", hold_first_notice)
    process = service(project, dovecot)
    try:
        assert holding.wait(30), "no notice reached the SMTP server"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        release.set()
        process.kill()
    [notice] = [r for r in replies(project)]
    assert notice["status"] == "sending"  # the register knows the notice may have left
    assert run_once(project, dovecot)[0] == 0
    assert_each_handled_once(project, dovecot, sink, cut_short=frozenset({"alice@example.net"}))
    [first, second] = replies(project)
    assert first["status"] == second["status"] == "sent" and first["interrupted"] == 1


def test_a_send_cut_short_again_and_again_goes_out_at_most_twice(served):
    project, dovecot, sink = served
    deliver_three(dovecot)
    for _ in range(3):
        assert run_once(project, dovecot, crash_at="sent")[0] == -signal.SIGKILL
    assert run_once(project, dovecot)[0] == 0
    assert_each_handled_once(project, dovecot, sink,
                             cut_short=frozenset({"alice@example.net", "bob@example.net"}))
    alice, bob = replies(project)
    assert alice["status"] == "failed" and "cut short twice" in alice["last_error"]
    assert bob["status"] == "sent" and bob["interrupted"] == 1


def test_killed_at_random_moments_of_a_busy_cycle(served):
    """Kills that land anywhere: inside SQLite writes, archive writes, IMAP and SMTP."""
    project, dovecot, sink = served
    # Forty candidates at two domains: under [notices] max_per_domain_per_hour.
    expected = {f"<busy{i}@example.net>": (f"c{i}@example{i % 2}.net", "accepted")
                for i in range(40)}
    pdf = [("Application.pdf", blank_pdf(2), "application/pdf")]
    dovecot.append_many("INBOX", [
        (application(sender=sender, attachments=pdf, message_id=message_id), ON_TIME)
        for message_id, (sender, _) in expected.items()])
    chance = random.Random(4)
    for _ in range(4):
        process = service(project, dovecot)
        time.sleep(chance.uniform(0.4, 1.2))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert run_once(project, dovecot)[0] == 0
    assert_each_handled_once(project, dovecot, sink,
                             expected=expected, cut_short=frozenset(s for s, _ in expected.values()))
