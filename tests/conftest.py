"""Shared fixtures: a project folder with a configuration, vacancies and an embedded mailbox."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from intake_bot.cli import cli
from intake_bot.config import Config, load_config

pytest_plugins = ["tests.fixtures_servers"]

REPO = Path(__file__).resolve().parents[1]

#: The time every command runs at in the tests, late in the service's life (the reference
#: vacancy DRP closed in June 2026): no verdict may depend on the hour the suite runs.
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def run_cli(*args: str, input: str | None = None, now: dt.datetime = NOW) -> Result:
    """Run ``intake-bot ARGS`` in-process, its clock fixed at ``now``."""
    return CliRunner().invoke(cli, list(args), input=input, obj=lambda: now)

CORPUS = REPO.parent / "shared" / "corpus"

DRP_VACANCY = """
[[vacancy]]
id = "DRP"
title = "Officer – Democratic Resilience and Partnerships"
aliases = ["Officier – Résilience démocratique et partenariats"]
reference = "NATO-PA-2026-07"
deadline = "2026-06-12T23:59"
timezone = "Europe/Brussels"
languages = ["en", "fr"]
[vacancy.attachments]
count = 1
types = ["pdf"]
max_bytes = 10_000_000
"""

SG_VACANCY = """
[[vacancy]]
id = "SG"
title = "Secretary General"
deadline = "2027-02-28T23:59"
timezone = "Europe/Brussels"
languages = ["en"]
"""


@dataclass
class Project:
    """A throw-away deployment: config, vacancies, Maildir inbox, outbox, register."""

    root: Path
    config_path: Path

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def maildir(self) -> Path:
        return self.root / "var" / "mailbox"

    @property
    def outbox(self) -> Path:
        return self.root / "var" / "outbox"

    def deliver(self, raw: bytes, at: dt.datetime, name: str | None = None) -> Path:
        """Deliver a message into the Maildir with the given delivery time."""
        for sub in ("tmp", "new", "cur"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        stamp = at.timestamp()
        name = name or f"{stamp:.6f}.{len(list((self.maildir / 'new').iterdir()))}.test"
        path = self.maildir / "new" / name
        path.write_bytes(raw)
        os.utime(path, (stamp, stamp))
        return path

    def inbox(self) -> list[Path]:
        return [p for sub in ("new", "cur") for p in (self.maildir / sub).iterdir()]

    def folder(self, name: str) -> list[Path]:
        base = self.maildir / f".{name}"
        return [p for sub in ("new", "cur") if (base / sub).exists()
                for p in (base / sub).iterdir()]

    def notices(self) -> list[Path]:
        return sorted(self.outbox.glob("*.eml")) if self.outbox.exists() else []

    def stored(self, name: str) -> Path:
        """The file the register names ``name`` (its name under the documents folder)."""
        return self.config.documents_path / name


def write_project(root: Path, vacancies: str = DRP_VACANCY + SG_VACANCY,
                  extra: str = "") -> Project:
    """Write a configuration under ``root`` with the given vacancies (TOML) and extra settings."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / "vacancies.toml").write_text(vacancies, encoding="utf-8")
    config_path = root / "config" / "intake.toml"
    config_path.write_text(textwrap.dedent("""
        [mailbox]
        url = "maildir:../var/mailbox"
        [smtp]
        url = "outbox:../var/outbox"
        from = "NATO PA Recruitment <recruitment@example.org>"
        [register]
        path = "../var/register.db"
        documents = "../var/documents"
        [schedule]
        poll_seconds = 60
        [vacancies]
        path = "vacancies.toml"
        """) + extra, encoding="utf-8")
    return Project(root, config_path)


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """Write a configuration with the given vacancies (TOML text) and extra settings."""

    def make(vacancies: str = DRP_VACANCY + SG_VACANCY, extra: str = "") -> Project:
        return write_project(tmp_path / "project", vacancies, extra)

    return make


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project()


def serve_project(project: Project, dovecot, sink, monkeypatch) -> Project:
    """Point a project's mailbox at ``dovecot`` and its notices at ``sink``."""
    text = project.config_path.read_text(encoding="utf-8")
    text = text.replace('url = "maildir:../var/mailbox"',
                        f'url = "{dovecot.url()}"\npassword_env = "TEST_IMAP_PASSWORD"')
    text = text.replace('url = "outbox:../var/outbox"', f'url = "{sink.url()}"')
    project.config_path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return project


@pytest.fixture
def served(make_project, fresh_dovecot, smtp_sink, monkeypatch):
    """A deployment whose mailbox is Dovecot and whose notices go to the sink."""
    return serve_project(make_project(), fresh_dovecot, smtp_sink, monkeypatch), fresh_dovecot, \
        smtp_sink


def brussels(text: str) -> dt.datetime:
    """An aware datetime in Brussels time, e.g. ``brussels("2026-06-12T23:59:59")``."""
    from zoneinfo import ZoneInfo

    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Brussels"))
