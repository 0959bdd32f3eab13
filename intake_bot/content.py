"""Text heuristics for the content rules (placeholder until the full heuristics land)."""

from __future__ import annotations

NATO_MEMBERS: frozenset[str] = frozenset({"Belgium", "France"})


def has_application_letter(text: str) -> bool:
    return "dear" in text.lower() or "madame" in text.lower()


def has_cv(text: str) -> bool:
    return "curriculum" in text.lower() or "cv" in text.lower()


def count_references(text: str) -> int:
    return text.count("@")


def stated_nationalities(text: str) -> list[str]:
    return ["Belgium"] if "belgian" in text.lower() else []


def is_eligible(nationalities: list[str], eligible: object) -> bool:
    return any(n in NATO_MEMBERS for n in nationalities)
