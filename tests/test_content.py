"""Tests of the content heuristics on text extracted from real application PDFs and on samples."""

from __future__ import annotations

import functools
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake_bot.documents import inspect_document
from intake_bot.documents.content import (
    NATO_MEMBERS,
    canonical_country,
    count_references,
    has_application_letter,
    has_cv,
    is_eligible,
    stated_nationalities,
)
from tests import builders

NATIONALITY = {"en": "Belgian", "fr": "belge"}
COUNTRIES_TOML = Path(__file__).parents[1] / "intake_bot" / "data" / "countries.toml"


@functools.cache
def application_text(
    letter: bool = True,
    cv: bool = True,
    nationality: str | None = "",
    references: int = 3,
    language: str = "en",
) -> str:
    """The text the pipeline gets from a built application PDF ("" nationality: the default)."""
    if nationality == "":
        nationality = NATIONALITY[language]
    pdf = builders.make_application_pdf(letter, cv, nationality, references, language)  # type: ignore[arg-type]
    info = inspect_document(pdf, want_text=True)
    assert info.readable and info.text
    return info.text


LANGUAGES = pytest.mark.parametrize("language", ["en", "fr"])


# --- Letter and CV -----------------------------------------------------------------------


@LANGUAGES
def test_complete_application_has_letter_and_cv(language: str) -> None:
    text = application_text(language=language)
    assert has_application_letter(text) and has_cv(text)


@LANGUAGES
def test_missing_letter_is_noticed(language: str) -> None:
    text = application_text(letter=False, language=language)
    assert not has_application_letter(text) and has_cv(text)


@LANGUAGES
def test_missing_cv_is_noticed(language: str) -> None:
    text = application_text(cv=False, language=language)
    assert has_application_letter(text) and not has_cv(text)


@pytest.mark.parametrize(
    "text",
    [
        "Dear Hiring Manager,\nPlease consider me.",
        "DEAR SELECTION COMMITTEE,",
        "I am writing to apply for the post.",
        "Letter of application",
        "COVER LETTER",
        "Kind words.\nYours sincerely,\nJ. Doe",
        "Madame, Monsieur,\nJe me présente.",
        "LETTRE DE MOTIVATION",
        "Je souhaite postuler au poste d’officier.",
        "Veuillez agréer, Madame, Monsieur, mes salutations distinguées.",
    ],
)
def test_letter_wording(text: str) -> None:
    assert has_application_letter(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Curriculum vitae\nEducation\nMaster",
        "Monsieur Jean Dupont, directeur, Parlement européen",  # a referee, not a salutation
        "Our dear colleagues at the Assembly will hold a session.",
    ],
)
def test_no_letter(text: str) -> None:
    assert not has_application_letter(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Curriculum Vitae\nEDUCATION\nMaster, 2018", True),
        ("Résumé\nCompétences :\nRédaction", True),
        ("Professional Experience\n2019-2024 Officer\nLanguages: English (C2), French (B2)", True),
        ("Expérience professionnelle\n...\nFormation\n...", True),
        ("Date of birth: 1 May 1990\nSkills\nDrafting", True),
        ("Please find my CV attached.", False),  # one signal only
        (
            (
                "My education and my professional experience in the field of security, which I "
                "acquired over ten years, make me a strong candidate; please find my CV attached."
            ),
            False,
        ),
    ],
)
def test_cv_needs_two_signals(text: str, expected: bool) -> None:
    assert has_cv(text) is expected


# --- References --------------------------------------------------------------------------


@LANGUAGES
@pytest.mark.parametrize("count", [0, 1, 2, 3, 5])
def test_referees_with_contact_details_are_counted(language: str, count: int) -> None:
    assert count_references(application_text(references=count, language=language)) == count


