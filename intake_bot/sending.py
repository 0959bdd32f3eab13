"""The outgoing edge: what the pipeline needs from any way of sending a notice."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol


class TemporaryFailure(Exception):
    """The notice could not be sent now (4xx, connection refused, timeout): try again later."""


class ServerUnavailable(TemporaryFailure):
    """The server cannot be reached, secured or logged in to: nothing can be sent now."""


class PermanentFailure(Exception):
    """The notice was refused for good (5xx): do not try again automatically."""


class Transport(Protocol):
    """Sends rendered notices; one open transport serves a whole cycle."""

    def send(self, message: EmailMessage, envelope_from: str, recipients: Sequence[str]) -> None:
        """Send one message or raise :class:`TemporaryFailure` / :class:`PermanentFailure`."""
        ...

    def connect(self) -> None:
        """Reach the server now (log in), e.g. to check a configuration."""
        ...

    def close(self) -> None:
        """Close the connection, if any."""
        ...
