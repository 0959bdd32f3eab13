"""What the service does after each intake cycle: retention purges, then the daily digest."""

from __future__ import annotations

import datetime as dt
import logging

from intake_bot.config import Config
from intake_bot.recruiters.digest import Digest, send_digest_if_due
from intake_bot.recruiters.purge import PurgeOutcome, apply_retention
from intake_bot.register import Register
from intake_bot.transport import PermanentFailure, TemporaryFailure, open_transport

logger = logging.getLogger(__name__)


def after_cycle(config: Config, now: dt.datetime) -> tuple[list[PurgeOutcome], Digest | None]:
    """Apply ``retention_days`` and send the digest when due; returns what was done.

    A digest that cannot be sent is logged and tried again next cycle: it must not hold
    up the intake. A register that cannot be written raises, as it does for the cycle.
    """
    register = Register(config.register_path)
    try:
        purged = apply_retention(config, register, now)
        if not config.digest_recruiters:
            return purged, None
        transport = open_transport(config, lambda: now)
        try:
            return purged, send_digest_if_due(config, register, transport, now)
        except (TemporaryFailure, PermanentFailure) as error:
            logger.warning("digest not sent, tried again next cycle: %s", error)
            return purged, None
        finally:
            transport.close()
    finally:
        register.close()
