"""The embedded mailbox: a local Maildir, with Maildir++ sub-folders as outcome folders.

The delivery time that counts for the deadline is the file's modification time, which
the delivering agent sets when it writes the message (Dovecot reads it the same way).

Nothing inside the Maildir is followed through a symbolic link: whoever can write there
could otherwise make the bot read, archive and answer any file it can read (a link to
``/etc/shadow``), or file mail outside the Maildir (a ``.Processed`` link). Messages are
opened with ``O_NOFOLLOW`` relative to their folder's descriptor; a link (or a FIFO, a
device) waiting in the inbox is moved, unread, into the quarantine folder with a warning;
a sub-folder that is a link is refused.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from intake_bot.mailbox.base import MailboxError, MailItem

logger = logging.getLogger(__name__)

SUBDIRS = ("tmp", "new", "cur")
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the listing must not hang the open.
_MESSAGE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class MaildirMailbox:
    """A Maildir inbox; ``move`` files a message into the Maildir++ folder ``.<name>``.

    ``quarantine_folder`` is where a symbolic link or special file found in the inbox is
    set aside, unread.
    """

    def __init__(self, path: Path, max_fetch_bytes: int = 25_000_000,
                 quarantine_folder: str = "Quarantine") -> None:
        self.path = path
        self.max_fetch_bytes = max_fetch_bytes
        self.quarantine_folder = quarantine_folder
        try:
            for sub in SUBDIRS:
                (path / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise MailboxError(f"maildir {path}: cannot create: {error.strerror}") from None

    def pending(self) -> Iterator[MailItem]:
        """Every message in ``new/`` and ``cur/``, oldest delivery first.

        Only regular files are read; links and special files are set aside unread.
        """
        entries, aside = [], []
        for sub in ("new", "cur"):
            with self._folder(sub) as folder, os.scandir(folder) as found:
                for entry in found:
                    if entry.name.startswith(".") or entry.is_dir(follow_symlinks=False):
                        continue
                    if entry.is_file(follow_symlinks=False):
                        entries.append((entry.stat(follow_symlinks=False).st_mtime, entry.name,
                                        sub))
                    else:
                        aside.append((sub, entry.name))
        for sub, name in aside:
            self._set_aside(sub, name)
        for _, name, sub in sorted(entries):
            item = self._read(sub, name)
            if item is not None:
                yield item

    def _read(self, sub: str, name: str) -> MailItem | None:
        """Read one message without following a link; None when it is gone or not a file."""
        with self._folder(sub) as folder:
            try:
                descriptor = os.open(name, _MESSAGE, dir_fd=folder)
            except FileNotFoundError:  # moved away by another reader meanwhile
                return None
            except OSError as error:
                if error.errno != errno.ELOOP:
                    raise
                self._set_aside(sub, name)  # became a link since the listing
                return None
        with open(descriptor, "rb") as handle:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                self._set_aside(sub, name)
                return None
            complete = status.st_size <= self.max_fetch_bytes
            raw = handle.read() if complete else _header_section(handle)
        return MailItem(key=f"{sub}/{name}", raw=raw, size=status.st_size, complete=complete,
                        received_at=dt.datetime.fromtimestamp(status.st_mtime, dt.UTC))

    def _set_aside(self, sub: str, name: str) -> None:
        """Move a link or special file, never what it points to, into the quarantine folder."""
        try:
            self.move(f"{sub}/{name}", self.quarantine_folder)
        except MailboxError as error:
            logger.warning("maildir %s: %s/%s is not a regular file (a symbolic link, FIFO or "
                           "device): left unread where it is (%s)", self.path, sub, name, error)
            return
        logger.warning("maildir %s: %s/%s is not a regular file (a symbolic link, FIFO or "
                       "device): moved unread to %s", self.path, sub, name, self.quarantine_folder)

    def move(self, key: str, folder: str) -> None:
        """Move a message into ``.<folder>/cur`` with one atomic rename.

        Raises :class:`MailboxError` when ``.<folder>`` (or its ``cur``) is a symbolic link.
        """
        sub, _, name = key.partition("/")
        if sub not in ("new", "cur") or not name or "/" in name or name.startswith("."):
            raise MailboxError(f"maildir {self.path}: not a message key: {key!r}")
        base = name.split(":", 1)[0]
        flags = name.split(":2,", 1)[1] if ":2," in name else ""
        with self._folder(sub) as source, self._folder(self._folder_name(folder), "cur",
                                                       create=True) as target:
            try:
                os.replace(name, f"{base}:2,{''.join(sorted(set(flags + 'S')))}",
                           src_dir_fd=source, dst_dir_fd=target)
            except FileNotFoundError:
                return  # already moved: moving is idempotent, as with IMAP
            os.fsync(target)
            os.fsync(source)

    def move_many(self, keys: Sequence[str], folder: str) -> None:
        """Move several messages into ``folder``, one rename each (a local rename is cheap)."""
        for key in keys:
            self.move(key, folder)

    def folder_path(self, folder: str) -> Path:
        """The Maildir++ folder for a name: ``Processed`` is ``.Processed``."""
        return self.path / self._folder_name(folder)

    def _folder_name(self, folder: str) -> str:
        if not folder or "/" in folder or folder.startswith("."):
            raise MailboxError(f"maildir {self.path}: bad folder name {folder!r}")
        return f".{folder}"

    @contextmanager
    def _folder(self, *names: str, create: bool = False) -> Iterator[int]:
        """A descriptor of a folder inside the Maildir, reached without following a link.

        ``create`` makes a missing Maildir++ folder with its ``tmp``, ``new`` and ``cur``.
        """
        descriptor = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for depth, name in enumerate(names):
                shown = self.path / Path(*names[: depth + 1])
                if create:
                    children = SUBDIRS if depth == 0 and len(names) > 1 else ()
                    _make_folder(descriptor, name, children, shown)
                inner = _open_folder(descriptor, name, shown)
                os.close(descriptor)
                descriptor = inner
            yield descriptor
        finally:
            os.close(descriptor)

    def connect(self) -> str:
        """A local folder is always reachable; nobody signs in."""
        return ""

    @property
    def supports_idle(self) -> bool:
        """A Maildir is polled."""
        return False

    def wait_for_mail(self, timeout_s: float) -> bool:
        """Nothing announces new files: always False (the service polls)."""
        return False

    def close(self) -> None:
        """Nothing to release."""


def _open_folder(parent: int, name: str, shown: Path) -> int:
    try:
        return os.open(name, _DIRECTORY, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise MailboxError(f"maildir {shown}: is a symbolic link or not a folder; "
                               "mail is never read or filed through a link") from None
        raise MailboxError(f"maildir {shown}: cannot open: {error.strerror}") from None


def _make_folder(parent: int, name: str, children: Sequence[str], shown: Path) -> None:
    """Make ``name`` (and its ``children``) under ``parent`` when missing; never through a link."""
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        pass
    except OSError as error:
        raise MailboxError(f"maildir {shown}: cannot create: {error.strerror}") from None
    if not children:
        return
    folder = _open_folder(parent, name, shown)
    try:
        for child in children:
            _make_folder(folder, child, (), shown / child)
    finally:
        os.close(folder)


def _header_section(handle: BinaryIO, limit: int = 1_000_000) -> bytes:
    """The header section of a message too large to read whole."""
    head = handle.read(limit)
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end != -1:
            return head[: end + len(separator)]
    return head
