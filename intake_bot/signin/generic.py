"""Any OAuth 2.0 identity provider, through Authlib's client: client credentials, or the
refresh-token grant when a refresh token is configured.

Authlib rather than requests-oauthlib: it is released often (requests-oauthlib last in
2024), speaks both grants and client authentication methods through one session, and
returns the provider's ``error`` and ``error_description`` on the exception it raises.
"""

from __future__ import annotations

from typing import Any

from intake_bot.signin.base import Grant, OAuthSettings, SignInError
from intake_bot.signin.explain import explain_refusal
from intake_bot.signin.libraries import describe_http_error, load

#: Seconds to wait for the token endpoint (connecting, then each read).
TIMEOUT_S = 30.0
#: Assumed when a token endpoint leaves out ``expires_in`` (RFC 6749 only recommends it);
#: a token that ends sooner is refused by the server and replaced at once.
DEFAULT_LIFETIME_S = 3600


class GenericProvider:
    """Client credentials, or the refresh-token grant (which may rotate the refresh token)."""

    def __init__(self, settings: OAuthSettings, name: str = "generic") -> None:
        """Check that Authlib is installed; nothing is requested yet.

        ``name`` is the provider named in messages (``google`` for a user's refresh token).
        """
        self.name = name
        load("authlib", "generic")
        assert settings.token_url is not None
        self.settings = settings
        self.token_url = settings.token_url
        self.uses_refresh_token = bool(settings.refresh_token_env)

    def grant(self, subject: str, refresh_token: str | None) -> Grant:
        """Ask the token endpoint; the token serves whichever mailbox the client may open."""
        import requests
        from authlib.integrations.base_client import OAuthError
        from authlib.integrations.requests_client import OAuth2Session

        settings = self.settings
        session = OAuth2Session(
            settings.client_id, settings.client_secret, scope=settings.scope,
            # A public client (a refresh token and no secret) names itself in the body.
            token_endpoint_auth_method="client_secret_basic" if settings.client_secret else "none",
        )
        try:
            with session:
                answer: dict[str, Any]
                if refresh_token is not None:
                    answer = session.refresh_token(self.token_url, refresh_token=refresh_token,
                                                   timeout=TIMEOUT_S)
                else:
                    answer = session.fetch_token(self.token_url, grant_type="client_credentials",
                                                 timeout=TIMEOUT_S)
        except OAuthError as exc:
            raise SignInError(explain_refusal(settings, {
                "error": exc.error, "error_description": exc.description or ""})) from None
        except (requests.RequestException, ValueError) as error:
            raise SignInError(f"generic: token endpoint {self.token_url}: "
                              f"{describe_http_error(error)}") from None
        return Grant(str(answer["access_token"]),
                     float(answer.get("expires_in") or DEFAULT_LIFETIME_S),
                     answer.get("refresh_token"))