def test_candidates_own_contacts_are_not_referees() -> None:
    text = "Jane Doe\njane@example.org | +32 470 12 34 56\nCurriculum vitae\nEducation\nMaster"
    assert count_references(text) == 0


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("References available upon request", 0),
        ("References: available upon request", 0),
        (
            (
                "REFERENCES\nDr A. One, Professor, a.one@uni.example\n"
                "Dr B. Two, Director, b.two@gov.example"
            ),
            2,
        ),
        ("Referees:\n1. Anna One - +32 2 555 12 34\n2. Bob Two - bob@two.example", 2),
        (
            (
                "Références professionnelles\nM. Paul Martin\nTél. : 01 23 45 67 89\n"
                "Mme Anne Petit\nanne.petit@example.fr"
            ),
            2,
        ),
        ("References\nDr A. One\na.one@uni.example\nDr A. One (again)\na.one@uni.example", 1),
        ("References\nDr A. One, supervisor 2015-2019\na.one@uni.example", 1),  # years are no phone
        ("References\nDr A. One\nDr B. Two\n(no contact details)", 0),
        ("References\nDr A. One, a.one@uni.example\nEducation\nMaster\nb.two@elsewhere.example", 1),
    ],
)
def test_reference_layouts(section: str, expected: int) -> None:
    assert count_references(section) == expected


# --- Nationality -------------------------------------------------------------------------


@LANGUAGES
def test_stated_nationality_in_application(language: str) -> None:
    text = application_text(language=language)
    # The letter's "worked in Ukraine", the addresses in Belgium and "Languages: Ukrainian"
    # are no statements of nationality.
    assert stated_nationalities(text) == ["Belgium"]


@LANGUAGES
def test_missing_nationality_in_application(language: str) -> None:
    assert stated_nationalities(application_text(nationality=None, language=language)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nationality: Belgian", ["Belgium"]),
        ("NATIONALITY - british", ["United Kingdom"]),
        ("Nationalité : française", ["France"]),
        ("Nationalité : FRANÇAIS", ["France"]),
        ("nationalite: francaise", ["France"]),
        ("Citizenship: Canada", ["Canada"]),
        ("Dual nationality: French and Canadian", ["France", "Canada"]),
        ("Nationalités : belge et italienne", ["Belgium", "Italy"]),
        ("Nationality(ies): German / Polish", ["Germany", "Poland"]),
        ("I am a Belgian and Italian national with ten years of experience.", ["Belgium", "Italy"]),
        ("A French citizen since 2010.", ["France"]),
        ("US citizen", ["United States"]),
        ("Citizen of the United States", ["United States"]),
        ("Je suis de nationalité luxembourgeoise.", ["Luxembourg"]),
        ("Ressortissante néerlandaise", ["Netherlands"]),
        ("Citoyen canadien et français", ["Canada", "France"]),
        ("Nationality: Turkish", ["Türkiye"]),
        ("Nationalité : nord-macédonienne", ["North Macedonia"]),
        ("Nationalité : macédonienne", ["North Macedonia"]),
        ("Nationality: Ukrainian", ["Ukraine"]),
        ("Nationality: Swiss", ["Switzerland"]),
        ("Nationality: Belgian (born in Morocco)", ["Belgium"]),
        ("Nationality\nFinnish", ["Finland"]),
        ("Nationality: Belgian | Date of birth: 1 May 1990", ["Belgium"]),
        ("Swedish nationality", ["Sweden"]),
        ("Nationality: Belgian\nNationality: Belgian", ["Belgium"]),
    ],
)
def test_stated_nationalities(text: str, expected: list[str]) -> None:
    assert stated_nationalities(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nationality: Filipino", ["Philippines"]),
        ("Nationalité : philippine", ["Philippines"]),
        ("A Liechtensteiner citizen since birth.", ["Liechtenstein"]),
        ("Nationalités : malienne et sénégalaise", ["Mali", "Senegal"]),
        ("Ressortissante tchadienne", ["Chad"]),
        ("Citizenship: Swaziland", ["Eswatini"]),  # a former name
        ("Nationality: Burmese", ["Myanmar"]),
        ("Dual nationality: Trinidadian and British", ["Trinidad and Tobago", "United Kingdom"]),
        ("Citizen of Saint Kitts and Nevis", ["Saint Kitts and Nevis"]),
        ("Vatican citizen", ["Holy See"]),
        ("Nationality: Taiwanese", ["Taiwan"]),
        ("Citizen of the Republic of China", ["Taiwan"]),
        ("Citizen of the People's Republic of China", ["China"]),
        ("Nationality: Palestinian", ["Palestine"]),
        # Countries whose words hold another's: the longer reading wins.
        ("I am a South Sudanese national.", ["South Sudan"]),
        ("Nationalité : soudanaise", ["Sudan"]),
        ("Nationality: Nigerien", ["Niger"]),
        ("Nationalité : nigériane", ["Nigeria"]),
        ("Nationality: Guinean", ["Guinea"]),
        ("Nationalité : bissau-guinéenne", ["Guinea-Bissau"]),
        ("An Equatorial Guinean national.", ["Equatorial Guinea"]),
        ("Nationality: Papua New Guinean", ["Papua New Guinea"]),
        ("North Korean citizen", ["North Korea"]),
        ("Citizen of the Democratic Republic of the Congo", ["Democratic Republic of the Congo"]),
        ("Ressortissant de la République du Congo", ["Republic of the Congo"]),
        # A word two countries share belongs to the one nearly everyone means by it...
        ("Nationality: Korean", ["South Korea"]),
        ("Nationality: Dominican", ["Dominican Republic"]),
        ("Nationalité : dominiquaise", ["Dominica"]),
        # ... or to none, when both are meant often: a recruiter reads it.
        ("Nationality: Congolese", []),
        ("Nationalité : congolaise", []),
    ],
)
def test_nationalities_of_every_continent(text: str, expected: list[str]) -> None:
    assert stated_nationalities(text) == expected


