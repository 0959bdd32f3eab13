"""Safe by default: after the demo, nothing the bot shows a recruiter names a server folder.

The register names its files under ``[register] documents`` (``files/ab/ab12….pdf``), so
``register show``, ``register list`` in every format, ``register export`` and the browser
view's JSON and CSV give no absolute folder: not the documents', not the register's, not
the folder the deployment lives in.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake_bot.config import load_config
from intake_bot.recruiters.review import canned_queries
from tests.conftest import REPO, Project, run_cli
from tests.readback import rows
from tests.test_review import get


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The register of ``intake-bot demo`` on the shipped configuration."""
    root = tmp_path_factory.mktemp("paths")
    shutil.copytree(REPO / "config", root / "config")
    project = Project(root, root / "config" / "intake.toml")
    assert run_cli("--config", str(project.config_path), "demo").exit_code == 0
    return project


def server_folders(project: Project) -> list[str]:
    """The absolute folders no output may name, as written and resolved."""
    config = project.config
    folders = {project.root, config.documents_path, config.register_path.parent}
    return sorted({text for folder in folders for text in (str(folder), str(folder.resolve()))})


def assert_names_no_server_folder(project: Project, what: str, output: str) -> None:
    assert output.strip(), f"{what}: no output"
    for folder in server_folders(project):
        assert folder not in output, f"{what} names {folder}"


def command_outputs(project: Project) -> Iterator[tuple[str, str]]:
    """(command, output) for every command that shows the register's rows."""
    config = str(project.config_path)
    commands = [["register", "list", "--format", fmt] for fmt in ("table", "json", "csv")]
    commands += [["register", "show", str(row["id"])] for row in rows(project)]
    commands += [["register", "export", "--vacancy", vacancy.id, "--format", fmt, *history,
                  "--output", "-"]
                 for vacancy in project.config.vacancies for fmt in ("csv", "json")
                 for history in ([], ["--history"])]
    for command in commands:
        result = run_cli("--config", config, *command)
        assert result.exit_code == 0, (command, result.output)
        yield " ".join(command), result.stdout


def test_the_register_names_its_files_under_the_documents_folder(demo):
    named = [name for row in rows(demo) for name in (
        row["document_path"], row["raw_path"],
        *(entry.get("path") or entry.get("quarantine") for entry in json.loads(row["attachments"])))
        if name]
    assert named and all(not Path(name).is_absolute() and demo.stored(name).is_file()
                         for name in named)


def test_no_command_names_a_server_folder(demo):
    shown = dict(command_outputs(demo))
    assert len(shown) >= 3 + 8
    assert '"raw_path": "raw/' in shown["register show 1"]
    for command, output in shown.items():
        assert_names_no_server_folder(demo, command, output)


def test_the_browser_view_s_json_and_csv_name_no_server_folder(demo):
    config = load_config(demo.config_path)
    paths = [f"/register/{table}.{fmt}{query}" for table in ("submissions", "applications",
                                                             "replies")
             for fmt in ("json", "csv") for query in ("", "?_shape=array", "?_stream=on")
             if not (fmt == "csv" and query == "?_shape=array")]
    paths += [f"/register/submissions/{row['id']}.json" for row in rows(demo)]
    paths += [f"/register/{name}.{fmt}?vacancy=DRP" for name in canned_queries(config)
              for fmt in ("json", "csv")]
    for path in paths:
        page = get(demo, path)
        assert page.status_code == 200, path
        assert_names_no_server_folder(demo, path, page.text)
    assert '"raw_path": "raw/' in get(demo, "/register/submissions/1.json?_shape=object").text
