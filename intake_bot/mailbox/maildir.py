"""The embedded mailbox: a local Maildir, with Maildir++ sub-folders as outcome folders.

The delivery time that counts for the deadline is the file's modification time, which
the delivering agent sets when it writes the message (Dovecot reads it the same way).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from intake_bot.archive import fsync_dir
from intake_bot.mailbox.base import MailboxError, MailItem

SUBDIRS = ("tmp", "new", "cur")


class MaildirMailbox:
    """A Maildir inbox; ``move`` files a message into the Maildir++ folder ``.<name>``."""

    def __init__(self, path: Path, max_fetch_bytes: int = 25_000_000) -> None:
        self.path = path
        self.max_fetch_bytes = max_fetch_bytes
        try:
            for sub in SUBDIRS:
                (path / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise MailboxError(f"maildir {path}: cannot create: {error.strerror}") from None

    def pending(self) -> Iterator[MailItem]:
        """Every message in ``new/`` and ``cur/``, oldest delivery first."""
        entries = []
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as found:
                for entry in found:
                    if entry.is_file() and not entry.name.startswith("."):
                        entries.append((entry.stat().st_mtime, entry.name, sub))
        for mtime, name, sub in sorted(entries):
            path = self.path / sub / name
            try:
                size = path.stat().st_size
                complete = size <= self.max_fetch_bytes
                raw = path.read_bytes() if complete else _header_section(path)
            except FileNotFoundError:  # moved away by another reader meanwhile
                continue
            yield MailItem(key=f"{sub}/{name}", raw=raw, size=size, complete=complete,
                           received_at=dt.datetime.fromtimestamp(mtime, dt.UTC))

    def move(self, key: str, folder: str) -> None:
        """Move a message into ``.<folder>/cur`` with one atomic rename."""
        sub, _, name = key.partition("/")
        if sub not in ("new", "cur") or not name or "/" in name or name.startswith("."):
            raise MailboxError(f"maildir {self.path}: not a message key: {key!r}")
        target = self.folder_path(folder)
        for part in SUBDIRS:
            (target / part).mkdir(parents=True, exist_ok=True, mode=0o700)
        base = name.split(":", 1)[0]
        flags = name.split(":2,", 1)[1] if ":2," in name else ""
        source = self.path / sub / name
        if not source.exists():
            return  # already moved: moving is idempotent, as with IMAP
        os.replace(source, target / "cur" / f"{base}:2,{''.join(sorted(set(flags + 'S')))}")
        fsync_dir(target / "cur")
        fsync_dir(self.path / sub)

    def move_many(self, keys: Sequence[str], folder: str) -> None:
        """Move several messages into ``folder``, one rename each (a local rename is cheap)."""
        for key in keys:
            self.move(key, folder)

    def folder_path(self, folder: str) -> Path:
        """The Maildir++ folder for a name: ``Processed`` is ``.Processed``."""
        if not folder or "/" in folder or folder.startswith("."):
            raise MailboxError(f"maildir {self.path}: bad folder name {folder!r}")
        return self.path / f".{folder}"

    def connect(self) -> None:
        """A local folder is always reachable."""

    @property
    def supports_idle(self) -> bool:
        """A Maildir is polled."""
        return False

    def wait_for_mail(self, timeout_s: float) -> bool:
        """Nothing announces new files: always False (the service polls)."""
        return False

    def close(self) -> None:
        """Nothing to release."""


def _header_section(path: Path, limit: int = 1_000_000) -> bytes:
    """The header section of a message too large to read whole."""
    with path.open("rb") as handle:
        head = handle.read(limit)
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end != -1:
            return head[: end + len(separator)]
    return head
