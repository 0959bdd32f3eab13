"""The ``[oauth2]`` section checked and resolved: defaults per provider, secrets from their
variables, and the rules a configuration must follow (one line naming the key otherwise)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from intake_bot.netsec import is_loopback
from intake_bot.signin.base import (
    DEFAULT_SCOPES,
    PROVIDERS,
    OAuthSettings,
    ProviderName,
    SignInError,
)
from intake_bot.signin.libraries import check_installed

#: Where a user's refresh token is spent for ``provider = "google"`` without a service account.
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
#: The cache's name beside the register when ``token_cache`` is not set.
DEFAULT_CACHE_NAME = "oauth-token.json"

#: Raised for a mistake in the section: ``fail(key, problem)`` (the config's error type).
Fail = Callable[[str, str], Exception]


def check_oauth2(table: Mapping[str, Any], fail: Fail) -> None:
    """Check ``[oauth2]`` as written, without reading any secret: what ``check-config`` can.

    ``table`` holds the section's values (paths already absolute). ``fail(key, problem)``
    makes the exception to raise, e.g. the configuration's ``ConfigError``.
    """
    provider = table.get("provider")
    if provider not in PROVIDERS:
        raise fail("provider", f"missing: one of {', '.join(PROVIDERS)} (auth = \"oauth2\" "
                   "signs in with a token from this section)")
    try:
        check_installed(provider)
    except SignInError as error:
        raise fail("provider", str(error)) from None
    secret, certificate = table.get("client_secret_env"), table.get("certificate")
    refresh, account = table.get("refresh_token_env"), table.get("service_account_file")
    if provider == "microsoft":
        _require(table, fail, "client_id", "the Application (client) ID of the app registration")
        if not table.get("tenant") and not table.get("token_url"):
            raise fail("tenant", "missing: the directory (tenant) ID or a verified domain")
        if bool(secret) == bool(certificate):
            raise fail("client_secret_env", "give either client_secret_env or certificate")
    elif provider == "google" and not account:
        if not refresh:
            raise fail("service_account_file", "missing: the service account's JSON key "
                       "(or refresh_token_env with a user's consent)")
        _require(table, fail, "client_id", "the OAuth client that the refresh token belongs to")
    elif provider == "generic":
        _require(table, fail, "token_url", "the token endpoint of the identity provider")
        if not secret and not refresh:
            raise fail("client_secret_env", "give client_secret_env (client credentials) or "
                       "refresh_token_env (refresh-token grant)")
    for key in ("certificate", "service_account_file"):
        if table.get(key) and not Path(table[key]).is_file():
            raise fail(key, f"no such file: {table[key]}")
    if table.get("token_url"):
        check_token_url(str(table["token_url"]), lambda problem: fail("token_url", problem))
        if provider == "microsoft":
            _check_authority(str(table["token_url"]), fail)


def resolve_oauth2(table: Mapping[str, Any], register: Path, fail: Fail) -> OAuthSettings:
    """The settings to sign in with: ``table`` checked, defaults filled, secrets read.

    ``register`` is the register's path (the cache goes beside it unless ``token_cache``
    is set). A variable that the section names but the environment lacks is a ``fail``.
    """
    check_oauth2(table, fail)
    provider = cast(ProviderName, table["provider"])
    token_url = table.get("token_url")
    if token_url is None and provider == "microsoft":
        from intake_bot.signin.microsoft import default_token_url

        token_url = default_token_url(str(table["tenant"]))
    elif token_url is None and provider == "google" and not table.get("service_account_file"):
        token_url = GOOGLE_TOKEN_URL
    cache = table.get("token_cache") or register.parent / DEFAULT_CACHE_NAME
    return OAuthSettings(
        provider=provider,
        token_cache=Path(cache),
        client_id=table.get("client_id"),
        tenant=table.get("tenant"),
        client_secret=_variable(table, "client_secret_env", fail),
        client_secret_env=table.get("client_secret_env"),
        certificate=Path(table["certificate"]) if table.get("certificate") else None,
        service_account_file=(Path(table["service_account_file"])
                              if table.get("service_account_file") else None),
        refresh_token=_variable(table, "refresh_token_env", fail),
        refresh_token_env=table.get("refresh_token_env"),
        scope=table.get("scope") or DEFAULT_SCOPES.get(provider),
        token_url=token_url,
    )


def _require(table: Mapping[str, Any], fail: Fail, key: str, what: str) -> None:
    if not table.get(key):
        raise fail(key, f"missing: {what}")


def check_token_url(url: str, fail: Callable[[str], Exception]) -> None:
    """HTTPS, or plain HTTP to a loopback address only: a secret or a grant crosses it.

    ``fail(problem)`` makes the exception to raise.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise fail(f"not an http(s) URL: {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise fail(f"refusing plain http:// to {parts.hostname}, outside 127.0.0.0/8 and ::1: "
                   "secrets and tokens would cross the network in clear text; use https://")


def _check_authority(url: str, fail: Fail) -> None:
    """Entra ID's token endpoint: HTTPS (MSAL insists) and ``.../<tenant>/oauth2/v2.0/token``."""
    from intake_bot.signin.microsoft import TOKEN_PATH

    if not url.startswith("https://") or not url.endswith(TOKEN_PATH):
        raise fail("token_url", f"must be https://<login host>/<tenant>{TOKEN_PATH}, "
                   f"not {url!r}")


def _variable(table: Mapping[str, Any], key: str, fail: Fail) -> str | None:
    """The value of the environment variable that ``key`` names, if it names one."""
    name = table.get(key)
    if not name:
        return None
    value = os.environ.get(str(name))
    if not value:
        raise fail(key, f"the environment variable {name} is not set")
    return value
