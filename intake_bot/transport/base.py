"""What the pipeline needs from any way of sending a notice, and how sending fails."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol


class TemporaryFailure(Exception):
    """The notice could not be sent now (4xx, connection refused, timeout): try again later."""


class ServerUnavailable(TemporaryFailure):
    """The server cannot be reached, secured or logged in to: nothing can be sent now."""


class PossiblyDelivered(TemporaryFailure):
    """The whole message went out but the server's answer never came (the connection broke
    or timed out after the final ``.``): the server may have queued it, so sending it again
    may deliver a second copy. The pipeline sends such a notice again at most once."""


class PermanentFailure(Exception):
    """The notice was refused for good (5xx): do not try again automatically."""


class Transport(Protocol):
    """Sends rendered notices; one open transport serves a whole cycle."""

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        """Send one message, exactly the bytes the register recorded (line ends aside).

        Raises :class:`TemporaryFailure` (:class:`PossiblyDelivered` when the message may
        have arrived all the same) or :class:`PermanentFailure`.
        """
        ...

    def connect(self) -> str:
        """Reach the server now (sign in), e.g. to check a configuration; say who signed in."""
        ...

    def close(self) -> None:
        """Close the connection, if any."""
        ...


_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]+)>", re.IGNORECASE | re.MULTILINE)
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


def message_id_of(message: bytes) -> str:
    """The Message-ID of a message's bytes, without angle brackets, or ``""``."""
    match = _MESSAGE_ID.search(header_section(message))
    return match.group(1).decode("ascii", "replace") if match else ""


def header_section(message: bytes) -> bytes:
    """A message's header lines, up to the first empty line."""
    end = _END_OF_HEADERS.search(message)
    return message[:end.start()] if end else message
