"""Property-based tests: no input makes the decision core or the pipeline raise.

Arbitrary bytes and arbitrary MIME structures (any nesting, charsets, encodings, header
values and file names) go through parse -> classify -> match -> decide without an
exception, and through a whole cycle without being quarantined. The subject matcher
never raises and finds a vacancy's title whatever its case, dashes and white space.
"""

from __future__ import annotations

import base64
import datetime as dt
import quopri
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake_bot.classify import classify
from intake_bot.config import load_config
from intake_bot.decide import decide
from intake_bot.match import match_subject
from intake_bot.parse import parse_message
from intake_bot.pipeline import run_cycle
from tests.conftest import REPO
from tests.mail import parse_with_the_stdlib_alone

CONFIG = load_config(REPO / "config" / "intake.toml")
RECEIVED = dt.datetime(2026, 6, 10, 8, tzinfo=dt.UTC)
TITLES = sorted({form for v in CONFIG.vacancies for form in v.subject_forms})
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- strategies -----------------------------------------------------------------------

header_text = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
    st.sampled_from(TITLES),
    st.builds(lambda charset, enc, data: f"=?{charset}?{enc}?{data}?=",
              st.sampled_from(["utf-8", "iso-8859-1", "x-no-such", "", "utf-16"]),
              st.sampled_from(["q", "b", "Q", "x"]), st.text(max_size=40)),
)
address = st.one_of(
    st.emails().map(str), header_text,
    st.builds(lambda name, addr: f"{name} <{addr}>", header_text, st.emails().map(str)),
    st.sampled_from(["MAILER-DAEMON@example.org", "recruitment@example.org", "<>", ""]),
)
ROBOT_HEADERS = st.sampled_from([
    ("Auto-Submitted", "auto-replied"), ("Auto-Submitted", "no"), ("Precedence", "bulk"),
    ("List-Id", "<x.example>"), ("Return-Path", "<>"), ("X-Auto-Response-Suppress", "All"),
    ("Reply-To", "someone@example.net"), ("In-Reply-To", "<1.2.3.intake@example.org>"),
    ("Message-ID", "<1.intake@example.org>"),
])


def header_line(name: str, value: str) -> bytes:
    return name.encode("latin-1", "replace") + b": " + value.encode("utf-8", "surrogatepass")


