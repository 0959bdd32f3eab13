"""The browser view's metadata and plugin: canned queries run on a real register, files stay fenced."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from intake_bot.pipeline import run_cycle
from intake_bot.recruiters.review import (
    build_metadata,
    canned_queries,
    check_listening,
    create_datasette,
    is_loopback,
)
from tests import clients
from tests.conftest import Project, brussels, run_cli
from tests.extras import need
from tests.filled import fill
from tests.mail import DRP_TITLE, application, blank_pdf


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return fill(tmp_path_factory.mktemp("review"))


def run_query(project: Project, name: str, **params: str) -> list[dict]:
    db = sqlite3.connect(project.config.register_path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(canned_queries(project.config)[name]["sql"],
                                                params)]
    finally:
        db.close()


def test_accepted_candidates_of_a_vacancy(filled):
    rows = run_query(filled, "accepted_candidates", vacancy="DRP")
    assert [row["reference"] for row in rows] == ["DRP-0003", "DRP-0004", "DRP-0005"]
    assert rows[2]["sender_name"] == "Chloé Dupont" and rows[2]["document_path"]


def test_rejections_by_reason(filled):
    rows = run_query(filled, "rejections_by_reason", vacancy="")
    assert rows == [
        {"reason": "late", "rejections": 1, "references": "DRP-0006"},
        {"reason": "multiple-attachments", "rejections": 1, "references": "DRP-0002"},
    ]
    assert run_query(filled, "rejections_by_reason", vacancy="SG") == []


def test_submissions_needing_review(filled):
    rows = run_query(filled, "needs_review", vacancy="")
    assert [(row["reference"], row["flags"]) for row in rows] == [("DRP-0003", '["no-text"]')]


def test_late_arrivals(filled):
    assert [row["reference"] for row in run_query(filled, "late_arrivals", vacancy="DRP")] == [
        "DRP-0006"]
    assert run_query(filled, "late_arrivals", vacancy="OLD") == []


def test_candidates_never_reached(project):
    project.deliver(application(attachments=[("cv.pdf", blank_pdf(), "application/pdf")]),
                    brussels("2026-06-10T10:00:00"))
    run_cycle(project.config)
    [notice] = project.notices()
    project.deliver(clients.postfix_dsn(notice.read_bytes(), "alice@example.net"),
                    brussels("2026-06-10T10:05:00"))
    run_cycle(project.config)
    [row] = run_query(project, "unreached_candidates", vacancy="DRP")
    assert (row["reference"], row["notice"], row["notice_status"], row["bounced_by"]) == (
        "DRP-0001", "acknowledgement", "bounced", 2)
    assert row["last_error"].startswith("550 5.1.1 <alice@example.net>")
    assert run_query(project, "unreached_candidates", vacancy="SG") == []


def test_metadata_describes_every_column_there_is(filled):
    """A column added to the register without a description (or a stale one) fails here."""
    config = filled.config
    metadata = build_metadata(config)
    database = metadata["databases"]["register"]
    assert metadata["plugins"] == {"intake-bot": {"database": "register",
                                                  "config": str(config.path),
                                                  "documents": str(config.documents_path)}}
    assert metadata["allow_sql"] is False and build_metadata(config, True)["allow_sql"] is True
    db = sqlite3.connect(config.register_path)
    try:
        for table, entry in database["tables"].items():
            if entry.get("hidden"):
                continue
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            assert sorted(entry["columns"]) == sorted(c for c in columns if c != "id"
                                                      or table in ("applications", "submissions"))
            for facet in entry.get("facets", []):
                assert (facet["array"] if isinstance(facet, dict) else facet) in columns
    finally:
        db.close()
    assert database["tables"]["applications"]["facets"] == [
        "vacancy_id", "status", {"array": "reasons"}, {"array": "flags"}]


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False),
                                            ("review.example.org", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_review_beyond_the_loopback_needs_a_proxy_in_front(filled):
    result = run_cli("--config", str(filled.config_path), "review", "--host", "0.0.0.0")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "intake-bot: error: review --host 0.0.0.0: refusing to listen beyond this machine "
        "without sign-in: keep 127.0.0.1 behind the organisation's sign-on proxy, or say that "
        "one stands in front of this address with --behind-proxy\n")
    check_listening("0.0.0.0", behind_proxy=True)  # the operator's word: no refusal
    check_listening("127.0.0.1", behind_proxy=False)


def test_review_without_datasette_says_which_extra(filled, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasette", None)
    result = run_cli("--config", str(filled.config_path), "review")
    assert result.exit_code == 1
    assert result.stderr == ("intake-bot: error: intake-bot review needs datasette, which is "
                             "not installed: pip install 'intake-bot[review]'\n")


def test_review_on_a_taken_port_fails_before_announcing_a_url(filled):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli("--config", str(filled.config_path), "review", "--port", str(port))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (f"intake-bot: error: cannot listen on 127.0.0.1:{port}: "
                             "Address already in use\n")


# -- the plugin, in process -------------------------------------------------------------

def get(project: Project, path: str, allow_sql: bool = False):  # type: ignore[no-untyped-def]
    """A response from the browser view, served in process (no socket)."""
    need("datasette")
    datasette = create_datasette(project.config, allow_sql)
    return asyncio.run(datasette.client.get(path))


def visible_text(html: str) -> str:
    """The page's text, as one line per block, without its markup."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "\n", text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def test_documents_open_from_their_row(filled):
    page = get(filled, "/register/applications?reference=DRP-0002")
    assert page.status_code == 200
    assert '<a href="/-/intake/document/3/0">open document</a>' in page.text
    # Two PDFs where one is asked for: rejected by the count, never opened, pages unknown.
    assert '<a href="/-/intake/document/3/1">Letter.pdf (pdf, ? p.)</a>' in page.text
    assert '<a href="/register/submissions/3">3</a>' in page.text
    document = get(filled, "/-/intake/document/3/1")
    assert document.status_code == 200 and document.content.startswith(b"%PDF-")
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"] == (
        "inline; filename=\"Letter.pdf\"; filename*=UTF-8''Letter.pdf")
    assert document.headers["cache-control"] == "no-store"
    assert document.headers["x-content-type-options"] == "nosniff"


