"""The ``[oauth2]`` section and ``auth`` keys: each mistake one line naming the key, exit 2."""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest

from tests.conftest import REPO, run_cli
from tests.token_endpoint import generate_key

IMAP = 'url = "imaps://applications@example.org@outlook.office365.com/INBOX"\nauth = "oauth2"'


def with_oauth2(project, oauth2: str) -> None:
    """Sign the project's mailbox in by token, with this ``[oauth2]`` section (or none)."""
    text = project.config_path.read_text(encoding="utf-8")
    text = text.replace('url = "maildir:../var/mailbox"', IMAP)
    project.config_path.write_text(text + oauth2, encoding="utf-8")


@pytest.mark.parametrize(("oauth2", "key", "problem"), [
    ("", "[oauth2] provider", "missing: one of microsoft, google, generic (auth = \"oauth2\" "
     "signs in with a token from this section)"),
    ('[oauth2]\nprovider = "yahoo"\n', "[oauth2] provider",
     "must be one of microsoft, google, generic, not 'yahoo'"),
    ('[oauth2]\nprovider = "microsoft"\ntenant = "example.org"\n'
     'client_secret_env = "S"\n', "[oauth2] client_id",
     "missing: the Application (client) ID of the app registration"),
    ('[oauth2]\nprovider = "microsoft"\nclient_id = "x"\ntenant = "example.org"\n',
     "[oauth2] client_secret_env", "give either client_secret_env or certificate"),
    ('[oauth2]\nprovider = "microsoft"\nclient_id = "x"\ntenant = "example.org"\n'
     'certificate = "missing.pem"\n', "[oauth2] certificate", "no such file: "),
    ('[oauth2]\nprovider = "microsoft"\nclient_id = "x"\nclient_secret_env = "S"\n'
     'token_url = "https://login.microsoftonline.us/example.org/token"\n', "[oauth2] token_url",
     "must be https://<login host>/<tenant>/oauth2/v2.0/token, not "
     "'https://login.microsoftonline.us/example.org/token'"),
    ('[oauth2]\nprovider = "google"\n', "[oauth2] service_account_file",
     "missing: the service account's JSON key (or refresh_token_env with a user's consent)"),
    ('[oauth2]\nprovider = "generic"\nclient_id = "x"\nclient_secret_env = "S"\n',
     "[oauth2] token_url", "missing: the token endpoint of the identity provider"),
    ('[oauth2]\nprovider = "generic"\nclient_id = "x"\nclient_secret_env = "S"\n'
     'token_url = "http://192.0.2.10/token"\n', "[oauth2] token_url",
     "refusing plain http:// to 192.0.2.10, outside 127.0.0.0/8 and ::1: secrets and tokens "
     "would cross the network in clear text; use https://"),
])
def test_oauth2_mistakes_are_one_line_naming_the_key(project, oauth2, key, problem):
    with_oauth2(project, oauth2)
    done = run_cli("--config", str(project.config_path), "check-config")
    assert done.exit_code == 2
    assert re.match(rf"intake-bot: error: {re.escape(str(project.config_path))}(:\d+)?: "
                    rf"{re.escape(f'{key}: {problem}')}", done.output), done.output
    assert done.output.count("\n") == 1


def test_plain_http_to_loopback_is_allowed(project, monkeypatch):
    monkeypatch.setenv("S", "a-secret")
    with_oauth2(project, '[oauth2]\nprovider = "generic"\nclient_id = "x"\n'
                'client_secret_env = "S"\ntoken_url = "http://127.0.0.1:9/token"\n')
    assert run_cli("--config", str(project.config_path), "check-config").exit_code == 0


def test_a_missing_library_names_the_extra_to_install(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "msal", None)  # as if not installed
    with_oauth2(project, '[oauth2]\nprovider = "microsoft"\nclient_id = "x"\n'
                'tenant = "example.org"\nclient_secret_env = "S"\n')
    done = run_cli("--config", str(project.config_path), "check-config")
    assert done.exit_code == 2 and done.output == (
        f"intake-bot: error: {project.config_path}:16: [oauth2] provider: 'microsoft' needs "
        "MSAL: pip install 'intake-bot[microsoft]'\n")


def test_an_unset_secret_variable_is_named_when_signing_in(project, monkeypatch):
    monkeypatch.delenv("INTAKE_OAUTH_CLIENT_SECRET", raising=False)
    with_oauth2(project, '[oauth2]\nprovider = "microsoft"\nclient_id = "x"\n'
                'tenant = "example.org"\nclient_secret_env = "INTAKE_OAUTH_CLIENT_SECRET"\n')
    done = run_cli("--config", str(project.config_path), "run", "--once")
    assert done.exit_code == 2 and done.output == (
        f"intake-bot: error: {project.config_path}:19: [oauth2] client_secret_env: the "
        "environment variable INTAKE_OAUTH_CLIENT_SECRET is not set\n")


@pytest.mark.parametrize("example", ["intake.microsoft.example.toml", "intake.google.example.toml"])
def test_the_example_configurations_load(tmp_path, example):
    shutil.copy(REPO / "config" / "vacancies.toml", tmp_path)
    text = (REPO / "config" / example).read_text(encoding="utf-8")
    key = generate_key()  # the credential files the examples name, as an admin makes them
    (tmp_path / "app.pem").write_text(key.key_pem + key.cert_pem, encoding="ascii")
    (tmp_path / "sa.json").write_text(json.dumps({
        "type": "service_account", "client_email": "bot@example.iam.gserviceaccount.com",
        "private_key": key.key_pem, "token_uri": "https://oauth2.googleapis.com/token"}),
        encoding="utf-8")
    for name in ("app.pem", "sa.json"):
        text = text.replace(f"/etc/intake-bot/{name}", str(tmp_path / name))
    (tmp_path / "intake.toml").write_text(text, encoding="utf-8")
    done = run_cli("--config", str(tmp_path / "intake.toml"), "check-config")
    assert done.exit_code == 0, done.output
