"""Configuration: the shipped files load, and every mistake is one line naming file and key."""

from __future__ import annotations

import codecs
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from intake_bot.config import ConfigError, load_config, load_vacancies
from tests.conftest import REPO, brussels, run_cli


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    """A copy of the shipped config folder, to break."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path / "config"


def test_shipped_configurations_load():
    config = load_config(REPO / "config" / "intake.toml")
    assert config.mailbox_url.startswith("maildir:")
    assert config.smtp_url.startswith("outbox:")
    assert config.register_path == REPO / "var" / "register.db"
    drp = config.vacancy("DRP")
    assert drp is not None and drp.title == "Officer – Democratic Resilience and Partnerships"
    assert "Officier – Résilience démocratique et partenariats" in drp.aliases
    assert drp.closes_at == brussels("2026-06-13T00:00:00")
    sg = config.vacancy("SG")
    assert sg is not None and sg.closes_at == brussels("2025-03-01T00:00:00")
    example = load_config(REPO / "config" / "intake.example.toml")
    assert example.mailbox_url.startswith("imaps://") and example.smtp_url.startswith("smtps://")


def test_every_seed_is_a_vacancy():
    ids = {v.id for v in load_vacancies(REPO / "config" / "vacancies.toml")}
    assert {"DRP", "SG", "MO-EU", "GPS", "NASP", "MO-HEAD"} <= ids


def test_deadline_covers_the_whole_minute_and_respects_dst(make_project):
    project = make_project()
    drp = project.config.vacancy("DRP")
    assert drp.is_open(brussels("2026-06-12T23:59:59.999"))
    assert not drp.is_open(brussels("2026-06-13T00:00:00"))
    # In June Brussels is UTC+2: the deadline is 21:59:59 UTC.
    assert drp.closes_at == dt.datetime(2026, 6, 12, 22, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("vacancies, key", [
    ('[[vacancy]]\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n', "id"),
    ('[[vacancy]]\nid = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n', "title"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\n'
     'timezone = "Mars/Olympus"\n', "timezone"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "12 June 2026"\ntimezone = "UTC"\n', "deadline"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.attachments]\ntypes = ["exe"]\n', "types"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.checks]\nletter = "maybe"\n', "letter"),
    # An empty list would make the vacancy take no document, answer in no language, or find
    # every candidate ineligible: a mistake, not a choice.
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.attachments]\ntypes = []\n', "types: must name at least one type"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     'languages = []\n', "languages: must name at least one language"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.checks]\neligible = []\n', "eligible: must name at least one country"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     '[vacancy.attachments]\nmax_bytes = "big"\n', "max_bytes"),
    ('[[vacancy]]\nid = "X"\ntitle = "X"\ndeadline = "2026-01-01T10:00"\ntimezone = "UTC"\n'
     'channel = "e-recruitment"\n', "apply_url"),
    ('not toml [', ""),
    ('', "[[vacancy]]"),
])
def test_vacancy_mistakes_name_file_and_key(tmp_path: Path, vacancies, key):
    path = tmp_path / "vacancies.toml"
    path.write_text(vacancies, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_vacancies(path)
    message = str(raised.value)
    assert str(path) in message and key in message and "\n" not in message


@pytest.mark.parametrize("eligible, problem", [
    ('["Belgium", "Liechtenstien"]', "unknown country 'Liechtenstien' (did you mean 'Liechtenstein'?)"),
    ('["Phillipines"]', "unknown country 'Phillipines' (did you mean 'Philippines'?)"),
    ('["Filipno"]', "unknown country 'Filipno' (did you mean 'Filipino'?)"),
    ('["Middle-earth"]', "unknown country 'Middle-earth' (no country has that name, official name "
                         "or demonym, in English or French)"),
    # "nato" is the whole list or nothing: in a list it would name no country at all.
    ('["nato", "Ukraine"]', '"nato" stands alone (eligible = "nato"), not in a list of countries'),
])
def test_check_config_refuses_a_country_it_does_not_know(shipped_copy: Path, eligible, problem):
    """A name that is no country would never match a CV: every candidate found ineligible."""
    vacancies = shipped_copy / "vacancies.toml"
    text = vacancies.read_text(encoding="utf-8")
    vacancies.write_text(text.replace('eligible = "nato"', f"eligible = {eligible}", 1), encoding="utf-8")
    result = run_cli("--config", str(shipped_copy / "intake.toml"), "check-config")
    assert result.exit_code == 2
    assert result.stderr == f"intake-bot: error: {vacancies}:30: [[vacancy]] DRP.checks eligible: {problem}\n"


def test_eligible_countries_load_in_every_spelling_that_names_one(tmp_path: Path):
    """Names, official names, French names and demonyms, in any case, with or without accents."""
    names = ('["turquie", "ROYAUME-UNI", "Czech Republic", "Swiss", "sud-africaine", "Cote d\'Ivoire", '
             '"the Netherlands", "Liechtenstein", "Philippines", "Swaziland", "Burma", "Saint-Siège"]')
    path = tmp_path / "vacancies.toml"
    path.write_text('[[vacancy]]\nid = "X"\ntitle = "X"\n[vacancy.checks]\neligible = ' + names + "\n",
                    encoding="utf-8")
    assert load_vacancies(path)[0].eligible[-3:] == ("Swaziland", "Burma", "Saint-Siège")


@pytest.mark.parametrize("old, new, key", [
    ('url = "maildir:../var/mailbox"', 'url = "pop3://x"', "[mailbox] url"),
    ('[register]', '[registr]', "[register]"),
    ('from = "NATO PA Recruitment <recruitment@example.org>"', 'from = "nobody"', "[smtp] from"),
    ('poll_seconds = 60', 'poll_seconds = 0', "poll_seconds"),
    ('path = "vacancies.toml"', 'path = "missing.toml"', "missing.toml"),
])
def test_config_mistakes_name_file_and_key(make_project, old, new, key):
    project = make_project()
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)
    assert key in str(raised.value)


@pytest.mark.parametrize("value", [
    "mx.example.org; dmarc=pass", "mx.example.org 1", "applications@example.org", '"mx"'])
def test_an_authserv_id_that_no_header_could_name_is_one_line(make_project, value):
    project = make_project(extra=f"[notices]\nauthserv_id = '{value}'\n")
    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)
    message = str(raised.value)
    assert "[notices] authserv_id" in message and "not one name" in message
    assert "\n" not in message


def test_an_authserv_id_with_a_job_id_or_in_capitals_is_one_name(make_project):
    for value in ("MX.Example.org", "mx.example.org/3A9F61C1"):
        project = make_project(extra=f"[notices]\nauthserv_id = '{value}'\n")
        assert load_config(project.config_path).authserv_id == value


def test_language_and_type_codes_are_read_in_any_case(shipped_copy: Path):
    """"FR" and "PDF" are the same codes as "fr" and "pdf"; the register and notices use
    the lower-case ones."""
    vacancies = shipped_copy / "vacancies.toml"
    text = vacancies.read_text(encoding="utf-8")
    text = text.replace('languages = ["en", "fr"]', 'languages = ["EN", "Fr"]', 1)
    vacancies.write_text(text.replace('types = ["pdf"]', 'types = ["PDF"]', 1), encoding="utf-8")
    drp = load_config(shipped_copy / "intake.toml").vacancies[0]
    assert drp.languages == ("en", "fr") and drp.attachments.types == ("pdf",)


@pytest.mark.parametrize("old, new, expected", [
    ('leter = "reject"', None, ':24: [[vacancy]] DRP.checks leter: unknown key (did you mean \'letter\'?)'),
    ('count = 1', 'max_page = 2', ':20: [[vacancy]] DRP.attachments max_page: unknown key '
     '(did you mean \'max_pages\'?)'),
    ('resubmission = "latest"', 'resubmision = "first"',
     ':16: [[vacancy]] DRP resubmision: unknown key (did you mean \'resubmission\'?)'),
    ('eligible = "nato"\n', 'eligible = "nato"\nretention_days = 30\n',
     ':31: [[vacancy]] DRP.checks retention_days: unknown key in this table (it belongs in [[vacancy]])'),
    ('next_steps.fr =', 'next_steps.frr =',
     ':18: [[vacancy]] DRP.next_steps frr: unknown language (did you mean \'fr\'?)'),
    ('[vacancy.checks]\nletter = "flag"          # the', '[vacancy.chekcs]\nletter = "flag"  # the',
     ':49: [[vacancy]] SG.chekcs: unknown key (did you mean \'checks\'?)'),
])
def test_unknown_vacancy_keys_name_the_line_and_the_nearest_key(shipped_copy: Path, old, new,
                                                                 expected):
    vacancies = shipped_copy / "vacancies.toml"
    text = vacancies.read_text(encoding="utf-8")
    if new is None:  # the typo is added beside the key it misspells
        new, old = f'{old}\nletter = "flag"', 'letter = "flag"'
    assert old in text
    vacancies.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(shipped_copy / "intake.toml")
    assert str(raised.value) == f"{vacancies}{expected}"


@pytest.mark.parametrize("old, new, expected", [
    ("[register]", "[registr]", ":14: [registr]: unknown section (did you mean [register]?)"),
    ("poll_seconds = 60", "poll_second = 60",
     ":19: [schedule] poll_second: unknown key (did you mean 'poll_seconds'?)"),
    ('processed_folder = "Processed"', 'folder = "Processed"',
     ":7: [mailbox] folder: unknown key (known: url, auth, password_env, processed_folder, "
     "quarantine_folder)"),
    ("max_per_address_per_day = 5", "max_per_adress_per_day = 5",
     ":25: [notices] max_per_adress_per_day: unknown key (did you mean "
     "'max_per_address_per_day'?)"),
])
def test_unknown_config_keys_name_the_line_and_the_nearest_key(shipped_copy: Path, old, new,
                                                               expected):
    config = shipped_copy / "intake.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert str(raised.value) == f"{config}{expected}"


@pytest.mark.parametrize("section", ["mailbox", "smtp", "register", "schedule", "vacancies",
                                     "notices", "limits", "digest"])
def test_every_section_rejects_unknown_keys(make_project, section):
    project = make_project()
    text = project.config_path.read_text(encoding="utf-8")
    if f"[{section}]" not in text:
        text += f"[{section}]\n"
    project.config_path.write_text(text.replace(f"[{section}]\n", f"[{section}]\nbogus = 1\n"),
                                   encoding="utf-8")
    line = project.config_path.read_text(encoding="utf-8").splitlines().index("bogus = 1") + 1
    with pytest.raises(ConfigError, match=rf":{line}: \[{section}\] bogus: unknown key"):
        load_config(project.config_path)


@pytest.mark.parametrize("encode, expected", [
    (lambda text: text.encode("latin-1", "replace"),
     ":12: not UTF-8: byte 0xE9 (Latin-1 or Windows-1252?): save it as UTF-8"),
    (lambda text: text.encode("cp1252"),
     ":6: not UTF-8: byte 0x96 (Latin-1 or Windows-1252?): save it as UTF-8"),
    (lambda text: text.encode("utf-16"), ": not UTF-8 (it looks like UTF-16): save it as UTF-8"),
    (lambda text: text.encode("utf-16-le"), ": not UTF-8 (it looks like UTF-16): save it as UTF-8"),
])
def test_a_file_not_in_utf8_is_one_line_naming_it(shipped_copy: Path, encode, expected):
    vacancies = shipped_copy / "vacancies.toml"
    vacancies.write_bytes(encode(vacancies.read_text(encoding="utf-8")))
    with pytest.raises(ConfigError) as raised:
        load_config(shipped_copy / "intake.toml")
    assert str(raised.value) == f"{vacancies}{expected}"


def test_a_utf8_byte_order_mark_is_fine(shipped_copy: Path):
    for name in ("intake.toml", "vacancies.toml"):
        path = shipped_copy / name
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    assert load_config(shipped_copy / "intake.toml").vacancy("DRP") is not None


def test_invalid_toml_names_its_line(shipped_copy: Path):
    vacancies = shipped_copy / "vacancies.toml"
    vacancies.write_text(vacancies.read_text(encoding="utf-8").replace(
        'id = "SG"', 'id = "SG'), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(vacancies))}:37: invalid TOML: "):
        load_config(shipped_copy / "intake.toml")


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