def test_a_document_downloads_on_request(filled):
    document = get(filled, "/-/intake/document/3/1?download=1")
    assert document.headers["content-disposition"] == (
        "attachment; filename=\"Letter.pdf\"; filename*=UTF-8''Letter.pdf")


def test_the_candidate_card_reads_top_to_bottom(filled):
    """Alice's second application: who, for what, when, the decision in words, the document,
    the notice, her first application, the e-mail; then the raw columns, folded."""
    page = get(filled, "/register/submissions/4")
    assert page.status_code == 200
    card, _, columns = page.text.partition("<details>")
    text = visible_text(card.partition("<h2>Who</h2>")[2])
    expected = [
        "Alice Martin", "alice@example.net",
        "Officer – Democratic Resilience and Partnerships (DRP)", "DRP-0003",
        "11 June 2026 at 15:00 (Brussels time)",
        "12 June 2026 at 23:59 (Brussels time): received 33 hours before",
        "accepted\n: this application counts.",
        # The flag as the acknowledgement put it (reasons.toml), with what to do.
        "Your PDF contains no readable text (it looks like a scan), so we could not check its "
        "contents automatically.",
        "Scan again.pdf", "(PDF, 2 pages,",
        "acknowledgement", "to alice@example.net: sent",
        "Other applications from this candidate for this vacancy", "DRP-0001",
        "superseded, received 10 June 2026 at 10:00 (Brussels time), Scan.pdf",
        "Subject", f"Re: {DRP_TITLE}", "Raw source",
    ]
    positions = [text.find(piece) for piece in expected]
    assert -1 not in positions, [p for p, at in zip(expected, positions, strict=True) if at == -1]
    assert positions == sorted(positions)  # in the order a person tells it
    assert "dedup_key" in columns and "dedup_key" not in visible_text(card)


def test_a_rejection_on_the_card_gives_the_notice_s_words_and_the_fix(filled):
    text = visible_text(get(filled, "/register/submissions/7").text.partition("<details>")[0])
    assert "rejected\n: the candidate was told why, and how to put it right." in text
    assert ("Your application arrived after the deadline of 12 June 2026 at 23:59 (Brussels "
            "time).") in text
    assert "received 8 hours after, too late" in text


def with_second_document(folder: Path, change: Callable[[dict], None],
                         flags: str = "[]") -> Project:
    """A filled register in which ``change`` rewrites submission 3's second ``attachments``
    entry as the pipeline would have written it, and its ``flags`` are ``flags``."""
    project = fill(folder)
    db = sqlite3.connect(project.config.register_path)
    with db:
        [(attachments,)] = db.execute("SELECT attachments FROM submissions WHERE id = 3")
        entries = json.loads(attachments)
        change(entries[1])
        db.execute("UPDATE submissions SET attachments = ?, flags = ? WHERE id = 3",
                   [json.dumps(entries), flags])
    db.close()
    return project


def test_a_file_kept_apart_by_the_virus_scan_is_named_never_linked(tmp_path):
    project = with_second_document(tmp_path / "malware", lambda entry: entry.update(
        quarantine=entry.pop("path"), malware="Eicar-Test-Signature"))
    card = get(project, "/register/submissions/3").text.partition("<details>")[0]
    assert "kept apart: the virus scan found Eicar-Test-Signature" in visible_text(card)
    assert "/-/intake/document/3/0" in card and "/-/intake/document/3/1" not in card
    assert get(project, "/-/intake/document/3/1").status_code == 404


