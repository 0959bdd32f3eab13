"""A short README whose commands work as shown; a reference in docs/ that names every part."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import click
import pytest

from intake_bot.classify import IGNORED_REASONS
from intake_bot.cli import cli
from intake_bot.config import INTAKE_FILE, VACANCIES_FILE
from intake_bot.match import UNMATCHED_REASONS
from intake_bot.pipeline import QUARANTINE_REASON
from intake_bot.register import REPLY_STATUSES, STATUSES, Register
from intake_bot.rules import RULES
from intake_bot.settings import Table, Tables, reference_rows, toml_literal
from tests.conftest import REPO, run_cli

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
README = (REPO / "README.md").read_text(encoding="utf-8")
FENCED = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def page(name: str) -> str:
    """The text of ``docs/<name>``."""
    return (DOCS / name).read_text(encoding="utf-8")


def fenced_blocks(text: str, *languages: str) -> list[str]:
    """The fenced code blocks of ``text`` in any of ``languages`` ("" for a bare fence)."""
    return [body for language, body in FENCED.findall(text) if language in languages]


def commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        found.append(f"{prefix}{name}")
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
    return found


def test_the_readme_is_a_front_door_not_the_reference():
    assert len(README.encode("utf-8")) < 10_000


@pytest.mark.parametrize("command", commands(cli))
def test_every_command_is_in_the_readme_and_the_command_line_page(command):
    assert f"intake-bot {command}" in README
    assert f"intake-bot {command}" in page("commands.md")


#: Each setting's row in the docs as config.py's tables declare it, and the page it is on.
SETTING_ROWS = [(name, row, "configuration.md")
                for name, row in reference_rows(INTAKE_FILE, section_column=True)] + [
    (name, row, "vacancies.md") for name, row in reference_rows(VACANCIES_FILE, section_column=False)]


@pytest.mark.parametrize("file", [INTAKE_FILE, VACANCIES_FILE], ids=["intake.toml", "vacancies.toml"])
def test_every_setting_has_help(file):
    """Every key has help; only the tables that hold them (sections, [[vacancy]]) need none."""
    assert [setting.name for path, setting in file.walk() if not setting.help
            and not (path == () and isinstance(setting.kind, Table | Tables))] == []


@pytest.mark.parametrize("file", [INTAKE_FILE, VACANCIES_FILE], ids=["intake.toml", "vacancies.toml"])
def test_no_help_repeats_the_default_its_row_shows(file):
    """The docs row appends the default from the table: a second copy in the help would drift."""
    assert [setting.name for _, setting in file.walk()
            if toml_literal(setting.default) and "default" in setting.help] == []


@pytest.mark.parametrize("row, name", [(row, name) for _, row, name in SETTING_ROWS],
                         ids=[setting for setting, _, _ in SETTING_ROWS])
def test_every_setting_is_documented_as_its_table_says(row, name):
    """The page carries each setting's row as config.py declares it (its help, word for word)."""
    assert row in page(name), f"add this row to the table of docs/{name}:\n{row}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_every_rule_is_documented(rule):
    assert f"| `{rule.name}` |" in page("vacancies.md")


@pytest.mark.parametrize("code", sorted({c for r in RULES for c in r.codes} | set(IGNORED_REASONS)
                                        | set(UNMATCHED_REASONS) | {QUARANTINE_REASON}))
def test_every_reason_code_is_documented(code):
    assert f"| `{code}` |" in page("vacancies.md")


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_is_documented(status):
    assert f"`{status}`" in page("register.md")


@pytest.mark.parametrize("status", REPLY_STATUSES)
def test_every_notice_status_is_documented(status):
    assert f"`{status}`" in page("register.md")


#: ``tests/test_x.py`` or ``tests/test_x.py::test_name``, as a page cites a proof.
CITED_TEST = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")
#: A test named alone, in its file's parentheses: ``(`test_name`, ...)``.
CITED_NAME = re.compile(r"`(test_\w+)`")


