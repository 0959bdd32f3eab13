"""``intake-bot register check``: a sound register passes; damage is named, one line each."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from intake_bot.lock import cycle_lock
from intake_bot.pipeline import run_cycle
from intake_bot.register import RegisterError
from tests.conftest import brussels, run_cli
from tests.mail import application, blank_pdf
from tests.readback import rows

ON_TIME = brussels("2026-06-10T10:00:00")


def check(project) -> tuple[int, list[str]]:
    result = run_cli("--config", str(project.config_path), "register", "check")
    return result.exit_code, result.output.splitlines()


def registered(project) -> list[dict]:
    project.deliver(application(attachments=[("cv.pdf", blank_pdf(2), "application/pdf")]),
                    ON_TIME)
    project.deliver(application(sender="Bob <bob@example.net>", subject="Which job?"), ON_TIME)
    run_cycle(project.config)
    return rows(project)


def test_a_sound_register_passes(project):
    registered(project)
    code, lines = check(project)
    assert code == 0, lines
    assert "submissions: 2; notices: 2 (2 sent)" in lines
    assert any(line.startswith("files: 2 raw messages and 1 documents checked") for line in lines)
    assert lines[-1] == "register OK"


def test_missing_and_changed_files_are_each_one_problem_line(project):
    accepted, unmatched = registered(project)
    document = json.loads(accepted["attachments"])[0]["path"]
    with open(project.stored(document), "ab") as handle:
        handle.write(b"tampered")
    project.stored(unmatched["raw_path"]).unlink()
    code, lines = check(project)
    assert code == 1
    problems = [line for line in lines if line.startswith("problem: ")]
    now = hashlib.sha256(project.stored(document).read_bytes()).hexdigest()
    assert problems == [
        (f"problem: submission {accepted['id']}: document {document} has changed "
         f"(SHA-256 {now[:12]}…, recorded {accepted['document_sha256'][:12]}…)"),
        f"problem: submission {unmatched['id']}: raw message {unmatched['raw_path']} is missing",
    ]
    assert lines[-1] == "2 problems found"


@pytest.mark.parametrize("how", ["absolute", "relative", "link"])
def test_a_path_outside_the_documents_folder_is_a_problem(project, tmp_path, how):
    """However a hand-edited row names a file outside: an absolute path, ``../``, a link."""
    [accepted, _] = registered(project)
    elsewhere = tmp_path / "elsewhere.eml"
    elsewhere.write_bytes(b"x")
    documents = project.config.documents_path.resolve()
    name = {"absolute": str(elsewhere),
            "relative": "../" * len(documents.relative_to(tmp_path).parts) + elsewhere.name,
            "link": "raw/link.eml"}[how]
    project.stored("raw/link.eml").symlink_to(elsewhere)
    db = sqlite3.connect(project.config.register_path)
    with db:
        db.execute("UPDATE submissions SET raw_path = ? WHERE id = ?", [name, accepted["id"]])
    db.close()
    code, lines = check(project)
    assert code == 1 and f"problem: submission {accepted['id']}: raw message {name} is " \
        "outside the documents folder" in lines


def test_the_register_names_files_under_the_documents_folder_so_it_can_move(project, tmp_path):
    """Moving the documents folder takes a change of ``[register] documents``, nothing else."""
    registered(project)
    moved = tmp_path / "elsewhere" / "documents"
    moved.parent.mkdir()
    project.config.documents_path.rename(moved)
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text.replace('documents = "../var/documents"',
                                                f'documents = "{moved}"'), encoding="utf-8")
    code, lines = check(project)
    assert code == 0 and lines[-1] == "register OK", lines


def test_a_broken_foreign_key_is_a_problem(project):
    registered(project)
    db = sqlite3.connect(project.config.register_path)
    with db:
        db.execute("UPDATE replies SET submission_id = 999 WHERE id = 1")
    db.close()
    code, lines = check(project)
    assert code == 1 and "row 1 points to a missing submissions row" in "\n".join(lines)


def test_a_corrupted_database_file_is_a_problem_not_a_traceback(project):
    registered(project)
    path = project.config.register_path
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xde\xad\xbe\xef" * 1024  # the second page, inside a table's b-tree
    path.write_bytes(bytes(data))
    code, lines = check(project)
    assert code == 1
    assert any(line.startswith(f"problem: {path}:") for line in lines), lines


def test_a_missing_register_is_a_problem(project):
    code, lines = check(project)
    assert code == 1 and f"problem: {project.config.register_path}: the register does not " \
        "exist" in lines


def test_one_cycle_at_a_time_per_register(project):
    with cycle_lock(project.config.register_path), \
            pytest.raises(RegisterError, match="another intake-bot cycle is running"):
        run_cycle(project.config)
    run_cycle(project.config)  # the lock is released with its holder
