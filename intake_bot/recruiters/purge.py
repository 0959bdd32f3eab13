"""Retention: delete candidates' files and blank their personal data, keeping the counts.

A purged submission keeps what is anonymous (vacancy, status, reasons, flags, dates,
document type, size and pages) so that statistics still add up, and loses the rest: its
document and raw message files, sender, name, addresses, subject, Message-ID, file names
and paths, and its notices' recipient and content. Only files that the register names and
that lie under ``[register] documents`` are deleted; a file that a submission outside
the purge also names (the same PDF sent twice) stays. Every purge writes a row in the
``purges`` audit table.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake_bot.archive import Archive, OutsideDocuments
from intake_bot.clock import utc_text
from intake_bot.config import Config
from intake_bot.json_columns import json_list
from intake_bot.lock import CycleBusy, cycle_lock
from intake_bot.recruiters.errors import RecruiterError
from intake_bot.recruiters.filters import check_vacancy
from intake_bot.recruiters.stats import plural
from intake_bot.register import Register

logger = logging.getLogger(__name__)

#: What the retention task records as the actor of the purges it makes.
SERVICE_ACTOR = "intake-bot service"

_BLANK_SUBMISSIONS = """
    UPDATE submissions SET
        sender = NULL, sender_name = NULL, reply_to = NULL, subject = NULL,
        message_id = NULL, document_name = NULL, document_path = NULL,
        document_sha256 = NULL, raw_path = NULL, raw_sha256 = '', error = NULL,
        dedup_key = 'purged:' || id,
        attachments = (SELECT COALESCE(json_group_array(json_object(
                           'type', json_extract(value, '$.type'),
                           'bytes', json_extract(value, '$.bytes'),
                           'pages', json_extract(value, '$.pages'))), '[]')
                       FROM json_each(submissions.attachments)),
        purged_at = ?
    WHERE {where}"""
_BLANK_REPLIES = """
    UPDATE replies SET recipient = '', recipient_key = '', recipient_domain = '', content = X'',
        last_error = NULL
    WHERE submission_id IN (SELECT id FROM submissions WHERE {where})"""


@dataclass(frozen=True)
class Criteria:
    """Which submissions a purge takes: a vacancy's, those received before a time, or both."""

    vacancy: str | None = None
    before: dt.datetime | None = None  # aware

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition (never-purged rows only) and its parameters."""
        clauses, params = ["purged_at IS NULL"], []
        if self.vacancy is not None:
            clauses.append("vacancy_id = ?")
            params.append(self.vacancy)
        if self.before is not None:
            clauses.append("received_at < ?")
            params.append(utc_text(self.before))
        return " AND ".join(clauses), params

    def as_json(self) -> str:
        return json.dumps({"vacancy": self.vacancy,
                           "before": utc_text(self.before) if self.before else None})


@dataclass
class PurgeOutcome:
    """What a purge took (or, dry, would take)."""

    criteria: Criteria
    dry_run: bool
    references: list[str] = field(default_factory=list)  # or ``#<id>`` for rows without one
    replies: int = 0
    files: list[Path] = field(default_factory=list)      # deleted, or to delete
    kept: list[Path] = field(default_factory=list)       # shared, or outside the documents
    bytes: int = 0
    audit_id: int | None = None

    def line(self) -> str:
        """``purged 3 submissions, 3 notices, 6 files (1,234 bytes); ...; audit #2``."""
        verb = "would purge" if self.dry_run else "purged"
        text = (f"{verb} {plural(len(self.references), 'submission')}, "
                f"{plural(self.replies, 'notice')}, {plural(len(self.files), 'file')} "
                f"({self.bytes:,} bytes)")
        if self.kept:
            text += (f"; {plural(len(self.kept), 'file')} kept (named by a submission that "
                     "stays, or outside the documents folder)")
        if self.audit_id is not None:
            text += f"; audit #{self.audit_id}"
        return text


