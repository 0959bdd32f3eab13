"""What a rule is and what it sees: an application, already parsed and inspected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from intake_bot.config import Policy, Vacancy
from intake_bot.documents import DocumentInfo


@dataclass(frozen=True)
class Document:
    """One attached document: its sanitised display name, size, what inspection found, and
    the signature the virus scan found in it (None: clean, or no scanning configured)."""

    name: str | None
    size: int
    info: DocumentInfo
    malware: str | None = None


@dataclass(frozen=True)
class Application:
    """Everything a rule may look at; rules never touch the mailbox, disk or register."""

    vacancy: Vacancy
    received_at: dt.datetime  # aware, when the receiving server accepted the message
    documents: tuple[Document, ...]
    complete: bool = True  # False when the message was too large to be fetched whole
    too_many_parts: bool = False  # over a cap of the parser: read for its headers only
    out_of_time: bool = False  # some documents were left uninspected: no time was left
    # When the receiving server said it accepted the message, when later than received_at
    # (the bot's clock when it first saw the message, which then counts instead).
    server_received_at: dt.datetime | None = None
    encrypted: bool = False  # the message's content is encrypted for its recipient

    @cached_property
    def text(self) -> str:
        """The text of every readable document of an accepted type, joined (empty for scans).

        A document of the wrong type is already rejected; its content is not judged.
        """
        types = self.vacancy.attachments.types
        return "\n".join(d.info.text for d in self.documents
                         if d.info.kind in types and d.info.readable and d.info.text)


def always_reject(_vacancy: Vacancy) -> Policy:
    """The policy of the attachment and deadline rules: a breach always rejects."""
    return "reject"


def always_flag(_vacancy: Vacancy) -> Policy:
    """The policy of a finding for the recruiters that never rejects."""
    return "flag"


def check_policy(check: str) -> Callable[[Vacancy], Policy]:
    """The policy of a content rule: what the vacancy's ``[vacancy.checks]`` says."""
    return lambda vacancy: vacancy.policy(check)


@dataclass(frozen=True)
class Rule:
    """A named, documented, pure check returning the reason codes it finds.

    ``policy`` says what a finding does for a vacancy (``reject``, ``flag`` or ``off``);
    ``needs_text`` asks the pipeline to extract the documents' text; ``moots_documents``
    means that once this rule finds something, the document rules have nothing to say
    (an application sent to the wrong channel is not checked for its attachments);
    ``moots_inspection``, that once it rejects, opening the documents could not change the
    decision (too many of them), so they are not opened; ``tells_candidate`` is false for a
    flag meant for recruiters only, which the candidate's notice leaves out. A rule that
    reads what inspection found skips a document whose ``info.inspected`` is false.
    """

    name: str
    description: str
    codes: tuple[str, ...]
    check: Callable[[Application], Sequence[str]]
    policy: Callable[[Vacancy], Policy] = always_reject
    needs_text: bool = False
    moots_documents: bool = False
    about_documents: bool = True
    tells_candidate: bool = True
    moots_inspection: bool = False
