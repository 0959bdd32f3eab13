"""Text heuristics for the content rules: letter, CV, referees and stated nationalities.

Every function here reads text extracted from a candidate's PDF or Word body, in English
or French, and *guesses*: wording, headings and layouts vary without end, and text
extraction loses layout. That is why the vacancy policy defaults the content checks to
``"flag"`` (recorded for a recruiter, mentioned in the acknowledgement) rather than
``"reject"``; a recruiter may choose ``"reject"`` knowing this.

Guessing whether a text was written with generative AI is deliberately not attempted:
the notices forbid it, but no detector is reliable enough to act on anyone's application.

Matching ignores case and accents ("NATIONALITÉ", "nationalite"). Country names and
demonyms come from ``intake_bot/data/countries.toml``.
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Literal

__all__ = [
    "COUNTRY_TERMS",
    "NATO_MEMBERS",
    "canonical_country",
    "count_references",
    "has_application_letter",
    "has_cv",
    "is_eligible",
    "stated_nationalities",
]


@functools.lru_cache(maxsize=8)
def _fold(text: str) -> str:
    """Lower-case, drop accents, and unify apostrophes, dashes and spaces (keeps line breaks).

    Cached: each content rule reads the same document's text, and folding a CV's text
    costs more than the rule that reads it.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    unified = re.sub(r"[\u2018\u2019\u02bc`\u00b4]", "'", stripped.casefold())
    unified = re.sub(r"[\u2010-\u2015\u2212]", "-", unified)
    return re.sub(r"[^\S\n]+", " ", unified)


def _lines(folded: str) -> list[str]:
    return [line.strip() for line in folded.split("\n")]


# --- Countries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Country:
    name: str
    nato: bool
    names: tuple[str, ...]  # English, French, aliases
    demonyms: tuple[str, ...]  # English and French, every form


def _load_countries() -> tuple[_Country, ...]:
    data = tomllib.loads(
        resources.files("intake_bot").joinpath("data/countries.toml").read_text("utf-8")
    )
    return tuple(
        _Country(
            name=entry["name"],
            nato=entry["nato"],
            names=(entry["name"], entry["name_fr"], *entry["aliases"]),
            demonyms=(*entry["demonyms"], *entry["demonyms_fr"]),
        )
        for entry in data["country"]
    )


def _key(term: str) -> str:
    """The lookup form of a country term: folded, hyphens and spaces alike."""
    return " ".join(re.split(r"[\s-]+", _fold(term).strip()))


_COUNTRIES = _load_countries()
_BY_NAME = {_key(term): c.name for c in _COUNTRIES for term in c.names}
_BY_DEMONYM = {_key(term): c.name for c in _COUNTRIES for term in c.demonyms}
_BY_TERM = _BY_NAME | _BY_DEMONYM

NATO_MEMBERS: frozenset[str] = frozenset(c.name for c in _COUNTRIES if c.nato)
"""Canonical English names of the 32 NATO member states (as of 2024)."""

COUNTRY_TERMS: tuple[str, ...] = tuple(
    dict.fromkeys(term for c in _COUNTRIES for term in (*c.names, *c.demonyms))
)
"""Every country name, alias and demonym as the data writes it: what a suggestion offers."""


def canonical_country(name: str) -> str | None:
    """Return the canonical English name for a country name or demonym, English or French.

    ``canonical_country("Turkey")`` and ``canonical_country("turque")`` give ``"Türkiye"``;
    an unknown name gives ``None``. Useful to validate a vacancy's ``eligible`` list.
    """
    return _BY_TERM.get(_key(name))


def _alternation(terms: Iterable[str]) -> str:
    # Longest first, so that "northern irish" wins over "irish"; any run of spaces or
    # hyphens between words matches ("sud-africain", "sud africain").
    ordered = sorted(set(terms), key=len, reverse=True)
    return "|".join(r"[\s-]+".join(map(re.escape, term.split(" "))) for term in ordered)


_ARTICLE = r"(?:(?:the|la|le|les)\s+|l')?"
_SEPARATOR = r"\s*(?:,|/|&|\+|;|-|\band\b|\bet\b)\s*"
_TERM = rf"(?<![\w.])(?:{_alternation(_BY_TERM)})(?![\w])"
_DEMONYM = rf"(?<![\w.])(?:{_alternation(_BY_DEMONYM)})(?![\w])"
_TERM_RE = re.compile(_TERM)
# A list of countries or demonyms: "belge et italienne", "French/Canadian", "the UK".
_TERM_LIST = rf"{_ARTICLE}{_TERM}(?:{_SEPARATOR}{_ARTICLE}{_TERM})*"
_DEMONYM_LIST = rf"{_DEMONYM}(?:{_SEPARATOR}{_DEMONYM})*"

