"""Read back what a test deployment produced: register rows and the notices it wrote."""

from __future__ import annotations

import email
import email.policy
import sqlite3
from email.message import EmailMessage
from typing import Any


def _query(project: Any, sql: str) -> list[dict[str, Any]]:
    db = sqlite3.connect(project.config.register_path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(sql)]
    finally:
        db.close()


def rows(project: Any) -> list[dict[str, Any]]:
    """Every submission, in order."""
    return _query(project, "SELECT * FROM submissions ORDER BY id")


def replies(project: Any) -> list[dict[str, Any]]:
    """Every queued notice, in order."""
    return _query(project, "SELECT * FROM replies ORDER BY id")


def notices(project: Any) -> list[EmailMessage]:
    """The notices written to the embedded outbox, parsed back."""
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in project.notices()]
