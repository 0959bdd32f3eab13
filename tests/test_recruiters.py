"""The recruiters' commands on a register filled by the real pipeline: list, export, stats, report."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import shutil
import sqlite3
import stat
import sys

import pytest

from intake_bot.config import ConfigError, load_config
from tests.conftest import REPO, Project, run_cli, write_project
from tests.extras import need
from tests.filled import VACANCIES, fill, invoke
from tests.test_docs import console_steps, page


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """One filled register for the tests that only read it."""
    return fill(tmp_path_factory.mktemp("filled"))


def listed(project: Project, *args: str) -> list[str]:
    code, out, err = invoke(project, "register", "list", "--format", "json", *args)
    assert code == 0, err
    return [row["reference"] or f"#{row['id']}" for row in json.loads(out)]


# -- register list --------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--vacancy", "DRP", "--status", "accepted"], ["DRP-0003", "DRP-0004", "DRP-0005"]),
    (["--flag", "no-text"], ["DRP-0001", "DRP-0003"]),
    (["--reason", "late"], ["DRP-0006"]),
    (["--status", "unmatched"], ["#8"]),
    (["--since", "2026-06-12", "--until", "2026-06-13"], ["DRP-0004", "DRP-0005"]),
    (["--since", "2026-06-13T06:00:00Z"], ["DRP-0006", "#8", "SG-0001"]),
    # Without an offset: Brussels time (the vacancy's, else [digest] timezone's), so the
    # instant 2026-06-12T21:59:59Z is 23:59:59 there.
    (["--vacancy", "DRP", "--since", "2026-06-12T23:59:59"], ["DRP-0005", "DRP-0006"]),
    (["--vacancy", "DRP", "--until", "2026-06-12 23:59:59"], ["DRP-0001", "DRP-0002",
                                                              "DRP-0003", "DRP-0004"]),
    (["--since", "2026-06-12T23:59:59+02:00", "--until", "2026-06-13T00:00+02:00"],
     ["DRP-0005"]),
    (["--since", "2026-06-12T21:59:59Z", "--until", "2026-06-12T22:00Z"], ["DRP-0005"]),
    (["--vacancy", "SG"], ["SG-0001"]),
    (["--vacancy", "DRP", "--sort", "sender"],
     ["DRP-0001", "DRP-0003", "DRP-0002", "DRP-0005", "DRP-0006", "DRP-0004"]),
])
def test_register_list_filters_and_sorts(filled, args, expected):
    assert listed(filled, *args) == expected


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_register_list_of_nothing_is_still_well_formed(filled, fmt):
    code, out, _ = invoke(filled, "register", "list", "--vacancy", "OLD", "--status",
                          "rejected", "--format", fmt)
    assert code == 0
    if fmt == "json":
        assert json.loads(out) == []
    else:
        assert out.splitlines()[0].startswith("id")


def test_register_list_csv_has_every_column_as_the_register_holds_it(filled):
    code, out, _ = invoke(filled, "register", "list", "--reason", "late", "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and row["reference"] == "DRP-0006" and row["reasons"] == '["late"]'
    assert row["received_at"] == "2026-06-13T06:00:00Z" and "dedup_key" in row


# -- mistakes in a selection: one line, exit 2, the same in every command ----------------

@pytest.mark.parametrize("args, error", [
    (["--vacancy", "NOPE"], "unknown vacancy 'NOPE' (configured: DRP, SG, OLD)"),
    (["--status", "accept"], "unknown status 'accept' (did you mean 'accepted'?)"),
    (["--reason", "lat"], "unknown reason 'lat' (did you mean 'late'?)"),
    (["--flag", "no-txt"], "unknown flag 'no-txt' (did you mean 'no-text'?)"),
    (["--since", "yesterday"], "--since: 'yesterday' is not a date or a date-time (e.g. "
                               "2026-06-12, 2026-06-12T09:00 or 2026-06-12T09:00+02:00)"),
    (["--since", "2026-6-12"], "--since: '2026-6-12' is not a date or a date-time"),
    (["--until", "2026-03-29T02:30"], "--until: 2026-03-29T02:30 is ambiguous or skipped in "
                                      "Europe/Brussels at a clock change"),
])
def test_a_mistaken_selection_is_one_line_and_exit_2(filled, args, error):
    code, out, err = invoke(filled, "register", "list", *args)
    assert code == 2 and out == ""
    assert err.startswith(f"intake-bot: error: {error}") and err.count("\n") == 1


@pytest.mark.parametrize("command", [
    ["register", "list"], ["register", "export"], ["register", "stats"], ["report"],
    ["register", "purge", "--dry-run"],
])
def test_every_command_refuses_an_unknown_vacancy_alike(filled, command):
    code, _, err = invoke(filled, *command, "--vacancy", "NOPE")
    assert code == 2
    assert err == "intake-bot: error: unknown vacancy 'NOPE' (configured: DRP, SG, OLD)\n"


def test_purge_before_reads_times_as_list_does(filled):
    code, out, _ = invoke(filled, "register", "purge", "--vacancy", "DRP", "--before",
                          "2026-06-11T09:00", "--dry-run")  # Brussels time: Bob's is not before
    assert code == 0 and out.splitlines()[0] == "submissions: DRP-0001"
    code, _, err = invoke(filled, "register", "purge", "--before", "last week", "--dry-run")
    assert code == 2 and err.startswith("intake-bot: error: --before: 'last week' is not a date")


# -- register export ------------------------------------------------------------------

def read_csv(data: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    """Read an export back as a spreadsheet would: the BOM announces UTF-8."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=delimiter))