def test_every_country_reads_by_each_of_its_names_and_demonyms() -> None:
    """Each name after "citizen of", each demonym after a label, in English and French."""
    unread = []
    for entry in tomllib.loads(COUNTRIES_TOML.read_text("utf-8"))["country"]:
        texts = [f"Citizen of {name}" for name in [entry["name"], *entry["aliases"]]]
        texts += [f"Ressortissant de {entry['name_fr']}"]
        texts += [f"Nationality: {demonym}" for demonym in entry["demonyms"]]
        texts += [f"Nationalité : {demonym}" for demonym in entry["demonyms_fr"]]
        unread += [text for text in texts if stated_nationalities(text) != [entry["name"]]]
    assert unread == []


@pytest.mark.parametrize(
    "text",
    [
        "I worked in Ukraine for three years.",
        "Rue de la Loi 155, 1040 Brussels, Belgium",
        "Languages: English, French, Ukrainian",
        "Advised the Ukrainian national parliament on reforms.",
        "Assisted Ukrainian citizens displaced by the war.",
        "J’ai aidé des citoyens ukrainiens à Bruxelles.",
        "Place of birth: Kyiv, Ukraine",
        "International relations; national security; citizenship education",
        # First names that are also countries, next to a keyword but stating nothing.
        "Contact: Chad Smith, national coordinator",
        "Jordan Lee, citizen journalist",
        "Nationality:\nChad Smith, referee",  # a label left blank
        "Nationalité :\nDominique Martin",
    ],
)
def test_countries_named_elsewhere_are_ignored(text: str) -> None:
    assert stated_nationalities(text) == []


# --- Eligibility -------------------------------------------------------------------------


def test_nato_members() -> None:
    assert len(NATO_MEMBERS) == 32
    assert {"Finland", "Sweden", "Türkiye", "United States", "North Macedonia"} <= NATO_MEMBERS
    assert not {"Ukraine", "Switzerland", "Austria", "Ireland"} & NATO_MEMBERS


@pytest.mark.parametrize(
    ("nationalities", "eligible", "expected"),
    [
        (["Belgium"], "nato", True),
        (["Ukraine"], "nato", False),
        (["Ukraine", "Poland"], "nato", True),  # one eligible nationality is enough
        ([], "nato", False),
        (["Türkiye"], ["Turkey"], True),
        (["Switzerland"], ["suisse", "Austria"], True),
        (["France"], ["Belgium"], False),
        (["Atlantis"], ["atlantis"], True),  # unknown names compared as written
    ],
)
def test_is_eligible(nationalities: list[str], eligible, expected: bool) -> None:
    assert is_eligible(nationalities, eligible) is expected


