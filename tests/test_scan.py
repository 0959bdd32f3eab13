"""Virus scanning in the cycle, with a real clamd (tests/clamav.py): verdicts, apartness, outages."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from intake_bot.config import Config
from intake_bot.pipeline import run_cycle
from intake_bot.replay import replay
from intake_bot.scan import Clamd, SignatureWatch, check_clamd
from tests.builders import make_active_pdf, make_application_pdf, make_marked_pdf
from tests.clamav import (
    DATABASE_VERSION,
    EICAR,
    EICAR_SIGNATURE,
    MARKER,
    MARKER_SIGNATURE,
    STREAM_MAX_BYTES,
)
from tests.conftest import NOW, brussels, run_cli
from tests.mail import application
from tests.readback import notices, rows

pytestmark = pytest.mark.servers
ON_TIME = brussels("2026-06-10T10:00:00")
INFECTED = make_marked_pdf(MARKER)


def scanning(project, clamd, **keys: object) -> Config:
    """Write ``[scan]`` into the project's configuration file, ``clamd`` set to the test
    clamd (a :class:`~tests.clamav.ClamdServer` or a ``unix:``/``tcp://`` address), and load it.
    """
    address = clamd if isinstance(clamd, str) else clamd.address()
    lines = [f'clamd = "{address}"', *(f"{key} = {value}" for key, value in keys.items())]
    with project.config_path.open("a", encoding="utf-8") as config:
        config.write("\n[scan]\n" + "\n".join(lines) + "\n")
    return project.config


def cycle(config: Config):
    return run_cycle(config, clock=lambda: NOW)


def sent_with(*attachments: tuple[str, bytes], **kwargs) -> bytes:
    return application(attachments=[(name, data, "application/pdf") for name, data in attachments],
                       **kwargs)


def files_recruiters_open(project) -> list[Path]:
    """Every file under the documents folder except its quarantine."""
    documents = project.config.documents_path
    return [path for path in documents.rglob("*")
            if path.is_file() and not path.is_relative_to(documents / "quarantine")]


def test_a_clean_application_is_accepted_as_without_scanning(project, running_clamd):
    project.deliver(sent_with(("Application.pdf", make_application_pdf())), ON_TIME)
    summary = cycle(scanning(project, running_clamd))
    [row] = rows(project)
    assert (row["status"], json.loads(row["reasons"]), json.loads(row["malware"])) == (
        "accepted", [], [])
    assert row["document_path"].startswith("files/")
    assert summary.unscanned == 0 and project.inbox() == []


def test_a_pdf_with_the_test_signature_is_rejected_and_kept_apart(project, running_clamd):
    project.deliver(sent_with(("CV.pdf", INFECTED), message_id="<infected@example.net>"), ON_TIME)
    summary = cycle(scanning(project, running_clamd))
    [row] = rows(project)
    assert (row["status"], json.loads(row["reasons"])) == ("rejected", ["malware"])
    assert json.loads(row["malware"]) == [MARKER_SIGNATURE]
    assert row["document_path"] is None and row["document_name"] == "CV.pdf"
    [entry] = json.loads(row["attachments"])
    assert "path" not in entry and entry["malware"] == MARKER_SIGNATURE
    assert entry["quarantine"].startswith("quarantine/")
    kept = project.stored(entry["quarantine"])
    assert kept.read_bytes() == INFECTED and kept.suffix == ".quarantined"
    assert kept.parent.parent == project.config.documents_path / "quarantine"
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    assert not [path for path in files_recruiters_open(project) if INFECTED in path.read_bytes()]
    [notice] = notices(project)
    body = notice.get_content()
    assert "virus scanner found harmful content" in body and "clean copy" in body
    assert MARKER_SIGNATURE not in body and "IntakeBot" not in body
    assert summary.reasons == {"malware": 1} and project.folder("Processed")


@pytest.mark.parametrize("client", ["outlook winmail.dat", "thunderbird forwarded"])
def test_a_file_inside_winmail_dat_or_a_forwarded_message_is_scanned_too(project,
                                                                         running_clamd, client):
    from tests.clients import outlook_rich_text, thunderbird

    if client == "outlook winmail.dat":
        raw = outlook_rich_text([("CV.pdf", INFECTED)])
    else:
        raw = thunderbird(b"", forwarded=sent_with(("CV.pdf", INFECTED)))
    project.deliver(raw, ON_TIME)
    cycle(scanning(project, running_clamd))
    [row] = rows(project)
    assert (row["status"], json.loads(row["reasons"])) == ("rejected", ["malware"])
    assert json.loads(row["malware"]) == [MARKER_SIGNATURE] and row["document_name"] == "CV.pdf"
    assert not [path for path in files_recruiters_open(project) if INFECTED in path.read_bytes()]


def test_the_eicar_file_beside_a_clean_pdf_takes_both_apart(project, running_clamd):
    clean = make_application_pdf()
    project.deliver(sent_with(("Application.pdf", clean), ("notes.pdf", EICAR)), ON_TIME)
    cycle(scanning(project, running_clamd))
    [row] = rows(project)
    # The count rule would say multiple-attachments; malware moots what the files got wrong.
    assert (row["status"], json.loads(row["reasons"])) == ("rejected", ["malware"])
    assert json.loads(row["malware"]) == [EICAR_SIGNATURE]
    entries = json.loads(row["attachments"])
    assert [entry.get("malware") for entry in entries] == [None, EICAR_SIGNATURE]
    assert all("path" not in entry and "quarantine" in entry for entry in entries)
    assert files_recruiters_open(project) == [project.stored(row["raw_path"])]


def test_a_pdf_with_a_javascript_open_action_is_accepted_and_flagged(project, running_clamd):
    project.deliver(sent_with(("Application.pdf", make_active_pdf("javascript-on-open"))),
                    ON_TIME)
    cycle(scanning(project, running_clamd))
    [row] = rows(project)
    assert (row["status"], json.loads(row["flags"])) == ("accepted", ["active-content"])
    [entry] = json.loads(row["attachments"])
    assert entry["active_content"] == ["JavaScript on open"] and "path" in entry
    # A flag for recruiters: the candidate's acknowledgement has nothing to fix.
    body = notices(project)[0].get_content()
    assert "could not find everything" not in body and "JavaScript" not in body


def test_with_clamd_stopped_messages_stay_in_the_inbox_until_it_is_back(project, running_clamd,
                                                                         caplog):
    project.deliver(sent_with(("Application.pdf", make_application_pdf())), ON_TIME)
    project.deliver(sent_with(("CV.pdf", INFECTED), sender="bob@example.net"), ON_TIME)
    project.deliver(application(sender="carol@example.net"), ON_TIME)  # nothing to scan
    config = scanning(project, running_clamd)
    running_clamd.stop()
    with caplog.at_level(logging.WARNING, logger="intake_bot"):
        summary = cycle(config)
    # The message without attachments needs no scan; the others are not decided at all.
    assert [(row["sender"], row["status"]) for row in rows(project)] == [
        ("carol@example.net", "rejected")]
    assert summary.unscanned == 2 and len(project.inbox()) == 2
    assert "cannot connect" in str(summary.scan_unavailable)
    assert "2 left in the inbox unscanned" in summary.line()
    assert len([r for r in caplog.records if "stay in the inbox" in r.getMessage()]) == 1
    assert not list((config.documents_path / "files").rglob("*.pdf"))
    running_clamd.start()
    again = cycle(config)
    assert again.unscanned == 0 and project.inbox() == []
    assert sorted((row["sender"], row["status"]) for row in rows(project)) == [
        ("alice@example.net", "accepted"), ("bob@example.net", "rejected"),
        ("carol@example.net", "rejected")]


def test_a_hung_clamd_costs_one_time_out_per_cycle_and_passes_nothing(project, running_clamd,
                                                                      caplog):
    for number in range(3):
        project.deliver(sent_with(("CV.pdf", INFECTED), sender=f"c{number}@example.net"), ON_TIME)
    config = scanning(project, running_clamd, timeout_seconds=1)
    running_clamd.pause()
    try:
        with caplog.at_level(logging.WARNING, logger="intake_bot"):
            summary = cycle(config)
    finally:
        running_clamd.resume()
    assert summary.unscanned == 3 and rows(project) == [] and len(project.inbox()) == 3
    warnings = [r.getMessage() for r in caplog.records if "stay in the inbox" in r.getMessage()]
    assert len(warnings) == 1 and "timed out after 1 s" in warnings[0]
    cycle(config)
    assert {row["status"] for row in rows(project)} == {"rejected"} and project.inbox() == []


def test_a_file_too_large_for_clamd_is_quarantined_for_a_human_not_filed(project, running_clamd):
    large = make_application_pdf() + b"%" + b" " * STREAM_MAX_BYTES + b"\n"
    project.deliver(sent_with(("Application.pdf", large)), ON_TIME)
    cycle(scanning(project, running_clamd))
    [row] = rows(project)
    assert (row["status"], json.loads(row["reasons"])) == ("quarantined", ["processing-error"])
    assert "StreamMaxLength" in row["error"]
    assert files_recruiters_open(project) == [project.stored(row["raw_path"])]
    assert len(project.folder("Quarantine")) == 1


def test_a_redelivered_message_already_registered_leaves_the_inbox_even_without_clamd(
        project, running_clamd):
    raw = sent_with(("Application.pdf", make_application_pdf()), message_id="<twice@example.net>")
    project.deliver(raw, ON_TIME)
    config = scanning(project, running_clamd)
    cycle(config)
    project.deliver(raw, ON_TIME)
    running_clamd.stop()
    summary = cycle(config)
    assert summary.already_registered == 1 and summary.unscanned == 0
    assert project.inbox() == [] and len(rows(project)) == 1


def test_replay_without_clamd_leaves_the_submission_quarantined(project, running_clamd):
    large = make_application_pdf() + b"%" + b" " * STREAM_MAX_BYTES + b"\n"
    project.deliver(sent_with(("Application.pdf", large)), ON_TIME)
    config = scanning(project, running_clamd)
    cycle(config)
    [row] = rows(project)
    running_clamd.stop()
    [outcome] = replay(config, [row["id"]], clock=lambda: NOW)
    assert not outcome.replayed and "left quarantined" in outcome.line
    assert "cannot connect" in outcome.line and rows(project)[0]["status"] == "quarantined"


def test_without_scan_nothing_is_scanned_and_rows_are_as_before(make_project, tmp_path,
                                                                running_clamd):
    """No [scan]: no clamd is asked (it is stopped here) and the register is the same."""
    raw = sent_with(("Application.pdf", make_application_pdf()), message_id="<same@example.net>")
    scanned = make_project()
    scanned.deliver(raw, ON_TIME)
    cycle(scanning(scanned, running_clamd))
    running_clamd.stop()
    from tests.conftest import write_project

    plain = write_project(tmp_path / "plain")
    plain.deliver(raw, ON_TIME)
    summary = cycle(plain.config)
    assert plain.config.clamd is None and summary.unscanned == 0
    ignored = {"id", "registered_at", "document_path", "raw_path", "mailbox_key", "attachments"}
    assert ([{k: v for k, v in row.items() if k not in ignored} for row in rows(plain)]
            == [{k: v for k, v in row.items() if k not in ignored} for row in rows(scanned)])
    assert notices(plain)[0].get_content() == notices(scanned)[0].get_content()
    # Even an infected file passes when no scanning is configured: exactly as before.
    plain.deliver(sent_with(("CV.pdf", INFECTED), sender="bob@example.net"), ON_TIME)
    cycle(plain.config)
    assert [row["status"] for row in rows(plain)] == ["accepted", "accepted"]


def test_decide_takes_the_verdicts_as_data_and_never_passes_an_unscanned_file(project):
    from intake_bot.decide import decide
    from intake_bot.parse import parse_message

    data = make_application_pdf()
    parsed = parse_message(sent_with(("Application.pdf", data)))
    config = project.config
    assert decide(parsed, ON_TIME, config, verdicts={data: None}).status == "accepted"
    decision = decide(parsed, ON_TIME, config, verdicts={data: "Doc.Test.Fake"})
    assert (decision.status, decision.reasons) == ("rejected", ("malware",))
    assert decision.documents[0].malware == "Doc.Test.Fake"
    with pytest.raises(KeyError):
        decide(parsed, ON_TIME, config, verdicts={})


# --- End to end: Dovecot, aiosmtpd and clamd ----------------------------------------------


def test_end_to_end_with_dovecot_aiosmtpd_and_clamd(served, running_clamd):
    project, dovecot, sink = served
    config = scanning(project, running_clamd)
    dovecot.append("INBOX", sent_with(("Application.pdf", make_application_pdf()),
                                      sender="alice@example.net"), ON_TIME)
    dovecot.append("INBOX", sent_with(("CV.pdf", INFECTED), sender="bob@example.net"), ON_TIME)
    dovecot.append("INBOX", sent_with(("Form.pdf", make_active_pdf("javascript-on-open")),
                                      sender="carol@example.net"), ON_TIME)
    summary = cycle(config)
    found = {row["sender"]: row for row in rows(project)}
    assert [(sender, found[sender]["status"], json.loads(found[sender]["reasons"]),
             json.loads(found[sender]["flags"])) for sender in sorted(found)] == [
        ("alice@example.net", "accepted", [], []),
        ("bob@example.net", "rejected", ["malware"], []),
        ("carol@example.net", "accepted", [], ["active-content"])]
    assert json.loads(found["bob@example.net"]["malware"]) == [MARKER_SIGNATURE]
    assert not [path for path in files_recruiters_open(project) if INFECTED in path.read_bytes()]
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 3
    assert summary.sent == 3
    rejection = next(mail.message() for mail in sink.received if mail.rcpt_tos == ["bob@example.net"])
    text = rejection.get_body(("plain",)).get_content()
    assert "clean copy" in text and MARKER_SIGNATURE not in text and "IntakeBot" not in text

    # clamd stops: new applications wait in the inbox, undecided, until it is back.
    running_clamd.stop()
    dovecot.append("INBOX", sent_with(("Application.pdf", make_application_pdf()),
                                      sender="dave@example.net"), ON_TIME)
    dovecot.append("INBOX", sent_with(("CV.pdf", INFECTED), sender="erin@example.net"), ON_TIME)
    waiting = cycle(config)
    assert waiting.unscanned == 2 and waiting.handled == 0 and len(dovecot.uids("INBOX")) == 2
    assert len(rows(project)) == 3 and len(sink.received) == 3
    running_clamd.start()
    back = cycle(config)
    assert back.statuses == {"accepted": 1, "rejected": 1} and dovecot.uids("INBOX") == []
    assert len(sink.received) == 5


def test_end_to_end_without_scan_is_as_before(served, running_clamd):
    project, dovecot, sink = served
    running_clamd.stop()  # nobody asks it
    dovecot.append("INBOX", sent_with(("CV.pdf", INFECTED)), ON_TIME)
    summary = cycle(project.config)
    [row] = rows(project)
    assert (row["status"], json.loads(row["malware"]), summary.unscanned) == ("accepted", [], 0)
    assert project.stored(row["document_path"]).read_bytes() == INFECTED
    assert dovecot.uids("INBOX") == [] and len(sink.received) == 1


# --- The age of clamd's signatures ---------------------------------------------------------


def test_check_clamd_reports_the_engine_and_the_age_of_its_signatures(running_clamd):
    clamd = Clamd(running_clamd.address(), timeout_s=5)
    line, warning = check_clamd(clamd, NOW, max_age_days=7)
    assert line.startswith("clamd: answers PING; ClamAV ")
    assert f"signatures {DATABASE_VERSION} of 2026-11-22 (1 day old)" in line
    assert warning is None
    _, warning = check_clamd(clamd, NOW + dt.timedelta(days=9), max_age_days=7)
    assert warning is not None and "are 10 days old, more than" in warning
    assert "max_signature_age_days = 7" in warning


def test_the_service_warns_once_a_day_when_signatures_are_old(project, running_clamd, caplog):
    from intake_bot.service import Service

    clock = [NOW + dt.timedelta(days=9)]
    config = scanning(project, running_clamd)
    service = Service(config, cycle=lambda *args, **kwargs: None, clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="intake_bot"):
        for hours in (0, 1, 2, 24):
            clock[0] = NOW + dt.timedelta(days=9, hours=hours)
            assert service._run_once()
    stale = [r.getMessage() for r in caplog.records if "days old" in r.getMessage()]
    assert stale == [stale[0], stale[0].replace("10 days", "11 days")]


def test_the_signature_check_waits_for_a_clamd_that_is_down(running_clamd):
    watch = SignatureWatch(Clamd(running_clamd.address(), timeout_s=5), max_age_days=7)
    running_clamd.stop()
    assert watch.check(NOW + dt.timedelta(days=30)) is None and watch.checked_on is None
    running_clamd.start()
    assert "31 days old" in str(watch.check(NOW + dt.timedelta(days=30)))
    assert watch.check(NOW + dt.timedelta(days=30, hours=1)) is None


@pytest.fixture
def slow_clamd():
    from tests.clamav import SlowClamd

    endpoint = SlowClamd()
    yield endpoint
    endpoint.close()


def test_a_file_clamd_cannot_finish_while_it_answers_is_the_messages_failure(project, slow_clamd):
    """Not clamd's outage: left in the inbox, it would stop every cycle at the same place."""
    project.deliver(sent_with(("Application.pdf", make_application_pdf())), ON_TIME)
    config = scanning(project, slow_clamd.address(), timeout_seconds=1)
    summary = cycle(config)
    [row] = rows(project)
    assert (row["status"], json.loads(row["reasons"])) == ("quarantined", ["processing-error"])
    assert "timed out after 1 s" in row["error"] and "answers PING" in row["error"]
    assert summary.unscanned == 0 and summary.scan_unavailable is None
    assert files_recruiters_open(project) == [project.stored(row["raw_path"])]


# --- What recruiters and operators meet afterwards -----------------------------------------


@pytest.fixture
def with_malware(project, running_clamd):
    """A register with one clean application and one whose PDF carries the test signature."""
    project.deliver(sent_with(("Application.pdf", make_application_pdf())), ON_TIME)
    project.deliver(sent_with(("CV.pdf", INFECTED), sender="bob@example.net"), ON_TIME)
    cycle(scanning(project, running_clamd))
    return project


def test_the_browser_view_neither_links_nor_serves_a_kept_apart_file(with_malware):
    from tests.test_review import get

    infected = next(row for row in rows(with_malware) if row["status"] == "rejected")
    page = get(with_malware, f"/register/submissions/{infected['id']}")
    assert page.status_code == 200 and "/-/intake/document/" not in page.text
    assert get(with_malware, f"/-/intake/document/{infected['id']}/0").status_code == 404
    # Even a register edited to name the kept-apart file as a document does not serve it.
    kept = json.loads(infected["attachments"])[0]["quarantine"]
    import sqlite3

    db = sqlite3.connect(with_malware.config.register_path)
    with db:
        db.execute("UPDATE submissions SET attachments = ? WHERE id = ?",
                   [json.dumps([{"path": kept, "type": "pdf"}]), infected["id"]])
    db.close()
    response = get(with_malware, f"/-/intake/document/{infected['id']}/0")
    assert response.status_code == 404 and INFECTED not in response.content


def test_the_export_names_the_reason_but_no_file(with_malware):
    from tests.conftest import run_cli

    result = run_cli("--config", str(with_malware.config_path), "register", "export",
                     "--vacancy", "DRP", "--format", "json", "--output", "-")
    exported = {row["E-mail"]: row for row in json.loads(result.stdout_bytes)}
    assert exported["bob@example.net"]["Reasons"] == "malware"
    assert "quarantine" not in result.stdout and INFECTED not in result.stdout_bytes


def test_register_check_verifies_kept_apart_files_and_purge_deletes_them(with_malware):
    from tests.conftest import run_cli

    config = with_malware.config_path
    assert run_cli("--config", str(config), "register", "check").exit_code == 0
    infected = next(row for row in rows(with_malware) if row["status"] == "rejected")
    name = json.loads(infected["attachments"])[0]["quarantine"]
    kept = with_malware.stored(name)
    kept.write_bytes(b"changed")
    result = run_cli("--config", str(config), "register", "check")
    assert result.exit_code == 1 and f"document {name} has changed" in result.output
    purged = run_cli("--config", str(config), "register", "purge", "--vacancy", "DRP", "--yes")
    assert purged.exit_code == 0 and not kept.exists()
    assert json.loads(rows(with_malware)[1]["malware"]) == [MARKER_SIGNATURE]  # counts stay


# --- The operator's commands ----------------------------------------------------------------


def test_check_config_connect_asks_clamd_and_says_how_old_its_signatures_are(project,
                                                                            running_clamd):
    scanning(project, running_clamd)
    result = run_cli("--config", str(project.config_path), "check-config")
    assert f"scan: every attachment by clamd at {running_clamd.address()}" in result.output
    result = run_cli("--config", str(project.config_path), "check-config", "--connect")
    assert result.exit_code == 0, result.output
    assert ("clamd: answers PING; ClamAV " in result.output
            and "signatures 27500 of 2026-11-22 (1 day old)" in result.output)
    assert "warning" not in result.output
    later = run_cli("--config", str(project.config_path), "check-config", "--connect",
                    now=NOW + dt.timedelta(days=12))
    assert later.exit_code == 0
    assert ("warning: clamd's signatures (27500) are 13 days old, more than [scan] "
            "max_signature_age_days = 7: is freshclam running?") in later.output


def test_check_config_connect_fails_in_one_line_when_clamd_is_down(project, running_clamd):
    scanning(project, running_clamd)
    running_clamd.stop()
    result = run_cli("--config", str(project.config_path), "check-config", "--connect")
    assert result.exit_code == 1
    assert result.stderr == (f"intake-bot: error: clamd {running_clamd.address()}: cannot "
                             "connect: Connection refused\n")


@pytest.mark.parametrize("value, problem", [
    ('"clamd.ctl"', "expected unix:/PATH or tcp://HOST:PORT"),
    ('"unix:clamd.ctl"', "a unix socket needs an absolute path"),
    ('"tcp://127.0.0.1"', "expected tcp://HOST:PORT"),
])
def test_a_bad_clamd_address_is_a_configuration_error(project, value, problem):
    with project.config_path.open("a", encoding="utf-8") as config:
        config.write(f"\n[scan]\nclamd = {value}\n")
    result = run_cli("--config", str(project.config_path), "check-config")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "[scan] clamd" in result.stderr and problem in result.stderr


def test_run_once_exits_1_when_messages_stay_unscanned(project, running_clamd):
    scanning(project, running_clamd)
    project.deliver(sent_with(("Application.pdf", make_application_pdf())), ON_TIME)
    running_clamd.stop()
    result = run_cli("--config", str(project.config_path), "run", "--once")
    assert result.exit_code == 1 and len(project.inbox()) == 1
    assert "1 left in the inbox unscanned" in result.output
    assert "messages handled" not in result.stderr  # no progress: nothing was handled
    assert result.stderr.splitlines()[-1] == (
        f"intake-bot: error: 1 message left in the inbox unscanned: clamd "
        f"{running_clamd.address()}: cannot connect: Connection refused")


def test_register_stats_and_the_digest_show_malware_and_active_content(project, running_clamd):
    project.deliver(sent_with(("Application.pdf", make_application_pdf())), ON_TIME)
    project.deliver(sent_with(("CV.pdf", INFECTED), sender="bob@example.net"), ON_TIME)
    project.deliver(sent_with(("Form.pdf", make_active_pdf("javascript-on-open")),
                              sender="carol@example.net"), ON_TIME)
    project.deliver(sent_with(("Form.pdf", make_active_pdf("embedded-file")),
                              sender="dave@example.net"), ON_TIME)
    cycle(scanning(project, running_clamd))
    stats = run_cli("--config", str(project.config_path), "register", "stats", "--vacancy", "DRP")
    assert "  reasons     malware 1" in stats.output
    assert "  flags       active-content 2" in stats.output
    digest = run_cli("--config", str(project.config_path), "digest").output.splitlines()
    assert ("  malware     DRP-0002: files kept apart, never shown; the candidates were asked "
            "for a clean copy") in digest
    assert ("  active PDFs DRP-0003 (JavaScript on open), DRP-0004 (embedded files)"
            in digest)
    assert MARKER_SIGNATURE not in "\n".join(digest)
