"""Configuration: the shipped files load, and every mistake is one line naming file and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from intake_bot.config import ConfigError, load_config, load_vacancies
from tests.conftest import REPO, brussels


def test_shipped_configurations_load():
    config = load_config(REPO / "config" / "intake.toml")
    assert config.mailbox_url.startswith("maildir:")
    assert config.smtp_url.startswith("outbox:")
    assert config.register_path == REPO / "var" / "register.db"
    drp = config.vacancy("DRP")
    assert drp is not None and drp.title == "Officer – Democratic Resilience and Partnerships"
    assert "Officier – Résilience démocratique et partenariats" in drp.aliases
    assert drp.closes_at == brussels("2026-06-13T00:00:00")
    sg = config.vacancy("SG")
    assert sg is not None and sg.closes_at == brussels("2025-03-01T00:00:00")
    example = load_config(REPO / "config" / "intake.example.toml")
    assert example.mailbox_url.startswith("imaps://") and example.smtp_url.startswith("smtps://")


def test_every_seed_is_a_vacancy():
    ids = {v.id for v in load_vacancies(REPO / "config" / "vacancies.toml")}
    assert {"DRP", "SG", "MO-EU", "GPS", "NASP", "MO-HEAD"} <= ids


def test_deadline_covers_the_whole_minute_and_respects_dst(make_project):
    project = make_project()
    drp = project.config.vacancy("DRP")
    assert drp.is_open(brussels("2026-06-12T23:59:59.999"))
    assert not drp.is_open(brussels("2026-06-13T00:00:00"))
    # In June Brussels is UTC+2: the deadline is 21:59:59 UTC.
    assert drp.closes_at == dt.datetime(2026, 6, 12, 22, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("vacancies, key", [
    ('[[vacancy]]\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n', "id"),
    ('[[vacancy]]\nid = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n', "title"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\n'
     'timezone = "Mars/Olympus"\n', "timezone"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "12 June 2026"\ntimezone = "UTC"\n', "deadline"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ntimezone = "UTC"\n', "deadline"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.attachments]\ntypes = ["exe"]\n', "types"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.checks]\nletter = "maybe"\n', "letter"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.attachments]\nmax_bytes = "big"\n', "max_bytes"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     'channel = "e-recruitment"\n', "apply_url"),
    ('not toml [', ""),
    ('', "[[vacancy]]"),
])
def test_vacancy_mistakes_name_file_and_key(tmp_path: Path, vacancies, key):
    path = tmp_path / "vacancies.toml"
    path.write_text(vacancies, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_vacancies(path)
    message = str(raised.value)
    assert str(path) in message and key in message and "\n" not in message


@pytest.mark.parametrize("old, new, key", [
    ('url = "maildir:../var/mailbox"', 'url = "pop3://x"', "[mailbox] url"),
    ('[register]', '[registr]', "[register]"),
    ('from = "NATO PA Recruitment <recruitment@example.org>"', 'from = "nobody"', "[smtp] from"),
    ('poll_seconds = 60', 'poll_seconds = 0', "poll_seconds"),
    ('path = "vacancies.toml"', 'path = "missing.toml"', "missing.toml"),
])
def test_config_mistakes_name_file_and_key(make_project, old, new, key):
    project = make_project()
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)
    assert key in str(raised.value)


def test_unknown_keys_are_warnings_not_errors(make_project):
    project = make_project(extra="[schedule2]\nx = 1\n")
    assert any("schedule2" in warning for warning in project.config.warnings)


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
