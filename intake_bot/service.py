"""The long-running service: one cycle every ``poll_seconds``, never two at once.

APScheduler runs a single interval job (``max_instances=1``, ``coalesce=True``). SIGTERM
and SIGINT set a stop flag that the cycle checks between messages, so a message is never
left half-handled; the scheduler then waits for the running cycle to end.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from intake_bot.config import Config
from intake_bot.housekeeping import after_cycle
from intake_bot.mailbox import MailboxError
from intake_bot.pipeline import CycleSummary, run_cycle
from intake_bot.register import RegisterError
from intake_bot.sending import TemporaryFailure

log = logging.getLogger(__name__)

JOB_ID = "intake-cycle"
MAX_BACKOFF_SECONDS = 900


class Service:
    """Runs cycles on a schedule until stopped; transient failures back off and retry."""

    def __init__(self, config: Config,
                 cycle: Callable[..., CycleSummary] = run_cycle) -> None:
        self.config = config
        self.cycle = cycle
        self.stop_event = threading.Event()
        self.failures = 0
        self.scheduler = BackgroundScheduler(timezone=dt.UTC)

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop_event.set())
        self.scheduler.add_job(self._run_once, "interval", id=JOB_ID,
                               seconds=self.config.poll_seconds, max_instances=1,
                               coalesce=True, next_run_time=dt.datetime.now(dt.UTC))
        self.scheduler.start()
        log.info("service started: polling every %d s", self.config.poll_seconds)
        while not self.stop_event.wait(1.0):
            pass
        log.info("stopping: waiting for the current cycle to finish")
        self.scheduler.shutdown(wait=True)
        log.info("service stopped")

    def _run_once(self) -> None:
        try:
            self.cycle(self.config, stop=self.stop_event)
            after_cycle(self.config)  # retention purges and the daily digest
        except (MailboxError, RegisterError, TemporaryFailure, OSError) as error:
            self.failures += 1
            delay = min(self.config.poll_seconds * 2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)
            log.error("cycle failed (%s); retrying in %d s", error, delay)
            self._postpone(delay)
        except Exception:  # noqa: BLE001 - the service outlives any one bug
            self.failures += 1
            log.exception("cycle failed unexpectedly; retrying next cycle")
        else:
            self.failures = 0

    def _postpone(self, seconds: float) -> None:
        next_run = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        self.scheduler.modify_job(JOB_ID, next_run_time=next_run)
