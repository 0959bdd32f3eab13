"""The recruiters' commands on a register filled by the real pipeline: list, export, stats, report."""

from __future__ import annotations

import csv
import io
import json
import stat
import sys

import pytest

from intake_bot.config import ConfigError, load_config
from tests.conftest import Project, run_cli, write_project
from tests.extras import need
from tests.filled import VACANCIES, fill, invoke


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
    (["--vacancy", "SG"], ["SG-0001"]),
    (["--vacancy", "DRP", "--sort", "sender"],
     ["DRP-0001", "DRP-0003", "DRP-0002", "DRP-0005", "DRP-0006", "DRP-0004"]),
])
def test_register_list_filters_and_sorts(filled, args, expected):
    assert listed(filled, *args) == expected


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
                                      "--vacancy", "DRP", "--history", "--delimiter", ";")
    assert result.exit_code == 0
    rows = read_csv(result.stdout_bytes, ";")
    assert [row["Reference"] for row in rows] == [f"DRP-000{n}" for n in range(1, 7)]
    assert rows[0]["Status"] == "superseded" and rows[0]["Superseded by"] == "4"


def test_export_as_json(filled):
    code, out, _ = invoke(filled, "register", "export", "--vacancy", "SG", "--format", "json")
    [row] = json.loads(out)
    assert code == 0 and row["Reference"] == "SG-0001" and row["Name"] == "Grace Hopper"


def test_export_of_an_unknown_vacancy_is_one_line(filled):
    code, _, err = invoke(filled, "register", "export", "--vacancy", "NOPE")
    assert code == 1
    assert err == "intake-bot: error: unknown vacancy 'NOPE' (configured: DRP, SG, OLD)\n"


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

