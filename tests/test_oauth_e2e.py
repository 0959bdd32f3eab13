"""A mailbox of applications handled and answered with every sign-in by token, end to end.

Dovecot (``oauth2`` passdb) and an aiosmtpd sink ask the local token endpoint
(``tests/token_endpoint.py``) about every token; the bot gets its tokens from that endpoint
through the real MSAL, google-auth and Authlib. The acceptance of issue 12, one test each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from intake_bot.pipeline import run_cycle
from tests.conftest import brussels, run_cli
from tests.mail import application, blank_pdf
from tests.servers import TokenSinkHandler
from tests.token_endpoint import generate_key

pytestmark = pytest.mark.servers

MAILBOX = "applications@example.org"
SECRET = "client-Secret-3f9a17c2"
ON_TIME = brussels("2026-06-10T10:00:00")


def a_pdf_application(sender: str = "Jane Doe <jane@example.net>") -> bytes:
    return application(sender=sender, attachments=[("cv.pdf", blank_pdf(), "application/pdf")])


@pytest.fixture
def deployment(make_project, identity, fresh_dovecot_oauth, smtp_sink_factory, monkeypatch):
    """A deployment on the token-taking Dovecot and sink; ``configure(oauth2_toml)`` finishes it."""
    sink = smtp_sink_factory(handler=TokenSinkHandler(identity.owner_of), exclude=["OAUTHBEARER"])
    project = make_project()
    dovecot = fresh_dovecot_oauth
    monkeypatch.setenv("INTAKE_OAUTH_CLIENT_SECRET", SECRET)

    def configure(oauth2: str) -> None:
        text = project.config_path.read_text(encoding="utf-8")
        text = text.replace('url = "maildir:../var/mailbox"',
                            f'url = "imap://{MAILBOX}@{dovecot.host}:{dovecot.port}/INBOX"\n'
                            'auth = "oauth2"')
        text = text.replace('url = "outbox:../var/outbox"',
                            f'url = "smtp://{MAILBOX}@{sink.host}:{sink.port}"\nauth = "oauth2"')
        project.config_path.write_text(text + "\n[oauth2]\n" + oauth2, encoding="utf-8")

    return project, dovecot, sink, configure


def generic_oauth2(identity, **extra: str) -> str:
    identity.add_client("intake", secret=SECRET, mailbox=MAILBOX)
    lines = {"provider": "generic", "client_id": "intake",
             "client_secret_env": "INTAKE_OAUTH_CLIENT_SECRET", "token_url": identity.token_url,
             **extra}
    return "".join(f'{key} = "{value}"\n' for key, value in lines.items())


def test_a_mailbox_is_handled_and_answered_with_every_sign_in_by_token(deployment, identity):
    project, dovecot, sink, configure = deployment
    configure(generic_oauth2(identity))
    for number in range(3):
        dovecot.append("INBOX", a_pdf_application(f"candidate{number}@example.net"), ON_TIME)
    done = run_cli("--config", str(project.config_path), "run", "--once")
    assert done.exit_code == 0, done.output
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 3
    assert len(sink.received) == 3 and sink.handler.mechanisms == ["XOAUTH2"]
    assert identity.introspections == [True, True]  # IMAP, then SMTP: one token for both
    assert len(identity.grants("client_credentials")) == 1


def test_a_long_service_run_signs_in_across_expiry_and_a_refused_token(deployment, identity):
    """Cycles by the shared clock: tokens are renewed before expiry, and one is revoked early."""
    project, dovecot, sink, configure = deployment
    configure(generic_oauth2(identity))
    config = project.config
    # Seconds before each cycle, and whether the server revokes the tokens first.
    steps = [(0, False), (3300, False), (600, False), (600, True), (3600, False)]
    for number, (seconds, revoke) in enumerate(steps):
        identity.clock.advance(seconds)
        if revoke:
            identity.revoke_access_tokens()
        dovecot.append("INBOX", a_pdf_application(f"candidate{number}@example.net"), ON_TIME)
        summary = run_cycle(config, clock=identity.clock)
        assert summary.sent == 1 and summary.unavailable is None
        assert dovecot.uids("INBOX") == []
    assert len(sink.received) == len(steps)
    # New tokens at 0 s, at 3300 s (five minutes before the first expired), after the
    # revocation (the revoked token was refused once) and at 8100 s (expiry).
    assert len(identity.grants()) == 4
    assert identity.introspections.count(False) == 1


def run_process(project, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``intake-bot -v ARGS`` in a process of its own, every logger at DEBUG."""
    return subprocess.run([sys.executable, "-m", "intake_bot", "--config",
                           str(project.config_path), "-v", *args],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


def test_a_rotated_refresh_token_serves_the_next_process_and_no_secret_is_logged(deployment,
                                                                                 identity):
    project, dovecot, sink, configure = deployment
    configure(generic_oauth2(identity, refresh_token_env="INTAKE_OAUTH_REFRESH_TOKEN"))
    seed = identity.add_refresh_token("intake", MAILBOX)
    env = {"INTAKE_OAUTH_CLIENT_SECRET": SECRET, "INTAKE_OAUTH_REFRESH_TOKEN": seed}
    dovecot.append("INBOX", a_pdf_application(), ON_TIME)
    first = run_process(project, env, "run", "--once")
    assert first.returncode == 0, first.stderr
    assert seed not in identity.refresh_tokens  # rotated: the seed is spent
    identity.revoke_access_tokens()  # the next process must get a token of its own
    dovecot.append("INBOX", a_pdf_application("john@example.net"), ON_TIME)
    second = run_process(project, env, "run", "--once")  # the variable still holds the seed
    assert second.returncode == 0, second.stderr
    assert len(sink.received) == 2 and len(identity.grants("refresh_token")) == 2
    logs = first.stdout + first.stderr + second.stdout + second.stderr
    assert " DEBUG " in logs
    secrets = [SECRET, seed, *identity.issued, *identity.refresh_tokens]
    assert not [secret for secret in secrets if secret in logs]
    cache = project.config.register_path.parent / "oauth-token.json"
    assert oct(os.stat(cache).st_mode & 0o777) == "0o600"
    assert not [secret for secret in secrets if secret in json.dumps(identity.token_requests)]


def test_a_wrong_secret_exits_1_in_one_line_and_moves_nothing(deployment, identity, monkeypatch):
    project, dovecot, sink, configure = deployment
    configure(generic_oauth2(identity))
    monkeypatch.setenv("INTAKE_OAUTH_CLIENT_SECRET", "not-the-Secret-a1b2")
    dovecot.append("INBOX", a_pdf_application(), ON_TIME)
    done = run_cli("--config", str(project.config_path), "run", "--once")
    assert done.exit_code == 1
    assert done.output == (
        f"intake-bot: error: IMAP 127.0.0.1:{dovecot.port}: generic sign-in refused: "
        "invalid_client: the client was not accepted: check [oauth2] client_id and the secret "
        "in $INTAKE_OAUTH_CLIENT_SECRET\n")
    assert len(dovecot.uids("INBOX")) == 1 and dovecot.uids("Processed") == []
    assert sink.received == [] and "not-the-Secret" not in done.output


def test_the_microsoft_path_end_to_end(deployment, identity):
    project, dovecot, sink, configure = deployment
    key = generate_key()
    pem = project.root / "app.pem"
    pem.write_text(key.key_pem + key.cert_pem, encoding="ascii")
    client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"
    identity.add_client(client_id, certificate=key.certificate, mailbox=MAILBOX)
    configure(f'provider = "microsoft"\nclient_id = "{client_id}"\ntenant = "example.org"\n'
              f'certificate = "{pem}"\ntoken_url = "{identity.microsoft_token_url()}"\n')
    dovecot.append("INBOX", a_pdf_application(), ON_TIME)
    checked = run_cli("--config", str(project.config_path), "check-config", "--connect")
    assert checked.exit_code == 0, checked.output
    assert (f"mailbox: connected and signed in as {MAILBOX} by OAUTHBEARER (microsoft token "
            "valid until 2026-11-23T13:00:00Z)") in checked.output
    assert (f"smtp: connected and signed in as {MAILBOX} by XOAUTH2 (microsoft token valid "
            "until 2026-11-23T13:00:00Z)") in checked.output
    done = run_cli("--config", str(project.config_path), "run", "--once")
    assert done.exit_code == 0, done.output
    assert len(sink.received) == 1 and dovecot.uids("INBOX") == []
    assert len(identity.grants("client_credentials")) == 1  # one token for both, both commands


def test_the_google_path_end_to_end(deployment, identity):
    project, dovecot, sink, configure = deployment
    key = generate_key()
    email = "intake-bot@example-project.iam.gserviceaccount.com"
    identity.add_service_account(email, key)
    account = project.root / "sa.json"
    account.write_text(json.dumps({
        "type": "service_account", "client_email": email, "private_key": key.key_pem,
        "private_key_id": "k1", "client_id": "1234567890",
        "token_uri": identity.url("token", tls=True)}), encoding="utf-8")
    configure(f'provider = "google"\nservice_account_file = "{account}"\n')
    dovecot.append("INBOX", a_pdf_application(), ON_TIME)
    done = run_cli("--config", str(project.config_path), "run", "--once")
    assert done.exit_code == 0, done.output
    assert len(sink.received) == 1 and dovecot.uids("INBOX") == []
    assert [r["grant_type"] for r in identity.grants()] == [
        "urn:ietf:params:oauth:grant-type:jwt-bearer"]


def test_missing_consent_is_one_line_naming_the_admin_step(deployment, identity):
    project, dovecot, _, configure = deployment
    client = identity.add_client("app", secret=SECRET, mailbox=MAILBOX)
    client.consented = False
    configure('provider = "microsoft"\nclient_id = "app"\ntenant = "example.org"\n'
              'client_secret_env = "INTAKE_OAUTH_CLIENT_SECRET"\n'
              f'token_url = "{identity.microsoft_token_url()}"\n')
    done = run_cli("--config", str(project.config_path), "run", "--once")
    assert done.exit_code == 1 and done.output.count("\n") == 1
    assert "AADSTS65001" in done.output and "Grant admin consent" in done.output


def test_msal_at_debug_logs_no_secret_or_token(deployment, identity):
    project, dovecot, sink, configure = deployment
    identity.add_client("app", secret=SECRET, mailbox=MAILBOX)
    configure('provider = "microsoft"\nclient_id = "app"\ntenant = "example.org"\n'
              'client_secret_env = "INTAKE_OAUTH_CLIENT_SECRET"\n'
              f'token_url = "{identity.microsoft_token_url()}"\n')
    dovecot.append("INBOX", a_pdf_application(), ON_TIME)
    done = run_process(project, {"INTAKE_OAUTH_CLIENT_SECRET": SECRET}, "run", "--once")
    assert done.returncode == 0, done.stderr
    logs = done.stdout + done.stderr
    assert " DEBUG msal" in logs  # MSAL did log at DEBUG
    assert not [secret for secret in (SECRET, *identity.issued) if secret in logs]


def test_notices_wait_queued_while_smtp_refuses_the_app(deployment, identity):
    """The mailbox signs in, SMTP refuses every token: messages are handled, notices wait."""
    project, dovecot, sink, configure = deployment
    configure(generic_oauth2(identity))
    sink.handler.owner_of = lambda token: None  # SMTP AUTH is off for the mailbox
    dovecot.append("INBOX", a_pdf_application(), ON_TIME)
    done = run_cli("--config", str(project.config_path), "run", "--once")
    assert done.exit_code == 1 and "notices not sent" in done.output
    assert "the token's owner may have no rights on this mailbox" in done.output
    assert sink.received == []
    sink.handler.owner_of = identity.owner_of  # the admin fixed it
    retried = run_cli("--config", str(project.config_path), "replies", "retry")
    assert retried.exit_code == 0, retried.output
    assert len(sink.received) == 1


def test_the_service_backs_off_while_sign_in_is_refused_then_recovers(deployment, identity):
    from tests.test_service import LogReader, start_service, stop, wait_for

    project, dovecot, sink, configure = deployment
    configure(generic_oauth2(identity))
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text.replace("poll_seconds = 60", "poll_seconds = 1"),
                                   encoding="utf-8")
    identity.clients["intake"].secret = "rotated-by-an-admin"  # the bot's secret is stale
    dovecot.append("INBOX", a_pdf_application(), ON_TIME)
    process = start_service(project.config_path)
    log = LogReader(process)
    try:
        log.wait_for("sign-in refused: invalid_client")
        log.wait_for("retrying in 2 s")  # the second failure waits twice as long
        assert len(dovecot.uids("INBOX")) == 1 and sink.received == []
        identity.clients["intake"].secret = SECRET  # the admin puts the bot's secret back
        wait_for(lambda: len(sink.received) == 1, 30)
    finally:
        code, err = stop(process)
    assert code == 0 and "Traceback" not in err and SECRET not in err
    assert dovecot.uids("INBOX") == []
