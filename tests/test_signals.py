"""``run --once`` stopped by SIGINT or SIGTERM: one clean line, the message in hand finished,
the rest left in the inbox, exit status 128 + the signal (issue 17, item 6)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.mail import application, blank_pdf
from tests.readback import rows
from tests.test_pipeline import ON_TIME

WAITING = 100


def run_once(project) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "intake_bot", "--config",
                             str(project.config_path), "run", "--once"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_cycle_after_the_message_in_hand(make_project, signum):
    # Every candidate at example.net: lift the domain's hourly cap above them all.
    project = make_project(extra=f"[notices]\nmax_per_domain_per_hour = {WAITING}\n")
    pdf = [("cv.pdf", blank_pdf(), "application/pdf")]
    for index in range(WAITING):
        project.deliver(application(sender=f"c{index} <c{index}@example.net>", attachments=pdf),
                        ON_TIME.replace(second=index % 60, minute=index // 60))
    process = run_once(project)
    assert process.stderr is not None
    log = []
    for line in process.stderr:  # wait for the first decision, then signal
        log.append(line)
        if " DRP-0001 " in line:
            process.send_signal(signum)
            break
    out, rest = process.communicate(timeout=120)
    log.append(rest)
    text = "".join(log)
    assert process.returncode == 128 + signum, text
    name = signal.Signals(signum).name
    assert f"{name} received: stopping after the message in hand" in text
    assert "the rest stay in the inbox" in text
    assert "Traceback" not in text and "Aborted!" not in text
    assert out.startswith("cycle: ")
    handled = len(rows(project))
    assert 1 <= handled < WAITING and len(project.inbox()) == WAITING - handled

    again = run_once(project)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    found = rows(project)
    assert len(found) == WAITING and len({row["sender"] for row in found}) == WAITING
    assert project.inbox() == [] and len(project.notices()) == WAITING
