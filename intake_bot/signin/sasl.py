"""The SASL messages that carry a bearer token (pure): XOAUTH2 and OAUTHBEARER (RFC 7628)."""

from __future__ import annotations

from collections.abc import Iterable

#: Preferred first: OAUTHBEARER is the standard (RFC 7628); Microsoft 365 offers XOAUTH2 only.
MECHANISMS = ("OAUTHBEARER", "XOAUTH2")


def choose_mechanism(offered: Iterable[str]) -> str | None:
    """The token mechanism to use among those a server ``offered`` (any case), or None."""
    names = {name.upper() for name in offered}
    return next((mechanism for mechanism in MECHANISMS if mechanism in names), None)


def initial_response(mechanism: str, user: str, token: str) -> str:
    """The client's first message for ``mechanism``, naming the mailbox ``user``.

    XOAUTH2: ``user=U^Aauth=Bearer T^A^A``. OAUTHBEARER (RFC 7628 3.1): a GS2 header with
    the authorization identity (``,`` and ``=`` escaped as RFC 5801 says), then the same
    key/value list.
    """
    if mechanism == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01"
    identity = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={identity},\x01auth=Bearer {token}\x01\x01"


class Responder:
    """smtplib's ``authobject``: the initial response, then the answer to an error challenge.

    A server that refuses the token first sends a challenge with a JSON error; the client
    ends the exchange with an empty response (XOAUTH2) or ``^A`` (OAUTHBEARER, RFC 7628
    3.2.3), and the server then gives its final reply.
    """

    def __init__(self, mechanism: str, user: str, token: str) -> None:
        self._mechanism = mechanism
        self._user = user
        self._token = token

    def __repr__(self) -> str:
        return f"Responder({self._mechanism!r}, {self._user!r}, token=***)"

    def __call__(self, challenge: bytes | None = None, /) -> str:
        if challenge is None:
            return initial_response(self._mechanism, self._user, self._token)
        return "" if self._mechanism == "XOAUTH2" else "\x01"
