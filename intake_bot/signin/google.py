"""Google Workspace through google-auth: a service account with domain-wide delegation
signs an assertion and gets a token acting as the mailbox user."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from intake_bot.signin.base import CredentialError, Grant, OAuthSettings, SignInError
from intake_bot.signin.explain import explain_refusal
from intake_bot.signin.libraries import describe_http_error, load
from intake_bot.signin.settings import check_token_url

#: Seconds to wait for Google's token endpoint.
TIMEOUT_S = 30.0


class GoogleProvider:
    """The JWT bearer grant (RFC 7523) of a service account, ``sub`` = the mailbox user.

    The token endpoint is the key file's ``token_uri`` unless ``[oauth2] token_url`` says
    otherwise. Tokens differ per mailbox: the IMAP and SMTP users each get their own.
    """

    name = "google"
    uses_refresh_token = False

    def __init__(self, settings: OAuthSettings) -> None:
        """Read the service account's key file; nothing is requested yet."""
        service_account = load("google.oauth2.service_account", self.name)
        assert settings.service_account_file is not None
        self.settings = settings
        info = _key_file(settings)
        try:
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=[settings.scope])
        except ValueError as error:
            raise CredentialError("service_account_file", f"{settings.service_account_file}: "
                                  f"not a usable service account key ({error})") from None
        if settings.token_url:
            credentials = credentials.with_token_uri(settings.token_url)
        self._credentials = credentials
        self.token_url = settings.token_url or str(info["token_uri"])
        # The key file's token_uri is where the signed assertion goes: the same rule as token_url.
        check_token_url(self.token_url, lambda problem: CredentialError(
            "service_account_file", f"token_uri: {problem}"))

    def grant(self, subject: str, refresh_token: str | None) -> Grant:
        """Sign an assertion for ``subject`` and exchange it for a token."""
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        credentials = self._credentials.with_subject(subject)
        try:
            credentials.refresh(Request())
        except google.auth.exceptions.RefreshError as error:
            body = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else None
            raise SignInError(explain_refusal(self.settings, body or str(error))) from None
        except google.auth.exceptions.TransportError as error:
            raise SignInError(f"google: token endpoint {self.token_url}: "
                              f"{describe_http_error(error)}") from None
        # google-auth keeps only the expiry it computed from the wall clock (naive UTC);
        # the lifetime is that minus the wall clock now, which the caller's clock then
        # places. Rounding drops the milliseconds the request took.
        wall_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        lifetime = round((credentials.expiry - wall_now).total_seconds())
        return Grant(str(credentials.token), float(lifetime))


def _key_file(settings: OAuthSettings) -> dict[str, Any]:
    """The service account key (JSON) with the fields the grant needs."""
    path = settings.service_account_file
    try:
        info = json.loads(path.read_text(encoding="utf-8")) if path else None
    except OSError as error:
        raise CredentialError("service_account_file", f"cannot read {path}: "
                              f"{error.strerror}") from None
    except ValueError:
        raise CredentialError("service_account_file", f"{path} is not JSON") from None
    missing = [key for key in ("client_email", "private_key", "token_uri")
               if not isinstance(info, dict) or not info.get(key)]
    if missing:
        raise CredentialError("service_account_file", f"{path} lacks {', '.join(missing)}: "
                              "download a JSON key of the service account")
    assert isinstance(info, dict)
    return info