def test_the_card_says_what_active_content_a_pdf_holds(tmp_path):
    project = with_second_document(tmp_path / "active", lambda entry: entry.update(
        active_content=["JavaScript on open", "embedded files"]), flags='["active-content"]')
    text = visible_text(get(project, "/register/submissions/3").text.partition("<details>")[0])
    assert "A PDF holds active content: JavaScript on open, embedded files." in text
    assert "Open it in a viewer that runs no scripts" in text
    assert "holds JavaScript on open, embedded files" in text  # on the document's line


def test_lists_read_in_words_and_local_time(filled):
    page = get(filled, "/register/applications?status=rejected")
    assert page.status_code == 200
    # Brussels time for the eye, the register's UTC value and the code in the tooltips.
    assert ('<span title="2026-06-13T06:00:00Z UTC">2026-06-13 08:00:00 Brussels</span>'
            in page.text)
    assert ('<span title="late">Your application arrived after the deadline of 12 June 2026 '
            'at 23:59 (Brussels time).</span>') in page.text
    assert 'id="facet-reasons"' in page.text  # the facets still count by code
    assert "reasons__arraycontains=late" in page.text
    query = get(filled, "/register/late_arrivals?vacancy=DRP")
    assert "2026-06-13 08:00:00 Brussels" in query.text and "arrived after the deadline" in query.text


# -- safe by default ------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/register?sql=select+*+from+pragma_database_list",
    "/register.json?sql=select+1",
    "/register/applications?_where=1%3D1",
])
def test_arbitrary_sql_is_refused(filled, path):
    assert get(filled, path).status_code == 403


def test_arbitrary_sql_runs_when_the_operator_allows_it(filled):
    page = get(filled, "/register.json?sql=select+count(*)+as+n+from+submissions&_shape=array",
               allow_sql=True)
    assert page.status_code == 200 and page.json() == [{"n": 9}]


@pytest.mark.parametrize("path", ["/-/metadata.json", "/-/databases.json", "/-/settings.json",
                                  "/-/plugins.json", "/-/threads", "/-/metadata", "/-/databases"])
def test_pages_of_server_paths_and_settings_are_not_served(filled, path):
    assert get(filled, path).status_code == 404


@pytest.mark.parametrize("path", [
    "/", "/register", "/register/applications", "/register/submissions",
    "/register/submissions/4", "/register/replies", "/register/accepted_candidates?vacancy=DRP",
    "/register/submissions/999", "/register/nope", "/register/applications?_sort=nope",
])
def test_no_page_shows_a_server_path(filled, path):
    page = get(filled, path)
    assert str(filled.root) not in page.text and str(filled.root.resolve()) not in page.text


def test_messages_and_notices_open_as_text(filled):
    message = get(filled, "/-/intake/message/3")
    assert message.status_code == 200 and message.headers["content-type"].startswith("text/plain")
    assert "From: Bob Stone <bob@example.net>" in message.text
    replies = get(filled, "/register/replies?submission_id=3")
    assert '<a href="/-/intake/notice/' in replies.text
    notice = get(filled, "/-/intake/notice/3")
    assert notice.status_code == 200 and "DRP-0002" in notice.text


@pytest.mark.parametrize("path, status", [
    ("/-/intake/document/3/2", 404), ("/-/intake/document/99/0", 404),
    ("/-/intake/message/99", 404), ("/-/intake/notice/99", 404),
    ("/-/intake/document/8/0", 404),                # an unmatched message has no document
    ("/-/intake/document/..%2F..%2Fetc/0", 302),    # no route takes a path: Datasette's redirect
])
def test_anything_else_is_not_served(filled, path, status):
    assert get(filled, path).status_code == status


def test_a_path_outside_the_documents_is_never_served(tmp_path):
    project = fill(tmp_path / "tampered")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")
    escape = "../" * len(project.config.documents_path.resolve().relative_to(tmp_path).parts)
    linked = project.stored("files/link.pdf")
    linked.symlink_to(secret)  # a link inside the folder that leads out of it
    # As a hand-edited register could name it: absolute, relative with ../, or by the link.
    for name in (str(secret), escape + secret.name, "files/link.pdf"):
        db = sqlite3.connect(project.config.register_path)
        with db:
            db.execute("UPDATE submissions SET raw_path = ?, attachments = ? WHERE id = 3",
                       [name, json.dumps([{"path": name, "type": "pdf"}])])
        db.close()
        assert get(project, "/-/intake/message/3").status_code == 404, name
        assert get(project, "/-/intake/document/3/0").status_code == 404, name
        card = get(project, "/register/submissions/3")
        assert card.status_code == 200 and "not for the browser" not in card.text, name