def encode_body(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(data)
    if encoding == "quoted-printable":
        return quopri.encodestring(data)
    return data


leaf = st.builds(
    lambda ctype, charset, encoding, disposition, name, data: b"\r\n".join([
        header_line("Content-Type", f"{ctype}; charset={charset}"),
        header_line("Content-Transfer-Encoding", encoding),
        header_line("Content-Disposition", f'{disposition}; filename="{name}"'),
        b"", encode_body(data, encoding)]),
    st.sampled_from(["text/plain", "text/html", "application/pdf", "image/png",
                     "application/octet-stream", "message/delivery-status", "x/y", ""]),
    st.sampled_from(["utf-8", "iso-8859-1", "x-no-such", "utf-16", ""]),
    st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-bogus"]),
    st.sampled_from(["attachment", "inline", "", "x"]),
    header_text,
    st.one_of(st.binary(max_size=300), st.just(b"%PDF-1.4\n%broken"), st.sampled_from([b""]),
              st.binary(min_size=1500, max_size=3000)),  # enough lines for a folded run
)


def multipart(children: list[bytes], subtype: str, boundary: str, close: bool) -> bytes:
    marker = f"--{boundary}".encode()
    body = b"".join(marker + b"\r\n" + child + b"\r\n" for child in children)
    return (header_line("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')
            + b"\r\n\r\n" + body + (marker + b"--\r\n" if close else b""))


mime_tree = st.recursive(leaf, lambda children: st.builds(
    multipart, st.lists(children, min_size=1, max_size=4),
    st.sampled_from(["mixed", "alternative", "related", "report", "digest"]),
    st.text("abcxyz0123-=_'", min_size=1, max_size=12), st.booleans()), max_leaves=12)

structured_message = st.builds(
    lambda sender, subject, extra, tree: b"\r\n".join(
        [header_line("From", sender), header_line("Subject", subject), b"MIME-Version: 1.0",
         *(header_line(name, value) for name, value in extra)]) + b"\r\n" + tree,
    address, header_text, st.lists(ROBOT_HEADERS, max_size=3), mime_tree)

any_message = st.one_of(st.binary(max_size=2000), structured_message)


# --- the decision core ------------------------------------------------------------------


@FAST
@given(raw=any_message, complete=st.booleans())
def test_parse_classify_match_decide_never_raise(raw, complete):
    parsed = parse_message(raw, complete=complete)
    for text in (parsed.subject, parsed.sender_name, parsed.sender or "", parsed.reply_to or ""):
        assert "\r" not in text and "\n" not in text and "\x00" not in text
    classify(parsed, {CONFIG.from_addr_spec})
    match_subject(parsed.subject, CONFIG.vacancies)
    decision = decide(parsed, RECEIVED, CONFIG)
    assert decision.status in ("accepted", "rejected", "unmatched", "ignored")


@FAST
@given(raw=any_message)
def test_the_parsers_shortcuts_change_nothing_it_finds(raw):
    assert parse_message(raw) == parse_with_the_stdlib_alone(raw)


# --- the whole cycle ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=any_message)
def test_a_cycle_registers_and_files_any_message_without_quarantine(raw):
    root = Path(tempfile.mkdtemp(prefix="intake-property-"))
    try:
        (root / "intake.toml").write_text(
            f'[mailbox]\nurl = "maildir:mail"\n[smtp]\nurl = "outbox:out"\n'
            f'from = "Recruitment <recruitment@example.org>"\n[register]\npath = "r.db"\n'
            f'documents = "docs"\n[vacancies]\npath = "{REPO / "config" / "vacancies.toml"}"\n')
        for sub in ("tmp", "new", "cur"):
            (root / "mail" / sub).mkdir(parents=True)
        (root / "mail" / "new" / "1.message").write_bytes(raw)
        summary = run_cycle(load_config(root / "intake.toml"))
        assert summary.handled == 1 and "quarantined" not in summary.statuses, summary.line()
        assert list((root / "mail" / "new").iterdir()) == []
    finally:
        shutil.rmtree(root)


# --- the subject matcher ------------------------------------------------------------------

DASHES = "-–—"


@st.composite
def disguised_title(draw: st.DrawFn) -> tuple[str, str]:
    """A vacancy's title as a candidate might type it, and that vacancy's id."""
    vacancy = draw(st.sampled_from(CONFIG.vacancies))
    out = []
    for char in vacancy.title:
        if char in DASHES:
            out.append(draw(st.sampled_from(["-", "–", "—", " - ", "–", " —"])))
        elif char.isspace():
            out.append(draw(st.sampled_from([" ", "  ", "\t", " \t ", "\u00a0"])))
        else:
            out.append(draw(st.sampled_from([char.lower(), char.upper(), char])))
    prefix = draw(st.sampled_from(["", "Re: ", "Fwd: ", "TR: ", "AW: RE: ", "Application: "]))
    suffix = draw(st.sampled_from(["", " ", " (2026)", "!", " - my CV"]))
    return prefix + "".join(out) + suffix, vacancy.id


@FAST
@given(subject=st.text())
def test_the_subject_matcher_never_raises(subject):
    match = match_subject(subject, CONFIG.vacancies)
    assert (match.vacancy is None) == (match.reason is not None)


@FAST
@given(disguised=disguised_title())
def test_a_title_matches_whatever_its_case_dashes_and_white_space(disguised):
    subject, vacancy_id = disguised
    match = match_subject(subject, CONFIG.vacancies)
    assert match.vacancy is not None and match.vacancy.id == vacancy_id, (subject, match)
