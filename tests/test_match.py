"""Subject matching, as a table: every form a candidate's subject takes."""

from __future__ import annotations

import pytest

from intake_bot.config import Vacancy, load_vacancies
from intake_bot.match import match_subject, normalise
from tests.conftest import DRP_VACANCY, SG_VACANCY


@pytest.fixture(scope="module")
def vacancies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Vacancy, ...]:
    path = tmp_path_factory.mktemp("v") / "vacancies.toml"
    path.write_text(DRP_VACANCY + SG_VACANCY + """
[[vacancy]]
id = "SGD"
title = "Deputy Secretary General"
deadline = "2027-01-01T12:00"
timezone = "Europe/Brussels"
""", encoding="utf-8")
    return load_vacancies(path)


@pytest.mark.parametrize("subject, expected", [
    ("Officer – Democratic Resilience and Partnerships", "DRP"),
    ("officer - democratic resilience and partnerships", "DRP"),
    ("OFFICER — DEMOCRATIC RESILIENCE AND PARTNERSHIPS", "DRP"),
    ("Officer-Democratic Resilience and Partnerships", "DRP"),
    ("Officer  –   Democratic\tResilience and  Partnerships", "DRP"),
    ("Re: Fwd: Officer – Democratic Resilience and Partnerships", "DRP"),
    ("TR: AW: Officer – Democratic Resilience and Partnerships", "DRP"),
    ("Application for “Officer – Democratic Resilience and Partnerships” - A. Martin", "DRP"),
    ("'Officer – Democratic Resilience and Partnerships'", "DRP"),
    ("Candidature : Officier – Résilience démocratique et partenariats", "DRP"),
    ("candidature officier - resilience democratique et partenariats", "DRP"),
    ("Ref NATO-PA-2026-07", "DRP"),
    ("nato pa 2026 07 application", "DRP"),
    ("Secretary General", "SG"),
    ("Application: Deputy Secretary General", "SGD"),
])
def test_subject_names_one_vacancy(vacancies, subject, expected):
    match = match_subject(subject, vacancies)
    assert match.reason is None
    assert match.vacancy is not None and match.vacancy.id == expected


@pytest.mark.parametrize("subject", [
    "", "Job application", "Officer", "Democratic Resilience", "Officer – Democratic",
    "Secretary", "NATO-PA-2026-0", "Officer Democratic Resilience and Partnershipsx",
])
def test_subject_names_no_vacancy(vacancies, subject):
    match = match_subject(subject, vacancies)
    assert match.vacancy is None and match.reason == "unknown-vacancy"


def test_subject_naming_two_vacancies_is_ambiguous(vacancies):
    match = match_subject("Secretary General or Officer – Democratic Resilience and Partnerships",
                          vacancies)
    assert match.vacancy is None
    assert match.reason == "ambiguous-vacancy"
    assert match.candidates == ("DRP", "SG")


def test_normalise_is_blind_to_case_accents_dashes_and_punctuation():
    assert normalise("Officier – Résilience, « démocratique »!") == "officier resilience democratique"
    assert normalise("A—B‐C") == "a b c"