# Words that state a nationality. Plural nouns ("Ukrainian citizens", "des citoyens
# ukrainiens") describe other people, so only singular ones count; labels may be plural.
_KEYWORD = re.compile(
    r"(?<!\w)(nationalit(?:y|ies|e|es)|citizenships?|citoyennete|national|citizen"
    r"|ressortissante?|citoyen(?:ne)?)(?!\w)"
)
_LABELS = {
    "nationality",
    "nationalities",
    "nationalite",
    "nationalites",
    "citizenship",
    "citizenships",
    "citoyennete",
    "ressortissant",
    "ressortissante",
    "citoyen",
    "citoyenne",
}
# What follows a label: "Nationality: Belgian", "Nationality(ies) - French and Canadian",
# "Nationalité : française", "de nationalité belge", "ressortissante de la Belgique".
_AFTER_LABEL = re.compile(
    rf"^(?:\s*\(\w+\))?\s*[:=\-]?\s*(?:(?:is|est)\s+)?(?:(?:dual|double)\s+)?"
    rf"(?:(?:of|de|du|des|d')\s*)?({_TERM_LIST})"
)
# What follows "national"/"citizen": only "of Canada"; "the national Ukrainian parliament"
# must not read as a nationality.
_AFTER_NOUN = re.compile(rf"^\s+(?:of|de|du|des|d')\s*({_TERM_LIST})")
# What precedes a noun or label in English order: "Belgian and Italian national",
# "a French citizen", "dual Belgian-Canadian citizenship", "US citizen".
_BEFORE = re.compile(rf"({_DEMONYM_LIST})\s+(?:dual\s+)?$")
# "national"/"citizen" must be the noun, not an adjective: "a Belgian national since 2010",
# "Belgian citizen." but not "the Ukrainian national parliament".
_NOUN_END = re.compile(
    r"^\s*(?:$|[.,;:)\]]|(?:with|since|by|and|born|living|residing|resident|who|holding"
    r"|currently|from|et|ne|nee)\b)"
)
_WINDOW = 200  # characters looked at on either side of a keyword
# A CV states a nationality a few times; looking at every keyword of a 2 MB text full of
# them would cost seconds of the service's time.
_MAX_KEYWORDS = 100


def stated_nationalities(text: str) -> list[str]:
    """Return the canonical English names of the countries whose nationality ``text`` states.

    Reads statements such as "Nationality: Belgian", "Nationalité : française",
    "Citizenship: Canada", "Dual nationality: French and Canadian", "Nationalités : belge
    et italienne", "Belgian and Italian national", "citizen of the United States",
    "ressortissante belge", in the order found, without duplicates. Countries named
    elsewhere ("worked in Ukraine", "Brussels, Belgium", "Languages: Ukrainian") are
    ignored: only the words next to a nationality keyword count.
    """
    folded = _fold(text)
    found: dict[str, None] = {}
    for match in itertools.islice(_KEYWORD.finditer(folded), _MAX_KEYWORDS):
        keyword = match.group(1)
        line_start = folded.rfind("\n", 0, match.start()) + 1
        line_end = folded.find("\n", match.end())
        line_end = len(folded) if line_end < 0 else line_end
        before = folded[max(line_start, match.start() - _WINDOW) : match.start()]
        after = folded[match.end() : min(line_end, match.end() + _WINDOW)]
        stated: list[str] = []
        if keyword in _LABELS:
            if after.strip(" :=-\t") or line_end == len(folded):
                stated += _terms(_AFTER_LABEL.match(after))
            else:  # label and value on two lines
                stated += _terms(_value_alone(_next_line(folded, line_end)))
        else:
            stated += _terms(_AFTER_NOUN.match(after))
        if not keyword.startswith(("ressortissant", "citoyen")) and (
            keyword not in ("national", "citizen") or _NOUN_END.match(after)
        ):
            stated += _terms(_BEFORE.search(before))
        found.update(dict.fromkeys(stated))
    return list(found)


