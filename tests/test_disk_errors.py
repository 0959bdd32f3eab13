"""A documents folder that cannot be written leaves the message in the inbox (issue 17, item 6).

A full disk or a read-only folder is not the message's fault and would fail the next
message too: the cycle stops with one line, nothing is registered or quarantined, and the
next cycle, once there is room again, handles the message as if nothing had happened.

The bot runs as its own process in a private mount namespace (``unshare``), where the
documents' ``files/`` folder is a real small or read-only file system, while ``raw/`` and
the register stay writable: the raw message is archived, then its document cannot be.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.extras import missing
from tests.mail import application
from tests.readback import rows
from tests.test_pipeline import ON_TIME

# The raw message (the PDF in base64 and a little more) fits; the PDF beside it does not.
DOCUMENT = b"%PDF-1.4\n" + bytes(range(256)) * 1600  # about 400 KB of incompressible bytes
FILESYSTEMS = {
    "full": "mount -t tmpfs -o size=300k tmpfs {files}",
    "read-only": "mount --bind {files} {files} && mount -o remount,bind,ro {files}",
}


def unshare() -> str:
    found = shutil.which("unshare")
    probe = subprocess.run([found or "unshare", "-rm", "true"], capture_output=True)
    if found is None or probe.returncode != 0:
        missing("unshare -rm (a private mount namespace) is not available here: "
                f"{probe.stderr.decode(errors='replace').strip()}")
    return str(found)


def run_once(project, mount: str = "") -> subprocess.CompletedProcess[str]:
    command = shlex.join([sys.executable, "-m", "intake_bot", "--config",
                          str(project.config_path), "run", "--once"])
    script = f"set -e; {mount}; exec {command}" if mount else command
    return subprocess.run([unshare(), "-rm", "sh", "-c", script], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("filesystem", sorted(FILESYSTEMS))
def test_a_documents_write_that_fails_leaves_the_message_in_the_inbox(project, filesystem):
    files = project.root / "var" / "documents" / "files"
    files.mkdir(parents=True)
    project.deliver(application(attachments=[("cv.pdf", DOCUMENT, "application/pdf")]),
                    ON_TIME)
    failed = run_once(project, FILESYSTEMS[filesystem].format(files=shlex.quote(str(files))))
    assert failed.returncode == 1
    error = failed.stderr.strip().splitlines()[-1]
    assert error.startswith("intake-bot: error: documents folder ") and "files/" in error
    assert "Traceback" not in failed.stderr
    assert rows(project) == [] and len(project.inbox()) == 1  # not quarantined: waiting
    assert project.folder("Quarantine") == [] and project.notices() == []

    again = run_once(project)  # room again (the mount is gone with its namespace)
    assert again.returncode == 0, again.stderr
    [row] = rows(project)
    assert row["status"] in ("accepted", "rejected") and row["status"] != "quarantined"
    assert project.inbox() == [] and len(project.notices()) == 1
