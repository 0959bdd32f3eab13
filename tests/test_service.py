"""The service as operators run it: a real process, woken by IDLE, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import brussels
from tests.mail import application, blank_pdf

ON_TIME = brussels("2026-06-10T10:00:00")


def start_service(config_path, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "intake_bot", "--config", str(config_path),
                             "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})}, text=True)


def wait_for(condition, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return process.returncode, err


@pytest.mark.servers
def test_idle_wakes_the_service_within_seconds_and_sigterm_stops_it(served):
    project, dovecot, sink = served
    process = start_service(project.config_path,
                            {"TEST_IMAP_PASSWORD": dovecot.password})
    try:
        time.sleep(1.5)  # the first cycle has run and the IDLE watcher is waiting
        dovecot.append("INBOX", application(attachments=[("a.pdf", blank_pdf(), "application/pdf")]),
                       ON_TIME)
        latency = wait_for(lambda: len(sink.received) == 1, 10)
    finally:
        code, err = stop(process)
    assert latency < 5, err  # poll_seconds is 60: only IDLE explains a notice this fast
    assert code == 0, err
    assert "service stopped" in err and "Traceback" not in err
    assert dovecot.uids("INBOX") == []


def test_polling_service_on_the_embedded_mailbox(make_project):
    project = make_project()
    text = project.config_path.read_text().replace("poll_seconds = 60", "poll_seconds = 1")
    project.config_path.write_text(text)
    process = start_service(project.config_path)
    try:
        project.deliver(application(attachments=[("a.pdf", blank_pdf(), "application/pdf")]),
                        ON_TIME)
        wait_for(lambda: len(project.notices()) == 1, 15)
    finally:
        code, err = stop(process)
    assert code == 0 and "service stopped" in err, err
    assert project.inbox() == []
