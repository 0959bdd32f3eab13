"""``intake-bot review`` in a real headless Chromium: the page, a facet, a canned query, a document,
a candidate card after the demo, and arbitrary SQL refused.

Starts the real command on a free loopback port and drives Debian's ``chromium`` with
``--dump-dom`` and ``--screenshot`` (no Playwright, nothing downloaded). The screenshot
is kept under ``test-artifacts/``. Skips when chromium or Datasette is missing, except
under ``CI=true``, where it fails (``.ci/install-browser`` installs chromium).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO, Project, run_cli
from tests.extras import need, need_chromium
from tests.filled import fill

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, str]]:
    """The filled register behind the real ``intake-bot review`` command."""
    need("datasette")
    project = fill(tmp_path_factory.mktemp("browser"))
    with reviewing(project.config_path) as base:
        yield project, base


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The register of ``intake-bot demo`` on the shipped configuration, behind ``review``."""
    need("datasette")
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "config", root / "config")
    config = root / "config" / "intake.toml"
    assert run_cli("--config", str(config), "demo").exit_code == 0
    with reviewing(config) as base:
        yield base


@contextmanager
def reviewing(config: Path) -> Iterator[str]:
    """The real ``intake-bot review`` on a free port; yields its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "intake_bot", "--config", str(config), "review",
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)  # its own process group, stopped as a whole below
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/-/versions.json", server)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def wait_until_up(url: str, server: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"review exited: {server.stdout.read().decode() if server.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"review did not answer {url} within {seconds} s")


def chromium(*args: str) -> str:
    """Run headless chromium once, with a fresh profile; returns what it printed."""
    binary = need_chromium()
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_applications_page_loads_with_its_facets(served):
    _, base = served
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "review-applications.png"
    screenshot.unlink(missing_ok=True)
    chromium("--window-size=1280,900", f"--screenshot={screenshot}", f"{base}/register/applications")
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    dom = chromium("--dump-dom", f"{base}/register/applications")
    assert "<h1" in dom and "Applications" in dom
    assert 'id="facet-status"' in dom and 'id="facet-reasons"' in dom  # the shipped facets
    assert "What the columns mean" in dom  # the plugin's script ran in the browser
    for reference in ("DRP-0002", "DRP-0006", "SG-0001"):
        assert reference in dom


def test_a_rejected_application_shows_its_reasons(served):
    _, base = served
    dom = chromium("--dump-dom", f"{base}/register/applications?status=rejected")
    assert "2 rows where status = " in dom
    assert "multiple-attachments" in dom and "late" in dom and "DRP-0003" not in dom


def test_a_canned_query_renders(served):
    _, base = served
    dom = chromium("--dump-dom", f"{base}/register/late_arrivals?vacancy=DRP")
    assert "Late arrivals" in dom and "DRP-0006" in dom and "Dan Late" in dom
    assert "DRP-0005" not in dom


def fetch(url: str) -> str:
    """A page as the server renders it, to follow its links without a browser launch."""
    with urllib.request.urlopen(url) as response:
        return response.read().decode("utf-8")


def test_a_document_and_a_notice_open_from_the_row(served):
    _, base = served
    page = fetch(f"{base}/register/applications?reference=DRP-0005")
    [document] = set(re.findall(r'href="(/-/intake/document/\d+/0)"', page))
    # Chromium hands a PDF to its viewer (an empty page of the viewer's colour); a refused
    # file would show as text instead.
    viewer = chromium("--dump-dom", base + document)
    assert "background-color:rgb(40,40,40)" in viewer.replace(" ", "") and "Not found" not in viewer
    with urllib.request.urlopen(base + document) as response:
        assert response.read().startswith(b"%PDF-")
    # The row's id leads to the submission, whose page links its notices.
    [row] = set(re.findall(r'href="(/register/submissions/\d+)"', page))
    [replies] = set(re.findall(r'href="(/register/replies\?submission_id=\d+)"',
                               fetch(base + row)))
    [notice] = set(re.findall(r'href="(/-/intake/notice/\d+)"', fetch(base + replies)))
    text = chromium("--dump-dom", base + notice)
    assert "DRP-0005" in text and "Chloé Dupont" in text


def shown(dom: str) -> str:
    """What a reader sees of a page: its text, without scripts, styles, folded details."""
    dom = re.sub(r"<(script|style|details)\b.*?</\1>", "", dom, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", dom))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def test_after_the_demo_the_card_of_drp_0003_tells_alice_s_application(demo):
    """The acceptance of the candidate card: the page of DRP-0003 as Chromium renders it."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = f"{demo}/register/submissions/4"
    chromium("--window-size=1100,1800", f"--screenshot={ARTIFACTS / 'review-card.png'}", page)
    text = shown(chromium("--dump-dom", page))
    for visible in ("Alice Martin", "DRP-0003", "accepted", "Alice Martin - application.pdf",
                    "10 June 2026 at 09:12 (Brussels time)"):
        assert visible in text, visible
    assert "Raw source" in text and "2026-06-10T07:12:00Z" not in text


def test_arbitrary_sql_is_refused_in_the_browser(demo):
    dom = chromium("--dump-dom", f"{demo}/register?sql=select+*+from+pragma_database_list")
    assert "Forbidden" in shown(dom) and "main" not in shown(dom)
    applications = shown(chromium("--dump-dom", f"{demo}/register/applications"))
    assert "2026-06-10 09:12:00 Brussels" in applications  # local time in the list too
