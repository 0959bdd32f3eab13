"""The register edge: the SQLite intake register and the outbox of notices.

One transaction per message records the submission, supersedes earlier ones and queues
its notice, so a crash leaves either all of it or none of it. The file is plain SQLite
that a recruiter can open with any tool.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from intake_bot.addresses import fold_address, fold_domain
from intake_bot.archive import FILE_MODE, make_private_dirs, relative_name
from intake_bot.bounces import DeliveryFailure
from intake_bot.clock import utc_text
from intake_bot.json_columns import json_list, json_text

STATUSES = ("accepted", "rejected", "unmatched", "ignored", "quarantined", "superseded")
REPLY_KINDS = ("acknowledgement", "rejection", "unmatched")
#: A notice's life: queued, claimed for sending, accepted by the server, refused for good
#: (or given up on), and returned undeliverable by a bounce that came back afterwards.
REPLY_STATUSES = ("pending", "sending", "sent", "failed", "bounced")
#: The notice statuses that mean the candidate was never reached.
UNREACHED = ("failed", "bounced")

migrations = Migrations("intake-bot")
HOUR = dt.timedelta(hours=1)

# A column of a submission's latest notice, as a correlated subquery (the replies_submission
# index serves it).
#: What sending a notice reads of it, its content apart.
_DUE_FIELDS = "id, submission_id, kind, recipient, recipient_domain, message_id, status, attempts"
#: SQL for a column of a submission's latest notice (``.format("status")``), in a query
#: whose submissions are named ``submissions``.
LATEST_NOTICE = ("(SELECT {} FROM replies WHERE replies.submission_id = submissions.id "
                  "ORDER BY replies.id DESC LIMIT 1)")


@migrations()
def m001_initial(db: Database) -> None:
    """The submissions register and the replies outbox, as the specification names them."""
    db.execute("""
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            reference TEXT UNIQUE,
            vacancy_seq INTEGER,
            message_id TEXT,
            dedup_key TEXT NOT NULL UNIQUE,
            raw_sha256 TEXT NOT NULL,
            received_at TEXT NOT NULL,
            registered_at TEXT NOT NULL,
            sender TEXT,
            sender_name TEXT,
            reply_to TEXT,
            subject TEXT,
            vacancy_id TEXT,
            status TEXT NOT NULL,
            reasons TEXT NOT NULL DEFAULT '[]',
            flags TEXT NOT NULL DEFAULT '[]',
            document_path TEXT,
            document_sha256 TEXT,
            document_bytes INTEGER,
            document_pages INTEGER,
            document_name TEXT,
            document_type TEXT,
            attachments TEXT NOT NULL DEFAULT '[]',
            raw_path TEXT,
            raw_bytes INTEGER,
            mailbox_key TEXT,
            language TEXT,
            notice_skipped TEXT,
            superseded_by INTEGER REFERENCES submissions(id),
            error TEXT,
            moved_to TEXT
        )""")
    db.execute("CREATE INDEX submissions_vacancy ON submissions (vacancy_id, status)")
    db.execute("CREATE INDEX submissions_sender ON submissions (sender, vacancy_id)")
    db.execute("""
        CREATE TABLE replies (
            id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            kind TEXT NOT NULL,
            recipient TEXT NOT NULL,
            message_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_at TEXT,
            created_at TEXT NOT NULL,
            next_attempt_at TEXT,
            subject TEXT,
            content BLOB NOT NULL
        )""")
    db.execute("CREATE INDEX replies_status ON replies (status, next_attempt_at)")
    db.execute("CREATE INDEX replies_recipient ON replies (recipient, created_at)")


@migrations()
def m002_recruiters(db: Database) -> None:
    """The recruiters' side: purged rows, the purge audit, the digest bookmark, a short view."""
    # A purged submission keeps its anonymous facts (status, reasons, dates) for the counts.
    db.execute("ALTER TABLE submissions ADD COLUMN purged_at TEXT")
    db.execute("""
        CREATE TABLE purges (
            id INTEGER PRIMARY KEY,
            purged_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            command TEXT NOT NULL,
            criteria TEXT NOT NULL,
            submissions INTEGER NOT NULL DEFAULT 0,
            replies INTEGER NOT NULL DEFAULT 0,
            files_deleted INTEGER NOT NULL DEFAULT 0,
            bytes_deleted INTEGER NOT NULL DEFAULT 0,
            files_kept INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            sent_at TEXT NOT NULL,
            last_submission_id INTEGER NOT NULL,
            recipients TEXT NOT NULL,
            subject TEXT NOT NULL
        )""")
    # What a recruiter reads first, without the bookkeeping columns (the browser view).
    db.execute("""
        CREATE VIEW applications AS
        SELECT id, reference, vacancy_id, status, received_at, sender_name, sender, reasons,
               flags, document_name, document_pages, document_path, attachments,
               superseded_by, purged_at
        FROM submissions""")


