"""The long-running service: one cycle every ``poll_seconds``, never two at once.

APScheduler runs a single interval job (``max_instances=1``, ``coalesce=True``). When the
IMAP server offers IDLE, a watcher on its own connection wakes the job as soon as mail
arrives, so a candidate is answered within seconds rather than at the next poll. SIGTERM
and SIGINT set a stop flag that the cycle checks between messages, so a message is never
left half-handled; the scheduler then waits for the running cycle to end.
:func:`stopping_on_signals` does the same for ``run --once``.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from apscheduler.schedulers.background import BackgroundScheduler

from intake_bot.clock import Clock, now_utc
from intake_bot.config import Config, ConfigError
from intake_bot.mailbox import MailboxError, open_mailbox
from intake_bot.pipeline import CycleSummary, run_cycle
from intake_bot.recruiters.housekeeping import after_cycle
from intake_bot.register import RegisterError
from intake_bot.scan import Clamd, SignatureWatch
from intake_bot.transport import TemporaryFailure

logger = logging.getLogger(__name__)
# APScheduler logs "Running job" and "executed successfully" at INFO for every cycle:
# 2,880 lines a day at the default poll, saying no more than the cycle's own line. Its
# warnings (a missed or skipped run) still show.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

JOB_ID = "intake-cycle"
MAX_BACKOFF_SECONDS = 900
#: How long one IDLE wait lasts before the watcher checks whether to stop.
IDLE_WINDOW_SECONDS = 25.0


#: The signals that stop a cycle, or the service, after the message in hand.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stopping_on_signals(stop: threading.Event) -> Iterator[list[int]]:
    """While inside, SIGTERM and SIGINT set ``stop``, log one line and are noted.

    Yields the list of signals received. A cycle checks ``stop`` between messages, so the
    message in hand is finished; a second signal ends the process at once, which is safe
    since every step can be repeated. The previous handlers are restored on the way out.
    """
    received: list[int] = []

    def handle(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_DFL)
        logger.info("%s received: stopping after the message in hand (another one stops at "
                 "once)", signal.Signals(signum).name)

    previous = {each: signal.signal(each, handle) for each in STOP_SIGNALS}
    try:
        yield received
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


class Service:
    """Runs cycles on a schedule until stopped; transient failures back off and retry."""

    def __init__(self, config: Config,
                 cycle: Callable[..., CycleSummary] = run_cycle, clock: Clock = now_utc) -> None:
        self.config = config
        self.cycle = cycle
        self.clock = clock
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.running = False
        self.failures = 0
        self.scheduler = BackgroundScheduler(timezone=dt.UTC)
        self.signatures = (SignatureWatch(Clamd(config.clamd, config.scan_timeout_seconds),
                                          config.max_signature_age_days)
                           if config.clamd else None)

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT."""
        with stopping_on_signals(self.stop_event):
            self._serve()

    def _serve(self) -> None:
        self.scheduler.add_job(self._run_cycles, "interval", id=JOB_ID,
                               seconds=self.config.poll_seconds, max_instances=1,
                               coalesce=True, next_run_time=dt.datetime.now(dt.UTC))
        self.scheduler.start()
        logger.info("service started: a cycle every %d s", self.config.poll_seconds)
        if not self.config.mailbox_url.startswith("maildir:"):
            # A Maildir announces nothing; an IMAP server may (IDLE).
            threading.Thread(target=self._watch_for_mail, name="idle-watcher",
                             daemon=True).start()
        while not self.stop_event.wait(1.0):
            pass
        logger.info("stopping: waiting for the current cycle to finish")
        self.scheduler.shutdown(wait=True)
        logger.info("service stopped")

    def _run_cycles(self) -> None:
        """One cycle, and another at once while new mail was announced meanwhile."""
        with self.lock:
            self.running = True
        try:
            while True:
                self.wake.clear()
                if not self._run_once() or self.stop_event.is_set() or not self.wake.is_set():
                    break
        finally:
            with self.lock:
                self.running = False
        if self.wake.is_set() and not self.stop_event.is_set():
            self._run_soon()

    def _run_once(self) -> bool:
        """Run one cycle; False when it failed and the next one was postponed."""
        try:
            self.cycle(self.config, stop=self.stop_event, clock=self.clock)
            after_cycle(self.config, self.clock())  # retention purges and the daily digest
            if self.signatures is not None:
                self.signatures.check(self.clock())  # once a day: are they up to date?
        except (MailboxError, RegisterError, TemporaryFailure, ConfigError, OSError) as error:
            self.failures += 1
            delay = min(self.config.poll_seconds * 2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)
            logger.error("cycle failed (%s); retrying in %d s", error, delay)
            self._postpone(delay)
            return False
        except Exception:  # noqa: BLE001 - the service outlives any one bug
            self.failures += 1
            logger.exception("cycle failed unexpectedly; retrying next cycle")
            return False
        self.failures = 0
        return True

    def _watch_for_mail(self) -> None:
        """Wake the job when the server announces mail (IMAP IDLE, on its own connection)."""
        mailbox = None
        failures = 0
        while not self.stop_event.is_set():
            try:
                mailbox = mailbox or open_mailbox(self.config, self.clock)
                if not mailbox.supports_idle:
                    logger.info("the mailbox offers no IDLE: polling every %d s",
                             self.config.poll_seconds)
                    break
                if mailbox.wait_for_mail(IDLE_WINDOW_SECONDS):
                    self.wake.set()
                    with self.lock:
                        idle = not self.running
                    if idle:
                        self._run_soon()
                failures = 0
            except (MailboxError, ConfigError) as error:
                failures += 1
                delay = min(5 * 2 ** failures, MAX_BACKOFF_SECONDS)
                logger.warning("IDLE watcher: %s; retrying in %d s", error, delay)
                self.stop_event.wait(delay)
        if mailbox is not None:
            mailbox.close()

    def _run_soon(self) -> None:
        self.scheduler.modify_job(JOB_ID, next_run_time=dt.datetime.now(dt.UTC))

    def _postpone(self, seconds: float) -> None:
        next_run = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        self.scheduler.modify_job(JOB_ID, next_run_time=next_run)