@pytest.mark.parametrize("source", PAGES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_test_a_page_cites_exists(source):
    """A promise is only as good as the test named beside it (docs/guarantees.md's table)."""
    text = source.read_text(encoding="utf-8")
    defined = {path.relative_to(REPO).as_posix(): path.read_text(encoding="utf-8")
               for path in (REPO / "tests").glob("*.py")}
    missing = [f"{path}::{name}" if name else path for path, name in CITED_TEST.findall(text)
               if path not in defined or (name and f"def {name}(" not in defined[path])]
    missing += [name for name in CITED_NAME.findall(text)
                if not any(f"def {name}(" in code for code in defined.values())]
    assert not missing


def test_every_column_of_the_register_is_documented(tmp_path):
    register = Register(tmp_path / "register.db")
    described = page("register.md")
    missing = [f"{table.name}.{column.name}" for table in register.db.tables
               if not table.name.startswith("_") for column in table.columns
               if f"`{column.name}`" not in described]
    assert not missing


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", README, re.S)
    readme_commands = [line for block in blocks[:2] for line in block.splitlines()
                       if line and not line.startswith("#")]
    assert readme_commands, "the README must open with the two commands"
    test_command = next(line for line in readme_commands if "pytest" in line)
    assert test_command in ci.splitlines()


@pytest.mark.parametrize("shown", ["config/intake.example.toml", "deploy/intake-bot.service"])
def test_the_production_page_shows_the_shipped_files_as_they_are(shown):
    assert (REPO / shown).read_text(encoding="utf-8").rstrip() in page("production.md")


def test_the_index_lists_every_page():
    index = page("README.md")
    unlisted = [path.name for path in DOCS.glob("*.md")
                if path.name != "README.md" and f"]({path.name})" not in index]
    assert not unlisted


def anchors(text: str) -> set[str]:
    """The anchors GitHub makes for the headings of a Markdown text."""
    found: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", FENCED.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        suffix, number = slug, 0
        while suffix in found:
            number += 1
            suffix = f"{slug}-{number}"
        found.add(suffix)
    return found


@pytest.mark.parametrize("source", PAGES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_resolves(source):
    text = FENCED.sub("", source.read_text(encoding="utf-8"))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (source.parent / path).resolve() if path else source
        if not linked.exists() or (anchor and anchor not in anchors(linked.read_text("utf-8"))):
            broken.append(target)
    assert not broken


def test_the_modules_table_names_every_module():
    """docs/development.md's table follows the package: every module, in its package's row."""
    text = page("development.md")
    table = text[text.index("## The modules"):].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    package = REPO / "intake_bot"
    missing = []
    for module in sorted(package.rglob("*.py")):
        relative = module.relative_to(package)
        if module.name in ("__init__.py", "__main__.py") or relative.parts[0] == "rules":
            continue
        folder = f"`{relative.parent}/`" if len(relative.parts) > 1 else None
        if not any(f"`{module.name}`" in row and (folder is None or folder in row)
                   for row in rows):
            missing.append(str(relative))
    assert not missing


def test_every_intake_bot_command_in_the_readme_parses():
    """Each ``intake-bot …`` the README shows names a real command with real options."""
    shown = re.findall(r"`(intake-bot [^`]*)`", README)
    shown += [line for block in fenced_blocks(README, "sh") for line in block.splitlines()
              if line.startswith("intake-bot ")]
    assert len(shown) > 16
    for line in shown:
        words = [("1" if word == "ID" else word) for word in shlex.split(line)[1:]
                 if word != "[ID]"]
        result = run_cli(*words, "--help")
        assert result.exit_code == 0, (line, result.output)


@pytest.fixture
def readme_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's configuration, as the working folder of the README's commands."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTAKE_BOT_CONFIG", raising=False)
    return tmp_path


def console_steps(text: str) -> list[tuple[str, str]]:
    """Each ``$ command`` of the console blocks, with the output shown under it."""
    steps: list[tuple[str, list[str]]] = []
    for block in fenced_blocks(text, "console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in steps]


def test_the_readme_session_runs_as_shown(readme_folder):
    """The demo prints the README's block; then each console command gives what is shown.

    Commands run in-process at the suite's fixed time, from a copy of the repository's
    folder; the demo names its folders as typed, relative to it, and the register's columns
    hold absolute paths, shown here relative to it.
    """
    def shown(output: str) -> str:
        return output.replace(f"{readme_folder}/", "").rstrip("\n")

    first = fenced_blocks(README, "sh")[0].strip().split(" && ")[-1]
    assert first == ".venv/bin/intake-bot --config config/intake.toml demo"
    demo = run_cli(*shlex.split(first)[1:])
    assert demo.exit_code == 0, demo.output
    assert demo.stdout.rstrip("\n") == fenced_blocks(README, "")[0].rstrip("\n")

    steps = console_steps(README)
    assert [command for command, _ in steps][:2] == [". .venv/bin/activate",
                                                     "intake-bot run --once"]
    for command, expected in steps[1:]:
        program, *args = shlex.split(command)
        assert program == "intake-bot", f"the README shows {command!r}, which this test cannot run"
        result = run_cli(*args)
        assert result.exit_code == 0, (command, result.output)
        if expected:
            assert shown(result.stdout) == expected, command