def test_export_is_one_row_per_candidate_with_the_submission_that_counts(filled, tmp_path):
    target = tmp_path / "drp.csv"
    code, out, _ = invoke(filled, "register", "export", "--vacancy", "DRP", "--output", str(target))
    assert code == 0 and out == f"5 rows written to {target}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: owner only
    data = target.read_bytes()
    assert b"\r\n" in data  # the line ends both spreadsheets expect
    rows = read_csv(data)
    assert [row["Reference"] for row in rows] == [
        "DRP-0002", "DRP-0003", "DRP-0004", "DRP-0005", "DRP-0006"]
    alice = rows[1]
    assert alice["Status"] == "accepted" and alice["Submissions"] == "2"
    assert alice["Flags"] == "no-text" and alice["Document"] == "Scan again.pdf"
    chloe = rows[3]
    # Local time of the vacancy: the last second before the Brussels deadline.
    assert chloe["Received (Europe/Brussels)"] == "2026-06-12 23:59:59"
    assert chloe["Name"] == "Chloé Dupont" and chloe["Document"] == "Candidature Chloé.pdf"
    assert rows[2]["Name"] == "'=2+3"  # a name that a spreadsheet would run as a formula
    assert rows[0]["Reasons"] == "multiple-attachments" and rows[0]["Documents"] == "2"


def test_export_history_has_every_submission(filled):
    result = run_cli("--config", str(filled.config_path), "register", "export",
                     "--vacancy", "DRP", "--history", "--delimiter", ";", "--output", "-")
    assert result.exit_code == 0
    rows = read_csv(result.stdout_bytes, ";")
    assert [row["Reference"] for row in rows] == [f"DRP-000{n}" for n in range(1, 7)]
    assert rows[0]["Status"] == "superseded" and rows[0]["Superseded by"] == "4"


def test_export_says_whether_each_candidate_was_told(tmp_path):
    """A bounced or failed notice never reached the candidate; recruiters see it per row."""
    project = fill(tmp_path)
    with sqlite3.connect(project.config.register_path) as db:
        db.execute("UPDATE replies SET status = 'bounced' WHERE submission_id = "
                   "(SELECT id FROM submissions WHERE reference = 'DRP-0003')")
        db.execute("DELETE FROM replies WHERE submission_id = "
                   "(SELECT id FROM submissions WHERE reference = 'DRP-0004')")
        db.execute("UPDATE submissions SET notice_skipped = 'cap' WHERE reference = 'DRP-0004'")
    result = run_cli("--config", str(project.config_path), "register", "export",
                     "--vacancy", "DRP", "--output", "-")
    notice = {row["Reference"]: row["Notice"] for row in read_csv(result.stdout_bytes)}
    assert notice == {"DRP-0002": "sent", "DRP-0003": "bounced", "DRP-0004": "not sent: cap",
                      "DRP-0005": "sent", "DRP-0006": "sent"}


def test_export_as_json(filled):
    code, out, _ = invoke(filled, "register", "export", "--vacancy", "SG", "--format", "json",
                          "--output", "-")
    [row] = json.loads(out)
    assert code == 0 and row["Reference"] == "SG-0001" and row["Name"] == "Grace Hopper"


def test_files_with_personal_data_go_beside_the_register_by_default(filled, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)  # the folder a recruiter runs the commands in
    code, out, _ = invoke(filled, "register", "export", "--vacancy", "DRP")
    exports = filled.config.register_path.parent / "exports"
    assert code == 0 and out == f"5 rows written to {exports / 'DRP.csv'}\n"
    assert stat.S_IMODE(exports.stat().st_mode) == 0o700
    assert stat.S_IMODE((exports / "DRP.csv").stat().st_mode) == 0o600
    need("matplotlib")
    code, out, _ = invoke(filled, "report", "--vacancy", "DRP")
    assert code == 0 and out == f"report written to {exports / 'DRP-report.png'}\n"
    assert list(tmp_path.iterdir()) == []


# -- register stats -------------------------------------------------------------------

