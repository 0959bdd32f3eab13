"""How intake-bot reaches mail servers safely: server URLs, verified TLS, the clear-text rule."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from urllib.parse import unquote, urlsplit

__all__ = [
    "CleartextRefused",
    "ServerUrl",
    "cleartext_warning",
    "describe_error",
    "is_loopback",
    "make_ssl_context",
    "parse_server_url",
    "require_encryption_or_loopback",
]


class CleartextRefused(Exception):
    """A password would have crossed the network unencrypted; the message says why, in one line."""


@dataclass(frozen=True)
class ServerUrl:
    """A parsed ``imaps://``, ``imap://``, ``smtps://`` or ``smtp://`` URL.

    ``implicit_tls`` is true for the ``s`` schemes (TLS from the first byte); otherwise
    the client upgrades with STARTTLS when the server offers it. ``path`` is the decoded
    path without its leading slash (the IMAP folder), empty when absent.
    """

    scheme: str
    host: str
    port: int
    user: str | None
    path: str

    @property
    def implicit_tls(self) -> bool:
        """True for ``imaps`` and ``smtps``."""
        return self.scheme in ("imaps", "smtps")


def parse_server_url(url: str, default_ports: Mapping[str, int]) -> ServerUrl:
    """Parse a mail server URL whose scheme is one of ``default_ports``' keys.

    ``default_ports`` maps each accepted scheme to the port used when the URL gives
    none, e.g. ``{"imaps": 993, "imap": 143}``. The user name may be percent-encoded
    (``jane%40example.org@mail.example.org``). A password in the URL is refused: it
    belongs in the environment variable the configuration names, and the URL ends up in
    logs. Raises :class:`ValueError` with a one-line message that never repeats a
    password.
    """
    parts = urlsplit(url.strip())
    shown = _without_password(url.strip())
    if parts.scheme not in default_ports:
        accepted = ", ".join(f"{scheme}://" for scheme in default_ports)
        raise ValueError(f"unsupported mail server URL {shown!r}: expected {accepted}")
    if parts.password is not None:
        raise ValueError(
            f"mail server URL {shown!r} contains a password: "
            "put it in the environment variable named by password_env instead"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"mail server URL {shown!r} has an invalid port") from None
    if not parts.hostname:
        raise ValueError(f"mail server URL {shown!r} names no host")
    if parts.query or parts.fragment:
        raise ValueError(f"mail server URL {shown!r} may not have a query or fragment")
    return ServerUrl(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or default_ports[parts.scheme],
        user=unquote(parts.username) if parts.username else None,
        path=unquote(parts.path.lstrip("/")),
    )


def _without_password(url: str) -> str:
    """Return ``url`` with any ``user:password@`` reduced to ``user:***@``, for messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{hostpart}"


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is in 127.0.0.0/8 or is ::1.

    ``host`` is an IP address (IPv6 with or without brackets; IPv4-mapped IPv6 is
    judged by its IPv4 address) or a name. An address is judged without any lookup. A
    name is resolved through the system resolver (``/etc/hosts`` first, so ``localhost``
    needs no DNS) and counts as loopback only when every address it resolves to is;
    a name that does not resolve is not loopback.
    """
    address = _ip_address(host)
    if address is not None:
        return _address_is_loopback(address)
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = [_ip_address(str(info[4][0])) for info in infos]
    return bool(addresses) and all(a is not None and _address_is_loopback(a) for a in addresses)


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse ``host`` as an IP address (dropping brackets and an IPv6 zone), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _address_is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # ::ffff:127.0.0.1 is the IPv4 loopback seen through a dual-stack socket.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def require_encryption_or_loopback(
    host: str, encrypted: bool, *, peer: str | None = None, secure_scheme: str = "imaps",
    credential: str = "a password",
) -> None:
    """Refuse to send a credential in clear text to a host outside the loopback range.

    Call it just before logging in. ``encrypted`` says whether the connection is under
    TLS (implicit or after STARTTLS). ``peer`` is the address the socket is actually
    connected to (``sock.getpeername()[0]``); when given, it alone decides, so no name
    is looked up again. Without it, ``host`` is judged by :func:`is_loopback`.
    ``secure_scheme`` is the URL scheme suggested in the message (``imaps`` or
    ``smtps``); ``credential`` what would cross (``"an OAuth token"``). Raises
    :class:`CleartextRefused` with a one-line reason.
    """
    if encrypted or is_loopback(peer if peer is not None else host):
        return
    where = host if peer is None or peer == host else f"{host} ({peer})"
    raise CleartextRefused(
        f"refusing to send {credential} in clear text to {where}: the server offers no "
        f"STARTTLS and the host is outside 127.0.0.0/8 and ::1; use {secure_scheme}:// "
        "or enable STARTTLS on the server"
    )


def cleartext_warning(host: str, encrypted: bool, peer: str) -> str | None:
    """The warning for a session that carries mail unencrypted beyond loopback, or None.

    No password is at stake (:func:`require_encryption_or_loopback` refuses those), yet
    every notice carries a candidate's name, address and application details. ``peer``
    is the address the socket is connected to.
    """
    if encrypted or is_loopback(peer):
        return None
    where = host if peer == host else f"{host} ({peer})"
    return (f"{where} offers no STARTTLS: notices go to it in clear text across the network; "
            "use smtps:// or enable STARTTLS on the server")


@functools.cache
def make_ssl_context(ca_file: str | PathLike[str] | None = None) -> ssl.SSLContext:
    """Return a client TLS context that verifies the server's certificate and host name.

    With ``ca_file`` (a PEM bundle), only the certificates in it are trusted: meant for
    operators whose mail server has a certificate from a private CA. Otherwise the
    system's trusted CAs are used. The context is made once per ``ca_file`` and process
    (loading the system's CAs takes about 30 ms, which each cycle of the service paid
    twice); restart the service after changing the CA bundle.
    """
    return ssl.create_default_context(cafile=ca_file)


def describe_error(exc: BaseException) -> str:
    """Summarise a network or TLS error in a few words on one line, for error messages."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"host name not resolved ({exc.strerror})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
