"""HOSTILE-PDF GUARD: whatever PDF a candidate sends, the service stays up and fast.

Pipeline level only. The bounded PDF inspector (``intake_bot/documents.py``, a worker
process with time and memory limits) belongs to its own module and tests; this test
checks from the outside, through ``intake-bot run --once`` as a real process, that hand-
made bombs (``tests/hostile.py``: a decompression bomb, a deeply nested and a cyclic
object graph, a huge page count, a truncated and an encrypted file) each get a proper
verdict, that none is quarantined, and that the process stays within time and memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

from tests import hostile
from tests.conftest import brussels
from tests.mail import application, blank_pdf
from tests.readback import rows

ON_TIME = brussels("2026-06-10T10:00:00")
EXACT = {"truncated": ["unreadable-pdf"], "encrypted": ["encrypted-pdf"]}
PDF_REASONS = {"unreadable-pdf", "encrypted-pdf", "too-many-pages"}
MAX_SECONDS = 30
MAX_RSS_MIB = 512


def test_hostile_pdfs_get_a_verdict_and_the_service_stays_up(make_project):
    project = make_project(hostile.VACANCY)
    for index, (name, build) in enumerate(hostile.PDFS.items()):
        project.deliver(hostile.with_pdf(name, build()), ON_TIME, name=f"{index}.{name}")
    project.deliver(application(subject="NATO-PA-2026-07", sender="good@example.net",
                                attachments=[("cv.pdf", blank_pdf(), "application/pdf")]),
                    ON_TIME, name="99.good")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "intake_bot", "--config",
                           str(project.config_path), "run", "--once"],
                          capture_output=True, text=True, timeout=MAX_SECONDS * 2, check=False)
    elapsed = time.monotonic() - started
    # The largest child this test process has waited for: an upper bound for this one.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert done.returncode == 0, done.stderr
    assert elapsed < MAX_SECONDS and peak_mib < MAX_RSS_MIB, (elapsed, peak_mib)
    found = {row["message_id"]: row for row in rows(project)}
    for name in hostile.PDFS:
        row = found[f"<pdf-{name}@hostile.example>"]
        reasons = json.loads(row["reasons"])
        assert row["status"] in ("accepted", "rejected"), (name, row["error"])
        assert set(reasons) <= PDF_REASONS and reasons == EXACT.get(name, reasons), name
    assert [r["status"] for r in found.values() if r["sender"] == "good@example.net"] == [
        "accepted"]
    assert project.inbox() == []
