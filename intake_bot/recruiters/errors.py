"""Errors of the recruiters' commands, each printed by the command line as one line."""

from __future__ import annotations

import importlib
from types import ModuleType


class RecruiterError(Exception):
    """A request that cannot be carried out as asked: an unknown vacancy, an open one, ..."""


class RequestError(RecruiterError):
    """A request that names nothing that exists (an unknown vacancy, status or code, a date
    that is not one): an operator's mistake, exit 2, like a configuration mistake."""


class MissingExtra(RecruiterError):
    """An optional dependency is not installed; the message says which extra brings it."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or say in one line how to install it.

    ``require("datasette", "review", "the browser view")`` returns the module, or raises
    :class:`MissingExtra` naming ``pip install 'intake-bot[review]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{purpose} needs {module}, which is not installed: "
                           f"pip install 'intake-bot[{extra}]'") from None
