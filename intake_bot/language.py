"""Guess the candidate's language (English or French) and order a notice's languages."""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORDS = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœæ']+")
_ACCENTED = re.compile(r"[àâçéèêëîïôùûœ]")
_MARKERS = {
    "fr": frozenset(
        [
            "je",
            "vous",
            "madame",
            "monsieur",
            "candidature",
            "veuillez",
            "bonjour",
            "poste",
            "ci-joint",
            "cordialement",
            "mon",
            "ma",
            "mes",
            "le",
            "la",
            "les",
            "des",
            "pour",
            "avec",
            "est",
            "une",
            "dans",
            "sur",
            "suis",
            "votre",
            "trouverez",
            "lettre",
            "salutations",
            "objet",
            "et",
            "au",
            "aux",
        ]
    ),
    "en": frozenset(
        [
            "i",
            "you",
            "dear",
            "application",
            "please",
            "attached",
            "regards",
            "my",
            "the",
            "for",
            "with",
            "is",
            "a",
            "an",
            "in",
            "on",
            "am",
            "your",
            "find",
            "letter",
            "sincerely",
            "kind",
            "and",
            "to",
            "of",
        ]
    ),
}


def detect_language(text: str) -> str | None:
    """ "fr" or "en" when the text clearly leans one way, else None."""
    words = _WORDS.findall(text.lower()[:5000])
    scores = {lang: sum(word in markers for word in words) for lang, markers in _MARKERS.items()}
    # Accented words are French markers too: short subjects carry few function words.
    scores["fr"] += sum(bool(_ACCENTED.search(word)) for word in words)
    best = max(scores, key=lambda lang: scores[lang])
    others = [score for lang, score in scores.items() if lang != best]
    if scores[best] >= 2 and scores[best] > max(others, default=0):
        return best
    return None


def order_languages(available: Sequence[str], preferred: str | None) -> tuple[str, ...]:
    """The notice's languages: the candidate's first when the vacancy offers it."""
    languages = tuple(dict.fromkeys(available)) or ("en",)
    if preferred in languages:
        return (preferred, *(lang for lang in languages if lang != preferred))  # type: ignore[return-value]
    return languages
