"""Real-world messages from public projects' test suites go through the core without raising."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from intake_bot.config import load_config
from intake_bot.decide import decide
from intake_bot.parse import parse_message
from tests.conftest import CORPUS, REPO
from tests.mail import parse_with_the_stdlib_alone

MESSAGES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md") \
    if CORPUS.is_dir() else []


def test_corpus_is_present_in_ci():
    if not MESSAGES:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the e-mail corpus is missing at {CORPUS}")
        pytest.skip(f"the e-mail corpus is not at {CORPUS}: the corpus tests are skipped")


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_message_goes_through_parse_classify_match_and_rules(path: Path):
    config = load_config(REPO / "config" / "intake.toml")
    raw = path.read_bytes()
    for complete in (True, False):
        parsed = parse_message(raw, complete=complete)
        decision = decide(parsed, dt.datetime(2026, 6, 1, tzinfo=dt.UTC), config)
        assert decision.status in ("accepted", "rejected", "unmatched", "ignored")


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_parsers_shortcuts_change_nothing_it_finds_in_the_corpus(path: Path):
    raw = path.read_bytes()
    assert parse_message(raw) == parse_with_the_stdlib_alone(raw)
