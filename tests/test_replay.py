"""``intake-bot replay``: quarantined messages go back through the pipeline once fixed."""

from __future__ import annotations

import pytest

from intake_bot import pipeline
from intake_bot.documents import inspect_document
from intake_bot.pipeline import run_cycle
from intake_bot.replay import replay
from tests.conftest import brussels, run_cli
from tests.mail import application, blank_pdf
from tests.readback import notices, replies, rows

ON_TIME = brussels("2026-06-10T10:00:00")


def broken_inspector(data: bytes, **options):
    raise RuntimeError("inspector exploded")


def pdf_application(**kwargs) -> bytes:
    return application(attachments=[("cv.pdf", blank_pdf(2), "application/pdf")], **kwargs)


def invoke(project, *args: str) -> tuple[int, list[str]]:
    result = run_cli("--config", str(project.config_path), "replay", *args)
    return result.exit_code, result.output.splitlines()


def quarantine(project, *messages: bytes) -> list[dict]:
    for raw in messages:
        project.deliver(raw, ON_TIME)
    run_cycle(project.config, inspect=broken_inspector)
    return rows(project)


def test_replay_records_the_new_outcome_under_the_same_id_and_answers_once(project):
    raw = pdf_application(message_id="<q1@example.net>")
    [row] = quarantine(project, raw)
    assert row["status"] == "quarantined" and notices(project) == []
    code, lines = invoke(project, str(row["id"]))
    assert code == 0, lines
    assert lines == [(f"#{row['id']} <q1@example.net>: quarantined -> accepted DRP-0001 "
                      "(no reasons); notice sent"), "1 of 1 replayed"]
    [replayed] = rows(project)
    assert replayed["id"] == row["id"] and replayed["status"] == "accepted"
    assert replayed["moved_to"] == "Quarantine"  # where the message itself still is
    assert "was: RuntimeError: inspector exploded" in replayed["error"]
    assert replayed["document_pages"] == 2
    assert [r["status"] for r in replies(project)] == ["sent"] and len(notices(project)) == 1
    # Nothing more: replaying again, or the same message arriving again.
    assert invoke(project, str(row["id"]))[1][0].endswith("accepted, not quarantined: "
                                                          "nothing to replay")
    project.deliver(b"Received: by mx.example.org\r\n" + raw, ON_TIME)
    assert run_cycle(project.config).handled == 0
    assert len(notices(project)) == 1 and len(rows(project)) == 1


def test_replay_all(project):
    quarantine(project, pdf_application(), pdf_application(sender="Bob <bob@example.net>"))
    code, lines = invoke(project, "--all")
    assert code == 0 and lines[-1] == "2 of 2 replayed"
    assert [r["status"] for r in rows(project)] == ["accepted", "accepted"]
    assert len(notices(project)) == 2
    assert invoke(project, "--all") == (0, ["nothing to replay"])


def test_a_replay_that_breaks_again_stays_quarantined(project):
    [row] = quarantine(project, pdf_application())
    [outcome] = replay(project.config, [row["id"]], inspect=broken_inspector)
    assert not outcome.replayed
    [again] = rows(project)
    assert again["id"] == row["id"] and again["status"] == "quarantined"
    assert again["error"] == "RuntimeError: inspector exploded" and notices(project) == []
    assert invoke(project, "--all")[0] == 0


def test_a_message_the_parser_broke_on_gets_its_real_dedup_key(project, monkeypatch):
    def broken_parser(raw, **options):
        raise ValueError("parser bug")

    monkeypatch.setattr(pipeline, "parse_message", broken_parser)
    raw = pdf_application(message_id="<p1@example.net>")
    [row] = quarantine(project, raw)
    assert row["dedup_key"].startswith("sha256:")
    monkeypatch.undo()
    [outcome] = replay(project.config, [row["id"]], inspect=inspect_document)
    assert outcome.replayed
    assert rows(project)[0]["dedup_key"].startswith("<p1@example.net>|")
    project.deliver(raw, ON_TIME)  # delivered again: known, not registered or answered twice
    assert run_cycle(project.config).already_registered == 1
    assert len(rows(project)) == 1 and len(notices(project)) == 1


def test_a_later_application_from_the_same_candidate_stays_the_one_considered(project):
    [early] = quarantine(project, pdf_application(subject="Officer – Democratic Resilience "
                                                          "and Partnerships (first try)"))
    project.deliver(pdf_application(), brussels("2026-06-11T10:00:00"))
    run_cycle(project.config)
    replay(project.config, [early["id"]])
    replayed, later = rows(project)
    assert later["status"] == "accepted"
    assert replayed["status"] == "superseded" and replayed["superseded_by"] == later["id"]
    body = _notice_for(project, replayed)
    assert f"You sent a later application for this vacancy (reference {later['reference']})" \
        in body


def _notice_for(project, row) -> str:
    [reply] = [r for r in replies(project) if r["submission_id"] == row["id"]]
    [notice] = [n for n in notices(project) if n["Message-ID"] == reply["message_id"]]
    return notice.get_content()


@pytest.mark.parametrize("damage", ["missing", "changed"])
def test_a_damaged_archive_cannot_be_replayed(project, damage):
    [row] = quarantine(project, pdf_application())
    path = project.stored(row["raw_path"])
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(b"something else")
    code, lines = invoke(project, str(row["id"]))
    assert code == 1 and lines[0].startswith(f"#{row['id']}: cannot replay: archived message")
    assert rows(project)[0]["status"] == "quarantined"


def test_replay_needs_an_id_or_all(project):
    assert invoke(project)[0] == 2
    assert invoke(project, "1", "--all")[0] == 2
