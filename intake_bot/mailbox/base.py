"""The mailbox edge: what the pipeline needs from any mailbox (IMAP or a local Maildir)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class MailboxError(Exception):
    """A mailbox could not be reached or used; the message is one line, safe to log."""


@dataclass(frozen=True)
class MailItem:
    """One message waiting in the inbox.

    ``key`` identifies the message inside its mailbox for :meth:`Mailbox.move`
    (``"imap:<uidvalidity>:<uid>"`` or ``"maildir:<key>"``). ``received_at`` is the time
    the receiving server accepted it (IMAP INTERNALDATE, Maildir delivery time), always
    timezone-aware UTC. ``raw`` holds the message bytes; when the message is larger than
    the fetch limit, ``complete`` is false and ``raw`` holds only its header section.
    """

    key: str
    raw: bytes
    received_at: datetime
    size: int
    complete: bool = True


class Mailbox(Protocol):
    """A source of incoming messages with outcome folders."""

    def pending(self) -> Iterator[MailItem]:
        """Yield every message waiting in the inbox, oldest first, fetched in bounded batches."""
        ...

    def move(self, key: str, folder: str) -> None:
        """Move one message out of the inbox into ``folder``, creating it when missing."""
        ...

    def move_many(self, keys: Sequence[str], folder: str) -> None:
        """Move several messages of one listing into ``folder`` at once, as :meth:`move` does."""
        ...

    def connect(self) -> str:
        """Reach the mailbox now (sign in), e.g. to check a configuration; say who signed in."""
        ...

    @property
    def supports_idle(self) -> bool:
        """Whether :meth:`wait_for_mail` is told of new mail by the server (IMAP IDLE)."""
        ...

    def wait_for_mail(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for new mail; True when some arrived."""
        ...

    def close(self) -> None:
        """Release connections and locks."""
        ...
