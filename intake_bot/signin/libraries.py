"""The provider libraries, installed as extras: a one-line error naming the extra when missing,
and one-line descriptions of their network errors."""

from __future__ import annotations

import importlib
import ssl
from types import ModuleType

from intake_bot.netsec import describe_error
from intake_bot.signin.base import SignInError

#: The module each provider needs, its distribution and the extra that installs it.
LIBRARIES = {
    "microsoft": ("msal", "MSAL", "microsoft"),
    "google": ("google.oauth2.service_account", "google-auth", "google"),
    "generic": ("authlib", "Authlib", "oauth2"),
}


class MissingLibrary(SignInError):
    """The provider's library is not installed; the message names the extra to install."""


def load(module: str, provider: str) -> ModuleType:
    """Import ``module`` for ``provider``, or raise :class:`MissingLibrary` in one line."""
    try:
        return importlib.import_module(module)
    except ImportError:
        _, distribution, extra = LIBRARIES[provider]
        raise MissingLibrary(
            f"{provider!r} needs {distribution}: pip install 'intake-bot[{extra}]'") from None


def check_installed(provider: str) -> None:
    """Raise :class:`MissingLibrary` unless the library ``provider`` needs is installed."""
    load(LIBRARIES[provider][0], provider)


def describe_http_error(exc: BaseException) -> str:
    """A few words for a failed HTTP request (``connection refused``), not requests' paragraph.

    requests wraps urllib3's error, which wraps the socket's: the innermost OS or TLS
    error says it best.
    """
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError | TimeoutError | ConnectionError) or (
                type(current) is OSError and current.errno):
            return describe_error(current)
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None),
                    *current.args]
    return describe_error(exc)
