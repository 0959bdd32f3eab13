"""Every reason and flag code this version can record, gathered from where each is decided.

Recruiters' filters check a ``--reason`` or ``--flag`` against it, and check-config the
sections of a ``reasons.toml`` override, so that a misspelt code is an error, not a silent
empty result or a text no notice ever uses.
"""

from __future__ import annotations

from intake_bot.classify import IGNORED_REASONS
from intake_bot.match import UNMATCHED_REASONS
from intake_bot.pipeline import QUARANTINE_REASON
from intake_bot.rules import RULES


def known_codes() -> set[str]:
    """Every reason and flag code this version can record."""
    return ({code for rule in RULES for code in rule.codes} | set(IGNORED_REASONS)
            | set(UNMATCHED_REASONS) | {QUARANTINE_REASON})