def _next_line(folded: str, newline: int) -> str:
    for line in folded[newline + 1 : newline + 1 + _WINDOW].split("\n"):
        if line.strip():
            return line
    return ""


def _value_alone(line: str) -> re.Match[str] | None:
    """The nationality a line holds alone: a label left blank may be followed by a line such
    as "Chad Smith, referee", which starts with a country but states nothing."""
    value = _AFTER_LABEL.match(" " + line)
    return None if value and re.match(r"\s*\w", value.string[value.end() :]) else value


def _terms(match: re.Match[str] | None) -> list[str]:
    if match is None:
        return []
    return [_BY_TERM[_key(term.group(0))] for term in _TERM_RE.finditer(match.group(1))]


def is_eligible(nationalities: Iterable[str], eligible: Literal["nato"] | Iterable[str]) -> bool:
    """Tell whether at least one of ``nationalities`` is eligible; one is enough.

    ``eligible`` is ``"nato"`` (the :data:`NATO_MEMBERS`) or a list of country names in
    any form :func:`canonical_country` knows ("Turkey", "Türkiye", "Royaume-Uni"); names
    it does not know are compared as written, ignoring case and accents.
    """
    allowed = NATO_MEMBERS if eligible == "nato" else {_canonical_or_key(n) for n in eligible}
    return any(_canonical_or_key(n) in allowed for n in nationalities)


def _canonical_or_key(name: str) -> str:
    return canonical_country(name) or _key(name)


# --- Letter and CV -----------------------------------------------------------------------

_LETTER_SIGNALS = (
    r"^dear\s[^\n]{1,80}$",  # a salutation line: "Dear Sir or Madam,", "Dear Hiring Manager,"
    r"\bto whom it may concern\b",
    r"\bi am writing to (?:apply|express|submit)\b",
    r"\bi (?:wish|would like|am pleased|hereby) to (?:apply|submit my application)\b",
    r"\bletter of (?:application|motivation)\b",
    r"\b(?:cover|covering|motivation|motivational) letter\b",
    r"\byours (?:sincerely|faithfully|truly)\b",
    r"^(?:madame|monsieur|mesdames|messieurs)\b[^\n]{0,60},$",  # "Madame, Monsieur,"
    r"\blettre de (?:motivation|candidature)\b",
    (
        r"\bje (?:souhaite|desire|voudrais|me permets de) (?:postuler|poser ma candidature"
        r"|vous (?:soumettre|adresser|presenter) ma candidature)"
    ),
    r"\b(?:veuillez|je vous prie d') ?agreer\b",
    r"\b(?:salutations|sentiments) (?:les plus )?distingue(?:e)?s\b",
    r"\bj'ai l'honneur de\b",
)
_LETTER = re.compile("|".join(_LETTER_SIGNALS), re.MULTILINE)


def has_application_letter(text: str) -> bool:
    """Tell whether ``text`` contains a letter of application, in English or French.

    One signal is enough: a salutation line ("Dear Sir or Madam,", "Madame, Monsieur,"),
    an application statement ("I am writing to apply", "je souhaite postuler"), a closing
    formula ("Yours sincerely", "Veuillez agréer ...") or the letter's own title ("cover
    letter", "lettre de motivation").
    """
    return _LETTER.search("\n".join(_lines(_fold(text)))) is not None


_CV_TITLE = re.compile(r"\bcurriculum vitae\b|\bcv\b|\bresume\b")
_CV_HEADINGS = {
    "education": r"education|formation|etudes|academic (?:background|qualifications)|diplomes",
    "experience": r"(?:professional |work |relevant )?experiences?(?: professionnelles?)?"
    r"|employment(?: history)?|career|carriere|parcours professionnel",
    "skills": r"(?:key |core |technical )?skills|competences|aptitudes",
    "languages": r"languages?(?: skills)?|langues|competences linguistiques",
    "personal": r"personal (?:details|information|data)|informations personnelles|etat civil"
    r"|date of birth|date de naissance",
    "publications": r"publications",
}
# One pattern for all headings, one named group per section kind: one match per line.
_HEADING = re.compile(
    r"^(?:[\W\d]+\s*)?(?:"
    + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _CV_HEADINGS.items())
    + r")(?!\w)"
)
_HEADING_MAX_WORDS = 5


def _heading_kind(line: str) -> str | None:
    """The CV section a line opens, if it is a short line starting with a known heading."""
    label = line.split(":", 1)[0]
    if not label or len(label.split()) > _HEADING_MAX_WORDS:
        return None
    match = _HEADING.match(label)
    return match.lastgroup if match else None


