"""Tokens from the local identity provider: reuse, renewal, rotation, and the providers' errors.

Real libraries (MSAL, google-auth, Authlib) against ``tests/token_endpoint.py``, which speaks
their protocols over HTTP and HTTPS on 127.0.0.1; expiry is judged by the test's clock.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from intake_bot.signin import (
    OAuthSettings,
    SignInError,
    check_installed,
    choose_mechanism,
    token_source,
)
from intake_bot.signin.explain import explain_refusal
from intake_bot.signin.sasl import Responder, initial_response
from tests.token_endpoint import GOOGLE_MAIL_SCOPE, MICROSOFT_SCOPE, IdentityProvider, generate_key

MAILBOX = "applications@example.org"
SECRET = "app-Secret-5d1e0b"


def generic(identity: IdentityProvider, folder: Path, **changes: object) -> OAuthSettings:
    """Client credentials against the rig's plain-HTTP loopback endpoint."""
    identity.add_client("intake", secret=SECRET, mailbox=MAILBOX)
    settings = {"provider": "generic", "token_cache": folder / "oauth-token.json",
                "client_id": "intake", "client_secret": SECRET,
                "client_secret_env": "INTAKE_OAUTH_CLIENT_SECRET",
                "token_url": identity.token_url, **changes}
    return OAuthSettings(**settings)  # type: ignore[arg-type]


def microsoft(identity: IdentityProvider, folder: Path, **changes: object) -> OAuthSettings:
    """An Entra ID app with a secret, against the rig's HTTPS endpoint shaped like Entra's."""
    settings = {"provider": "microsoft", "token_cache": folder / "oauth-token.json",
                "client_id": "00000000-0000-0000-0000-00000000a99", "tenant": "example.org",
                "client_secret": SECRET, "client_secret_env": "INTAKE_OAUTH_CLIENT_SECRET",
                "scope": MICROSOFT_SCOPE, "token_url": identity.microsoft_token_url(), **changes}
    return OAuthSettings(**settings)  # type: ignore[arg-type]


def google(identity: IdentityProvider, folder: Path) -> OAuthSettings:
    """A service account with domain-wide delegation; its key file names the rig's endpoint."""
    key = generate_key()
    email = "intake-bot@example-project.iam.gserviceaccount.com"
    identity.add_service_account(email, key)
    path = folder / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "example-project", "private_key_id": "k1",
        "private_key": key.key_pem, "client_email": email, "client_id": "1234567890",
        "token_uri": identity.url("token", tls=True)}), encoding="utf-8")
    return OAuthSettings("google", folder / "oauth-token.json", service_account_file=path,
                         scope=GOOGLE_MAIL_SCOPE)


# --- reuse and renewal ---------------------------------------------------------------


def test_a_token_is_reused_until_five_minutes_before_it_expires(identity, tmp_path):
    source = token_source(generic(identity, tmp_path))
    first = source.token(MAILBOX, identity.clock())
    identity.clock.advance(3600 - 301)
    assert source.token(MAILBOX, identity.clock()) == first
    identity.clock.advance(2)
    second = source.token(MAILBOX, identity.clock())
    assert second.value != first.value and identity.introspect(second.value)["active"]
    assert len(identity.grants("client_credentials")) == 2


def test_a_short_lived_token_is_renewed_at_half_its_life(identity, tmp_path):
    identity.lifetime_s = 120
    source = token_source(generic(identity, tmp_path))
    first = source.token(MAILBOX, identity.clock())
    identity.clock.advance(59)
    assert source.token(MAILBOX, identity.clock()) == first
    identity.clock.advance(1)
    assert source.token(MAILBOX, identity.clock()) != first


def test_a_refused_token_is_forgotten_and_the_next_one_is_new(identity, tmp_path):
    source = token_source(generic(identity, tmp_path))
    first = source.token(MAILBOX, identity.clock())
    identity.revoke_access_tokens()
    source.refused(first)
    second = source.token(MAILBOX, identity.clock())
    assert second.value != first.value and identity.introspect(second.value)["active"]


def test_the_cache_is_owner_only_and_a_new_process_reuses_its_token(identity, tmp_path):
    settings = generic(identity, tmp_path)
    first = token_source(settings).token(MAILBOX, identity.clock())
    assert stat.S_IMODE(os.stat(settings.token_cache).st_mode) == 0o600
    token_source.cache_clear()  # as a new process
    assert token_source(settings).token(MAILBOX, identity.clock()) == first
    assert len(identity.grants()) == 1