def test_stats_as_json(filled):
    code, out, _ = invoke(filled, "register", "stats", "--format", "json")
    figures = {entry["vacancy_id"]: entry for entry in json.loads(out)}
    assert code == 0 and list(figures) == ["DRP", "SG", "OLD", None]
    drp = figures["DRP"]
    assert drp["statuses"] == {"accepted": 3, "rejected": 2, "superseded": 1}
    assert drp["reasons"] == {"late": 1, "multiple-attachments": 1}
    assert drp["flags"] == {"no-text": 2}
    assert drp["to_review"] == ["DRP-0003"] and drp["candidates"] == 5
    assert [(day["day"], day["total"]) for day in drp["arrivals"]] == [
        ("2026-06-10", 1), ("2026-06-11", 2), ("2026-06-12", 2), ("2026-06-13", 1)]
    assert drp["deadline"] == "12 June 2026 at 23:59 (Brussels time)"
    assert drp["closes_at"] == "2026-06-12T22:00:00Z"
    assert drp["time_left"].startswith("closed ") and figures["SG"]["time_left"].startswith("open")
    assert figures[None]["statuses"] == {"unmatched": 1}


def test_stats_as_a_table_for_one_vacancy(filled):
    code, out, _ = invoke(filled, "register", "stats", "--vacancy", "DRP")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "DRP  Officer – Democratic Resilience and Partnerships"
    assert "  submissions 6 from 5 candidates; 1 to review (accepted with flags)" in lines
    assert "  statuses    accepted 3, rejected 2, superseded 1" in lines
    assert "  arrivals    2026-06-10    1  (superseded 1)" in lines
    assert "SG" not in out


# -- report ---------------------------------------------------------------------------

def test_report_draws_a_png(filled, tmp_path):
    need("matplotlib")
    target = tmp_path / "out" / "drp.png"
    code, out, err = invoke(filled, "report", "--vacancy", "DRP", "--output", str(target))
    assert code == 0, err
    assert out == f"report written to {target}\n"
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 880)


def test_report_without_matplotlib_says_which_extra(filled, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    code, _, err = invoke(filled, "report", "--vacancy", "DRP", "--output", str(tmp_path / "x.png"))
    assert code == 1
    assert err == ("intake-bot: error: intake-bot report needs matplotlib, which is not "
                   "installed: pip install 'intake-bot[report]'\n")


# -- settings -------------------------------------------------------------------------

def test_digest_and_retention_settings(tmp_path):
    project = write_project(tmp_path, VACANCIES, '[digest]\nrecruiters = '
                            '["Ann <ann@example.org>", "hr@example.org"]\nhour = 7\n')
    config = load_config(project.config_path)
    assert config.digest_recruiters == ("ann@example.org", "hr@example.org")
    assert config.digest_hour == 7 and config.digest_timezone.key == "Europe/Brussels"
    old = config.vacancy("OLD")
    assert old is not None and old.retention_days == 30
    assert old.purge_due_at() is not None and old.purge_due_at().isoformat() == "2025-03-02T23:00:00+00:00"
    assert config.vacancy("DRP").purge_due_at() is None  # type: ignore[union-attr]
    code, out, _ = invoke(project, "check-config")
    assert code == 0
    assert "digest: daily at 07:00 Europe/Brussels to ann@example.org, hr@example.org" in out
    assert "retention: personal data purged 30 days after the deadline, from 2025-03-02" in out


@pytest.mark.parametrize("digest, key", [
    ('recruiters = ["not an address"]', "[digest] recruiters"),
    ('recruiters = ["a@example.org"]\nhour = 24', "[digest] hour"),
    ('recruiters = ["a@example.org"]\ntimezone = "Mars/Olympus"', "[digest] timezone"),
])
def test_bad_digest_settings_name_the_key(tmp_path, digest, key):
    project = write_project(tmp_path, VACANCIES, f"[digest]\n{digest}\n")
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(project.config_path)


def test_every_new_command_has_help(filled):
    for command in (["register", "export"], ["register", "stats"], ["register", "purge"],
                    ["review"], ["report"], ["digest"]):
        code, out, _ = invoke(filled, *command, "--help")
        assert code == 0 and "Usage:" in out



# -- the recruiters' walk-through -------------------------------------------------------

def test_the_recruiters_walk_through_runs_on_the_demo_as_shown(tmp_path, monkeypatch):
    """docs/recruiters.md: after the demo on the shipped configuration, each console command
    gives what the page shows (at the suite's fixed time; paths relative to the folder, the
    export's byte-order mark left out, a line ``...`` standing for lines left out)."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTAKE_BOT_CONFIG", raising=False)
    assert run_cli("--config", "config/intake.toml", "demo").exit_code == 0
    steps = console_steps(page("recruiters.md"))
    assert len(steps) >= 10
    for command, expected in steps:
        program, *args = shlex.split(command)
        assert program == "intake-bot", command
        result = run_cli(*args)
        output = (result.stdout + result.stderr).replace(f"{tmp_path}/", "")
        pattern = "\n".join(".*?" if line == "..." else re.escape(line)
                            for line in expected.split("\n"))
        assert re.fullmatch(pattern, output.replace("\ufeff", "").rstrip("\n"), re.S), command
