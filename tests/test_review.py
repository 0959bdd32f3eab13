"""The browser view's metadata and plugin: canned queries run on a real register, files stay fenced."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import sys
from pathlib import Path

import pytest

from intake_bot.recruiters.review import build_metadata, canned_queries, create_datasette, is_loopback
from tests.conftest import Project, run_cli
from tests.extras import need
from tests.filled import fill


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


def test_metadata_describes_every_column_there_is(filled):
    """A column added to the register without a description (or a stale one) fails here."""
    config = filled.config
    metadata = build_metadata(config)
    database = metadata["databases"]["register"]
    assert metadata["plugins"] == {"intake-bot": {"database": "register",
                                                  "documents": str(config.documents_path)}}
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

def get(project: Project, path: str):  # type: ignore[no-untyped-def]
    """A response from the browser view, served in process (no socket)."""
    need("datasette")
    datasette = create_datasette(project.config)
    return asyncio.run(datasette.client.get(path))


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
    db = sqlite3.connect(project.config.register_path)
    with db:
        db.execute("UPDATE submissions SET raw_path = ?, attachments = ? WHERE id = 3",
                   [str(secret), f'[{{"path": "{secret}", "type": "pdf"}}]'])
    db.close()
    assert get(project, "/-/intake/message/3").status_code == 404
    assert get(project, "/-/intake/document/3/0").status_code == 404
    linked = Path(project.config.documents_path / "files" / "link.pdf")
    linked.symlink_to(secret)  # a link inside the folder that leads out of it
    db = sqlite3.connect(project.config.register_path)
    with db:
        db.execute("UPDATE submissions SET raw_path = ? WHERE id = 3", [str(linked)])
    db.close()
    assert get(project, "/-/intake/message/3").status_code == 404
