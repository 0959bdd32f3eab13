"""Retention: a purge deletes files, blanks personal columns, keeps the counts, writes an audit row."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from intake_bot.lock import cycle_lock
from intake_bot.recruiters.housekeeping import after_cycle
from intake_bot.recruiters.purge import SERVICE_ACTOR, Criteria, apply_retention, purge
from intake_bot.recruiters.stats import register_stats
from intake_bot.register import Register
from tests.conftest import Project
from tests.filled import NOW, fill, invoke

PERSONAL = ("sender", "sender_name", "reply_to", "subject", "message_id", "document_name",
            "document_path", "document_sha256", "raw_path", "error")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return fill(tmp_path / "project")


def query(project: Project, sql: str, *params: object) -> list[dict]:
    db = sqlite3.connect(project.config.register_path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(sql, params)]
    finally:
        db.close()


def files_of(project: Project, rows: list[dict]) -> set[Path]:
    return {project.stored(p) for row in rows
            for p in (row["document_path"], row["raw_path"],
                      *(a["path"] for a in json.loads(row["attachments"]))) if p}


def counts(project: Project) -> list[tuple]:
    """The anonymous facts that must survive a purge."""
    return [(row["id"], row["reference"], row["vacancy_id"], row["status"], row["reasons"],
             row["flags"], row["received_at"], row["document_pages"], row["document_type"])
            for row in query(project, "SELECT * FROM submissions ORDER BY id")]


def test_purge_of_a_closed_vacancy(project):
    drp = query(project, "SELECT * FROM submissions WHERE vacancy_id = 'DRP'")
    others = query(project, "SELECT * FROM submissions WHERE vacancy_id IS NOT 'DRP'")
    drp_files, other_files = files_of(project, drp), files_of(project, others)
    shared = drp_files & other_files  # the letter PDF that SG and OLD also sent
    assert shared and all(path.exists() for path in drp_files)
    gone = drp_files - shared
    size = sum(path.stat().st_size for path in gone)
    before = counts(project)
    stats_before = register_stats(project.config, Register(project.config.register_path), NOW)

    code, out, err = invoke(project, "register", "purge", "--vacancy", "DRP", "--yes")

    assert code == 0, err
    assert out.splitlines()[0] == ("submissions: DRP-0001 DRP-0002 DRP-0003 DRP-0004 "
                                   "DRP-0005 DRP-0006")
    assert out.splitlines()[-1] == (
        f"purged 6 submissions, 6 notices, {len(gone)} files ({size:,} bytes); 1 file kept "
        "(named by a submission that stays, or outside the documents folder); audit #1")
    assert not any(path.exists() for path in gone)
    assert all(path.exists() for path in shared) and all(p.exists() for p in other_files)
    assert counts(project) == before
    for row in query(project, "SELECT * FROM submissions WHERE vacancy_id = 'DRP'"):
        assert all(row[column] is None for column in PERSONAL), row
        assert row["purged_at"] and row["dedup_key"] == f"purged:{row['id']}"
        assert all(set(entry) == {"type", "bytes", "pages"}
                   for entry in json.loads(row["attachments"]))
    for reply in query(project, "SELECT r.* FROM replies r JOIN submissions s ON "
                                "s.id = r.submission_id WHERE s.vacancy_id = 'DRP'"):
        assert reply["recipient"] == reply["recipient_key"] == reply["recipient_domain"] == ""
        assert reply["content"] == b""
    [other] = query(project, "SELECT * FROM submissions WHERE reference = 'SG-0001'")
    assert other["sender"] == "grace@example.net" and other["purged_at"] is None

    [audit] = query(project, "SELECT * FROM purges")
    assert audit["command"] == "intake-bot register purge" and audit["actor"]
    assert json.loads(audit["criteria"]) == {"vacancy": "DRP", "before": None}
    assert (audit["submissions"], audit["replies"]) == (6, 6)
    assert audit["files_deleted"] == len(gone) and audit["files_kept"] == len(shared)
    assert audit["bytes_deleted"] == size

    stats_after = register_stats(project.config, Register(project.config.register_path), NOW)
    drp_before, drp_after = stats_before[0], stats_after[0]
    assert drp_after.statuses == drp_before.statuses and drp_after.reasons == drp_before.reasons
    assert drp_after.flags == drp_before.flags and drp_after.arrivals == drp_before.arrivals
    assert drp_after.purged == 6

    # Nothing is left to purge, and a purge that takes nothing leaves no audit row.
    code, out, _ = invoke(project, "register", "purge", "--vacancy", "DRP", "--yes")
    assert code == 0 and out == "nothing to purge\n"
    assert len(query(project, "SELECT * FROM purges")) == 1


def test_dry_run_shows_what_would_go_and_changes_nothing(project):
    before = query(project, "SELECT * FROM submissions ORDER BY id")
    code, out, _ = invoke(project, "register", "purge", "--vacancy", "OLD", "--dry-run")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "submissions: OLD-0001"
    assert lines[1].startswith("delete: raw/") and lines[1].endswith(".eml")
    assert lines[2].startswith("keep:   ") and lines[2].endswith(".pdf")  # the letter SG also sent
    assert lines[-1].startswith("would purge 1 submission, 1 notice, 1 file (")
    assert lines[-1].endswith("bytes); 1 file kept (named by a submission that stays, or "
                              "outside the documents folder)")
    assert query(project, "SELECT * FROM submissions ORDER BY id") == before
    assert query(project, "SELECT * FROM purges") == []


def test_purge_before_a_date_keeps_a_file_another_submission_still_names(project):
    [first] = query(project, "SELECT * FROM submissions WHERE reference = 'DRP-0001'")
    [second] = query(project, "SELECT * FROM submissions WHERE reference = 'DRP-0003'")
    assert first["document_path"] == second["document_path"]  # Alice sent the same scan twice
    code, out, _ = invoke(project, "register", "purge", "--before", "2026-06-11", "--yes")
    assert code == 0 and "submissions: OLD-0001 DRP-0001" in out
    assert project.stored(second["document_path"]).exists()
    assert not project.stored(first["raw_path"]).exists()
    assert query(project, "SELECT sender FROM submissions WHERE reference = 'DRP-0003'") == [
        {"sender": "alice@example.net"}]


def test_a_file_outside_the_documents_folder_is_never_deleted(project, tmp_path):
    outside = tmp_path / "not-ours.eml"
    outside.write_bytes(b"keep me")
    escape = "../" * len(project.config.documents_path.resolve().relative_to(tmp_path).parts)
    link = project.stored("files/link.pdf")
    link.symlink_to(outside)  # a link inside the folder that leads out of it
    db = sqlite3.connect(project.config.register_path)
    with db:  # as a hand-edited register could name them: relative, absolute, linked
        db.execute("UPDATE submissions SET raw_path = ?, document_path = ?, attachments = ? "
                   "WHERE reference = 'OLD-0001'",
                   [escape + outside.name, str(outside), '[{"path": "files/link.pdf"}]'])
    db.close()
    code, out, _ = invoke(project, "register", "purge", "--vacancy", "OLD", "--yes")
    assert code == 0 and outside.read_bytes() == b"keep me" and link.is_symlink()
    assert {line for line in out.splitlines() if line.startswith("keep:")} == {
        f"keep:   {escape}{outside.name}", f"keep:   {outside}", "keep:   files/link.pdf"}


@pytest.mark.parametrize("args, message, exit_code", [
    ([], "say what to purge: --vacancy ID, --before DATE, or both", 1),
    (["--vacancy", "SG"], ("vacancy SG is still open (applications are still coming in); "
                           "purge it after its deadline"), 1),
    (["--vacancy", "NOPE"], "unknown vacancy 'NOPE' (configured: DRP, SG, OLD)", 2),
])
def test_purge_refusals_are_one_line(project, args, message, exit_code):
    code, _, err = invoke(project, "register", "purge", "--yes", *args)
    assert code == exit_code and err == f"intake-bot: error: {message}\n"


def test_purge_asks_before_it_deletes(project):
    code, out, _ = invoke(project, "register", "purge", "--vacancy", "OLD", input="n\n")
    assert code == 1 and "Purge 1 submissions for good? [y/N]" in out
    assert query(project, "SELECT purged_at FROM submissions WHERE vacancy_id = 'OLD'") == [
        {"purged_at": None}]


def test_retention_purges_a_vacancy_once_its_days_have_passed(project):
    config = project.config
    register = Register(config.register_path)
    try:
        # OLD closed on 31 January 2025 and keeps its data 30 days: until 2 March 2025.
        assert apply_retention(config, register, dt.datetime(2025, 3, 2, 22, 59, tzinfo=dt.UTC)) == []
        [outcome] = apply_retention(config, register, NOW)
        assert outcome.references == ["OLD-0001"] and outcome.audit_id is not None
        assert apply_retention(config, register, NOW) == []  # nothing left: no new audit row
    finally:
        register.close()
    [audit] = query(project, "SELECT * FROM purges")
    assert audit["actor"] == SERVICE_ACTOR
    assert audit["command"] == "retention: 30 days after the deadline"
    assert query(project, "SELECT sender FROM submissions WHERE vacancy_id = 'DRP' "
                          "AND sender IS NULL") == []  # DRP has no retention_days: kept


def test_the_service_applies_retention_after_each_cycle(project):
    purged, digest = after_cycle(project.config, NOW)
    assert [outcome.references for outcome in purged] == [["OLD-0001"]] and digest is None
    assert after_cycle(project.config, NOW) == ([], None)


def test_a_purge_never_runs_beside_a_cycle(project):
    """A cycle stores documents before it records them: a purge beside it could delete one."""
    drp = query(project, "SELECT * FROM submissions WHERE vacancy_id = 'DRP'")
    with cycle_lock(project.config.register_path):  # as a cycle in another process holds it
        code, out, err = invoke(project, "register", "purge", "--vacancy", "DRP", "--yes")
        assert after_cycle(project.config, NOW) == ([], None)  # retention waits too
    assert code == 1
    assert err.endswith("another intake-bot cycle is running on this register; "
                        "try again when it ends\n")
    assert all(path.exists() for path in files_of(project, drp))
    assert query(project, "SELECT * FROM purges") == []
    [outcome], _ = after_cycle(project.config, NOW)  # the next cycle's retention goes ahead
    assert outcome.references == ["OLD-0001"]


def test_purge_of_the_library_takes_both_criteria_together(project):
    register = Register(project.config.register_path)
    try:
        outcome = purge(project.config, register,
                        Criteria("DRP", dt.datetime(2026, 6, 12, tzinfo=dt.UTC)),
                        actor="test", command="test", now=NOW)
    finally:
        register.close()
    assert outcome.references == ["DRP-0001", "DRP-0002", "DRP-0003"]
