"""The outgoing edge: what the pipeline needs from any way of sending a notice, and the
factory that picks the one the configuration names."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from intake_bot.config import Config


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


def open_transport(config: Config) -> Transport:
    """The way of sending notices that the configuration names."""
    url = config.smtp_url
    if url.startswith("outbox:"):
        from intake_bot.outbox import OutboxTransport

        return OutboxTransport(Path(url[len("outbox:"):]))
    from intake_bot.smtp import SmtpTransport

    return SmtpTransport.from_url(url, config.secret(config.smtp_password_env, "smtp"))
