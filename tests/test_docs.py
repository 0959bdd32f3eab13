"""The README documents every command, setting, rule and reason code, and CI runs its test command."""

from __future__ import annotations

import re

import click
import pytest

from intake_bot.classify import IGNORED_REASONS
from intake_bot.cli import cli
from intake_bot.config import (
    CHECK_NAMES,
    KNOWN_ATTACHMENT_KEYS,
    KNOWN_CHECK_KEYS,
    KNOWN_CONFIG_KEYS,
    KNOWN_VACANCY_KEYS,
)
from intake_bot.match import UNMATCHED_REASONS
from intake_bot.pipeline import QUARANTINE_REASON
from intake_bot.register import STATUSES
from intake_bot.rules import RULES
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        found.append(f"{prefix}{name}")
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize("command", commands(cli))
def test_every_command_is_documented(command):
    assert f"intake-bot {command}" in README or f"`{command}`" in README


@pytest.mark.parametrize("section, key", [(s, k) for s, keys in KNOWN_CONFIG_KEYS.items()
                                          for k in sorted(keys)])
def test_every_setting_is_documented(section, key):
    assert f"[{section}]" in README and f"`{key}`" in README


@pytest.mark.parametrize("key", sorted(KNOWN_VACANCY_KEYS | KNOWN_ATTACHMENT_KEYS
                                       | KNOWN_CHECK_KEYS | set(CHECK_NAMES)))
def test_every_vacancy_key_is_documented(key):
    assert f"`{key}`" in README


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_every_rule_is_documented(rule):
    assert f"`{rule.name}`" in README


@pytest.mark.parametrize("code", sorted({c for r in RULES for c in r.codes} | set(IGNORED_REASONS)
                                        | set(UNMATCHED_REASONS) | {QUARANTINE_REASON}))
def test_every_reason_code_is_documented(code):
    assert f"`{code}`" in README


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_is_documented(status):
    assert f"`{status}`" in README


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", README, re.S)
    readme_commands = [line for block in blocks[:2] for line in block.splitlines()
                       if line and not line.startswith("#")]
    assert readme_commands, "the README must open with the two commands"
    test_command = next(line for line in readme_commands if "pytest" in line)
    assert test_command in ci.splitlines()


@pytest.mark.parametrize("shown", ["config/intake.example.toml", "deploy/intake-bot.service"])
def test_the_production_section_shows_the_shipped_files_as_they_are(shown):
    assert (REPO / shown).read_text(encoding="utf-8").rstrip() in README
