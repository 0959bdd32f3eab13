"""Signing in with OAuth 2.0: tokens from Microsoft 365, Google Workspace or any OAuth 2.0
provider, kept and renewed for the IMAP and SMTP edges that present them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from intake_bot.clock import Clock, utc_text
from intake_bot.signin.base import (
    DEFAULT_SCOPES,
    CredentialError,
    OAuthSettings,
    Provider,
    SignInError,
)
from intake_bot.signin.explain import explain_rights
from intake_bot.signin.libraries import MissingLibrary, check_installed
from intake_bot.signin.sasl import Responder, choose_mechanism
from intake_bot.signin.tokens import AccessToken, TokenSource


def make_provider(settings: OAuthSettings) -> Provider:
    """The provider the settings name, its library loaded; raises :class:`SignInError`.

    ``google`` with a refresh token and no service account is a user's consent: the
    standard refresh-token grant against Google's endpoint.
    """
    if settings.provider == "microsoft":
        from intake_bot.signin.microsoft import MicrosoftProvider

        return MicrosoftProvider(settings)
    from intake_bot.signin.generic import GenericProvider

    if settings.provider == "google":
        if settings.service_account_file is None:
            return GenericProvider(settings, name="google")
        from intake_bot.signin.google import GoogleProvider

        return GoogleProvider(settings)
    return GenericProvider(settings)


@functools.cache
def token_source(settings: OAuthSettings) -> TokenSource:
    """The one token source of this process for ``settings``.

    IMAP, SMTP and the service's IDLE watcher share it, so they share a token and the
    provider's library is set up once (MSAL reads the tenant's configuration then).
    """
    return TokenSource(settings, make_provider(settings))


@dataclass(frozen=True)
class TokenLogin:
    """What an edge needs to sign in with a token: where tokens come from, and the clock."""

    source: TokenSource
    clock: Clock

    @property
    def provider(self) -> str:
        """``microsoft``, ``google`` or ``generic``."""
        return self.source.provider.name

    def mechanism(self, offered: Iterable[str]) -> str:
        """The SASL mechanism to use among those a server offered; raises SignInError."""
        offered = list(offered)
        chosen = choose_mechanism(offered)
        if chosen is None:
            raise SignInError(f"the server offers no XOAUTH2 or OAUTHBEARER sign-in "
                              f"(AUTH: {', '.join(offered) or 'none'})")
        return chosen

    def sign_in(self, user: str, mechanism: str, protocol: str,
                present: Callable[[str], object], refusal: type[Exception],
                describe: Callable[[Exception], str]) -> str:
        """Sign in as the mailbox ``user``: ``present(token)`` does the SASL exchange.

        When the server refuses the token (``present`` raises ``refusal``: revoked, or
        expired early), the token is forgotten and a new one presented, once; a fresh
        token refused too means the app has no rights on the mailbox, and the
        :class:`SignInError` says what to grant (``protocol`` is ``IMAP`` or ``SMTP``;
        ``describe`` words the server's refusal). Returns who signed in and how.
        """
        token = self.source.token(user, self.clock())
        try:
            present(token.value)
        except refusal:
            self.source.refused(token)
            token = self.source.token(user, self.clock())
            try:
                present(token.value)
            except refusal as error:
                raise SignInError(
                    f"a fresh {self.provider} token was refused for {user!r} "
                    f"({describe(error)}): {explain_rights(self.source.settings, user, protocol)}"
                ) from None
        return f"{user} by {mechanism} ({self.provider} token valid until " \
               f"{utc_text(token.expires_at)})"


__all__ = [
    "DEFAULT_SCOPES",
    "AccessToken",
    "CredentialError",
    "MissingLibrary",
    "OAuthSettings",
    "SignInError",
    "TokenLogin",
    "TokenSource",
    "check_installed",
    "choose_mechanism",
    "make_provider",
    "Responder",
    "token_source",
]
