"""The command line: every command works, and every operator mistake is one line, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from intake_bot.cli import cli
from intake_bot.rules import RULES
from tests.conftest import REPO, SG_VACANCY, brussels, run_cli
from tests.mail import application, blank_pdf


def invoke(*args: str) -> tuple[int, str, str]:
    result = run_cli(*args)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped configuration, so that its var/ lands in a temp folder."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path / "config" / "intake.toml"


def test_check_config_prints_every_vacancy_and_its_deadlines(shipped):
    code, out, _ = invoke("--config", str(shipped), "check-config")
    assert code == 0, out
    assert "DRP: Officer – Democratic Resilience and Partnerships" in out
    assert "2026-06-12 23:59 Europe/Brussels = 2026-06-12 21:59 UTC" in out
    assert "SG: Secretary General" in out and "2025-02-28 22:59 UTC" in out
    assert "configuration OK" in out


@pytest.mark.parametrize("break_it, named", [
    (lambda d: (d / "vacancies.toml").write_text('[[vacancy]]\nid="X"\ntitle="X"\n'
                                                 'deadline="2026-01-01T10:00"\ntimezone="Nowhere/City"\n'),
     "timezone"),
    (lambda d: (d / "vacancies.toml").unlink(), "vacancies.toml"),
    (lambda d: (d / "intake.toml").write_text("[mailbox\n"), "intake.toml"),
    (lambda d: (d / "vacancies.toml").write_bytes(
        (d / "vacancies.toml").read_text(encoding="utf-8").encode("latin-1", "replace")),
     "vacancies.toml:12: not UTF-8"),
    (lambda d: (d / "vacancies.toml").write_text((d / "vacancies.toml").read_text(
        encoding="utf-8").replace('letter = "flag"', 'leter = "reject"', 1), encoding="utf-8"),
     "vacancies.toml:24: [[vacancy]] DRP.checks leter: unknown key (did you mean 'letter'?)"),
])
def test_bad_configuration_is_one_line_and_exit_2(shipped, break_it, named):
    break_it(shipped.parent)
    process = subprocess.run([sys.executable, "-m", "intake_bot", "--config", str(shipped),
                              "check-config"], capture_output=True, text=True)
    assert process.returncode == 2
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in process.stderr


def test_missing_config_file_is_one_line(tmp_path):
    code, _, err = invoke("--config", str(tmp_path / "absent.toml"), "run", "--once")
    assert code == 2 and "absent.toml: file not found" in err


def test_demo_then_run_once_then_register_list(shipped):
    code, out, _ = invoke("--config", str(shipped), "demo")
    assert code == 0, out
    assert "delivered 8 sample applications" in out
    code, out, _ = invoke("--config", str(shipped), "run", "--once")
    assert code == 0 and "cycle: 0 messages" in out
    code, out, _ = invoke("--config", str(shipped), "register", "list", "--format", "json")
    rows = json.loads(out)
    statuses = {row["subject"]: (row["status"], row["reasons"]) for row in rows}
    assert len(rows) == 8
    assert sorted(status for status, _ in statuses.values()) == [
        "accepted", "accepted", "accepted", "ignored", "rejected", "rejected", "rejected",
        "unmatched"]
    assert ("rejected", ["late"]) in statuses.values()
    assert ("rejected", ["multiple-attachments"]) in statuses.values()
    assert ("rejected", ["not-pdf"]) in statuses.values()
    assert ("ignored", ["auto-submitted"]) in statuses.values()
    outbox = shipped.parent.parent / "var" / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 7


def test_register_list_filters_and_formats(project):
    project.deliver(application(attachments=[("a.pdf", blank_pdf(), "application/pdf")]),
                    brussels("2026-06-10T10:00:00"))
    project.deliver(application(subject="nothing", sender="bob@example.net"),
                    brussels("2026-06-10T11:00:00"))
    config = str(project.config_path)
    assert invoke("--config", config, "run", "--once")[0] == 0
    code, out, _ = invoke("--config", config, "register", "list", "--status", "accepted",
                          "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("id,reference,")
    assert len(out.strip().splitlines()) == 2 and "DRP-0001" in out
    code, out, _ = invoke("--config", config, "register", "list")
    assert "DRP-0001" in out and "unmatched" in out
    code, out, _ = invoke("--config", config, "register", "list", "--reason", "unknown-vacancy",
                          "--format", "json")
    assert [row["sender"] for row in json.loads(out)] == ["bob@example.net"]
    code, out, _ = invoke("--config", config, "register", "show", "1")
    record = json.loads(out)
    assert record["reference"] == "DRP-0001" and record["replies"][0]["status"] == "sent"
    code, _, err = invoke("--config", config, "register", "show", "99")
    assert code == 1 and "no submission with id 99" in err


def test_demo_refuses_a_real_mailbox(shipped):
    example = shipped.parent / "intake.example.toml"
    code, _, err = invoke("--config", str(example), "demo")
    assert code == 2 and "only runs on the embedded maildir" in err


def test_rules_lists_every_rule():
    code, out, _ = invoke("rules")
    assert code == 0
    for rule in RULES:
        assert rule.name in out and rule.description in out


def test_replies_retry_of_an_unknown_or_sent_notice_says_so(project):
    project.deliver(application(attachments=[("a.pdf", blank_pdf(), "application/pdf")]),
                    brussels("2026-06-10T10:00:00"))
    config = str(project.config_path)
    assert invoke("--config", config, "run", "--once")[0] == 0
    code, out, err = invoke("--config", config, "replies", "retry", "99")
    assert (code, out) == (1, "")
    assert err == ("intake-bot: error: no notice with id 99 (`intake-bot register show` lists "
                   "a submission's)\n")
    code, out, err = invoke("--config", config, "replies", "retry", "1")
    assert (code, out) == (1, "")
    assert err.startswith("intake-bot: error: notice 1 was sent at 20") and err.endswith(
        ": nothing to retry\n")
    code, out, _ = invoke("--config", config, "replies", "retry")
    assert code == 0 and out.startswith("0 notice(s) queued again; ")


@pytest.mark.parametrize("args", [["rules"], ["--help"], ["register", "list"]])
def test_a_reader_that_went_away_ends_the_command_quietly(shipped, args):
    """``intake-bot rules | head -1``: the pipe closes before the output is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, whatever the timing
    try:
        process = subprocess.run([sys.executable, "-m", "intake_bot", "--config", str(shipped),
                                  *args], stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert (process.returncode, process.stderr) == (1, "")


def every_command(group: click.Group = cli, path: tuple[str, ...] = ()):
    """Each command with the words that name it, groups included: (("register", "list"), command)."""
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from every_command(command, (*path, name))


@pytest.mark.parametrize("path, command", list(every_command()),
                         ids=[" ".join(path) for path, _ in every_command()])
def test_every_option_has_help(path, command):
    assert [param.name for param in command.params
            if isinstance(param, click.Option) and not param.help] == []


@pytest.mark.parametrize("words", [(), *(path for path, command in every_command()
                                         if isinstance(command, click.Group))],
                         ids=lambda words: " ".join(("intake-bot", *words)))
def test_help_summaries_are_whole_sentences(words):
    """``--help`` lists each command with the first sentence of its help, never cut with '...'."""
    result = run_cli(*words, "--help")
    listed = result.stdout[result.stdout.index("Commands:"):].splitlines()[1:]
    cut = [line for line in listed
           if line.rstrip().endswith(("...", "…")) or not line.rstrip().endswith(".")]
    assert listed and not cut


@pytest.mark.parametrize("deadline, shown", [
    ('"2026-06-12"', "deadline: 2026-06-12 (the whole day) Europe/Brussels = 2026-06-12 21:59 UTC "
     "(closed 163 days ago)"),
    ("2026-06-12", "deadline: 2026-06-12 (the whole day) Europe/Brussels = 2026-06-12 21:59 UTC"),
    ('"2026-06-12T00:00"', "deadline: 2026-06-12 00:00 Europe/Brussels = 2026-06-11 22:00 UTC"),
    ('"2026-06-12T23:59:30"', "deadline: 2026-06-12 23:59:30 Europe/Brussels = 2026-06-12 21:59 UTC"),
    ('"2027-02-28T23:59"', "deadline: 2027-02-28 23:59 Europe/Brussels = 2027-02-28 22:59 UTC "
     "(open, 97 days left)"),
    ('"2024-03-01T12:00"', "(closed 997 days ago)"),
])
def test_check_config_shows_the_deadline_as_written_and_how_long_ago_it_closed(make_project,
                                                                              deadline, shown):
    project = make_project(SG_VACANCY.replace('"2027-02-28T23:59"', deadline))
    code, out, _ = invoke("--config", str(project.config_path), "check-config")
    assert code == 0 and shown in out, out