def test_no_token_or_secret_in_a_token_repr(identity, tmp_path):
    settings = generic(identity, tmp_path)
    token = token_source(settings).token(MAILBOX, identity.clock())
    assert token.value not in repr(token) and SECRET not in repr(settings)
    assert token.value not in repr(Responder("XOAUTH2", MAILBOX, token.value))


# --- the refresh-token grant ---------------------------------------------------------


def refreshing(identity: IdentityProvider, folder: Path) -> OAuthSettings:
    identity.add_client("intake", secret=SECRET, mailbox=MAILBOX)
    seed = identity.add_refresh_token("intake", MAILBOX)
    return generic(identity, folder, refresh_token=seed,
                   refresh_token_env="INTAKE_OAUTH_REFRESH_TOKEN")


def saved_refresh_token(settings: OAuthSettings) -> str:
    cache = json.loads(settings.token_cache.read_text(encoding="utf-8"))
    (entry,) = cache["refresh"].values()
    return str(entry["token"])


def test_a_rotated_refresh_token_is_saved_before_the_next_grant_spends_it(identity, tmp_path):
    settings = refreshing(identity, tmp_path)
    source = token_source(settings)
    source.token(MAILBOX, identity.clock())
    first_rotation = saved_refresh_token(settings)
    assert first_rotation != settings.refresh_token and first_rotation in identity.refresh_tokens
    identity.clock.advance(3600)
    source.token(MAILBOX, identity.clock())
    assert saved_refresh_token(settings) != first_rotation
    assert list(identity.refresh_tokens) == [saved_refresh_token(settings)]  # only the newest lives


def test_the_next_process_signs_in_with_the_saved_refresh_token(identity, tmp_path):
    settings = refreshing(identity, tmp_path)
    token_source(settings).token(MAILBOX, identity.clock())
    token_source.cache_clear()  # a new process, its variable still holding the spent seed
    identity.clock.advance(3600)
    token = token_source(settings).token(MAILBOX, identity.clock())
    assert identity.introspect(token.value)["active"]
    assert len(identity.grants("refresh_token")) == 2


def test_a_new_refresh_token_in_the_variable_replaces_the_saved_one(identity, tmp_path):
    settings = refreshing(identity, tmp_path)
    token_source(settings).token(MAILBOX, identity.clock())
    identity.revoke_refresh_tokens()  # an admin revoked the grant; the operator consents again
    renewed = OAuthSettings(**{**settings.__dict__, "refresh_token":
                               identity.add_refresh_token("intake", MAILBOX)})
    identity.clock.advance(3600)
    assert identity.introspect(token_source(renewed).token(MAILBOX, identity.clock()).value)["active"]


def test_a_revoked_refresh_token_names_the_variable_to_refill(identity, tmp_path):
    settings = refreshing(identity, tmp_path)
    identity.revoke_refresh_tokens()
    with pytest.raises(SignInError) as raised:
        token_source(settings).token(MAILBOX, identity.clock())
    assert str(raised.value) == (
        "generic sign-in refused: invalid_grant: the refresh token was revoked or has expired: "
        "get a new one, put it into $INTAKE_OAUTH_REFRESH_TOKEN and restart")


# --- Microsoft through MSAL ----------------------------------------------------------


def test_microsoft_client_credentials_with_a_secret(identity, tmp_path):
    settings = microsoft(identity, tmp_path)
    identity.add_client(str(settings.client_id), secret=SECRET, mailbox=MAILBOX)
    token = token_source(settings).token(MAILBOX, identity.clock())
    assert identity.introspect(token.value)["username"] == MAILBOX


def test_microsoft_client_credentials_with_a_certificate(identity, tmp_path):
    key = generate_key()
    pem = tmp_path / "app.pem"
    pem.write_text(key.key_pem + key.cert_pem, encoding="ascii")
    settings = microsoft(identity, tmp_path, client_secret=None, certificate=pem)
    identity.add_client(str(settings.client_id), certificate=key.certificate, mailbox=MAILBOX)
    token = token_source(settings).token(MAILBOX, identity.clock())
    assert identity.introspect(token.value)["username"] == MAILBOX


