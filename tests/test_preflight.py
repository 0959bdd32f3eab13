"""check-config is the gate: what a cycle would fail on is one line naming file, key and
line (exit 2), and run, demo and replay refuse to start on it; a broken template never
quarantines an application."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from intake_bot.config import ConfigError
from intake_bot.notices import check_template_syntax, default_templates_dir
from intake_bot.pipeline import run_cycle
from tests.conftest import DRP_VACANCY, SG_VACANCY, Project, brussels, run_cli
from tests.mail import application, blank_pdf
from tests.readback import rows

ON_TIME = brussels("2026-06-10T10:00:00")
UNSET = "INTAKE_BOT_TEST_NEVER_SET"


def check_config(project: Project) -> tuple[int, str]:
    result = run_cli("--config", str(project.config_path), "check-config")
    return result.exit_code, result.stderr


def line_of(path: Path, text: str) -> int:
    """The number of the first line of ``path`` that holds ``text``."""
    return next(number for number, line in enumerate(
        path.read_text(encoding="utf-8").splitlines(), start=1) if text in line)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def override(project: Project, name: str, text: str) -> Path:
    """Write a template override ``<templates>/<name>`` and point [notices] templates at it."""
    if "[notices]" not in project.config_path.read_text(encoding="utf-8"):
        with project.config_path.open("a", encoding="utf-8") as handle:
            handle.write('[notices]\ntemplates = "mytemplates"\n')
    path = project.config_path.parent / "mytemplates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_configuration_passes(tmp_path: Path):
    shutil.copytree(Path(__file__).resolve().parents[1] / "config", tmp_path / "config")
    result = run_cli("--config", str(tmp_path / "config" / "intake.toml"), "check-config")
    assert result.exit_code == 0, result.output
    assert "configuration OK" in result.stdout


@pytest.mark.parametrize("old, new, key", [
    ('url = "maildir:../var/mailbox"',
     f'url = "imaps://applications@127.0.0.1:1/INBOX"\npassword_env = "{UNSET}"',
     f"[mailbox] password_env: the environment variable {UNSET} is not set"),
    ('url = "maildir:../var/mailbox"', 'url = "imaps://applications@127.0.0.1:1/INBOX"',
     "[mailbox] password_env: an IMAP mailbox needs the name of the variable holding its password"),
    ('url = "outbox:../var/outbox"', f'url = "smtps://bot@127.0.0.1:1"\npassword_env = "{UNSET}"',
     f"[smtp] password_env: the environment variable {UNSET} is not set"),
])
def test_a_missing_secret_is_caught(project, old, new, key):
    edit(project.config_path, old, new)
    code, err = check_config(project)
    line = line_of(project.config_path, "password_env" if "environment" in key else "[mailbox]")
    assert code == 2 and err == f"intake-bot: error: {project.config_path}:{line}: {key}\n"


@pytest.mark.parametrize("key, old, new, made", [
    ("[register] path", 'path = "../var/register.db"', 'path = "../var/plain/register.db"',
     "var/plain/register.db"),
    ("[register] documents", 'documents = "../var/documents"', 'documents = "../var/plain/docs"',
     "var/plain/docs"),
    ("[smtp] url", 'url = "outbox:../var/outbox"', 'url = "outbox:../var/plain"', None),
    ("[mailbox] url", 'url = "maildir:../var/mailbox"', 'url = "maildir:../var/plain/box"',
     "var/plain/box"),
])
def test_a_place_the_bot_cannot_write_is_caught(project, key, old, new, made):
    (project.root / "var").mkdir()
    (project.root / "var" / "plain").write_text("a regular file", encoding="utf-8")
    edit(project.config_path, old, new)
    code, err = check_config(project)
    line = line_of(project.config_path, new.split("\n")[0])
    plain = project.root / "var" / "plain"
    problem = (f"{plain} is a file, so {project.root / made} cannot be made" if made
               else f"{plain} is a file, not a folder")
    assert code == 2 and err == f"intake-bot: error: {project.config_path}:{line}: {key}: {problem}\n"


def test_a_missing_override_folder_is_caught(make_project):
    project = make_project(extra='[notices]\ntemplates = "mytemplates"\n')
    code, err = check_config(project)
    folder = project.config_path.parent / "mytemplates"
    line = line_of(project.config_path, "templates =")
    assert code == 2
    assert err == (f"intake-bot: error: {project.config_path}:{line}: [notices] templates: "
                   f"no such folder: {folder}\n")


@pytest.mark.parametrize("second, key, problem", [
    ('title = "OFFICER - Democratic resilience and partnerships"', "[[vacancy]] SG title",
     "'OFFICER - Democratic resilience and partnerships' is also DRP's title"),
    ('title = "Secretary General"\naliases = ["Officier — Résilience démocratique et partenariats!"]',
     "[[vacancy]] SG aliases", "'Officier — Résilience démocratique et partenariats!' is also "
     "DRP's alias"),
    ('title = "Secretary General"\nreference = "nato pa 2026 07"', "[[vacancy]] SG reference",
     "'nato pa 2026 07' is also DRP's reference"),
])
def test_names_two_vacancies_share_are_caught(make_project, second, key, problem):
    project = make_project(DRP_VACANCY + SG_VACANCY.replace('title = "Secretary General"', second))
    code, err = check_config(project)
    vacancies = project.config_path.parent / "vacancies.toml"
    line = line_of(vacancies, second.splitlines()[-1])
    assert code == 2
    assert err == (f"intake-bot: error: {vacancies}:{line}: {key}: {problem}: a subject naming it "
                   "would match both (ambiguous-vacancy)\n")


def test_a_name_with_no_letter_is_caught(make_project):
    project = make_project(DRP_VACANCY + SG_VACANCY.replace('languages = ["en"]',
                                                           'languages = ["en"]\naliases = ["–"]'))
    code, err = check_config(project)
    assert code == 2 and "SG aliases: '–' has no letter or digit: no subject can match it" in err


def test_a_longer_name_containing_another_is_fine(make_project):
    """The matcher prefers the longer name, so "Senior Officer" beside "Officer" is no clash."""
    project = make_project(DRP_VACANCY + SG_VACANCY.replace(
        'title = "Secretary General"', 'title = "Deputy Officer – Democratic Resilience and Partnerships"'))
    assert check_config(project)[0] == 0


@pytest.mark.parametrize("name, text, line, problem", [
    ("DRP/en/acknowledgement.txt.j2", "Subject: {{ reference }\n\nbody\n", 1,
     "template syntax error: unexpected '}'"),
    ("en/rejection.txt.j2", "Subject: x\n\n{% for reason in reasons %}\nno end\n", 3,
     "template syntax error: Unexpected end of template. Jinja was looking for the following "
     "tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'."),
    ("en/unmatched.txt.j2", "Subject: x\n\n{{ subject|shout }}\n", 3,
     "template syntax error: No filter named 'shout'."),
    ("en/unmatched.txt.j2", "Subject: x\n\nDear {{ candidate }},\n", 3,
     "template error: 'candidate' is undefined"),
])
def test_a_broken_override_names_its_file_and_line(project, name, text, line, problem):
    path = override(project, name, text)
    code, err = check_config(project)
    assert code == 2 and err == f"intake-bot: error: {path}:{line}: {problem}\n"


def test_a_broken_reason_text_names_its_key_and_line(project):
    path = override(project, "en/reasons.toml", '[late]\nproblem = "after {{ deadline }"\n')
    code, err = check_config(project)
    assert code == 2
    assert err == f"intake-bot: error: {path}:2: [late] problem: template syntax error: unexpected '}}'\n"


@pytest.mark.parametrize("text, line, problem", [
    ('[not-pfd]\nproblem = "x"\n', 1, "[not-pfd]: not a reason or flag code (did you mean 'not-pdf'?)"),
    ('[late]\nproblem = "x"\nfixx = "y"\n', 3, "[late] fixx: unknown key (did you mean 'fix'?)"),
    ('late = "x"\n', 1, 'late: must be a table with problem = "..." and fix = "..."'),
    ("[late]\nproblem = 3\n", 2, "[late] problem: must be text in quotes"),
])
def test_a_misspelt_reason_text_is_caught(project, text, line, problem):
    """Else the shipped text would stay in every notice, and nothing would say why."""
    path = override(project, "en/reasons.toml", text)
    code, err = check_config(project)
    assert code == 2 and err == f"intake-bot: error: {path}:{line}: {problem}\n"


def test_reason_texts_outside_a_language_folder_are_caught(project):
    path = override(project, "DRP/en/reasons.toml", '[late]\nproblem = "x"\n')
    code, err = check_config(project)
    assert code == 2
    assert err.startswith(f"intake-bot: error: {path}: reason texts are read only from a language folder")


def test_a_sound_reason_text_override_passes(project):
    override(project, "en/reasons.toml", '[late]\nproblem = "Too late, sorry."\n')
    assert check_config(project) == (0, "")


def test_a_misspelt_override_folder_is_caught(project):
    path = override(project, "DPR/en/acknowledgement.txt.j2", "Subject: x\n")
    code, err = check_config(project)
    assert code == 2
    assert err == (f"intake-bot: error: {path.parent.parent}: neither a language nor a vacancy id "
                   "(did you mean 'DRP'?)\n")


def test_the_shipped_templates_are_checked_too(tmp_path: Path):
    folder = tmp_path / "emails"
    shutil.copytree(default_templates_dir(), folder)
    assert check_template_syntax([folder]) > 8
    (folder / "fr" / "rejection.txt.j2").write_text("Subject: x\n\n{% for x in y %}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        check_template_syntax([folder])
    assert str(raised.value).startswith(f"{folder / 'fr' / 'rejection.txt.j2'}:3: template syntax error: ")


def pdf_application(**kwargs) -> bytes:
    return application(attachments=[("Application.pdf", blank_pdf(2), "application/pdf")], **kwargs)


@pytest.mark.parametrize("command", [["run", "--once"], ["demo"], ["replay", "--all"]])
def test_commands_that_handle_mail_refuse_what_check_config_refuses(project, command):
    path = override(project, "en/rejection.txt.j2", "Subject: {{ reference }\n")
    project.deliver(pdf_application(subject="no such vacancy"), ON_TIME)
    inbox = project.inbox()
    result = run_cli("--config", str(project.config_path), *command)
    assert result.exit_code == 2
    assert result.stderr == f"intake-bot: error: {path}:1: template syntax error: unexpected '}}'\n"
    assert project.inbox() == inbox and not (project.root / "var" / "register.db").exists()


def test_a_template_broken_during_a_cycle_quarantines_nothing(project):
    """Broken after the service started (Jinja reloads an edited file): the cycle stops at the
    first notice that needs it, the message stays in the inbox, and the cycle after the fix
    handles it."""
    project.deliver(pdf_application(message_id="<ok@example.net>"), ON_TIME)
    project.deliver(pdf_application(subject="no such vacancy", message_id="<which@example.net>"),
                    brussels("2026-06-10T11:00:00"))
    config = project.config  # as the service holds it, checked before the template broke
    path = override(project, "en/unmatched.txt.j2", "Subject: x\n\n{{ nope }}\n")
    broken = project.config
    with pytest.raises(ConfigError, match=f"^{path}:3: template error: 'nope' is undefined$"):
        run_cycle(broken)
    assert [(row["message_id"], row["status"]) for row in rows(project)] == [
        ("<ok@example.net>", "accepted")]
    assert len(project.inbox()) == 1 and project.folder("Quarantine") == []
    run_cycle(config)  # the fix: no override
    assert [json.loads(row["reasons"]) for row in rows(project)] == [[], ["unknown-vacancy"]]
    assert project.inbox() == []
