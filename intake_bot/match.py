"""Match a subject line to exactly one vacancy by its title, an alias or its reference.

Matching is blind to case, accents, runs of white space, the kind of dash, punctuation,
invisible characters and reply/forward prefixes, and the name may stand anywhere in the
subject.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from intake_bot.config import Vacancy

#: The reason codes of unmatched messages.
UNMATCHED_REASONS = ("unknown-vacancy", "ambiguous-vacancy")


@dataclass(frozen=True)
class Match:
    """The outcome of matching: one vacancy, or the reason code why not."""

    vacancy: Vacancy | None
    reason: str | None  # "unknown-vacancy" | "ambiguous-vacancy" | None
    matched_form: str | None = None  # the title, alias or reference found in the subject
    candidates: tuple[str, ...] = ()  # ids of every vacancy named, when ambiguous


def normalise(text: str) -> str:
    """Case-, accent-, dash- and punctuation-blind form of a text, words separated by one space.

    Invisible format characters go without a trace: a title copied from a web page may
    carry soft hyphens or zero-width spaces inside its words.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed
                       if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    return " ".join(re.sub(r"[\W_]+", " ", stripped.casefold()).split())


def match_subject(subject: str, vacancies: Sequence[Vacancy]) -> Match:
    """Find the vacancy a subject names.

    A name found only inside a longer name of another vacancy does not count (so that
    "Officer" does not steal "Senior Officer" subjects); two vacancies named side by side
    make the subject ambiguous.
    """
    padded = f" {normalise(subject)} "
    spans: list[tuple[int, int, Vacancy, str]] = []
    for vacancy in vacancies:
        for form in vacancy.subject_forms:
            needle = normalise(form)
            if not needle:
                continue
            start = padded.find(f" {needle} ")
            while start != -1:
                spans.append((start, start + len(needle) + 2, vacancy, form))
                start = padded.find(f" {needle} ", start + 1)
    outermost = [span for span in spans
                 if not any(other[2].id != span[2].id and other[0] <= span[0]
                            and span[1] <= other[1] and (other[1] - other[0]) > (span[1] - span[0])
                            for other in spans)]
    found = {span[2].id: span for span in sorted(outermost, key=lambda s: s[0] - s[1])}
    if not found:
        return Match(None, "unknown-vacancy")
    if len(found) > 1:
        return Match(None, "ambiguous-vacancy", candidates=tuple(sorted(found)))
    _, _, vacancy, form = next(iter(found.values()))
    return Match(vacancy, None, matched_form=form)