def test_a_token_msal_still_holds_is_not_reused_once_refused(identity, tmp_path):
    settings = microsoft(identity, tmp_path)
    identity.add_client(str(settings.client_id), secret=SECRET, mailbox=MAILBOX)
    source = token_source(settings)
    first = source.token(MAILBOX, identity.clock())
    source.refused(first)
    assert source.token(MAILBOX, identity.clock()).value != first.value


@pytest.mark.parametrize(("fault", "expected"), [
    ("wrong secret", "microsoft sign-in refused: AADSTS7000215 (invalid_client): the client "
     "secret is wrong: put the secret's Value (not its Secret ID) from Entra ID > App "
     "registrations > Certificates & secrets into $INTAKE_OAUTH_CLIENT_SECRET"),
    ("expired secret", "microsoft sign-in refused: AADSTS7000222 (invalid_client): the client "
     "secret has expired: add a new one under Entra ID > App registrations > Certificates & "
     "secrets, put it into $INTAKE_OAUTH_CLIENT_SECRET and restart"),
    ("no consent", "microsoft sign-in refused: AADSTS65001 (invalid_grant): admin consent is "
     "missing: in Entra ID > App registrations > API permissions, add Office 365 Exchange "
     "Online IMAP.AccessAsApp and SMTP.SendAsApp and press 'Grant admin consent'"),
    ("unknown tenant", "microsoft sign-in refused: AADSTS90002 (invalid_tenant): tenant "
     "'contoso.example' not found: set [oauth2] tenant to the directory (tenant) ID or a "
     "verified domain of the organisation"),
    ("unknown app", "microsoft sign-in refused: AADSTS700016 (unauthorized_client): the tenant "
     "has no app with client_id 00000000-0000-0000-0000-00000000a99: check [oauth2] client_id "
     "and tenant, or have an administrator of that tenant consent to the app"),
])
def test_microsoft_refusals_name_the_code_and_the_admin_step(identity, tmp_path, fault, expected):
    settings = microsoft(identity, tmp_path)
    if fault != "unknown app":
        client = identity.add_client(str(settings.client_id), secret=SECRET, mailbox=MAILBOX)
        client.secret = "another secret" if fault == "wrong secret" else SECRET
        client.secret_expired = fault == "expired secret"
        client.consented = fault != "no consent"
    if fault == "unknown tenant":
        settings = microsoft(identity, tmp_path, tenant="contoso.example",
                             token_url=identity.microsoft_token_url("contoso.example"))
    with pytest.raises(SignInError) as raised:
        token_source(settings).token(MAILBOX, identity.clock())
    assert str(raised.value) == expected
    assert SECRET not in str(raised.value)


# --- Google through google-auth ------------------------------------------------------


def test_google_service_account_acts_as_each_mailbox_user(identity, tmp_path):
    source = token_source(google(identity, tmp_path))
    for user in (MAILBOX, "jobs@example.org"):
        token = source.token(user, identity.clock())
        assert identity.introspect(token.value)["username"] == user
        lifetime = (token.expires_at - token.issued_at).total_seconds()
        assert token.expires_at == identity.clock() + (token.expires_at - token.issued_at)
        # google-auth dates the expiry by the wall clock; the lifetime read back from it
        # loses the time the exchange took, rounded: a stalled machine may lose a second.
        assert identity.lifetime_s - 5 <= lifetime <= identity.lifetime_s


def test_google_without_domain_wide_delegation(identity, tmp_path):
    settings = google(identity, tmp_path)
    for account in identity.service_accounts.values():
        account.delegated_scopes = set()
    with pytest.raises(SignInError, match=r"^google sign-in refused: unauthorized_client: "
                       r"domain-wide delegation is missing: .* https://mail.google.com/$"):
        token_source(settings).token(MAILBOX, identity.clock())


def test_google_with_a_deleted_key(identity, tmp_path):
    settings = google(identity, tmp_path)
    for account in identity.service_accounts.values():
        account.public_key = generate_key().certificate.public_key()
    with pytest.raises(SignInError, match=r"^google sign-in refused: invalid_grant: .* new key"):
        token_source(settings).token(MAILBOX, identity.clock())


