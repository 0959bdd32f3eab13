"""Check that the register is sound and that every file it names is on disk, unchanged.

``intake-bot register check`` runs :func:`check_register`: SQLite's own integrity and
foreign-key checks, then, for every submission, the archived raw message and each stored
document, hashed again and compared with the SHA-256 the register recorded. A file that
is missing, changed, or outside the ``documents`` folder is a problem (the register names
files under that folder: see :meth:`~intake_bot.archive.Archive.resolve`); so is a
database that SQLite cannot read.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake_bot.archive import Archive, OutsideDocuments
from intake_bot.config import Config
from intake_bot.json_columns import json_list

_CHUNK = 1 << 20


@dataclass
class CheckReport:
    """What :func:`check_register` found: counts for the summary and one line per problem."""

    register_path: Path
    archive: Archive
    submissions: int = 0
    raw_files: int = 0
    documents: int = 0
    replies: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary, then ``problem: ...`` lines; the last line says whether all is well."""
        notices = ", ".join(f"{n} {status}" for status, n in sorted(self.replies.items()))
        lines = [
            f"register: {self.register_path}",
            f"submissions: {self.submissions}; notices: {sum(self.replies.values())}"
            + (f" ({notices})" if notices else ""),
            (f"files: {self.raw_files} raw messages and {self.documents} documents checked "
             f"under {self.archive.root}"),
        ]
        lines += [f"problem: {problem}" for problem in self.problems]
        count = len(self.problems)
        lines.append(f"{count} problem{'s' if count != 1 else ''} found" if count else "register OK")
        return lines


def check_register(config: Config) -> CheckReport:
    """Check the configured register and the archive it points into; never raises."""
    report = CheckReport(config.register_path, Archive(config.documents_path))
    path = config.register_path
    if not path.is_file():
        report.problems.append(f"{path}: the register does not exist")
        return report
    try:
        db = sqlite3.connect(path)
    except sqlite3.Error as error:
        report.problems.append(f"{path}: cannot open: {error}")
        return report
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA query_only = ON")
        _check_database(db, report)
        if not report.problems:
            _check_files(db, report)
    except sqlite3.Error as error:
        report.problems.append(f"{path}: not a readable SQLite register: {error}")
    finally:
        db.close()
    return report


def _check_database(db: sqlite3.Connection, report: CheckReport) -> None:
    for (message,) in db.execute("PRAGMA integrity_check"):
        if message != "ok":
            report.problems.append(f"{report.register_path}: integrity: {message}")
    for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check"):
        report.problems.append(f"{report.register_path}: {table} row {rowid} points to a "
                               f"missing {parent} row")


def _check_files(db: sqlite3.Connection, report: CheckReport) -> None:
    report.replies.update(row["status"] for row in db.execute("SELECT status FROM replies"))
    for row in db.execute("SELECT * FROM submissions ORDER BY id"):
        report.submissions += 1
        where = f"submission {row['id']}"
        if row["raw_path"]:
            report.raw_files += 1
            _check_file(report, f"{where}: raw message", row["raw_path"], row["raw_sha256"])
        for document in _documents(row):
            report.documents += 1
            # A file kept apart by the virus scan is checked where it is kept.
            _check_file(report, f"{where}: document", document.get("path")
                        or document.get("quarantine"), document.get("sha256"))


def _documents(row: sqlite3.Row) -> list[dict[str, Any]]:
    """Every document of a submission: its ``attachments``, and the primary one if apart."""
    try:
        documents = [d for d in json_list(row["attachments"]) if isinstance(d, dict)]
    except json.JSONDecodeError:
        documents = []
    if row["document_path"] and row["document_path"] not in {d.get("path") for d in documents}:
        documents.append({"path": row["document_path"], "sha256": row["document_sha256"]})
    return documents


def _check_file(report: CheckReport, what: str, name: str | None, expected: str | None) -> None:
    """Hash the file the register names ``name``; problems name it as the register does."""
    if not name:
        report.problems.append(f"{what}: no path recorded")
        return
    try:
        digest = _sha256(report.archive.resolve(name))
    except OutsideDocuments:
        report.problems.append(f"{what} {name} is outside the documents folder")
        return
    except FileNotFoundError:
        report.problems.append(f"{what} {name} is missing")
        return
    except OSError as error:
        report.problems.append(f"{what} {name}: cannot read: {error.strerror}")
        return
    if digest != expected:
        report.problems.append(f"{what} {name} has changed (SHA-256 {digest[:12]}…, "
                               f"recorded {(expected or 'none')[:12]}…)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
