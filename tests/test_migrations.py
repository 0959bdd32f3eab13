"""A register in the field has an older schema: every older schema migrates, keeping its rows.

For each migration, a register is made at the schema just before it (sqlite-utils'
``stop_before``) and filled with a row of every table as the bot of that time wrote it;
then the bot opens it. The migrated register must hold the same rows, have exactly the
schema of a new register, and go on working: the next cycle numbers after the old rows.
New migrations are covered as soon as they are registered. Rows from before
``m009_relative_paths`` name their files by absolute paths, as the bot then did: they must
come out named under the documents folder, and still open.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from intake_bot.pipeline import run_cycle
from intake_bot.register import Register, migrations
from tests.conftest import NOW, brussels, run_cli, write_project
from tests.mail import DRP_TITLE, application, blank_pdf
from tests.readback import rows

MIGRATIONS = [migration.name for migration in migrations.pending(Database(memory=True))]
#: The migration from which the register names files under the documents folder.
RELATIVE_PATHS = "m009_relative_paths"

DOCUMENT = f"files/cd/{'cd' * 32}.pdf"
RAW = f"raw/ab/{'ab' * 32}.eml"
KEPT_APART = f"quarantine/ef/{'ef' * 32}.quarantined"


def attachments(folder: str) -> str:
    """The ``attachments`` of the row, its files in ``folder``; one file lies in no layout of
    the archive's (hand-edited), so no migration may touch its path."""
    return json.dumps([{"name": "Application.pdf", "path": folder + DOCUMENT},
                       {"name": "virus.pdf", "quarantine": folder + KEPT_APART},
                       {"name": "notes.pdf", "path": "/srv/elsewhere/notes.pdf"}])


#: The file columns as the bot wrote them before RELATIVE_PATHS: absolute paths.
ABSOLUTE_PATHS = {"document_path": "/srv/documents/" + DOCUMENT,
                  "raw_path": "/srv/documents/" + RAW,
                  "attachments": attachments("/srv/documents/")}

#: One plausible row per table, every column the register has had; each older schema takes
#: the columns it has (columns that later migrations add take their defaults).
ROWS: dict[str, dict[str, Any]] = {
    "submissions": {
        "id": 1, "reference": "DRP-0001", "vacancy_seq": 1, "message_id": "<old@example.net>",
        "dedup_key": "<old@example.net>|abc", "raw_sha256": "ab" * 32,
        "received_at": "2026-06-10T08:00:00Z", "registered_at": "2026-06-10T08:00:05Z",
        "sender": "alice@example.net", "sender_name": "Alice Martin",
        "reply_to": "alice@example.net", "subject": DRP_TITLE, "vacancy_id": "DRP",
        "status": "accepted", "reasons": "[]", "flags": '["no-text"]',
        "document_path": DOCUMENT, "document_sha256": "cd" * 32,
        "document_bytes": 1048, "document_pages": 1, "document_name": "Application.pdf",
        "document_type": "pdf", "attachments": attachments(""),
        "raw_path": RAW, "raw_bytes": 2048,
        "mailbox_key": "imap:1:1", "language": "en", "moved_to": "Processed",
    },
    "replies": {
        "id": 1, "submission_id": 1, "kind": "acknowledgement", "recipient": "Alice@Example.net",
        "message_id": "<n1.intake@example.org>", "status": "sent", "attempts": 1,
        "sent_at": "2026-06-10T08:00:06Z", "created_at": "2026-06-10T08:00:05Z",
        "subject": "Your application", "content": b"Subject: Your application\r\n\r\nThanks\r\n",
    },
    "purges": {
        "id": 1, "purged_at": "2026-06-01T00:00:00Z", "actor": "ann", "command": "purge",
        "criteria": "{}", "submissions": 0,
    },
    "digests": {
        "id": 1, "sent_at": "2026-06-10T06:00:00Z", "last_submission_id": 0,
        "recipients": "hr@example.org", "subject": "intake-bot digest",
    },
}


def columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def schema(path: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        db.close()


def old_register(path: Path, before: str) -> dict[str, dict[str, Any]]:
    """A register at the schema just before migration ``before``, with a row per table.

    Returns the rows as the migrated register must hold them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(str(path))
    migrations.apply(db, stop_before=before)
    absolute = MIGRATIONS.index(before) <= MIGRATIONS.index(RELATIVE_PATHS)
    expected: dict[str, dict[str, Any]] = {}
    for table, row in ROWS.items():
        if table in db.table_names():
            present = set(columns(db.conn, table))
            expected[table] = {key: value for key, value in row.items() if key in present}
            written = {**row, **ABSOLUTE_PATHS} if absolute and table == "submissions" else row
            db[table].insert({key: value for key, value in written.items() if key in present})
    db.close()
    return expected


@pytest.mark.parametrize("before", MIGRATIONS[1:])
def test_an_older_register_migrates_keeping_every_row(tmp_path, before):
    old = tmp_path / "old.db"
    written = old_register(old, before)
    Register(old).close()
    Register(tmp_path / "new.db").close()
    assert schema(old) == schema(tmp_path / "new.db")
    db = sqlite3.connect(old)
    db.row_factory = sqlite3.Row
    try:
        for table, row in written.items():
            [stored] = db.execute(f"SELECT * FROM {table}").fetchall()
            assert {key: stored[key] for key in row} == row
        assert {name for (name,) in db.execute("SELECT name FROM _sqlite_migrations")} == set(MIGRATIONS)
    finally:
        db.close()


@pytest.mark.parametrize("before", MIGRATIONS[1:])
def test_the_bot_goes_on_from_an_older_register(tmp_path, before):
    project = write_project(tmp_path / "project")
    old_register(project.config.register_path, before)
    project.deliver(application(subject=DRP_TITLE, sender="Bob <bob@example.net>",
                                attachments=[("CV.pdf", blank_pdf(), "application/pdf")]),
                    brussels("2026-06-11T10:00:00"))
    summary = run_cycle(project.config, clock=lambda: NOW)
    assert summary.handled == 1 and summary.sent == 1
    register = Register(project.config.register_path)
    try:
        [new_id] = summary.registered
        assert register.submission(new_id)["reference"] == "DRP-0002"
        assert register.submission(1)["reference"] == "DRP-0001"
    finally:
        register.close()


def test_every_migration_is_covered():
    assert MIGRATIONS[0] == "m001_initial" and len(MIGRATIONS) >= 4


def test_files_named_by_absolute_paths_come_out_relative_and_still_open(tmp_path):
    """A register the bot filled before RELATIVE_PATHS, on real files: once migrated, every
    file is named under the documents folder, checks sound, and opens in the browser view."""
    from tests.test_review import get

    project = write_project(tmp_path / "project")
    project.deliver(application(subject=DRP_TITLE, attachments=[
        ("CV.pdf", blank_pdf(), "application/pdf")]), brussels("2026-06-11T10:00:00"))
    run_cycle(project.config, clock=lambda: NOW)
    [relative] = rows(project)
    root = f"{project.config.documents_path.resolve()}/"
    db = sqlite3.connect(project.config.register_path)
    with db:  # as the bot of before wrote them
        db.execute("UPDATE submissions SET raw_path = ? || raw_path, "
                   "document_path = ? || document_path, "
                   "attachments = replace(attachments, '\"path\": \"', '\"path\": \"' || ?)",
                   [root, root, root])
        db.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [RELATIVE_PATHS])
    db.close()
    [absolute] = rows(project)
    assert absolute["raw_path"] == root + relative["raw_path"]
    assert json.loads(absolute["attachments"])[0]["path"] == root + relative["document_path"]
    Register(project.config.register_path).close()
    assert rows(project) == [relative]
    check = run_cli("--config", str(project.config_path), "register", "check")
    assert check.exit_code == 0 and check.output.endswith("register OK\n")
    document = get(project, f"/-/intake/document/{relative['id']}/0")
    assert document.status_code == 200 and document.content == blank_pdf()
