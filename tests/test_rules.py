"""The rules: all registered, each pure and tested as a table without servers."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from dataclasses import replace

import pytest

import intake_bot.rules as rules_package
from intake_bot.config import AttachmentPolicy, Vacancy, load_vacancies
from intake_bot.documents import DocumentInfo
from intake_bot.rules import RULES, Application, Document, apply_rules, told_to_candidate
from tests.conftest import DRP_VACANCY, brussels


def test_every_rule_module_is_registered_once_with_a_kebab_case_name():
    modules = [name for _, name, _ in pkgutil.iter_modules(rules_package.__path__)
               if name != "base"]
    registered = [importlib.import_module(f"intake_bot.rules.{name}").RULE for name in modules]
    assert sorted(rule.name for rule in registered) == sorted(rule.name for rule in RULES)
    assert len({rule.name for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.name == rule.name.lower() and " " not in rule.name and "_" not in rule.name
        assert rule.description.endswith(".") and rule.codes


@pytest.fixture(scope="module")
def drp(tmp_path_factory) -> Vacancy:
    path = tmp_path_factory.mktemp("v") / "vacancies.toml"
    path.write_text(DRP_VACANCY, encoding="utf-8")
    return load_vacancies(path)[0]


def pdf(pages: int = 2, readable: bool = True, encrypted: bool = False, text: str = "",
        name: str | None = "cv.pdf", size: int = 1000, kind: str = "pdf",
        words: int | None = None) -> Document:
    return Document(name=name, size=size, info=DocumentInfo(
        kind=kind, readable=readable, encrypted=encrypted, pages=pages if readable else None,
        words=words, text=text or None, error=None if readable else "broken"))


ON_TIME = brussels("2026-06-10T10:00:00")


@pytest.mark.parametrize("documents, received, reasons", [
    ([pdf()], ON_TIME, []),
    ([], ON_TIME, ["no-attachment"]),
    ([pdf(), pdf()], ON_TIME, ["multiple-attachments"]),
    ([pdf(kind="docx")], ON_TIME, ["not-pdf"]),
    ([pdf(kind="other")], ON_TIME, ["not-pdf"]),
    ([pdf(readable=False)], ON_TIME, ["unreadable-pdf"]),
    ([pdf(readable=False, encrypted=True)], ON_TIME, ["encrypted-pdf"]),
    ([pdf(size=20_000_000)], ON_TIME, ["too-large"]),
    ([pdf()], brussels("2026-06-13T00:00:00"), ["late"]),
    ([pdf(), pdf(kind="other")], brussels("2026-06-13T00:00:00"),
     ["multiple-attachments", "not-pdf", "late"]),
])
def test_attachment_and_deadline_rules(drp, documents, received, reasons):
    application = Application(vacancy=drp, received_at=received, documents=tuple(documents))
    assert apply_rules(application) == (reasons, [])


def test_types_other_than_pdf_give_wrong_type_and_limits(drp):
    essay = replace(drp, attachments=AttachmentPolicy(types=("docx", "doc"), max_words=500,
                                                      filename_must_contain=("PASP0016", "key challenges")))
    good = pdf(kind="docx", name="PASP0016 - Key Challenges.docx", words=500)
    check = lambda *docs: apply_rules(Application(essay, ON_TIME, tuple(docs)))[0]  # noqa: E731
    assert check(good) == []
    assert check(replace(good, info=replace(good.info, words=501))) == ["too-many-words"]
    assert check(replace(good, name="essay.docx")) == ["bad-filename"]
    assert check(replace(good, name=None)) == ["bad-filename"]
    # Words as candidates write them in file names: "_" or "-" for spaces, accents dropped.
    assert check(replace(good, name="PASP0016_Key_challenges.docx")) == []
    assert check(replace(good, name="pasp0016-key-challenges_v2.docx")) == []
    assert check(replace(good, name="PASP0016_KeyChallenges.docx")) == ["bad-filename"]
    accented = replace(essay, attachments=replace(essay.attachments,
                                                  filename_must_contain=("Défis clés",)))
    unaccented = replace(good, name="defis_cles.docx")
    assert apply_rules(Application(accented, ON_TIME, (unaccented,)))[0] == []
    assert check(pdf(name="PASP0016 key challenges.pdf")) == ["wrong-type"]
    pages = replace(drp, attachments=AttachmentPolicy(max_pages=2))
    assert apply_rules(Application(pages, ON_TIME, (pdf(pages=3),)))[0] == ["too-many-pages"]


def test_wrong_channel_moots_the_document_rules_but_not_the_deadline(drp):
    recruiting = replace(drp, channel="e-recruitment", apply_url="https://example.org/apply")
    late = brussels("2026-06-13T00:00:00")
    assert apply_rules(Application(recruiting, ON_TIME, ()))[0] == ["wrong-channel"]
    assert apply_rules(Application(recruiting, late, (pdf(kind="other"),)))[0] == [
        "late", "wrong-channel"]


def test_an_incomplete_message_is_too_large_and_nothing_else(drp):
    application = Application(drp, ON_TIME, (), complete=False)
    assert apply_rules(application) == (["too-large"], [])


def test_content_policies_reject_flag_or_off(drp):
    flagging = replace(drp, checks={"letter": "flag", "cv": "reject", "references": "off"})
    text = "Curriculum vitae\nEducation\nProfessional experience\nSkills"
    reasons, flags = apply_rules(Application(flagging, ON_TIME, (pdf(text=text),)))
    assert "missing-letter" in flags and "missing-letter" not in reasons
    assert "too-few-references" not in reasons + flags


def test_a_scan_is_flagged_no_text_and_no_content_check_guesses(drp):
    checking = replace(drp, checks={name: "reject" for name in
                                    ("letter", "cv", "nationality", "references", "eligibility")})
    reasons, flags = apply_rules(Application(checking, ON_TIME, (pdf(text=""),)))
    assert reasons == [] and flags == ["no-text"]


def test_no_text_is_off_when_no_content_check_is_on(drp):
    assert apply_rules(Application(drp, ON_TIME, (pdf(text=""),))) == ([], [])


def test_deadline_rule_uses_receipt_time_to_the_second(drp):
    last = dt.datetime(2026, 6, 12, 21, 59, 59, 999999, tzinfo=dt.UTC)
    assert apply_rules(Application(drp, last, (pdf(),)))[0] == []
    assert apply_rules(Application(drp, last + dt.timedelta(microseconds=1), (pdf(),)))[0] == ["late"]


def infected(document: Document, signature: str = "Win.Test.EICAR_HDB-1") -> Document:
    return replace(document, malware=signature)


def active(document: Document, *found: str) -> Document:
    return replace(document, info=replace(document.info, active_content=found))


@pytest.mark.parametrize("documents, received, reasons", [
    ([infected(pdf())], ON_TIME, ["malware"]),
    # The infected file's other faults are moot; the deadline is not.
    ([infected(pdf(kind="other")), pdf()], brussels("2026-06-13T00:00:00"), ["late", "malware"]),
    ([infected(active(pdf(), "embedded files"))], ON_TIME, ["malware"]),
])
def test_malware_rejects_and_moots_what_else_the_files_got_wrong(drp, documents, received,
                                                                  reasons):
    application = Application(vacancy=drp, received_at=received, documents=tuple(documents))
    assert apply_rules(application) == (reasons, [])


@pytest.mark.parametrize("documents, reasons, flags", [
    ([active(pdf(), "JavaScript on open")], [], ["active-content"]),
    ([pdf(), active(pdf(), "embedded files")], ["multiple-attachments"], ["active-content"]),
    ([active(pdf(kind="docx"), "embedded files")], ["not-pdf"], ["active-content"]),
    ([pdf()], [], []),
])
def test_active_content_is_a_flag_never_a_rejection(drp, documents, reasons, flags):
    application = Application(vacancy=drp, received_at=ON_TIME, documents=tuple(documents))
    assert apply_rules(application) == (reasons, flags)


def test_only_flags_meant_for_the_candidate_reach_the_notice():
    assert told_to_candidate(["no-text", "active-content", "missing-cv"]) == ("no-text", "missing-cv")
