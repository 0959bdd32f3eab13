"""What a notice may quote from a message: tables of names, subjects and file names."""

from __future__ import annotations

import pytest

from intake_bot.reflect import (
    MAX_CHARS,
    greeting_name,
    holds_link,
    reflected_file_name,
    reflected_text,
    visible_text,
)

#: Ways to write a link or an address so that a filter misses it.
DISGUISED_LINKS = [
    "http://evil.example/nato",
    "HTTPS://EVIL.EXAMPLE",
    "hxxp://evil.example/x",
    "hxxps[:]//evil.example",
    "h**p://evil.example",
    "ht\u200btp://evil.example/x",              # a zero-width space inside the scheme
    "http\uff1a\uff0f\uff0fevil.example",        # fullwidth colon and slashes
    "http\u2236\u2215\u2215evil.example",        # ratio and division slashes
    "evil.example/x",
    "evil.example:8080",
    "evil[.]example",
    "evil(.)example",
    "evil{.}example",
    "evil [dot] example",
    "evil\u3002example",                         # ideographic full stop
    "evil\uff0eexample",                         # fullwidth full stop
    "evil\u2024example",                         # one dot leader
    "evil\u00b7example",                         # middle dot
    "evil\u200b.\u200bexample",                  # zero-width spaces around the dot
    "\u0435vil.example",                         # a Cyrillic e
    "www.evil.example",
    "www[.]evil[.]example",
    "192.168.10.1/login",
    "mailto:victim@victim.example",
    "javascript:alert(1)",
    "victim@victim.example",
    "victim\uff20victim.example",                # fullwidth at
    "victim [at] victim [dot] example",
    "victim(at)victim.example",
    "evil.example",
]


@pytest.mark.parametrize("link", DISGUISED_LINKS)
def test_every_disguise_of_a_link_is_seen(link: str) -> None:
    assert holds_link(visible_text(link))


@pytest.mark.parametrize("link", DISGUISED_LINKS)
def test_a_disguised_link_leaves_a_subject(link: str) -> None:
    assert reflected_text(f"Application {link} today") == "Application today"


@pytest.mark.parametrize("link", DISGUISED_LINKS)
def test_a_name_with_a_disguised_link_gets_the_neutral_greeting(link: str) -> None:
    assert greeting_name(f"Please log in at {link}") == ""


@pytest.mark.parametrize("text", [
    "Officer – Democratic Resilience and Partnerships",
    "Re: AW: Application NATO-PA-2026-07",
    "Candidature v2.0 (corrigée)",
    "Dr. Anna Müller-Lüdenscheidt",
    "Ph.D. application, 3.5 years",
    "申请 – 官员。谢谢",
    "Заявка на вакансию",
    "طلب توظيف",
    "12.06.2026",
])
def test_ordinary_text_is_not_a_link(text: str) -> None:
    assert not holds_link(text)
    assert reflected_text(text) == text


@pytest.mark.parametrize(("raw", "shown"), [
    ("Alice\x00\r\nBcc: x", "Alice Bcc: x"),                  # control characters
    ("Ali\u200bce", "Alice"),                                  # zero-width space
    ("\u202eFDP.exe", "FDP.exe"),                              # right-to-left override
    ("\u2066Alice\u2069 \u200fSmith", "Alice Smith"),          # isolates and marks
    ("Ａｌｉｃｅ", "Alice"),                                   # fullwidth letters
    ("Alice\u2028Smith", "Alice Smith"),                       # line separator
    ("Ali\u00adce", "Alice"),                                  # soft hyphen
    ("  Alice \t  Smith  ", "Alice Smith"),
])
def test_only_visible_characters_remain(raw: str, shown: str) -> None:
    assert visible_text(raw) == shown


@pytest.mark.parametrize(("name", "greeted"), [
    ("Alice Martin", "Alice Martin"),
    ("Élodie Dupont-Lefèvre", "Élodie Dupont-Lefèvre"),
    ("", ""),
    (None, ""),
    ("alice@example.net", ""),                                  # many clients show the address
    ("Please log in at http://evil.example/nato", ""),
    ("Please log in at evil.example/nato", ""),
    ("J.Smith", ""),                                            # reads as a host: left out
    ("A" * MAX_CHARS, "A" * MAX_CHARS),
    ("Your account is locked: call the help desk today to restore your access, thank you",
     ""),                                                       # 83 characters: a sentence
    ("\u202eAlice", "Alice"),
])
def test_the_greeting_name(name: str | None, greeted: str) -> None:
    assert greeting_name(name) == greeted


@pytest.mark.parametrize(("subject", "quoted"), [
    ("Application - verify at https://evil.example/unlock", "Application - verify at"),
    ("Officer – DRP", "Officer – DRP"),
    ("Write to victim@victim.example", "Write to"),
    ("https://evil.example", ""),
    ("", ""),
    (None, ""),
    ("x" * 200, "x" * (MAX_CHARS - 1) + "…"),
    ("Application\r\nBcc: victim@victim.example", "Application Bcc:"),
])
def test_the_quoted_subject(subject: str | None, quoted: str) -> None:
    assert reflected_text(subject) == quoted


@pytest.mark.parametrize(("name", "quoted"), [
    ("CV.pdf", "CV.pdf"),
    ("Application_2026.pdf", "Application_2026.pdf"),
    ("Lettre de motivation – Élodie.docx", "Lettre de motivation – Élodie.docx"),
    ("evil.example.pdf", None),
    ("Please log in at http://evil.example/nato.pdf", None),
    ("contact victim@victim.example.pdf", None),
    ("hxxp evil[.]example.pdf", None),
    ("\u202efdp.exe", "fdp.exe"),
    (".pdf", None),
    (None, None),
    ("C" * 100 + ".pdf", "C" * (MAX_CHARS - 5) + "….pdf"),
])
def test_the_quoted_file_name(name: str | None, quoted: str | None) -> None:
    assert reflected_file_name(name) == quoted


@pytest.mark.parametrize("text", [
    "a." * 5000, "a" * 100_000, "@" * 10_000, "a.b" * 3000, "h**p://" * 2000, "a[.]" * 3000,
])
def test_long_hostile_text_is_cut_to_size(text: str) -> None:
    assert len(reflected_text(text)) <= MAX_CHARS
    assert len(greeting_name(text)) <= MAX_CHARS