@migrations()
def m003_reply_interruptions(db: Database) -> None:
    """How many times a crash cut a notice's send short (it is resent at most once)."""
    db.execute("ALTER TABLE replies ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0")


@migrations()
def m004_indexes_for_bursts(db: Database) -> None:
    """Indexes for the queries each new submission runs, so their cost does not grow with N.

    Without them, the superseding update, the daily notice limit and the next reference
    scanned every earlier row of the vacancy or every notice (they compare ``lower()`` of an
    address, which a plain index cannot serve): fine for tens of messages, a cost that
    grows with the register on a deadline night of thousands.
    """
    db.execute("DROP INDEX submissions_sender")
    db.execute("CREATE INDEX submissions_sender ON submissions (vacancy_id, lower(sender), status)")
    db.execute("CREATE INDEX submissions_sequence ON submissions (vacancy_id, vacancy_seq)")
    db.execute("DROP INDEX replies_recipient")
    db.execute("CREATE INDEX replies_recipient ON replies (lower(recipient), created_at)")
    db.execute("CREATE INDEX replies_submission ON replies (submission_id)")


@migrations()
def m005_notice_caps(db: Database) -> None:
    """Each notice's mailbox (``victim+1@`` is ``victim@``) and domain, for the notice caps.

    The per-address cap compared ``lower(recipient)``, so ten ``+tags`` were ten addresses;
    the hourly caps count the notices sent to a domain and overall in the past hour. Notices
    already queued or sent get their folded address here, so that the caps count them too.
    """
    db.execute("ALTER TABLE replies ADD COLUMN recipient_key TEXT")
    db.execute("ALTER TABLE replies ADD COLUMN recipient_domain TEXT")
    db.conn.executemany(
        "UPDATE replies SET recipient_key = ?, recipient_domain = ? WHERE id = ?",
        [(fold_address(recipient), fold_domain(recipient), reply_id)
         for reply_id, recipient in db.execute("SELECT id, recipient FROM replies").fetchall()])
    db.execute("DROP INDEX replies_recipient")
    db.execute("CREATE INDEX replies_recipient ON replies (recipient_key, created_at)")
    db.execute("CREATE INDEX replies_domain_sent ON replies (recipient_domain, sent_at)")
    db.execute("CREATE INDEX replies_sent ON replies (sent_at)")


@migrations()
def m006_malware(db: Database) -> None:
    """The signatures the virus scan found in a submission's files (a JSON array)."""
    db.execute("ALTER TABLE submissions ADD COLUMN malware TEXT NOT NULL DEFAULT '[]'")


