"""The service as operators run it: a real process, woken by IDLE, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import brussels
from tests.mail import application, blank_pdf

ON_TIME = brussels("2026-06-10T10:00:00")


def start_service(config_path, env=None, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "intake_bot", "--config", str(config_path),
                             *options, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})}, text=True)


class LogReader:
    """Reads a process's stderr on a thread: wait for a line, keep them all."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(process.stderr,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 30) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: any(text in line for line in self.lines),
                                          timeout):
                raise AssertionError(f"no log line with {text!r}:\n{''.join(self.lines)}")


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
                            {"TEST_IMAP_PASSWORD": dovecot.password}, "-v")
    log = LogReader(process)
    try:
        log.wait_for("waiting for new mail in INBOX (IDLE)")
        dovecot.append("INBOX", application(attachments=[("a.pdf", blank_pdf(), "application/pdf")]),
                       ON_TIME)
        latency = wait_for(lambda: len(sink.received) == 1, 10)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    log.wait_for("service stopped")
    err = "".join(log.lines)
    assert latency < 5, err  # poll_seconds is 60: only IDLE explains a notice this fast
    assert code == 0, err
    assert "Traceback" not in err
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
    assert "apscheduler" not in err  # its two INFO lines a cycle say nothing the cycle does not
