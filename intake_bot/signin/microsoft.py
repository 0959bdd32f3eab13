"""Microsoft 365 through MSAL: app-only tokens by client credentials, with a secret or a
certificate, for ``IMAP.AccessAsApp`` and ``SMTP.SendAsApp``."""

from __future__ import annotations

import re
from typing import Any

from intake_bot.signin.base import CredentialError, Grant, OAuthSettings, SignInError
from intake_bot.signin.explain import explain_refusal
from intake_bot.signin.libraries import describe_http_error, load

#: Seconds to wait for Entra ID (connecting, then each read).
TIMEOUT_S = 30.0
TOKEN_PATH = "/oauth2/v2.0/token"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def default_token_url(tenant: str) -> str:
    """Entra ID's token endpoint for ``tenant`` in the worldwide cloud."""
    return f"https://login.microsoftonline.com/{tenant}{TOKEN_PATH}"


class MicrosoftProvider:
    """A confidential client of Entra ID; the token serves every mailbox the app was given.

    The authority is ``token_url`` without ``/oauth2/v2.0/token``, so a national cloud
    (``login.microsoftonline.us``) or a test endpoint is a matter of ``token_url``. MSAL's
    instance discovery (a call to the worldwide cloud to vet the authority) is off: the
    operator chose the authority, and MSAL still reads its OpenID configuration.
    """

    name = "microsoft"
    uses_refresh_token = False

    def __init__(self, settings: OAuthSettings) -> None:
        """Read the credential (secret, or the certificate file); nothing is requested yet."""
        load("msal", self.name)
        assert settings.token_url is not None
        self.settings = settings
        self.token_url = settings.token_url
        self._credential = _credential(settings)
        self._app: Any = None

    def grant(self, subject: str, refresh_token: str | None) -> Grant:
        """Client credentials for ``[oauth2] scope``; MSAL's own cache is bypassed on purpose.

        The caller decides when a token is due (by the injected clock, and when a server
        refused one), so MSAL must not hand back the token it still holds.
        """
        import requests

        try:
            app = self._application()
            app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=[self.settings.scope])
        except requests.RequestException as error:
            raise SignInError(f"microsoft: token endpoint {self.token_url}: "
                              f"{describe_http_error(error)}") from None
        if "access_token" not in result:
            raise SignInError(explain_refusal(self.settings, result))
        return Grant(str(result["access_token"]), float(result["expires_in"]))

    def _application(self) -> Any:
        """MSAL's application, made once: making it reads the tenant's OpenID configuration."""
        if self._app is None:
            import msal

            try:
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id, client_credential=self._credential,
                    authority=self.token_url.removesuffix(TOKEN_PATH),
                    instance_discovery=False, timeout=TIMEOUT_S)
            except ValueError as exc:
                # MSAL words a failed discovery in its own sentence; the AADSTS code (an
                # unknown tenant) is in the error it replaced.
                text = f"{exc} {exc.__context__ or ''}"
                code = re.search(r"AADSTS\d+", text)
                if code is None:
                    raise SignInError(f"microsoft: cannot read the OpenID configuration of "
                                      f"{self.token_url.removesuffix(TOKEN_PATH)}") from None
                raise SignInError(explain_refusal(self.settings, {
                    "error": "invalid_tenant", "error_description": code.group()})) from None
        return self._app


def _credential(settings: OAuthSettings) -> str | dict[str, str]:
    """The client secret, or MSAL's certificate credential from one PEM file (key and cert)."""
    if settings.certificate is None:
        if not settings.client_secret:
            raise CredentialError("client_secret_env", "give either client_secret_env or "
                                  "certificate")
        return settings.client_secret
    try:
        text = settings.certificate.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise CredentialError("certificate", f"cannot read {settings.certificate}: "
                              f"{getattr(error, 'strerror', None) or error}") from None
    blocks = {match.group(1): match.group(0) for match in _PEM_BLOCK.finditer(text)}
    key = next((block for kind, block in blocks.items() if kind.endswith("PRIVATE KEY")), None)
    if key is None or "CERTIFICATE" not in blocks:
        raise CredentialError("certificate", f"{settings.certificate} must hold the private "
                              "key and the certificate, both in PEM")
    # With the certificate MSAL signs with its SHA-256 thumbprint (x5t#S256), as Entra
    # ID wants today, instead of the SHA-1 thumbprint of older guides.
    return {"private_key": key, "public_certificate": blocks["CERTIFICATE"]}
