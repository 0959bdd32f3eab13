"""The outgoing edge: notices leave through SMTP, or as ``.eml`` files in an outbox folder.

The interface and its failures are in :mod:`~intake_bot.transport.base`; the twins in
:mod:`~intake_bot.transport.smtp` and :mod:`~intake_bot.transport.outbox`; the factory that
picks the one the configuration names is here, as :mod:`intake_bot.mailbox` has its own.
"""

from __future__ import annotations

from pathlib import Path

from intake_bot.clock import Clock, now_utc
from intake_bot.config import Config
from intake_bot.transport.base import (
    PermanentFailure,
    PossiblyDelivered,
    ServerUnavailable,
    TemporaryFailure,
    Transport,
)


def open_transport(config: Config, clock: Clock = now_utc) -> Transport:
    """The way of sending notices that the configuration names; ``clock`` judges tokens."""
    url = config.smtp_url
    if url.startswith("outbox:"):
        from intake_bot.transport.outbox import OutboxTransport

        return OutboxTransport(Path(url[len("outbox:"):]))
    from intake_bot.transport.smtp import SmtpTransport

    if config.smtp_auth == "oauth2":
        return SmtpTransport.from_url(url, token_login=config.token_login(clock))
    return SmtpTransport.from_url(url, config.secret(config.smtp_password_env, "smtp"))


__all__ = ["PermanentFailure", "PossiblyDelivered", "ServerUnavailable", "TemporaryFailure",
           "Transport", "open_transport"]
