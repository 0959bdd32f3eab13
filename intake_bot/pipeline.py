"""The one place that knows the order of the steps for a message.

fetch -> archive -> parse -> scan the attachments (with ``[scan] clamd``) -> decide -> store
documents -> (already registered?) -> record with its notice (one transaction) -> claim the
notice (``sending``) -> send -> mark sent -> note the destination folder -> move out of the
inbox. A message whose attachments clamd could not scan stops after the scan: it is neither
decided nor registered, and stays in the inbox for the next cycle.

Up to the stored documents, a step writes nothing but the content-addressed archive, so
helper threads take those steps for the next ``LOOKAHEAD`` messages while this one is
recorded and answered. The helpers mostly wait, on the disk and on the inspection worker,
a process that can use another core. Every effect keeps its order, and the archive is
still the first thing written for a message. Handled messages leave the inbox up to
``MOVE_BATCH`` at a time, each only once it is recorded and answered.

Each message is isolated: whatever breaks while deciding or recording it is recorded as
``quarantined`` and the message goes to the quarantine folder; the cycle goes on. Only a
register that cannot be written, or a notice template of the bot's own that is broken,
stops the cycle, leaving the message in the inbox.

Every step is safe to repeat after a crash: the archive and the register are keyed by
content, a notice is claimed before it is sent so a send cut short is retried at most
once, and the message leaves the inbox last. ``crash_point`` marks the places where the
crash tests kill the process.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Literal, NamedTuple

from intake_bot.archive import Archive
from intake_bot.classify import notice_address
from intake_bot.clock import Clock, Monotonic, TimeBudget, now_utc, utc_text
from intake_bot.config import Config, ConfigError
from intake_bot.decide import Decision, Inspector, decide, unpacked
from intake_bot.documents import InspectionUnavailable, inspect_document
from intake_bot.identity import dedup_key
from intake_bot.json_columns import json_list
from intake_bot.lock import cycle_lock
from intake_bot.mailbox import Mailbox, MailboxError, MailItem, open_mailbox
from intake_bot.notices import NoticeFacts, Notices
from intake_bot.parse import ParsedMessage, clean_text, parse_message
from intake_bot.register import (
    Filing,
    NewSubmission,
    Notice,
    NoticeRenderer,
    Register,
    RegisterError,
    StoredDocument,
)
from intake_bot.rules import told_to_candidate
from intake_bot.rules.server_date import TOLERANCE as SERVER_DATE_TOLERANCE
from intake_bot.scan import Clamd, ClamdUnavailable, Scanner
from intake_bot.transport import (
    PermanentFailure,
    PossiblyDelivered,
    ServerUnavailable,
    TemporaryFailure,
    Transport,
    open_transport,
)

logger = logging.getLogger(__name__)

#: A notice that still fails after this many tries is marked failed for a human to retry.
MAX_SEND_ATTEMPTS = 10
MAX_BACKOFF = dt.timedelta(hours=6)
#: The reason recorded for a message that broke a step and was quarantined.
QUARANTINE_REASON = "processing-error"

#: Testing aid: ``INTAKE_BOT_CRASH_AT=<point>`` kills the process with SIGKILL, as a power
#: cut would, the first time it reaches that point (docs/development.md, "Crash testing"). In order:
#: raw message archived; submission and notice committed; notice claimed, before SMTP;
#: SMTP accepted, before the register knows; notice step done, before the move; folder
#: noted, before the move; message moved.
CRASH_AT_ENV = "INTAKE_BOT_CRASH_AT"
CRASH_POINTS = ("archived", "recorded", "sending", "sent", "answered", "moving", "moved")


def crash_point(name: str) -> None:
    """Kill this process here when ``INTAKE_BOT_CRASH_AT`` names this point (testing aid)."""
    if os.environ.get(CRASH_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


#: Why a message owed a notice got none (``notice_skipped``): the From was not authenticated
#: by our server, or the address had its notices for the day.
UNANSWERED = ("unauthenticated", "cap")

#: What became of one notice sent: the :class:`SendCounts` field it counts in.
Outcome = Literal["sent", "retrying", "failed"]


@dataclass
class SendCounts:
    """What a round of sending did with the notices that were due."""

    sent: int = 0
    retrying: int = 0  # not sent now; tried again later
    failed: int = 0  # not sent, and left failed for a human (refused, or given up)
    waiting: int = 0  # held back by an hourly cap; they go when it allows

    def count(self, outcome: Outcome) -> None:
        """Count one notice's outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def add(self, other: SendCounts) -> None:
        """Add another round's counts to these."""
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.waiting += other.waiting

    def line(self) -> str:
        """``5 notices sent, 1 to be retried, 1 failed (not retried; see `replies retry`),
        2 waiting for an hourly cap``: only what happened, each saying what comes next."""
        parts = [f"{self.sent} notice{'s' if self.sent != 1 else ''} sent"]
        if self.retrying:
            parts.append(f"{self.retrying} to be retried")
        if self.failed:
            parts.append(f"{self.failed} failed (not retried; see `replies retry`)")
        if self.waiting:
            parts.append(f"{self.waiting} waiting for an hourly cap")
        return ", ".join(parts)


