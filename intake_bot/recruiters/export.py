"""A vacancy's candidates as a spreadsheet file that Excel and LibreOffice open cleanly.

UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the local code page and
mangles accented names), times in the vacancy's zone as ``YYYY-MM-DD HH:MM:SS`` (which
both read as dates), and every text cell that a spreadsheet would take for a formula
defused, since names and subjects are written by strangers.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from intake_bot.archive import FILE_MODE
from intake_bot.config import Config
from intake_bot.json_columns import json_list
from intake_bot.localtime import local_text, parse_utc
from intake_bot.recruiters.stats import check_vacancy
from intake_bot.register import Register

BOM = "\ufeff"
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_rows(config: Config, register: Register, vacancy_id: str,
                history: bool = False) -> list[dict[str, Any]]:
    """The vacancy's candidates, one row each, or with ``history`` every submission.

    A candidate (one sender address) is shown with the submission that counts: the
    accepted one when there is one (the register keeps at most one per candidate), else
    the latest. ``Submissions`` says how many the candidate sent in all. Rows are in
    order of arrival.
    """
    check_vacancy(config, register, vacancy_id)
    vacancy = config.vacancy(vacancy_id)
    zone = vacancy.timezone if vacancy else ZoneInfo("UTC")
    rows = register.submissions(vacancy=vacancy_id, order="received_at")
    by_candidate: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_candidate.setdefault(_candidate(row), []).append(row)
    if history:
        chosen = rows
    else:
        chosen = sorted((_counting(group) for group in by_candidate.values()),
                        key=lambda row: (row["received_at"], row["id"]))
    return [_export_row(row, zone, len(by_candidate[_candidate(row)])) for row in chosen]


def _candidate(row: dict[str, Any]) -> str:
    """Who sent it: the address, case-insensitive; a purged row, having none, stands alone."""
    return (row["sender"] or "").lower() or f"#{row['id']}"


def _counting(group: list[dict[str, Any]]) -> dict[str, Any]:
    accepted = [row for row in group if row["status"] == "accepted"]
    return accepted[-1] if accepted else group[-1]


def _export_row(row: dict[str, Any], zone: ZoneInfo, submissions: int) -> dict[str, Any]:
    return {
        "Reference": row["reference"],
        "Status": row["status"],
        f"Received ({zone.key})": local_text(parse_utc(row["received_at"]), zone),
        "Name": row["sender_name"],
        "E-mail": row["sender"],
        "Reply to": row["reply_to"],
        "Subject": row["subject"],
        "Reasons": ", ".join(json_list(row["reasons"])),
        "Flags": ", ".join(json_list(row["flags"])),
        "Document": row["document_name"],
        "Type": row["document_type"],
        "Pages": row["document_pages"],
        "Bytes": row["document_bytes"],
        "Documents": len(json_list(row["attachments"])),
        "Submissions": submissions,
        "Register id": row["id"],
        "Superseded by": row["superseded_by"],
    }


def to_csv(rows: Sequence[dict[str, Any]], delimiter: str = ",") -> bytes:
    """The rows as CSV bytes: UTF-8 with a BOM, CRLF line ends, formulas defused."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows({key: _defused(value) for key, value in row.items()} for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")


def _defused(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, shown as text instead."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_json(rows: Sequence[dict[str, Any]]) -> bytes:
    """The rows as a JSON array (UTF-8), for scripts rather than spreadsheets."""
    return (json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_private(path: Path, data: bytes) -> None:
    """Write an export readable by its owner only: it holds candidates' personal data."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