def test_google_with_a_users_refresh_token(identity, tmp_path):
    identity.add_client("desktop-client", secret=SECRET, mailbox=MAILBOX)
    seed = identity.add_refresh_token("desktop-client", MAILBOX)
    settings = OAuthSettings("google", tmp_path / "cache.json", client_id="desktop-client",
                             client_secret=SECRET, refresh_token=seed,
                             refresh_token_env="INTAKE_OAUTH_REFRESH_TOKEN",
                             scope=GOOGLE_MAIL_SCOPE, token_url=identity.token_url)
    token = token_source(settings).token(MAILBOX, identity.clock())
    assert identity.introspect(token.value)["username"] == MAILBOX
    identity.revoke_refresh_tokens()
    identity.clock.advance(3600)
    with pytest.raises(SignInError, match=r"^google sign-in refused: invalid_grant: the refresh "
                       r"token was revoked or has expired: .*INTAKE_OAUTH_REFRESH_TOKEN"):
        token_source(settings).token(MAILBOX, identity.clock())


# --- what an operator reads ----------------------------------------------------------


@pytest.mark.parametrize(("body", "expected"), [
    ({"error": "invalid_grant", "error_codes": [50173], "error_description":
      "AADSTS50173: The provided grant has expired due to it being revoked."},
     "generic sign-in refused: AADSTS50173 (invalid_grant): the refresh token was revoked (a "
     "password change or an admin's revocation): sign in again, put the new refresh token "
     "into $INTAKE_OAUTH_REFRESH_TOKEN and restart"),
    ({"error": "invalid_grant", "error_description": "AADSTS700082: The refresh token has "
      "expired due to inactivity."},
     "generic sign-in refused: AADSTS700082 (invalid_grant): the refresh token expired after "
     "long inactivity: sign in again, put the new refresh token into "
     "$INTAKE_OAUTH_REFRESH_TOKEN and restart"),
    ({"error": "temporarily_unavailable", "error_description": "Try again later. Trace 1."},
     "generic sign-in refused: temporarily_unavailable: Try again later"),
    ("<html>Bad gateway</html>", "generic sign-in refused: error: <html>Bad gateway</html>"),
])
def test_refusals_are_one_line_with_the_fix(tmp_path, body, expected):
    settings = OAuthSettings("generic", tmp_path / "cache.json",
                             refresh_token_env="INTAKE_OAUTH_REFRESH_TOKEN")
    assert explain_refusal(settings, body) == expected


def test_an_unreachable_endpoint_is_one_line(identity, tmp_path):
    from tests.servers import free_port

    settings = generic(identity, tmp_path, token_url=f"http://127.0.0.1:{free_port()}/token")
    with pytest.raises(SignInError, match=r"^generic: token endpoint http://127\.0\.0\.1:\d+/token: "
                       r"connection refused$"):
        token_source(settings).token(MAILBOX, identity.clock())


@pytest.mark.parametrize(("provider", "extra"), [
    ("microsoft", "microsoft"), ("google", "google"), ("generic", "oauth2")])
def test_a_missing_library_names_the_extra(monkeypatch, provider, extra):
    module = {"microsoft": "msal", "google": "google.oauth2.service_account",
              "generic": "authlib"}[provider]
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(SignInError, match=rf"pip install 'intake-bot\[{extra}\]'$"):
        check_installed(provider)


# --- SASL ----------------------------------------------------------------------------


@pytest.mark.parametrize(("offered", "chosen"), [
    (["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"], "OAUTHBEARER"),  # Dovecot, Gmail
    (["LOGIN", "XOAUTH2"], "XOAUTH2"),  # Microsoft 365
    (["xoauth2"], "XOAUTH2"),
    (["PLAIN", "LOGIN"], None),
])
def test_the_standard_mechanism_is_preferred(offered, chosen):
    assert choose_mechanism(offered) == chosen


def test_the_initial_responses_carry_the_mailbox_and_the_token():
    assert initial_response("XOAUTH2", MAILBOX, "T0k") == \
        "user=applications@example.org\x01auth=Bearer T0k\x01\x01"
    assert initial_response("OAUTHBEARER", "a,b=c@example.org", "T0k") == \
        "n,a=a=2Cb=3Dc@example.org,\x01auth=Bearer T0k\x01\x01"
    assert Responder("OAUTHBEARER", MAILBOX, "T0k")(b'{"status":"invalid_token"}') == "\x01"
    assert Responder("XOAUTH2", MAILBOX, "T0k")(b'{"status":"400"}') == ""
