"""The parser worker gives what the parser gives, and survives what would stop it."""

from __future__ import annotations

import os
import signal

import pytest

from intake_bot import parse_worker
from intake_bot.parse import parse_message
from intake_bot.parse_worker import ParserError, parse_in_worker
from tests import hostile
from tests.mail import application, blank_pdf


@pytest.mark.parametrize("name", sorted(hostile.MESSAGES))
def test_the_worker_parses_as_the_parser_does(name):
    raw = hostile.MESSAGES[name]()
    assert parse_in_worker(raw) == parse_message(raw)


def test_attachments_and_an_incomplete_message_come_back_whole():
    raw = application(attachments=[("a.pdf", blank_pdf(), "application/pdf"),
                                   ("b.pdf", blank_pdf(2), "application/pdf")])
    parsed = parse_in_worker(raw)
    assert [a.data for a in parsed.attachments] == [blank_pdf(), blank_pdf(2)]
    assert parse_in_worker(raw, complete=False) == parse_message(raw, complete=False)


def test_a_killed_worker_is_replaced_for_the_next_message():
    parse_in_worker(application())
    process = parse_worker._WORKER._process
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert parse_in_worker(application()).subject  # a fresh worker took it


def test_a_message_that_outlives_the_deadline_is_given_up(monkeypatch):
    monkeypatch.setattr(parse_worker, "TIMEOUT_S", 0.0)
    raw = application(attachments=[("a.pdf", blank_pdf(50), "application/pdf")])
    with pytest.raises(ParserError, match="timed out"):
        parse_in_worker(raw)
    monkeypatch.undo()
    assert parse_in_worker(raw) == parse_message(raw)
