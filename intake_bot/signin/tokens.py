"""The token lifecycle: reuse a token until shortly before it expires, keep a rotated refresh
token safe on disk before it is used, and forget a token a server refused."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from intake_bot.clock import utc_text
from intake_bot.signin.base import OAuthSettings, Provider, SignInError

logger = logging.getLogger(__name__)

#: A token is replaced this long before it expires (or at half its lifetime, if sooner), so
#: that a login never carries a token that runs out on the way. MSAL uses five minutes too.
RENEW_BEFORE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class AccessToken:
    """A bearer token for one mailbox and when it expires (aware UTC); ``value`` is never shown."""

    value: str = field(repr=False)
    subject: str
    issued_at: dt.datetime
    expires_at: dt.datetime

    def renew_at(self) -> dt.datetime:
        """From when on a new token is fetched instead of this one."""
        return self.expires_at - min(RENEW_BEFORE, (self.expires_at - self.issued_at) / 2)


class TokenSource:
    """Hands out access tokens for a provider, one file-backed cache for every process.

    The cache file (``[oauth2] token_cache``) keeps each mailbox's current token and the
    latest refresh token. It is read and written under an exclusive lock on a neighbouring
    ``.lock`` file, so that the service's threads and a ``run --once`` beside it never
    both spend one refresh token: with rotation, the second would be refused for good.
    A rotated refresh token is written (atomically, owner-only) before the new access
    token is handed out. Thread-safe.
    """

    def __init__(self, settings: OAuthSettings, provider: Provider) -> None:
        self.settings = settings
        self.provider = provider
        self._path = settings.token_cache
        self._lock = threading.Lock()

    def token(self, subject: str, now: dt.datetime) -> AccessToken:
        """A token for the mailbox ``subject`` valid well beyond ``now``; raises SignInError."""
        key = self._token_key(subject)
        with self._locked() as cache:
            cached = _token_from(cache.get("tokens", {}).get(key), subject)
            if cached is not None and now < cached.renew_at():
                logger.debug("oauth2: reusing the token for %s, valid until %s", subject,
                          utc_text(cached.expires_at))
                return cached
            refresh = self._refresh_token(cache) if self.provider.uses_refresh_token else None
            grant = self.provider.grant(subject, refresh)
            # Whole seconds, as the cache keeps them: the same token read back is equal.
            issued = now.replace(microsecond=0)
            token = AccessToken(grant.access_token, subject, issued,
                                issued + dt.timedelta(seconds=int(grant.expires_in)))
            rotated = bool(grant.refresh_token) and grant.refresh_token != refresh
            if rotated:
                cache.setdefault("refresh", {})[self._refresh_key()] = {
                    "token": grant.refresh_token, "seed": self._seed_digest()}
            cache.setdefault("tokens", {})[key] = {
                "access_token": token.value, "issued_at": utc_text(token.issued_at),
                "expires_at": utc_text(token.expires_at)}
            self._save(cache)
        if rotated:
            logger.info("oauth2: %s rotated the refresh token; saved in %s", self.provider.name,
                     self._path)
        logger.info("oauth2: new token from %s for %s, valid until %s", self.provider.name,
                 subject, utc_text(token.expires_at))
        return token

    def refused(self, token: AccessToken) -> None:
        """Forget ``token`` because a server refused it, so the next call gets a new one."""
        key = self._token_key(token.subject)
        with self._locked() as cache:
            entry = cache.get("tokens", {}).get(key)
            if entry is not None and entry.get("access_token") == token.value:
                del cache["tokens"][key]
                self._save(cache)
        logger.info("oauth2: the token for %s was refused before it expired; getting a new one",
                 token.subject)

    def _refresh_token(self, cache: dict[str, Any]) -> str:
        """The refresh token to spend: the saved one, unless the variable holds a newer seed."""
        saved = cache.get("refresh", {}).get(self._refresh_key())
        # An operator who puts a new refresh token into the variable (after a revocation)
        # means it: the saved one descends from the old seed.
        if saved and saved.get("seed") == self._seed_digest() and saved.get("token"):
            return str(saved["token"])
        if not self.settings.refresh_token:
            raise SignInError(f"{self.provider.name}: no refresh token: set "
                              f"${self.settings.refresh_token_env}")
        return self.settings.refresh_token

    def _seed_digest(self) -> str:
        return hashlib.sha256((self.settings.refresh_token or "").encode()).hexdigest()

    def _token_key(self, subject: str) -> str:
        # Tokens differ per mailbox only where the provider acts as the user (Google).
        return " ".join((self.provider.name, self.provider.token_url,
                         self.settings.client_id or "", self.settings.scope or "", subject))

    def _refresh_key(self) -> str:
        return " ".join((self.provider.name, self.provider.token_url,
                         self.settings.client_id or ""))

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The cache's content, held under the thread lock and the file lock."""
        with self._lock:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(f"{self._path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                raise SignInError(f"[oauth2] token_cache: cannot use {self._path}: "
                                  f"{error.strerror}") from error
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield self._load()
            finally:
                os.close(handle)  # releases the lock

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1}
        except (OSError, ValueError) as error:
            # Losing it only costs a new token, unless it held a rotated refresh token.
            logger.warning("oauth2: [oauth2] token_cache %s unreadable (%s): starting afresh",
                        self._path, error)
            return {"version": 1}
        return data if isinstance(data, dict) else {"version": 1}

    def _save(self, cache: dict[str, Any]) -> None:
        """Write the cache whole: a temporary owner-only file, fsync, rename, fsync the folder."""
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(cache, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self._path)
            folder = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as error:
            raise SignInError(f"[oauth2] token_cache: cannot write {self._path}: {error.strerror}; "
                              "a rotated refresh token may be lost") from error


def _token_from(entry: Any, subject: str) -> AccessToken | None:
    """The cached token in ``entry``, or None when absent or malformed."""
    if not isinstance(entry, dict):
        return None
    try:
        return AccessToken(str(entry["access_token"]), subject,
                           _parse_utc(entry["issued_at"]), _parse_utc(entry["expires_at"]))
    except (KeyError, ValueError):
        return None


def _parse_utc(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