@migrations()
def m007_indexes_for_recruiters(db: Database) -> None:
    """Indexes that keep the recruiters' views interactive on a register of any size.

    Measured on 300,000 submissions (bench/register_scale.py): the browser view's first
    page sorted every row by ``received_at`` (2.5 s, over Datasette's 1 s limit, so it
    failed) and ``register stats`` read the whole table five times (8.4 s). One index by
    time, and one that holds every column the counts read, so SQLite counts from the index
    alone. The older ``(vacancy_id, status)`` index stays: within a key it is in id order,
    so ``register list --vacancy --status`` reads rows in order without sorting them (half
    the time of sorting 190,000 whole rows).
    """
    db.execute("CREATE INDEX submissions_received ON submissions (received_at)")
    db.execute("CREATE INDEX submissions_outcomes ON submissions (vacancy_id, status, "
               "received_at, purged_at, reasons, flags, reference)")


@migrations()
def m008_bounced_notices(db: Database) -> None:
    """Which bounce returned a notice: ``replies.bounced_by``, the bounce's submission id.

    A notice the candidate's server returned undeliverable is ``bounced``, the bounce's
    diagnostic in ``last_error``; the bounce itself stays registered as ``ignored``.
    """
    db.execute("ALTER TABLE replies ADD COLUMN bounced_by INTEGER")
    db.execute("CREATE INDEX replies_message_id ON replies (message_id)")


@migrations()
def m009_relative_paths(db: Database) -> None:
    """Files named under ``[register] documents`` (``files/ab/ab12….pdf``), not by server path.

    Older versions recorded absolute paths, which the browser view's JSON and CSV, ``register
    show`` and ``register list`` then showed. A path in the archive's own layout becomes its
    name under the documents folder (:func:`~intake_bot.archive.relative_name`); any other
    stays as it is, and is still read as an absolute path.
    """
    last = 0
    while True:  # in batches by id: constant memory on a register of any size
        batch = db.execute(
            "SELECT id, document_path, raw_path, attachments FROM submissions WHERE id > ? AND "
            "(document_path LIKE '/%' OR raw_path LIKE '/%' OR attachments LIKE '%\"/%') "
            "ORDER BY id LIMIT 2000", [last]).fetchall()
        if not batch:
            break
        last = batch[-1][0]
        db.conn.executemany(
            "UPDATE submissions SET document_path = ?, raw_path = ?, attachments = ? WHERE id = ?",
            [(document and relative_name(document), raw and relative_name(raw),
              _relative_attachments(attachments), row_id)
             for row_id, document, raw, attachments in batch])


def _relative_attachments(text: str) -> str:
    """An ``attachments`` array with its files named under the documents folder (text that
    is not an array of objects stays as it is)."""
    try:
        entries = json_list(text)
    except (ValueError, TypeError):
        return text
    if not all(isinstance(entry, dict) for entry in entries):
        return text
    named = [{key: relative_name(value) if key in ("path", "quarantine") and isinstance(value, str)
              else value for key, value in entry.items()} for entry in entries]
    return json_text(named) if named != entries else text


@dataclass(frozen=True)
class StoredDocument:
    """A document as written to disk, for the register.

    ``malware`` is the signature the virus scan found in it. ``quarantined`` means it was
    stored apart from the documents (see :meth:`~intake_bot.archive.Archive.store_quarantined`),
    as every file of a submission with malware is: the register then names its file as
    ``quarantine``, never as ``path``, so nothing that links documents links it. ``path`` is
    the file's name under the documents folder.
    """

    path: PurePosixPath
    sha256: str
    size: int
    kind: str
    name: str | None
    pages: int | None
    malware: str | None = None
    quarantined: bool = False
    active_content: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewSubmission:
    """Everything to record about one handled message."""

    dedup_key: str
    raw_sha256: str
    raw_path: PurePosixPath  # under the documents folder
    raw_bytes: int
    received_at: dt.datetime
    status: str
    message_id: str | None = None
    sender: str | None = None
    sender_name: str | None = None
    reply_to: str | None = None
    subject: str | None = None
    vacancy_id: str | None = None
    reasons: Sequence[str] = ()
    flags: Sequence[str] = ()
    documents: Sequence[StoredDocument] = ()
    mailbox_key: str | None = None
    language: str | None = None
    error: str | None = None
    keep_first: bool = False  # the vacancy keeps the first accepted submission, not the latest
    notice_kind: str | None = None
    notice_skipped: str | None = None  # why the notice owed is not sent, e.g. "unauthenticated"
    bounced: Sequence[DeliveryFailure] = ()  # a bounce: the notices it returns undeliverable
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """A rendered notice, ready to queue."""

    kind: str
    recipient: str
    message_id: str
    subject: str
    content: bytes


