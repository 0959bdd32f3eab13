"""A link that cuts every connection after so many bytes still lets the inbox drain (issue 17).

Before, the bot fetched up to 32 MB at a time, and a link that cut every connection
before about 13.5 MB made no progress at all. Here a real Dovecot sits behind
:class:`~tests.links.CuttingLink`, which closes each connection after 300 KB.
"""

from __future__ import annotations

import logging

import pytest

from intake_bot.mailbox import MailboxError
from intake_bot.mailbox.imap import ImapMailbox
from intake_bot.pipeline import run_cycle
from tests.links import CuttingLink
from tests.mail import application, blank_pdf
from tests.readback import rows
from tests.test_pipeline import ON_TIME

pytestmark = pytest.mark.servers

CUT_AFTER = 300_000


def sized(index: int, size: int) -> bytes:
    """An application of about ``size`` bytes (a PDF padded with a comment)."""
    pdf = blank_pdf() + b"%" + b"x" * (size * 3 // 4) + b"\n"
    return application(sender=f"c{index} <c{index}@example.net>", message_id=f"<m{index}@x>",
                       attachments=[("cv.pdf", pdf, "application/pdf")])


def message_id(raw: bytes) -> bytes:
    return raw.split(b"Message-ID: ", 1)[1].split(b">", 1)[0]


def through(link: CuttingLink, url: str) -> str:
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    return url.replace(host_port, f"127.0.0.1:{link.port}")


def test_fetches_shrink_after_a_cut_and_a_message_too_big_for_the_link_waits(
        fresh_dovecot, caplog):
    raws = [sized(index, 100_000) for index in range(6)]
    too_big = sized(99, 400_000)
    for raw in [*raws[:3], too_big, *raws[3:]]:
        fresh_dovecot.append("INBOX", raw, ON_TIME)
    with CuttingLink((fresh_dovecot.host, fresh_dovecot.port), CUT_AFTER) as link:
        box = ImapMailbox.from_url(through(link, fresh_dovecot.url()), fresh_dovecot.password,
                                   timeout_s=10)
        try:
            with caplog.at_level(logging.INFO):
                fetched = [message_id(item.raw) for item in box.pending()]
        finally:
            box.close()
    assert fetched == [message_id(raw) for raw in raws]  # all the link can carry, in order
    assert link.cuts >= 3
    assert "fetching at most" in caplog.text and "stays in the inbox" in caplog.text


def test_a_link_that_carries_nothing_ends_the_cycle_with_one_error(fresh_dovecot):
    for index in range(4):
        fresh_dovecot.append("INBOX", sized(index, 400_000), ON_TIME)
    with CuttingLink((fresh_dovecot.host, fresh_dovecot.port), CUT_AFTER) as link:
        box = ImapMailbox.from_url(through(link, fresh_dovecot.url()), fresh_dovecot.password,
                                   timeout_s=10)
        try:
            with pytest.raises(MailboxError, match="fetching messages failed"):
                list(box.pending())
        finally:
            box.close()


def test_a_whole_cycle_over_a_cutting_link_files_what_it_can(served):
    project, dovecot, sink = served
    for index in range(8):
        dovecot.append("INBOX", sized(index, 100_000), ON_TIME)
    with CuttingLink((dovecot.host, dovecot.port), CUT_AFTER) as link:
        text = project.config_path.read_text(encoding="utf-8")
        project.config_path.write_text(text.replace(dovecot.url(), through(link, dovecot.url())),
                                       encoding="utf-8")
        summary = run_cycle(project.config)
    assert summary.handled == 8 and {row["status"] for row in rows(project)} == {"accepted"}
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 8
    assert len(sink.received) == 8
