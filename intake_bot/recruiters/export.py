"""A vacancy's candidates as a spreadsheet file that Excel and LibreOffice open cleanly.

UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the local code page and
mangles accented names), times in the vacancy's zone as ``YYYY-MM-DD HH:MM:SS`` (which
both read as dates), and every text cell that a spreadsheet would take for a formula
defused, since names and subjects are written by strangers. Rows are streamed from the
register (constant memory at any size); files are written owner-only, by default under
the register's own folder (``exports/``), never into the folder the command runs in.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from intake_bot.archive import FILE_MODE, make_private_dirs
from intake_bot.config import Config
from intake_bot.localtime import LocalTimes
from intake_bot.output import write_json_array
from intake_bot.recruiters.filters import check_vacancy
from intake_bot.register import LATEST_NOTICE, Register

BOM = "\ufeff"
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The columns of an export and the SQL of each: SQLite makes the lists and counts, so
#: that Python touches each row once (the time column, converted to local time).
COLUMNS = (
    ("Reference", "reference"),
    ("Status", "status"),
    ("Received ({zone})", "received_at"),
    ("Name", "sender_name"),
    ("E-mail", "sender"),
    ("Reply to", "reply_to"),
    ("Subject", "subject"),
    ("Reasons", "(SELECT group_concat(value, ', ') FROM json_each(reasons))"),
    ("Flags", "(SELECT group_concat(value, ', ') FROM json_each(flags))"),
    # Whether the candidate was told: the latest notice's status (a bounced or failed one
    # never reached them), or why none was sent.
    ("Notice", f"COALESCE({LATEST_NOTICE.format('status')}, 'not sent: ' || notice_skipped)"),
    ("Document", "document_name"),
    ("Type", "document_type"),
    ("Pages", "document_pages"),
    ("Bytes", "document_bytes"),
    ("Documents", "json_array_length(attachments)"),
    ("Submissions", "submissions_sent"),
    ("Register id", "id"),
    ("Superseded by", "superseded_by"),
)
RECEIVED = 2  # the position of the time column
#: Text that strangers wrote, which a spreadsheet could take for a formula.
STRANGERS_TEXT = ("sender_name", "sender", "reply_to", "subject", "document_name")

#: One candidate is one sender address, case-insensitive; a purged row, having none,
#: stands alone. ``pick`` is 1 for the submission that counts: the latest accepted one
#: (the register keeps at most one per candidate), else the latest.
_CANDIDATES = """
    SELECT *, COUNT(*) OVER candidate AS submissions_sent,
           ROW_NUMBER() OVER (candidate ORDER BY status = 'accepted' DESC, received_at DESC,
                                                 id DESC) AS pick
    FROM submissions WHERE vacancy_id = ?
    WINDOW candidate AS (PARTITION BY COALESCE(NULLIF(lower(sender), ''), '#' || id))"""


@dataclass(frozen=True)
class Export:
    """An export being read: its column names, and its rows (tuples) as they come."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


def export_rows(config: Config, register: Register, vacancy_id: str, history: bool = False,
                defuse: bool = False) -> Export:
    """The vacancy's candidates, one row each, or with ``history`` every submission.

    A candidate is shown with the submission that counts: the accepted one when there
    is one, else the latest; ``Submissions`` says how many the candidate sent in all.
    Rows are in order of arrival, read from the register as they are used, times in the
    vacancy's zone. ``defuse`` prefixes with ``'`` the cells of strangers' text that a
    spreadsheet would run as formulas (for CSV).
    """
    check_vacancy(config, register, vacancy_id)
    vacancy = config.vacancy(vacancy_id)
    zone = vacancy.timezone if vacancy else ZoneInfo("UTC")
    selected = ", ".join(_defused(sql) if defuse and sql in STRANGERS_TEXT else sql
                         for _, sql in COLUMNS)
    where = "" if history else "WHERE pick = 1"
    cursor = register.db.execute(
        f"SELECT {selected} FROM ({_CANDIDATES}) AS submissions {where} "
        "ORDER BY received_at, id", [vacancy_id])
    local = LocalTimes(zone)
    rows = ((*row[:RECEIVED], local.text(row[RECEIVED]), *row[RECEIVED + 1:]) for row in cursor)
    return Export([name.format(zone=zone.key) for name, _ in COLUMNS], rows)


def _defused(column: str) -> str:
    """SQL for a text column with a leading ``'`` where a spreadsheet would see a formula."""
    starts = ", ".join(f"char({ord(c)})" for c in FORMULA_STARTS)
    return f"CASE WHEN substr({column}, 1, 1) IN ({starts}) THEN '''' || {column} ELSE {column} END"


def write(export: Export, fmt: str, out: IO[bytes], delimiter: str = ",") -> int:
    """Write the export as ``csv`` or ``json``; returns the rows written."""
    return write_csv(export, out, delimiter) if fmt == "csv" else write_json(export, out)


def write_csv(export: Export, out: IO[bytes], delimiter: str = ",") -> int:
    """Write the export as CSV (UTF-8 with a BOM, CRLF line ends); returns the rows written.

    Read the export with ``defuse=True``, so that strangers' text opens as text.
    """
    with _Utf8Text(out) as text:
        text.write(BOM)
        writer = csv.writer(text, delimiter=delimiter)
        writer.writerow(export.columns)
        count = 0
        for row in export.rows:
            writer.writerow(row)
            count += 1
    return count


def write_json(export: Export, out: IO[bytes]) -> int:
    """Write the export as a JSON array of objects (UTF-8), for scripts; returns the rows."""
    with _Utf8Text(out) as text:
        return write_json_array(
            (dict(zip(export.columns, row, strict=True)) for row in export.rows), text)


class _Utf8Text(io.TextIOWrapper):
    """UTF-8 text over a binary stream, buffered, that leaves the stream open on exit."""

    def __init__(self, out: IO[bytes]) -> None:
        super().__init__(out, encoding="utf-8", newline="")  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.detach()


def default_output(config: Config, name: str) -> Path:
    """Where a recruiter's file goes unless ``--output`` says otherwise: ``exports/`` beside
    the register, which holds the same personal data and is kept out of any work tree."""
    folder = config.register_path.parent / "exports"
    make_private_dirs(folder)
    return folder / name


def open_private(path: Path) -> IO[bytes]:
    """A new file readable by its owner only: an export holds candidates' personal data."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    return os.fdopen(descriptor, "wb")