def test_non_member_national_is_not_eligible() -> None:
    text = application_text(nationality="Ukrainian")
    assert stated_nationalities(text) == ["Ukraine"]
    assert not is_eligible(stated_nationalities(text), "nato")


def test_dual_nationality_with_one_member_is_eligible() -> None:
    text = application_text(nationality="belge et suisse", language="fr")
    assert stated_nationalities(text) == ["Belgium", "Switzerland"]
    assert is_eligible(stated_nationalities(text), "nato")


def test_canonical_country() -> None:
    assert canonical_country("royaume-uni") == "United Kingdom"
    assert canonical_country("Czech Republic") == canonical_country("tchèque") == "Czechia"
    assert canonical_country("Narnia") is None


def test_country_data_is_unambiguous() -> None:
    data = tomllib.loads(COUNTRIES_TOML.read_text("utf-8"))
    owner: dict[str, str] = {}
    for entry in data["country"]:
        assert set(entry) == {"name", "name_fr", "aliases", "demonyms", "demonyms_fr", "nato"}
        for term in [
            entry["name"],
            entry["name_fr"],
            *entry["aliases"],
            *entry["demonyms"],
            *entry["demonyms_fr"],
        ]:
            assert canonical_country(term) == entry["name"], term
            assert owner.setdefault(term.casefold(), entry["name"]) == entry["name"], term
    required = {
        "Ukraine",
        "Switzerland",
        "Austria",
        "Ireland",
        "Russia",
        "China",
        "India",
        "Brazil",
        "Australia",
        "Japan",
        "Serbia",
        "Georgia",
        "Moldova",
        "Morocco",
        "Tunisia",
        "Algeria",
        "Israel",
        "Egypt",
        "South Africa",
        "Mexico",
    }
    assert required <= {entry["name"] for entry in data["country"]}
    # Every UN member state, and Kosovo, Palestine, Taiwan and the Holy See.
    assert len(data["country"]) == 197
    assert {"Liechtenstein", "Philippines", "Eswatini", "Tuvalu", "Holy See", "Taiwan"} <= {
        entry["name"] for entry in data["country"]
    }
    # Words that name two countries belong to neither: "Congolese", the bare "Congo".
    assert canonical_country("Congolese") is canonical_country("congolais") is None
    assert canonical_country("Congo") is None


# --- Scans and arbitrary text ------------------------------------------------------------


def test_scanned_pdf_gives_nothing_to_check() -> None:
    text = inspect_document(builders.make_scanned_pdf(), want_text=True).text
    assert text == ""
    assert not has_application_letter(text) and not has_cv(text)
    assert count_references(text) == 0 and stated_nationalities(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "References\n" + "a" * 400_000,  # no "@": one pass, not one per character
        "References\n" + "1 " * 200_000,  # a line of many "phone numbers"
        "References\n" + "a1@b.cd " * 50_000,
        "a Belgian citizenship " * 20_000,  # a keyword at every step
        "\n" * 400_000,
    ],
    ids=["letters", "digits", "addresses", "keywords", "newlines"],
)
def test_heuristics_stay_linear_on_hostile_text(text: str) -> None:
    started = time.monotonic()
    for heuristic in (has_application_letter, has_cv, count_references, stated_nationalities):
        heuristic(text)
    assert time.monotonic() - started < 2.0  # about 0.3 s here; quadratic would be minutes


@given(st.text(max_size=2000))
def test_heuristics_never_raise(text: str) -> None:
    has_application_letter(text)
    has_cv(text)
    assert count_references(text) >= 0
    assert all(name in canonical_names() for name in stated_nationalities(text))


@functools.cache
def canonical_names() -> frozenset[str]:
    data = tomllib.loads(COUNTRIES_TOML.read_text("utf-8"))
    return frozenset(entry["name"] for entry in data["country"])