@dataclass
class CycleSummary:
    """What one cycle did, for the closing log line and the command line."""

    handled: int = 0
    already_registered: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    notices: SendCounts = field(default_factory=SendCounts)
    unanswered: Counter[str] = field(default_factory=Counter)  # owed a notice, none queued
    move_failures: int = 0
    unscanned: int = 0  # messages left in the inbox because clamd gave no verdict
    unavailable: str | None = None  # why the notices could not be sent this cycle
    scan_unavailable: str | None = None  # why clamd gave no verdict this cycle
    # Ids, not rows: a 10,000-message cycle must not hold 10,000 rows in memory.
    registered: list[int] = field(default_factory=list)

    @property
    def sent(self) -> int:
        """How many notices went out."""
        return self.notices.sent

    def line(self) -> str:
        """``cycle: 6 messages (accepted 2, rejected 3, ignored 1); reasons late 2; 5 notices sent``."""
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())) or "none"
        text = f"cycle: {self.handled} message{'s' if self.handled != 1 else ''} ({statuses})"
        if self.reasons:
            text += "; reasons " + ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items()))
        text += f"; {self.notices.line()}"
        if self.unanswered:
            text += "; not answered: " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.unanswered.items()))
        if self.already_registered:
            text += f"; {self.already_registered} already registered"
        if self.move_failures:
            text += f"; {self.move_failures} left in the inbox (move failed, retried next cycle)"
        if self.unscanned:
            text += (f"; {self.unscanned} left in the inbox unscanned ({self.scan_unavailable}; "
                     "retried next cycle)")
        if self.unavailable:
            text += f"; sending stopped: {self.unavailable}"
        return text


@dataclass(frozen=True)
class Prepared:
    """One message archived, parsed and decided, its documents stored; or what stopped it.

    ``unscanned`` says why clamd gave no verdict on its attachments: such a message is not
    decided, and ``error`` (a failure that quarantines it) is then None. ``received_at`` is
    the time that counts: the server's, unless that was later than the bot's clock when it
    first saw the message.
    """

    raw_path: PurePosixPath  # under the documents folder
    raw_sha: str
    received_at: dt.datetime
    parsed: ParsedMessage | None
    decision: Decision | None
    documents: list[StoredDocument]
    error: Exception | None
    unscanned: ClamdUnavailable | None = None


