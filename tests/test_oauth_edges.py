"""IMAP and SMTP sign-in by token against real servers: Dovecot's oauth2 passdb and aiosmtpd.

Both servers ask the local identity provider (``tests/token_endpoint.py``) whether a token is
active and whose it is, as Exchange Online and Gmail check theirs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from intake_bot.mailbox import MailboxError
from intake_bot.mailbox.imap import ImapMailbox
from intake_bot.signin import OAuthSettings, TokenLogin, token_source
from intake_bot.transport import ServerUnavailable
from intake_bot.transport.smtp import SmtpTransport
from tests.mail import application
from tests.servers import TokenSinkHandler
from tests.token_endpoint import IdentityProvider

pytestmark = pytest.mark.servers

MAILBOX = "applications@example.org"
SECRET = "app-Secret-77c2e1"


def token_login(identity: IdentityProvider, folder: Path, mailbox: str | None = MAILBOX
                ) -> TokenLogin:
    """Client credentials for an app that was given ``mailbox`` (or none)."""
    identity.add_client("intake", secret=SECRET, mailbox=mailbox)
    settings = OAuthSettings("generic", folder / "oauth-token.json", client_id="intake",
                             client_secret=SECRET, token_url=identity.token_url)
    return TokenLogin(token_source(settings), identity.clock)


def imap(dovecot, login: TokenLogin) -> ImapMailbox:
    # The user part holds an '@', as a hosted (or shared) mailbox's address does.
    return ImapMailbox.from_url(f"imap://{MAILBOX}@{dovecot.host}:{dovecot.port}/INBOX", None,
                                token_login=login)


def test_imap_signs_in_to_the_shared_mailbox_by_oauthbearer(identity, fresh_dovecot_oauth,
                                                            tmp_path):
    fresh_dovecot_oauth.append("INBOX", application())
    mailbox = imap(fresh_dovecot_oauth, token_login(identity, tmp_path))
    try:
        assert mailbox.connect() == (f"{MAILBOX} by OAUTHBEARER (generic token valid until "
                                     "2026-11-23T13:00:00Z)")
        assert len(list(mailbox.pending())) == 1
    finally:
        mailbox.close()
    assert identity.introspections == [True]


def test_imap_replaces_a_token_refused_before_its_expiry(identity, fresh_dovecot_oauth,
                                                         tmp_path):
    login = token_login(identity, tmp_path)
    login.source.token(MAILBOX, identity.clock())
    identity.revoke_access_tokens()
    mailbox = imap(fresh_dovecot_oauth, login)
    try:
        mailbox.connect()
    finally:
        mailbox.close()
    assert identity.introspections == [False, True]
    assert len(identity.grants()) == 2


def test_imap_reconnects_with_a_new_token_after_the_old_one_expired(identity,
                                                                   fresh_dovecot_oauth, tmp_path):
    identity.lifetime_s = 600
    mailbox = imap(fresh_dovecot_oauth, token_login(identity, tmp_path))
    try:
        mailbox.connect()
        mailbox.close()
        identity.clock.advance(601)  # the server would refuse it now; the bot knows it too
        mailbox.connect()
    finally:
        mailbox.close()
    assert identity.introspections == [True, True] and len(identity.grants()) == 2


def test_imap_names_the_missing_rights_when_a_fresh_token_is_refused(identity,
                                                                    fresh_dovecot_oauth, tmp_path):
    mailbox = imap(fresh_dovecot_oauth, token_login(identity, tmp_path, mailbox="other@example.org"))
    with pytest.raises(MailboxError) as raised:
        mailbox.connect()
    assert str(raised.value) == (
        f"IMAP 127.0.0.1:{fresh_dovecot_oauth.port}: a fresh generic token was refused for "
        "'applications@example.org' ([AUTHENTICATIONFAILED] Authentication failed.): the server "
        "refused a fresh token for applications@example.org: the token's owner may have no "
        "rights on this mailbox")


def smtp(sink, login: TokenLogin) -> SmtpTransport:
    return SmtpTransport.from_url(sink.url(MAILBOX), token_login=login)


def send_one(transport: SmtpTransport) -> None:
    transport.send(application(), MAILBOX, ["candidate@example.net"])


@pytest.mark.parametrize(("exclude", "mechanism"), [([], "OAUTHBEARER"),
                                                    (["OAUTHBEARER"], "XOAUTH2")])
def test_smtp_signs_in_by_token(identity, smtp_sink_factory, tmp_path, exclude, mechanism):
    sink = smtp_sink_factory(handler=TokenSinkHandler(identity.owner_of), exclude=exclude)
    transport = smtp(sink, token_login(identity, tmp_path))
    try:
        assert transport.connect().startswith(f"{MAILBOX} by {mechanism} (generic token")
        send_one(transport)
    finally:
        transport.close()
    assert sink.handler.logins == [MAILBOX] and len(sink.received) == 1


@pytest.mark.parametrize("exclude", [[], ["OAUTHBEARER"]])
def test_smtp_replaces_a_token_refused_before_its_expiry(identity, smtp_sink_factory, tmp_path,
                                                         exclude):
    sink = smtp_sink_factory(handler=TokenSinkHandler(identity.owner_of), exclude=exclude)
    login = token_login(identity, tmp_path)
    login.source.token(MAILBOX, identity.clock())
    identity.revoke_access_tokens()
    transport = smtp(sink, login)
    try:
        send_one(transport)
    finally:
        transport.close()
    assert identity.introspections == [False, True] and len(sink.received) == 1


def test_smtp_names_the_exchange_steps_when_the_app_has_no_rights(identity, smtp_sink_factory,
                                                                 tmp_path):
    refusal = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
               "for the Mailbox.")
    sink = smtp_sink_factory(handler=TokenSinkHandler(identity.owner_of, refusal),
                             exclude=["OAUTHBEARER"])
    identity.add_client("app", secret=SECRET, mailbox="other@example.org")
    settings = OAuthSettings("microsoft", tmp_path / "cache.json", client_id="app",
                             client_secret=SECRET, tenant="example.org",
                             scope="https://outlook.office365.com/.default",
                             token_url=identity.microsoft_token_url())
    transport = smtp(sink, TokenLogin(token_source(settings), identity.clock))
    with pytest.raises(ServerUnavailable) as raised:
        send_one(transport)
    assert str(raised.value) == (
        f"SMTP 127.0.0.1:{sink.port}: a fresh microsoft token was refused for "
        f"'{MAILBOX}' ({refusal[:-1]}.): the app has no rights on mailbox {MAILBOX}: grant admin "
        "consent for SMTP.SendAsApp, register the app in Exchange (New-ServicePrincipal) and "
        f"give it the mailbox (Add-MailboxPermission -Identity {MAILBOX} -User <service "
        "principal id> -AccessRights FullAccess); and SMTP AUTH must be on for it: "
        f"Set-CASMailbox -Identity {MAILBOX} -SmtpClientAuthenticationDisabled $false")
    assert sink.received == []
