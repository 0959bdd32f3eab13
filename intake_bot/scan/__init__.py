"""The virus-scanning edge: every attachment goes through ClamAV's clamd before anything is filed.

:class:`Scanner` scans a message's attachments for one cycle and hands the verdicts to the
decision as data (:data:`Verdicts`); the rule ``virus-scan`` reads them. When clamd cannot
give a verdict (unreachable, hung past the time-out, answering nonsense), the scanner says
so once and refuses every later message of the cycle at once, so that a dead clamd costs
one time-out per cycle, not one per message: those messages stay in the inbox, undecided,
for the next cycle. :class:`SignatureWatch` warns once a day when clamd's signatures are
older than allowed. The protocol itself is in :mod:`intake_bot.scan.clamd`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping, Sequence

from intake_bot.scan.clamd import (
    Clamd,
    ClamdRefused,
    ClamdTimedOut,
    ClamdUnavailable,
    ClamdVersion,
    ScanError,
    parse_address,
)

__all__ = [
    "Clamd",
    "ClamdRefused",
    "ClamdTimedOut",
    "ClamdUnavailable",
    "ClamdVersion",
    "ScanError",
    "Scanner",
    "SignatureWatch",
    "Verdicts",
    "check_clamd",
    "parse_address",
    "signature_warning",
]

logger = logging.getLogger(__name__)

#: How long a clamd that timed out on a file has to answer PING to be deemed alive.
PING_TIMEOUT_S = 5.0

#: What clamd found in each attachment, by its bytes: a signature name, or None when clean.
Verdicts = Mapping[bytes, str | None]


class Scanner:
    """Scans attachments with one clamd for one cycle; thread-safe."""

    def __init__(self, clamd: Clamd) -> None:
        self.clamd = clamd
        #: Why clamd gave no verdict this cycle; set once, then every scan fails at once.
        self.unavailable: ClamdUnavailable | None = None
        self._lock = threading.Lock()

    def scan(self, attachments: Sequence[bytes]) -> Verdicts:
        """The verdict on every attachment (the same bytes twice are scanned once).

        Raises :class:`ClamdUnavailable` when clamd gives no verdict, now or earlier in the
        cycle, and :class:`ClamdRefused` when it gives none on this one attachment: too large
        for it, or still scanning at the time-out while it answers PING. Such a file would
        stop every cycle at the same place; it is the message's failure, not clamd's.
        """
        verdicts: dict[bytes, str | None] = {}
        for data in attachments:
            if data in verdicts:
                continue
            if self.unavailable is not None:
                raise ClamdUnavailable(str(self.unavailable))
            try:
                verdicts[data] = self.clamd.scan(data)
            except ClamdTimedOut as error:
                if self._answers_ping():
                    raise ClamdRefused(f"{error} scanning a file of {len(data):,} bytes, "
                                       "though it answers PING (raise [scan] "
                                       "timeout_seconds, then replay)") from None
                self._give_up(error)
                raise
            except ClamdUnavailable as error:
                self._give_up(error)
                raise
        return verdicts

    def _answers_ping(self) -> bool:
        try:
            Clamd(self.clamd.address, min(self.clamd.timeout_s, PING_TIMEOUT_S)).ping()
        except ScanError:
            return False
        return True

    def _give_up(self, error: ClamdUnavailable) -> None:
        with self._lock:
            if self.unavailable is not None:
                return
            self.unavailable = error
        logger.warning("%s; messages with attachments stay in the inbox until a later cycle",
                    error)


def signature_warning(version: ClamdVersion, now: dt.datetime, max_age_days: int) -> str | None:
    """A one-line warning when the signatures are older than ``max_age_days`` or undated."""
    age = version.age_days(now)
    if age is None:
        return (f"clamd ({version.engine}) reports no signature database date: it loads only "
                "local signatures; is freshclam installed and running?")
    if age > max_age_days:
        return (f"clamd's signatures ({version.signatures}) are {age} days old, more than "
                f"[scan] max_signature_age_days = {max_age_days}: is freshclam running?")
    return None


def check_clamd(clamd: Clamd, now: dt.datetime, max_age_days: int) -> tuple[str, str | None]:
    """PING and VERSION, for ``check-config --connect``: a summary line and a warning, if any.

    Raises :class:`ScanError` when clamd does not answer.
    """
    clamd.ping()
    version = clamd.version()
    if version.published is None:
        signatures = "undated signatures"
    else:
        age = version.age_days(now)
        signatures = (f"signatures {version.signatures} of {version.published:%Y-%m-%d} "
                      f"({age} day{'' if age == 1 else 's'} old)")
    line = f"clamd: answers PING; {version.engine}, {signatures} ({clamd.address})"
    return line, signature_warning(version, now, max_age_days)


class SignatureWatch:
    """Checks clamd's signatures once a day, for the service; warns when they are stale."""

    def __init__(self, clamd: Clamd, max_age_days: int) -> None:
        self.clamd = clamd
        self.max_age_days = max_age_days
        self.checked_on: dt.date | None = None

    def check(self, now: dt.datetime) -> str | None:
        """Ask clamd's VERSION unless asked already today; log and return a warning, if any.

        An unreachable clamd is no finding here (the cycle reports it) and is asked again
        next time.
        """
        if self.checked_on == now.date():
            return None
        try:
            version = self.clamd.version()
        except ScanError:
            return None
        self.checked_on = now.date()
        warning = signature_warning(version, now, self.max_age_days)
        if warning:
            logger.warning(warning)
        return warning