def current_user() -> str:
    """Who runs the command, for the audit row (the login name, else the uid)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def plan_purge(config: Config, register: Register, criteria: Criteria,
               now: dt.datetime) -> PurgeOutcome:
    """What :func:`purge` would take, touching nothing (the dry run)."""
    _check(config, register, criteria, now)
    return _plan(config, register, criteria, dry_run=True)


def purge(config: Config, register: Register, criteria: Criteria, *, actor: str,
          command: str, now: dt.datetime) -> PurgeOutcome:
    """Purge the submissions that match ``criteria`` and record it in the audit table.

    Raises :class:`RecruiterError` when no criterion is given, the vacancy is unknown, or
    it is still open (purging it would lose applications that are still coming in), and
    :class:`~intake_bot.lock.CycleBusy` while a cycle runs: it holds the cycle lock, since a
    cycle stores documents before it records the submission that names them.
    """
    _check(config, register, criteria, now)
    with cycle_lock(config.register_path), register.transaction():
        # The audit row comes first: writing takes the register's write lock, so the plan
        # read below is exactly what gets purged even while the service is recording.
        audit_id = int(register.db.table("purges").insert({  # type: ignore[arg-type]
            "purged_at": utc_text(now), "actor": actor, "command": command,
            "criteria": criteria.as_json()}).last_pk)
        outcome = _plan(config, register, criteria, dry_run=False)
        # Files go before the rows are blanked: should the transaction then fail, the
        # rows still name the files and a second purge finishes the job.
        outcome.files, outcome.bytes = _delete(outcome.files)
        where, params = criteria.where()
        register.db.execute(_BLANK_REPLIES.format(where=where), params)
        register.db.execute(_BLANK_SUBMISSIONS.format(where=where), [utc_text(now), *params])
        register.db.table("purges").update(audit_id, {
            "submissions": len(outcome.references), "replies": outcome.replies,
            "files_deleted": len(outcome.files), "bytes_deleted": outcome.bytes,
            "files_kept": len(outcome.kept)})
        outcome.audit_id = audit_id
    logger.info("%s by %s (%s): %s", command, actor, criteria.as_json(), outcome.line())
    return outcome


def apply_retention(config: Config, register: Register, now: dt.datetime) -> list[PurgeOutcome]:
    """Purge every vacancy whose ``retention_days`` after its deadline have passed.

    Meant to run once per cycle: a vacancy with nothing left to purge costs one count
    and writes no audit row. While another process runs a cycle, the purge waits for the
    next one.
    """
    outcomes = []
    for vacancy in config.vacancies:
        due = vacancy.purge_due_at()
        criteria = Criteria(vacancy=vacancy.id)
        if due is None or now < due or not _count(register, criteria):
            continue
        try:
            outcomes.append(purge(config, register, criteria, actor=SERVICE_ACTOR,
                                  command=f"retention: {vacancy.retention_days} days after "
                                          "the deadline", now=now))
        except CycleBusy:
            logger.info("retention of %s waits for the next cycle: a cycle is running", vacancy.id)
            break
    return outcomes


def _check(config: Config, register: Register, criteria: Criteria, now: dt.datetime) -> None:
    if criteria.vacancy is None and criteria.before is None:
        raise RecruiterError("say what to purge: --vacancy ID, --before DATE, or both")
    if criteria.vacancy is None:
        return
    check_vacancy(config, register, criteria.vacancy)
    vacancy = config.vacancy(criteria.vacancy)
    if vacancy is not None and vacancy.is_open(now):
        raise RecruiterError(f"vacancy {vacancy.id} is still open (applications are still "
                             "coming in); purge it after its deadline")


def _count(register: Register, criteria: Criteria) -> int:
    where, params = criteria.where()
    return register.db.execute(f"SELECT COUNT(*) FROM submissions WHERE {where}",
                               params).fetchone()[0]


def _plan(config: Config, register: Register, criteria: Criteria,
          dry_run: bool) -> PurgeOutcome:
    where, params = criteria.where()
    outcome = PurgeOutcome(criteria, dry_run)
    taken = list(register.db.query(
        f"SELECT id, reference, document_path, raw_path, attachments FROM submissions "
        f"WHERE {where} ORDER BY id", params))
    outcome.references = [row["reference"] or f"#{row['id']}" for row in taken]
    outcome.replies = register.db.execute(
        f"SELECT COUNT(*) FROM replies WHERE submission_id IN "
        f"(SELECT id FROM submissions WHERE {where})", params).fetchone()[0]
    taken_ids = {row["id"] for row in taken}
    archive = Archive(config.documents_path)
    staying = {path for row in register.db.query(
        "SELECT id, document_path, raw_path, attachments FROM submissions "
        "WHERE purged_at IS NULL") if row["id"] not in taken_ids
        for path in _files_of(archive, row)}
    for path in sorted({path for row in taken for path in _files_of(archive, row)}):
        if path in staying or not path.is_relative_to(archive.root):
            outcome.kept.append(path)
        elif path.is_file():
            outcome.files.append(path)
            outcome.bytes += path.stat().st_size
    return outcome


def _files_of(archive: Archive, row: dict[str, Any]) -> Iterator[Path]:
    """Every file a submission names, resolved (so a link cannot lead out of the documents);
    one that lies outside the documents folder, as the register names it."""
    names = [row["document_path"], row["raw_path"],
             *(entry.get(key) for entry in json_list(row["attachments"])
               for key in ("path", "quarantine"))]
    for name in names:
        if name:
            try:
                yield archive.resolve(name)
            except OutsideDocuments:
                yield Path(name)


def _delete(paths: list[Path]) -> tuple[list[Path], int]:
    deleted, size = [], 0
    for path in paths:
        try:
            length = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        deleted.append(path)
        size += length
    return deleted, size
