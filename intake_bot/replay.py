"""Replay quarantined messages from the archive once the cause of their failure is fixed.

``intake-bot replay ID`` and ``intake-bot replay --all`` read each quarantined message's
archived raw bytes (checked against the recorded SHA-256), put them through the same
pipeline as a new message, and record the outcome in place of the quarantined row,
keeping its id, with its notice, in one transaction; the notice is then sent. A replayed
submission is no longer quarantined, so replaying it again, or the same message arriving
again, changes nothing and sends nothing. The message itself stays in the quarantine
folder of the mailbox, where the cycle filed it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from intake_bot.archive import Archive, OutsideDocuments, sha256
from intake_bot.clock import Clock, now_utc
from intake_bot.config import Config
from intake_bot.decide import Inspector
from intake_bot.documents import inspect_document
from intake_bot.json_columns import json_list
from intake_bot.mailbox import MailItem
from intake_bot.pipeline import Intake, open_intake
from intake_bot.scan import ClamdUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayOutcome:
    """What replaying one submission did, as one line for the operator."""

    submission_id: int
    replayed: bool  # False: nothing was replayed, or it broke a step again
    line: str


def replay(config: Config, submission_ids: Sequence[int] | None = None,
           inspect: Inspector = inspect_document,
           clock: Clock = now_utc) -> list[ReplayOutcome]:
    """Replay the given quarantined submissions, or every quarantined one when None."""
    with open_intake(config, inspect, clock) as intake:
        if submission_ids is None:
            submission_ids = [row["id"] for row in intake.register.submissions(
                status="quarantined")]
        return [_replay_one(intake, submission_id) for submission_id in submission_ids]


def _replay_one(intake: Intake, submission_id: int) -> ReplayOutcome:
    row = intake.register.submission(submission_id)
    if row is None:
        return ReplayOutcome(submission_id, False, f"#{submission_id}: no such submission")
    if row["status"] != "quarantined":
        return ReplayOutcome(submission_id, False, f"#{submission_id}: {row['status']}, "
                             "not quarantined: nothing to replay")
    item = _archived_item(intake.archive, row)
    if isinstance(item, str):
        return ReplayOutcome(submission_id, False, f"#{submission_id}: cannot replay: {item}")
    try:
        new_row, new = intake.register_message(item, replacing=row)
    except ClamdUnavailable as error:
        return ReplayOutcome(submission_id, False, f"#{submission_id}: not replayed, "
                             f"left quarantined: {error}")
    if not new:
        return ReplayOutcome(submission_id, False, f"#{submission_id}: the same message is "
                             f"registered as #{new_row['id']}: left quarantined")
    counts = intake.send_due(submission_id=new_row["id"])
    notice = ("notice sent" if counts.sent else "notice not sent (will retry)" if counts.retrying
              else "notice waiting for an hourly cap" if counts.waiting
              else "notice failed (see `replies retry`)" if counts.failed else "no notice")
    reasons = ", ".join(json_list(new_row["reasons"])) or "no reasons"
    line = (f"#{submission_id} {new_row['message_id'] or '(no Message-ID)'}: quarantined -> "
            f"{new_row['status']} {new_row['reference'] or '-'} ({reasons}); {notice}")
    logger.info("replayed %s", line)
    return ReplayOutcome(submission_id, new_row["status"] != "quarantined", line)


def _archived_item(archive: Archive, row: dict[str, Any]) -> MailItem | str:
    """The quarantined message as the mailbox gave it, rebuilt from the archive (or why not)."""
    name = row["raw_path"]
    if not name:
        return "no archived message (purged)"
    try:
        raw = archive.resolve(name).read_bytes()
    except OutsideDocuments as error:
        return f"archived message {error}"
    except OSError as error:
        return f"archived message {name}: {error.strerror or error}"
    if sha256(raw) != row["raw_sha256"]:
        return f"archived message {name} has changed since it was archived"
    return MailItem(key=row["mailbox_key"] or f"archive:{row['raw_sha256']}", raw=raw,
                    received_at=dt.datetime.fromisoformat(row["received_at"]),
                    size=row["raw_bytes"], complete=len(raw) == row["raw_bytes"])
