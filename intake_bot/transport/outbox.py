"""The embedded transport: each notice becomes an ``.eml`` file in a local folder."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from intake_bot.archive import FILE_MODE, fsync_dir, make_private_dirs
from intake_bot.transport.base import TemporaryFailure, message_id_of

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxTransport:
    """Writes each message atomically as ``<message-id>.eml``; a resend overwrites it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        """Write one message; disk errors are temporary failures, retried next cycle."""
        name = _UNSAFE.sub("_", message_id_of(message)).strip("._")[:150] or "notice"
        try:
            make_private_dirs(self.path)
            temporary = self.path / f".{name}.tmp"
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(message)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path / f"{name}.eml")
            fsync_dir(self.path)
        except OSError as error:
            raise TemporaryFailure(f"outbox {self.path}: {error.strerror}") from None

    def connect(self) -> str:
        """A local folder is always reachable; nobody signs in."""
        return ""

    def close(self) -> None:
        """Nothing to release."""