class Intake:
    """Handles messages one at a time against one register, archive and transport."""

    def __init__(self, config: Config, register: Register, transport: Transport,
                 inspect: Inspector = inspect_document,
                 clock: Clock = now_utc, scanner: Scanner | None = None,
                 monotonic: Monotonic = time.monotonic) -> None:
        self.config = config
        self.register = register
        self.transport = transport
        self.scanner = scanner
        self.archive = Archive(config.documents_path)
        self.notices = Notices(config)
        self.inspect = inspect
        self.clock = clock
        self.monotonic = monotonic  # what a message's time to inspect its documents is read on
        # One message decided at a time: the inspection worker reads one document at a time
        # for every helper thread, and a message's time budget must count its own documents,
        # not the time it would wait behind another message's.
        self._deciding = threading.Lock()
        #: Set when the transport cannot reach its server: the cycle stops trying to send.
        self.unavailable: ServerUnavailable | None = None

    # -- one message -----------------------------------------------------------------

    def prepare(self, item: MailItem) -> Prepared:
        """Archive, parse, scan and decide one message, and store its documents.

        Touches only the archive, which is content-addressed, so any thread may, ahead of
        the message's turn: what it writes is what the message's turn would write first.
        An archive that cannot be written raises :class:`~intake_bot.archive.ArchiveError`,
        and an inspection worker that cannot start raises
        :class:`~intake_bot.documents.InspectionUnavailable` (the message is not at fault:
        it stays in the inbox); any other failure is returned.
        """
        raw_path, raw_sha = self.archive.store_raw(item.raw)
        crash_point("archived")
        received_at, server_received_at = self._received_at(item)
        complete = item.complete and item.size <= self.config.max_message_bytes
        try:
            parsed = parse_message(item.raw, complete=complete)
        except Exception as error:  # noqa: BLE001 - the parser must never stop the cycle
            return Prepared(raw_path, raw_sha, received_at, None, None, [], error)
        try:
            attachments = unpacked(parsed.attachments)
            verdicts = (None if self.scanner is None else
                        self.scanner.scan([attachment.data for attachment in attachments]))
            # The budget is the documents' time to be inspected, so it starts only now: a
            # scan that took clamd a while (a large file, a busy clamd; it may take up to
            # [scan] timeout_seconds) must not leave the documents unopened, their content
            # rules unchecked.
            with self._deciding:
                budget = TimeBudget(self.config.settings["limits"]["max_message_seconds"],
                                    self.monotonic)
                decision = decide(parsed, received_at, self.config, self.inspect, verdicts,
                                  attachments, budget=budget,
                                  server_received_at=server_received_at)
        except ClamdUnavailable as unscanned:
            return Prepared(raw_path, raw_sha, received_at, parsed, None, [], None, unscanned)
        except InspectionUnavailable:
            # Every document would be "unreadable": no message can be judged until the
            # machine can start a worker again, so the cycle stops here.
            raise
        except Exception as error:  # noqa: BLE001 - one bad message must not stop the others
            return Prepared(raw_path, raw_sha, received_at, parsed, None, [], error)
        return Prepared(raw_path, raw_sha, received_at, parsed, decision,
                        self._store_documents(decision), None)

    def _received_at(self, item: MailItem) -> tuple[dt.datetime, dt.datetime | None]:
        """The time that counts for ``item``, and the server's date when that was later.

        A server date later than the bot's clock when it first sees the message cannot be
        when the message arrived (a server clock off by a year once let a message dated
        2027 supersede a candidate's real, later submission): the bot's time counts.
        """
        seen = self.clock()
        if item.received_at <= seen:
            return item.received_at, None
        # Clocks a few seconds apart are common and harmless: warn only of what is flagged.
        logger.log(logging.WARNING if item.received_at - seen > SERVER_DATE_TOLERANCE
                else logging.DEBUG, "%s: the server dated it %s, later than the bot's clock "
                "(%s), whose time counts", item.key, utc_text(item.received_at), utc_text(seen))
        return seen, item.received_at

    def register_message(self, item: MailItem, replacing: dict[str, Any] | None = None,
                         prepared: Prepared | None = None) -> tuple[dict[str, Any], bool]:
        """Record one message, prepared (archived and decided) unless ``prepared`` did.

        Returns (row, newly registered). ``replacing`` is a quarantined submission that
        this message, replayed from the archive, replaces under the same id (see
        :mod:`intake_bot.replay`). Raises :class:`~intake_bot.scan.ClamdUnavailable`,
        registering nothing, when clamd gave no verdict on a message not registered yet.
        """
        prepared = prepared or self.prepare(item)
        parsed = prepared.parsed
        if parsed is None:
            assert prepared.error is not None
            return self._quarantine(item, prepared, prepared.error, replacing), True
        key = dedup_key(item.raw, parsed.message_id)
        existing = self.register.by_dedup_key(key)
        if existing and (replacing is None or existing["id"] != replacing["id"]):
            return existing, False
        if prepared.unscanned is not None:
            raise prepared.unscanned
        try:
            if prepared.decision is None:
                assert prepared.error is not None
                raise prepared.error
            decision = prepared.decision
            entry = self._entry(item, parsed, decision, prepared, key)
            render = (self._renderer(prepared, parsed, decision, entry.reply_to)
                      if decision.notice and not decision.notice_skipped else None)
            # Rendering happens inside the register's transaction, where the reference is
            # known: a notice that cannot be built (say, to an address the e-mail library
            # refuses) rolls it back and quarantines the message, never stops the cycle.
            # A broken template is the bot's own fault: it stops the cycle, leaving the
            # message in the inbox for the cycle after the operator's fix.
            row = self._record(entry, render, replacing)
        except (RegisterError, ConfigError):
            raise
        except Exception as error:  # noqa: BLE001 - one bad message must not stop the others
            return self._quarantine(item, prepared, error, replacing), True
        logger.info("%s %s %s reasons=%s flags=%s%s", row["message_id"] or "(no Message-ID)",
                 row["reference"] or "-", row["status"], row["reasons"], row["flags"],
                 _not_answered(row, decision))
        for failure in decision.bounced:
            logger.warning("notice %s bounced: %s", failure.message_id, failure.diagnostic)
        return row, True

    def _record(self, entry: NewSubmission, render: NoticeRenderer | None,
                replacing: dict[str, Any] | None) -> dict[str, Any]:
        """Record a new submission, or the replay of a quarantined one under its id."""
        limit = self.config.max_notices_per_address_per_day
        if replacing is None:
            row = self.register.record(entry, render, limit, now=self.clock())
        else:
            # The message still sits where it was filed; the error stays as history.
            entry = replace(entry, extra={
                **entry.extra, "moved_to": replacing["moved_to"],
                "error": entry.error or clean_text(
                    f"replayed {utc_text(self.clock())}; was: {replacing['error']}", 1000)})
            row = self.register.replace(replacing["id"], entry, render, limit, now=self.clock())
        crash_point("recorded")
        return row

    def _renderer(self, prepared: Prepared, parsed: ParsedMessage, decision: Decision,
                  recipient: str | None) -> NoticeRenderer:
        facts = self._facts(prepared, parsed, decision, recipient)

        def render(filing: Filing) -> Notice:
            return self.notices.render(facts, filing, self.clock())

        return render

    def _store_documents(self, decision: Decision) -> list[StoredDocument]:
        # A submission with malware is kept apart whole: recruiters meet none of its files.
        apart = any(document.malware for document in decision.documents)
        stored = []
        for attachment, document in zip(decision.attachments, decision.documents, strict=True):
            if apart:
                path, digest = self.archive.store_quarantined(attachment.data)
            else:
                path, digest = self.archive.store_document(attachment.data, document.info.kind)
            stored.append(StoredDocument(
                path=path, sha256=digest, size=document.size, kind=document.info.kind,
                name=document.name, pages=document.info.pages, malware=document.malware,
                quarantined=apart, active_content=document.info.active_content))
        return stored

    def _entry(self, item: MailItem, parsed: ParsedMessage, decision: Decision,
               prepared: Prepared, key: str) -> NewSubmission:
        vacancy = decision.vacancy
        return NewSubmission(
            dedup_key=key, raw_sha256=prepared.raw_sha, raw_path=prepared.raw_path,
            raw_bytes=item.size,
            received_at=prepared.received_at, status=decision.status,
            message_id=parsed.message_id, sender=parsed.sender,
            sender_name=parsed.sender_name,
            # Reply-To is followed only for an authenticated From (when that is checked).
            reply_to=(parsed.sender if decision.notice_skipped
                      else notice_address(parsed, self.config.own_addresses)),
            subject=parsed.subject, vacancy_id=vacancy.id if vacancy else None,
            reasons=decision.reasons, flags=decision.flags, documents=prepared.documents,
            mailbox_key=item.key, language=decision.languages[0] if decision.notice else None,
            keep_first=bool(vacancy and vacancy.resubmission == "first"),
            notice_kind=decision.notice, notice_skipped=decision.notice_skipped,
            bounced=decision.bounced,
        )

    def _facts(self, prepared: Prepared, parsed: ParsedMessage, decision: Decision,
               recipient: str | None) -> NoticeFacts:
        documents = decision.documents
        return NoticeFacts(
            kind=decision.notice or "", languages=decision.languages,
            recipient=recipient or "", candidate_name=parsed.sender_name,
            subject=parsed.subject, received_at=prepared.received_at,
            in_reply_to=parsed.message_id, thread=parsed.thread, vacancy=decision.vacancy,
            reasons=decision.reasons, flags=told_to_candidate(decision.flags),
            document_name=documents[0].name if documents else None,
            document_pages=documents[0].info.pages if documents else None,
            document_count=len(documents),
            max_document_pages=max((d.info.pages or 0 for d in documents), default=None),
            max_document_words=max((d.info.words or 0 for d in documents), default=None),
        )

    def _quarantine(self, item: MailItem, prepared: Prepared, error: Exception,
                    replacing: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record a message that broke a step, so a human can see it and replay it."""
        parsed = prepared.parsed
        reason = clean_text(f"{type(error).__name__}: {error}", 500)
        logger.warning("%s quarantined: %s", (parsed.message_id if parsed else None) or item.key,
                    reason)
        entry = NewSubmission(
            dedup_key=dedup_key(item.raw, parsed.message_id if parsed else None),
            raw_sha256=prepared.raw_sha, raw_path=prepared.raw_path, raw_bytes=item.size,
            received_at=prepared.received_at, status="quarantined",
            message_id=parsed.message_id if parsed else None,
            sender=parsed.sender if parsed else None,
            sender_name=parsed.sender_name if parsed else None,
            subject=parsed.subject if parsed else None,
            reasons=(QUARANTINE_REASON,), mailbox_key=item.key, error=reason)
        return self._record(entry, None, replacing)

    # -- notices ---------------------------------------------------------------------

    def send_due(self, submission_id: int | None = None,
                 reply_id: int | None = None) -> SendCounts:
        """Send the notices that are due, within the hourly caps; returns what became of them."""
        now = self.clock()
        if submission_id is not None:
            replies = self.register.pending_replies_of(submission_id, now)
        else:
            replies = self.register.pending_replies(now, reply_id)
        counts = SendCounts()
        waits: list[tuple[int, dt.datetime, str]] = []
        full: tuple[dt.datetime, str] | None = None  # max_per_hour reached: all others wait
        for reply in replies:
            if self.unavailable is not None:
                break
            cap = full or self.register.hourly_cap(
                reply["recipient_domain"], now, self.config.max_notices_per_domain_per_hour,
                self.config.max_notices_per_hour)
            if cap is not None:
                until, setting = cap
                if setting == "max_per_hour":
                    full = cap
                waits.append((reply["id"], until, f"waiting until {utc_text(until)}: "
                              f"[notices] {setting} reached"))
                continue
            # The claim is durable before a byte goes out: after a crash the register
            # knows this notice may have left, and resends it at most once.
            if not self.register.claim_reply(reply["id"]):
                continue  # another sender took it meanwhile
            crash_point("sending")
            counts.count(self._send(reply, now))
        if waits:
            # One transaction for all: on a deadline night thousands may wait at once.
            self.register.postpone(waits)
            counts.waiting = len(waits)
        return counts

    def _send(self, reply: dict[str, Any], now: dt.datetime) -> Outcome:
        """Send one claimed notice; returns what became of it."""
        try:
            self.transport.send(self.register.reply_content(reply["id"]), self.config.from_addr_spec,
                                [reply["recipient"]])
        except PermanentFailure as error:
            self.register.mark_attempt_failed(reply["id"], str(error), True, None)
            logger.warning("notice %s to reply %s refused for good: %s", reply["message_id"],
                        reply["id"], error)
            return "failed"
        except PossiblyDelivered as error:
            status = self.register.mark_in_doubt(reply["id"], str(error),
                                                 now + self._backoff(reply))
            logger.warning("notice %s (reply %s) may have arrived: %s; %s", reply["message_id"],
                        reply["id"], error, "sent again once at most" if status == "pending"
                        else "in doubt twice: left failed for a human")
            return "retrying" if status == "pending" else "failed"
        except TemporaryFailure as error:
            if isinstance(error, ServerUnavailable):
                self.unavailable = error
            attempts = reply["attempts"] + 1
            give_up = attempts >= MAX_SEND_ATTEMPTS
            retry_at = now + self._backoff(reply)
            self.register.mark_attempt_failed(reply["id"], str(error), give_up, retry_at)
            logger.warning("notice %s not sent (attempt %d, %s): %s", reply["message_id"], attempts,
                        "given up" if give_up else f"retry after {utc_text(retry_at)}", error)
            return "failed" if give_up else "retrying"
        except Exception as error:  # noqa: BLE001 - a notice that breaks sending waits for a human
            reason = clean_text(f"{type(error).__name__}: {error}", 500)
            self.register.mark_attempt_failed(reply["id"], reason, True, None)
            logger.warning("notice %s to reply %s cannot be sent: %s", reply["message_id"],
                        reply["id"], reason)
            return "failed"
        crash_point("sent")
        self.register.mark_sent(reply["id"], now)
        return "sent"

    def _backoff(self, reply: dict[str, Any]) -> dt.timedelta:
        """How long a notice waits after a failed attempt: doubling, at most six hours."""
        return min(dt.timedelta(seconds=self.config.poll_seconds * 2 ** (reply["attempts"] + 1)),
                   MAX_BACKOFF)

    def recover_interrupted_sends(self) -> None:
        """Requeue notices whose send a crash cut short; fail those cut short twice."""
        for reply in self.register.recover_interrupted_sends():
            if reply["status"] == "failed":
                logger.warning("notice %s (reply %s) was cut short twice while being sent and "
                            "may have arrived: left failed for a human", reply["message_id"],
                            reply["id"])
            else:
                logger.warning("notice %s (reply %s) was being sent when the bot stopped: "
                            "sending it again (it may arrive twice)", reply["message_id"],
                            reply["id"])


@contextmanager
def open_intake(config: Config, inspect: Inspector = inspect_document,
                clock: Clock = now_utc) -> Iterator[Intake]:
    """An :class:`Intake` on the configured register and transport, for one cycle or replay.

    It holds the register's cycle lock throughout, so that it may first deal with the
    notices a crashed process left ``sending`` (see
    :meth:`~intake_bot.register.Register.recover_interrupted_sends`).
    """
    with cycle_lock(config.register_path):
        register = Register(config.register_path)
        try:
            transport = open_transport(config, clock)
            try:
                intake = Intake(config, register, transport, inspect, clock, open_scanner(config))
                intake.recover_interrupted_sends()
                yield intake
            finally:
                transport.close()
        finally:
            register.close()


def open_scanner(config: Config) -> Scanner | None:
    """A scanner on ``[scan] clamd`` for one cycle, or None when scanning is off."""
    if config.clamd is None:
        return None
    return Scanner(Clamd(config.clamd, config.scan_timeout_seconds))


#: Messages archived, parsed and decided ahead of the one being handled, by ``HELPERS``
#: threads: one parses while the other waits on the disk or the inspection worker, and a
#: third message in reserve absorbs a slow one. Measured on 600 waiting applications
#: (medians of three alternating runs): one helper, one ahead, 38 messages/s; two and
#: three, 49; three and five, 47.
LOOKAHEAD = 3
HELPERS = 2

#: Handled messages leave the inbox this many at a time, with one MOVE. Moving them one
#: by one, Dovecot spent a SELECT and a MOVE of 11 ms a message on a 300-message inbox and
#: 36 ms on a 10,000-message one; moving 100 at once, 0.2 to 0.5 ms a message.
MOVE_BATCH = 50


class _Handled(NamedTuple):
    """A message recorded and answered, and the folder it leaves the inbox for."""

    row: dict[str, Any]
    key: str
    folder: str


def run_cycle(config: Config, stop: threading.Event | None = None,
              progress: Callable[[int], None] | None = None,
              inspect: Inspector = inspect_document,
              clock: Clock = now_utc) -> CycleSummary:
    """Process every message waiting in the mailbox, then every notice that is due."""
    summary = CycleSummary()
    mailbox = open_mailbox(config, clock)
    try:
        with (open_intake(config, inspect, clock) as intake,
              ThreadPoolExecutor(HELPERS, thread_name_prefix="decide-ahead") as helpers):
            handled: list[_Handled] = []
            try:
                for item, prepared in _decided_ahead(intake, mailbox.pending(), helpers):
                    if stop is not None and stop.is_set():
                        logger.info("stopping: %d message(s) handled, the rest stay in the inbox",
                                 summary.handled)
                        break
                    done = _handle(intake, item, prepared.result(), summary)
                    if done is None:
                        continue  # left in the inbox unscanned: nothing to file or count
                    handled.append(done)
                    if len(handled) >= MOVE_BATCH:
                        _file(intake, mailbox, handled, summary)
                    if progress is not None:
                        progress(summary.handled + summary.already_registered)
            finally:
                # Also when fetching failed: what is recorded and answered may leave.
                _file(intake, mailbox, handled, summary)
            summary.notices.add(intake.send_due())
            summary.unavailable = str(intake.unavailable) if intake.unavailable else None
            if intake.scanner is not None and intake.scanner.unavailable is not None:
                summary.scan_unavailable = str(intake.scanner.unavailable)
    finally:
        mailbox.close()
    logger.info(summary.line())
    return summary


def _not_answered(row: dict[str, Any], decision: Decision) -> str:
    """`` not answered: cap`` and the like, for a message owed a notice that gets none."""
    skipped = row["notice_skipped"]
    if not decision.notice or not skipped:
        return ""
    if skipped == decision.notice_skipped and decision.authentication:
        return f" not answered: {skipped} ({decision.authentication.why})"
    return f" not answered: {skipped}"


def _decided_ahead(intake: Intake, items: Iterable[MailItem], helpers: ThreadPoolExecutor
                   ) -> Iterator[tuple[MailItem, Future[Prepared]]]:
    """Yield each message with its decision, up to ``LOOKAHEAD`` more under way in ``helpers``.

    A failure to fetch more messages still lets those already fetched be handled first,
    as they would be without the look-ahead.
    """
    ahead: deque[tuple[MailItem, Future[Prepared]]] = deque()
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            break
        except MailboxError:
            yield from ahead
            raise
        ahead.append((item, helpers.submit(intake.prepare, item)))
        if len(ahead) > LOOKAHEAD:
            yield ahead.popleft()
    yield from ahead


def _handle(intake: Intake, item: MailItem, prepared: Prepared,
            summary: CycleSummary) -> _Handled | None:
    """Record and answer one message; None when it stays in the inbox, unscanned."""
    try:
        row, new = intake.register_message(item, prepared=prepared)
    except ClamdUnavailable:
        summary.unscanned += 1
        return None
    if new:
        summary.handled += 1
        summary.statuses[row["status"]] += 1
        summary.reasons.update(json_list(row["reasons"]))
        if row["notice_skipped"] in UNANSWERED:
            summary.unanswered[row["notice_skipped"]] += 1
        summary.registered.append(row["id"])
    else:
        summary.already_registered += 1
    summary.notices.add(intake.send_due(submission_id=row["id"]))
    crash_point("answered")
    config = intake.config
    folder = config.quarantine_folder if row["status"] == "quarantined" else config.processed_folder
    return _Handled(row, item.key, folder)


def _file(intake: Intake, mailbox: Mailbox, handled: list[_Handled],
          summary: CycleSummary) -> None:
    """Move the handled messages out of the inbox, one MOVE per folder; empties ``handled``."""
    batch = handled[:]
    handled.clear()
    for folder in dict.fromkeys(each.folder for each in batch):
        group = [each for each in batch if each.folder == folder]
        # The folder is noted before the move: a crash in between leaves the messages in
        # the inbox, and the next cycle moves them and notes the same folder again.
        intake.register.mark_moved((each.row["id"], folder) for each in group)
        crash_point("moving")
        try:
            mailbox.move_many([each.key for each in group], folder)
        except MailboxError as error:
            intake.register.mark_moved((each.row["id"], each.row["moved_to"]) for each in group)
            for each in group:
                logger.warning("%s stays in the inbox: %s", each.row["message_id"] or each.key,
                            error)
            summary.move_failures += len(group)
            continue
        crash_point("moved")