def has_cv(text: str) -> bool:
    """Tell whether ``text`` contains a CV, in English or French.

    Needs at least two signals among: a CV title ("Curriculum vitae", "CV", "Résumé") and
    headings of distinct CV sections (education/formation, professional
    experience/expérience professionnelle, skills/compétences, languages/langues,
    personal details/date of birth, publications). A heading is a short line, so a letter
    that mentions "my professional experience" in a sentence gives no signal.
    """
    folded = _fold(text)
    signals = {kind for kind in map(_heading_kind, _lines(folded)) if kind}
    if _CV_TITLE.search(folded):
        signals.add("title")
    return len(signals) >= 2


# --- References --------------------------------------------------------------------------

_REFERENCES_HEADING = re.compile(
    r"^(?:[\W\d]+\s*)?(?:professional |personal |academic )?"
    r"(?:references|referees|referents|referentes|personnes de reference)"
    r"(?:\s+\w+){0,2}\s*(?:\(\d+\))?\s*(?::(?P<rest>.*))?$"
)
# Anchored at the start of a run and possessive, so that a long run without "@" costs one
# pass, not one pass per character.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00|\()?\d[\d ().\-/]{6,20}\d(?!\w)")
_CONTACT_LABELS = re.compile(
    r"\b(?:e-?mail|mail|courriel|tel|phone|telephone|mobile|portable|gsm|fax|cell|contact)\b"
)


def count_references(text: str) -> int:
    """Count the referees given with contact details in a References section.

    A References/Referees/Références section runs from its heading to the next CV heading.
    Each referee is a name with an e-mail address, a phone number or both; a contact starts
    a new referee when the current one already has that kind of contact, or when a name or
    title line comes between. The same e-mail address counts once. Addresses elsewhere in
    the text (the candidate's own, in the CV header) are not referees.
    """
    seen_emails: set[str] = set()
    count = 0
    for section in _reference_sections(_fold(text)):
        count += _count_referees(section, seen_emails)
    return count


def _reference_sections(folded: str) -> Iterator[list[str]]:
    lines = _lines(folded)
    index = 0
    while index < len(lines):
        heading = _REFERENCES_HEADING.match(lines[index])
        index += 1
        if heading is None:
            continue
        section = [heading.group("rest") or ""]
        while (
            index < len(lines)
            and not _heading_kind(lines[index])
            and not _REFERENCES_HEADING.match(lines[index])
        ):
            section.append(lines[index])
            index += 1
        yield section


def _count_referees(lines: list[str], seen_emails: set[str]) -> int:
    count = 0
    kinds: set[str] = set()  # contact kinds the current referee already has
    name_between = False  # a name or title line came since the last contact
    for line in lines:
        contacts = _contacts(line)
        if not contacts:
            name_between = name_between or _is_textual(line)
            continue
        position = 0
        for kind, start, end in contacts:
            if _is_textual(line[position:start]):
                name_between = True
            position = end
            value = line[start:end]
            if kind == "email":
                if value in seen_emails:
                    continue
                seen_emails.add(value)
            if not kinds or kind in kinds or name_between:
                count += 1
                kinds = set()
            kinds.add(kind)
            name_between = False
    return count


def _contacts(line: str) -> list[tuple[str, int, int]]:
    """The e-mail addresses and phone numbers of a line: (kind, start, end), in order."""
    found = [("email", m.start(), m.end()) for m in _EMAIL.finditer(line)]
    # Digits inside an address are no phone number: blank the addresses out first.
    masked = _EMAIL.sub(lambda m: " " * len(m.group(0)), line)
    for match in _PHONE.finditer(masked):
        digits = sum(c.isdigit() for c in match.group(0))
        international = match.group(0).startswith(("+", "00"))
        # 8 to 15 digits; without a "+" or "00", at least 9, so "2015-2019" is no phone.
        if 8 <= digits <= 15 and (international or digits >= 9):
            found.append(("phone", match.start(), match.end()))
    return sorted(found, key=lambda contact: contact[1])


def _is_textual(fragment: str) -> bool:
    """A name or a title (two words or more), not a contact label like "Tel." or "E-mail:"."""
    words = re.findall(r"[^\W\d_]{2,}", _CONTACT_LABELS.sub(" ", fragment))
    return len(words) >= 2
