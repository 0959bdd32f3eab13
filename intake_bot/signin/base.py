"""What every way of getting a token shares: the settings, a grant, the provider interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

ProviderName = Literal["microsoft", "google", "generic"]
#: Who issues the tokens: ``[oauth2] provider``.
PROVIDERS: tuple[ProviderName, ...] = ("microsoft", "google", "generic")

#: The scope each provider's mail servers want, when ``[oauth2] scope`` is not set.
DEFAULT_SCOPES: dict[str, str] = {
    "microsoft": "https://outlook.office365.com/.default",
    "google": "https://mail.google.com/",
}


class SignInError(Exception):
    """No token could be had (or a server refused it); the message is one line, safe to log.

    It names the provider's error code and what an administrator should do, never a
    token or a secret.
    """


class CredentialError(SignInError):
    """A credential file named by ``[oauth2] key`` cannot be used: a configuration mistake."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"[oauth2] {key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class OAuthSettings:
    """The ``[oauth2]`` section, resolved: secrets read from their variables, defaults filled.

    ``client_secret`` and ``refresh_token`` hold the values of the variables the
    configuration names (``client_secret_env``, ``refresh_token_env``, kept for
    messages); they never appear in ``repr``. ``token_cache`` is the owner-only file
    where the current token and a rotated refresh token are kept.
    """

    provider: ProviderName
    token_cache: Path
    client_id: str | None = None
    tenant: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_secret_env: str | None = None
    certificate: Path | None = None
    service_account_file: Path | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_env: str | None = None
    scope: str | None = None
    token_url: str | None = None


@dataclass(frozen=True)
class Grant:
    """What a token endpoint answered: the access token, its lifetime, maybe a new refresh token."""

    access_token: str = field(repr=False)
    expires_in: float
    refresh_token: str | None = field(default=None, repr=False)


class Provider(Protocol):
    """One way of getting a token (a provider's library behind one small interface)."""

    #: ``microsoft``, ``google`` or ``generic``: named in messages.
    name: str
    #: Where tokens come from, for messages and to tell cached tokens apart.
    token_url: str
    #: True when each grant needs the current refresh token (and may rotate it).
    uses_refresh_token: bool

    def grant(self, subject: str, refresh_token: str | None) -> Grant:
        """Get a new access token for the mailbox ``subject``; raise :class:`SignInError`.

        ``refresh_token`` is the current one when :attr:`uses_refresh_token`, else None.
        """
        ...