@dataclass(frozen=True)
class Filing:
    """How the register filed a submission, as its notice quotes it."""

    reference: str | None
    kept_reference: str | None = None  # resubmission = "first": the earlier one that is kept
    replaced_references: tuple[str, ...] = ()  # resubmission = "latest": those it supersedes


#: Renders the notice once the submission is filed and its reference known.
NoticeRenderer = Callable[[Filing], Notice]


def _attachment(document: StoredDocument) -> dict[str, Any]:
    """One entry of the ``attachments`` column; a quarantined file's path is no ``path``."""
    entry: dict[str, Any] = {"name": document.name, "type": document.kind,
                             "bytes": document.size, "pages": document.pages,
                             "sha256": document.sha256}
    entry["quarantine" if document.quarantined else "path"] = str(document.path)
    if document.malware:
        entry["malware"] = document.malware
    if document.active_content:
        entry["active_content"] = list(document.active_content)
    return entry


class RegisterError(Exception):
    """The register cannot be opened or written; the message is one line."""


class Register:
    """The intake register: submissions and their notices."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            make_private_dirs(path.parent)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
            self.db = Database(str(path))
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit survives a power cut, not only a crash. The message leaves the
            # inbox right after its commit, so NORMAL could lose the only trace of it; the
            # cost is about a third of a millisecond per commit.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=10000")
            migrations.apply(self.db)
        except (sqlite3.Error, OSError) as error:
            raise RegisterError(f"{path}: cannot open the register: {error}") from None

    def close(self) -> None:
        self.db.close()

    # -- reading ---------------------------------------------------------------------

    def by_dedup_key(self, key: str) -> dict[str, Any] | None:
        """The submission already recorded for this message, if any."""
        rows = list(self.db.query("SELECT * FROM submissions WHERE dedup_key = ?", [key]))
        return rows[0] if rows else None

    def submission(self, submission_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM submissions WHERE id = ?", [submission_id]))
        return rows[0] if rows else None

    def reply(self, reply_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM replies WHERE id = ?", [reply_id]))
        return rows[0] if rows else None

    def replies_for(self, submission_id: int) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT id, kind, recipient, message_id, status, attempts, last_error, sent_at, "
            "created_at, subject, bounced_by FROM replies WHERE submission_id = ? ORDER BY id",
            [submission_id]))

    def submissions(self, vacancy: str | None = None, status: str | None = None,
                    reason: str | None = None, flag: str | None = None,
                    since: dt.datetime | None = None, until: dt.datetime | None = None,
                    order: str = "id", unreached: bool = False) -> Iterator[dict[str, Any]]:
        """Submissions matching every given filter, in the given order, one at a time.

        Rows come off the cursor as they are used, so a selection of any size takes
        constant memory: use them while the register is open.
        """
        cursor = self.submissions_cursor(vacancy, status, reason, flag, since, until, order,
                                         unreached)
        columns = [column[0] for column in cursor.description]
        return (dict(zip(columns, row, strict=True)) for row in cursor)

    def submissions_cursor(self, vacancy: str | None = None, status: str | None = None,
                           reason: str | None = None, flag: str | None = None,
                           since: dt.datetime | None = None, until: dt.datetime | None = None,
                           order: str = "id", unreached: bool = False) -> sqlite3.Cursor:
        """The rows of :meth:`submissions` as plain tuples (names in ``description``).

        ``since`` and ``until`` are instants (aware datetimes): received at or after
        ``since``, and before ``until``. ``order`` is a column name. ``unreached`` keeps
        only the submissions whose latest notice never reached the candidate
        (:data:`UNREACHED`), each row then with that notice's ``notice_status`` and
        ``notice_error`` (two lookups a row, so only when asked for).
        """
        where: list[str] = []
        params: list[Any] = []
        if unreached:
            where.append(f"{LATEST_NOTICE.format('status')} IN "
                         f"({', '.join('?' for _ in UNREACHED)})")
            params.extend(UNREACHED)
        for column, value in (("vacancy_id", vacancy), ("status", status)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        for column, value in (("reasons", reason), ("flags", flag)):
            if value:
                where.append(f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)")
                params.append(value)
        # The register's times are all utc_text(), so comparing the text compares instants.
        for condition, moment in (("received_at >= ?", since), ("received_at < ?", until)):
            if moment is not None:
                where.append(condition)
                params.append(utc_text(moment))
        sql = (f"SELECT *, {LATEST_NOTICE.format('status')} AS notice_status, "
               f"{LATEST_NOTICE.format('last_error')} AS notice_error FROM submissions"
               if unreached else "SELECT * FROM submissions")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}" + (", id" if order != "id" else "")  # ties: oldest first
        return self.db.execute(sql, params)

    def pending_replies(self, now: dt.datetime, reply_id: int | None = None) -> list[dict[str, Any]]:
        """Notices due for sending (pending, and past their back-off time), without their
        content (:meth:`reply_content`): after an outage thousands may be due at once."""
        if reply_id is not None:
            return list(self.db.query(f"SELECT {_DUE_FIELDS} FROM replies "
                                      "WHERE id = ? AND status != 'sent'", [reply_id]))
        return list(self.db.query(
            f"SELECT {_DUE_FIELDS} FROM replies WHERE status = 'pending' AND "
            "(next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id", [utc_text(now)]))

    def pending_replies_of(self, submission_id: int, now: dt.datetime) -> list[dict[str, Any]]:
        """A submission's notices due for sending, as :meth:`pending_replies` gives them."""
        return list(self.db.query(
            f"SELECT {_DUE_FIELDS} FROM replies WHERE submission_id = ? AND status = 'pending' "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?)",
            [submission_id, utc_text(now)]))

    def reply_content(self, reply_id: int) -> bytes:
        """The bytes of a notice, as they go out."""
        row = self.db.execute("SELECT content FROM replies WHERE id = ?", [reply_id]).fetchone()
        if row is None:
            raise RegisterError(f"{self.path}: no notice {reply_id}")
        return bytes(row[0])

    # -- writing ---------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction, for the library modules that keep the register (purge, digest).

        SQLite errors inside it become a one-line :class:`RegisterError`.
        """
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            with self.db.atomic():
                yield
        except sqlite3.Error as error:
            raise RegisterError(f"{self.path}: write failed: {error}") from error

    def record(self, entry: NewSubmission, render: NoticeRenderer | None,
               per_address_per_day: int, now: dt.datetime) -> dict[str, Any]:
        """Record one submission and queue its notice, in one transaction.

        A redelivered message (same dedup key) returns the existing row untouched.
        """
        with self._transaction():
            existing = self.by_dedup_key(entry.dedup_key)
            if existing:
                return existing
            reference, sequence = self._next_reference(entry)
            status, kept = self._resubmission_status(entry)
            row = self._row(entry, reference, sequence, status, now)
            submission_id = self._insert("submissions", row)
            replaced: tuple[str, ...] = ()
            if status == "accepted" and entry.vacancy_id and entry.sender:
                replaced = tuple(r["reference"] for r in self.db.query(
                    "SELECT reference FROM submissions WHERE vacancy_id = ? AND lower(sender) = "
                    "lower(?) AND status = 'accepted' AND id != ? ORDER BY id",
                    [entry.vacancy_id, entry.sender, submission_id]))
                self.db.execute(
                    "UPDATE submissions SET status = 'superseded', superseded_by = ? "
                    "WHERE vacancy_id = ? AND lower(sender) = lower(?) AND status = 'accepted' "
                    "AND id != ?", [submission_id, entry.vacancy_id, entry.sender, submission_id])
            if kept:
                self.db.execute("UPDATE submissions SET superseded_by = ? WHERE id = ?",
                                [kept["id"], submission_id])
            self._mark_bounced(entry.bounced, submission_id)
            if render is not None and entry.notice_kind and not entry.notice_skipped:
                notice = render(Filing(reference, kept["reference"] if kept else None, replaced))
                key = fold_address(notice.recipient)
                if self._notices_to(key, now - dt.timedelta(days=1)) >= per_address_per_day:
                    self.db.execute("UPDATE submissions SET notice_skipped = 'cap' WHERE id = ?",
                                    [submission_id])
                else:
                    self._insert("replies", {
                        "submission_id": submission_id, "kind": notice.kind,
                        "recipient": notice.recipient, "recipient_key": key,
                        "recipient_domain": fold_domain(notice.recipient),
                        "message_id": notice.message_id, "status": "pending", "attempts": 0,
                        "created_at": utc_text(now), "subject": notice.subject,
                        "content": notice.content,
                    })
        result = self.submission(submission_id)
        assert result is not None
        return result

    def _mark_bounced(self, failures: Sequence[DeliveryFailure], bounce_id: int) -> None:
        """Mark the notices a bounce returned as ``bounced``, with the bounce's diagnostic."""
        for failure in failures:
            self.db.execute(
                "UPDATE replies SET status = 'bounced', last_error = ?, bounced_by = ?, "
                "next_attempt_at = NULL WHERE message_id = ?",
                [failure.diagnostic, bounce_id, failure.message_id])

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row of our own making; returns its id.

        Plain SQL: sqlite-utils' ``insert`` reads the table's schema on every call, and a
        burst records thousands of rows into tables whose schema the migrations fixed.
        """
        columns = ", ".join(f"[{name}]" for name in row)
        marks = ", ".join("?" for _ in row)
        cursor = self.db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})",
                                 list(row.values()))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _next_reference(self, entry: NewSubmission) -> tuple[str | None, int | None]:
        if not entry.vacancy_id or entry.status not in ("accepted", "rejected"):
            return None, None
        last = self.db.execute("SELECT MAX(vacancy_seq) FROM submissions WHERE vacancy_id = ?",
                               [entry.vacancy_id]).fetchone()[0]
        sequence = (last or 0) + 1
        return f"{entry.vacancy_id}-{sequence:04d}", sequence

    def _resubmission_status(self, entry: NewSubmission) -> tuple[str, dict[str, Any] | None]:
        """The status of an accepted submission beside the candidate's other accepted one.

        With ``resubmission = "first"`` an earlier accepted submission is kept and this
        one set aside. With ``"latest"`` this one is kept unless the server accepted a
        later one first, which only happens when a quarantined message is replayed.
        """
        if entry.status != "accepted" or not entry.sender:
            return entry.status, None
        if entry.keep_first:
            condition, params = "", []
        else:
            condition, params = "AND received_at > ? ", [utc_text(entry.received_at)]
        rows = list(self.db.query(
            "SELECT id, reference FROM submissions WHERE vacancy_id = ? AND lower(sender) = "
            f"lower(?) AND status = 'accepted' {condition}ORDER BY id LIMIT 1",
            [entry.vacancy_id, entry.sender, *params]))
        return ("superseded", rows[0]) if rows else (entry.status, None)

    def _notices_to(self, recipient_key: str, since: dt.datetime) -> int:
        """How many notices were queued for one mailbox (folded address) since a moment."""
        return int(self.db.execute(
            "SELECT COUNT(*) FROM replies WHERE recipient_key = ? AND created_at > ?",
            [recipient_key, utc_text(since)]).fetchone()[0])

    def _row(self, entry: NewSubmission, reference: str | None, sequence: int | None,
             status: str, now: dt.datetime) -> dict[str, Any]:
        primary = entry.documents[0] if entry.documents else None
        return {
            "reference": reference,
            "vacancy_seq": sequence,
            "message_id": entry.message_id,
            "dedup_key": entry.dedup_key,
            "raw_sha256": entry.raw_sha256,
            "received_at": utc_text(entry.received_at),
            "registered_at": utc_text(now),
            "sender": entry.sender,
            "sender_name": entry.sender_name,
            "reply_to": entry.reply_to,
            "subject": entry.subject,
            "vacancy_id": entry.vacancy_id,
            "status": status,
            "reasons": json_text(entry.reasons),
            "flags": json_text(entry.flags),
            "document_path": str(primary.path) if primary and not primary.quarantined else None,
            "document_sha256": primary.sha256 if primary else None,
            "document_bytes": primary.size if primary else None,
            "document_pages": primary.pages if primary else None,
            "document_name": primary.name if primary else None,
            "document_type": primary.kind if primary else None,
            "attachments": json_text([_attachment(d) for d in entry.documents]),
            "malware": json_text(list(dict.fromkeys(
                d.malware for d in entry.documents if d.malware))),
            "raw_path": str(entry.raw_path),
            "raw_bytes": entry.raw_bytes,
            "mailbox_key": entry.mailbox_key,
            "language": entry.language,
            "notice_skipped": (entry.notice_skipped if entry.notice_kind
                               else "no notice: " + status),
            "error": entry.error,
            **entry.extra,
        }

    def replace(self, submission_id: int, entry: NewSubmission, render: NoticeRenderer | None,
                per_address_per_day: int, now: dt.datetime) -> dict[str, Any]:
        """Record ``entry`` in place of the quarantined submission ``submission_id``.

        One transaction removes the quarantined row and records the new outcome under the
        same id, with its notice: a crash leaves one or the other, never both or neither.
        """
        with self._transaction():
            deleted = self.db.execute(
                "DELETE FROM submissions WHERE id = ? AND status = 'quarantined'",
                [submission_id]).rowcount
            if deleted != 1:
                raise RegisterError(f"{self.path}: submission {submission_id} is not quarantined")
            return self.record(replace(entry, extra={**entry.extra, "id": submission_id}),
                               render, per_address_per_day, now)

    def claim_reply(self, reply_id: int) -> bool:
        """Mark a pending notice ``sending`` before it goes out; False if it is not pending."""
        with self._transaction():
            return self.db.execute(
                "UPDATE replies SET status = 'sending' WHERE id = ? AND status = 'pending'",
                [reply_id]).rowcount == 1

    def recover_interrupted_sends(self) -> list[dict[str, Any]]:
        """Deal with notices left ``sending`` by a process that died while sending them.

        Such a notice may have reached the server: see :meth:`mark_in_doubt`. Call this
        only while holding the cycle lock. Returns the notices dealt with, each with its
        new ``status``.
        """
        with self._transaction():
            found = list(self.db.query(
                "SELECT id, message_id FROM replies WHERE status = 'sending'"))
            for reply in found:
                reply["status"] = self._note_doubt(reply["id"], "sending was cut short", None)
        return found

    def mark_in_doubt(self, reply_id: int, error: str, retry_at: dt.datetime) -> str:
        """Note a send that may have arrived: the session broke after the message went out.

        The notice is queued once more (from ``retry_at``); one in doubt a second time,
        whether a crash or a broken session cut it short, is marked failed for a human, so
        that no notice goes out more than twice. Returns the notice's new status.
        """
        with self._transaction():
            return self._note_doubt(reply_id, error, retry_at)

    def _note_doubt(self, reply_id: int, error: str, retry_at: dt.datetime | None) -> str:
        again = self.db.execute("SELECT interrupted FROM replies WHERE id = ?",
                                [reply_id]).fetchone()[0] >= 1
        self.db.execute(
            "UPDATE replies SET status = ?, interrupted = interrupted + 1, "
            "attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
            ["failed" if again else "pending",
             None if again or retry_at is None else utc_text(retry_at),
             (f"{error}; cut short twice, it may have arrived: check before retrying" if again
              else f"{error}; it may have arrived: sent again once at most")[:500],
             reply_id])
        return "failed" if again else "pending"

    def hourly_cap(self, recipient_domain: str, now: dt.datetime, per_domain: int,
                   overall: int) -> tuple[dt.datetime, str] | None:
        """When a notice to ``recipient_domain`` may go out, if an hourly cap holds it now.

        Counts the notices sent in the hour before ``now``, to that domain (at most
        ``per_domain``) and in all (at most ``overall``). Returns the moment a place frees
        up and the setting that holds the notice back, or None when it may go now. Reads
        at most ``overall`` index entries, however large the register.
        """
        since = utc_text(now - HOUR)
        for condition, params, cap, setting in (
                ("", [], overall, "max_per_hour"),
                ("recipient_domain = ? AND ", [recipient_domain], per_domain,
                 "max_per_domain_per_hour")):
            # The cap-th most recent notice in the window: once it leaves, one may go.
            row = self.db.execute(
                f"SELECT sent_at FROM replies WHERE {condition}sent_at > ? "
                "ORDER BY sent_at DESC LIMIT 1 OFFSET ?", [*params, since, cap - 1]).fetchone()
            if row is not None:
                return dt.datetime.fromisoformat(row[0]) + HOUR, setting
        return None

    def postpone(self, waits: Iterable[tuple[int, dt.datetime, str]]) -> None:
        """Hold pending notices back until a moment, in one transaction: (id, until, why)."""
        with self._transaction():
            self.db.conn.executemany(
                "UPDATE replies SET next_attempt_at = ?, last_error = ? "
                "WHERE id = ? AND status = 'pending'",
                [(utc_text(until), why, reply_id) for reply_id, until, why in waits])

    def mark_sent(self, reply_id: int, now: dt.datetime) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE replies SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?", [utc_text(now), reply_id])

    def mark_attempt_failed(self, reply_id: int, error: str, permanent: bool,
                            retry_at: dt.datetime | None) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE replies SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ? WHERE id = ?",
                ["failed" if permanent else "pending", error[:500],
                 utc_text(retry_at) if retry_at else None, reply_id])

    def requeue(self, reply_id: int | None) -> int:
        """Put failed (or all unsent) notices back in the queue for an immediate retry.

        Without an id, notices that may have arrived twice already (cut short twice) stay
        failed: a human retries those one by one, having checked.
        """
        with self._transaction():
            if reply_id is None:
                cursor = self.db.execute(
                    "UPDATE replies SET status = 'pending', next_attempt_at = NULL "
                    "WHERE status IN ('pending', 'failed') AND interrupted < 2")
            else:
                cursor = self.db.execute(
                    "UPDATE replies SET status = 'pending', next_attempt_at = NULL "
                    "WHERE id = ? AND status != 'sent'", [reply_id])
            return cursor.rowcount

    def mark_moved(self, moves: Iterable[tuple[int, str | None]]) -> None:
        """Note (submission id, folder) pairs, in one transaction."""
        with self._transaction():
            self.db.conn.executemany(
                "UPDATE submissions SET moved_to = ? WHERE id = ?",
                [(folder, submission_id) for submission_id, folder in moves])

    def max_id(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM submissions").fetchone()[0]
