"""Bounded work per message: documents opened only when that can change the decision, and
within the message's time budget (issue 17, items 2 and 3).

The budget is measured on a monotonic clock handed in: these tests give it a fake one
that the fake inspector moves on, so no verdict depends on how fast the machine is. One
test uses real slow PDFs and the real worker, and asserts on outcomes only.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from intake_bot.clock import TimeBudget
from intake_bot.decide import decide
from intake_bot.documents import DocumentInfo
from intake_bot.mailbox import MailItem
from intake_bot.parse import parse_message
from intake_bot.pipeline import Intake, run_cycle
from intake_bot.register import Register
from intake_bot.transport.outbox import OutboxTransport
from tests import hostile
from tests.builders import make_slow_text_pdf
from tests.conftest import DRP_VACANCY, NOW, brussels, run_cli
from tests.mail import application, blank_pdf
from tests.readback import notices, rows

ON_TIME = brussels("2026-06-10T10:00:00")
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UP_TO_TWENTY = hostile.UP_TO_TWENTY_VACANCY
LETTER = "Dear Sir or Madam, I apply. Yours faithfully"


class FakeSeconds:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SlowInspector:
    """Inspects every document readably, taking ``seconds`` of the fake clock each."""

    def __init__(self, clock: FakeSeconds, seconds: float) -> None:
        self.clock, self.seconds, self.calls = clock, seconds, 0

    def __call__(self, data: bytes, *, want_text: bool, **_: object) -> DocumentInfo:
        self.calls += 1
        self.clock.now += self.seconds
        return DocumentInfo("pdf", readable=True, encrypted=False, pages=1, words=None,
                            text=LETTER if want_text else None, error=None)


def pdfs(count: int, data: bytes | None = None) -> list[tuple[str, bytes, str]]:
    return [(f"part{index}.pdf", data or blank_pdf(index + 1), PDF) for index in range(count)]


def test_documents_are_not_opened_once_the_count_rule_rejects(make_project):
    config = make_project(DRP_VACANCY).config
    attachments = [*pdfs(2), ("letter.docx", b"PK\x03\x04" + b"\x00" * 40, DOCX)]
    message = parse_message(application(attachments=attachments))
    clock = FakeSeconds()
    inspector = SlowInspector(clock, 6.0)
    decision = decide(message, ON_TIME, config, inspector, budget=TimeBudget(20, clock))
    assert inspector.calls == 0
    # What needs no opening is still reported: the count, and the kind by content.
    assert decision.reasons == ("multiple-attachments", "not-pdf") and decision.flags == ()
    assert [d.info.inspected for d in decision.documents] == [False, False, False]


def test_a_message_out_of_time_is_decided_on_what_is_known(make_project):
    config = make_project(UP_TO_TWENTY).config
    message = parse_message(application(attachments=pdfs(5)))
    clock = FakeSeconds()
    inspector = SlowInspector(clock, 6.0)  # a slot is 5 s: 12 s leave room for two
    decision = decide(message, ON_TIME, config, inspector, budget=TimeBudget(12, clock))
    assert inspector.calls == 2
    assert [d.info.inspected for d in decision.documents] == [True, True, False, False, False]
    assert decision.status == "accepted" and decision.flags == ("not-inspected",)


def test_within_its_budget_every_document_is_opened(make_project):
    config = make_project(UP_TO_TWENTY).config
    message = parse_message(application(attachments=pdfs(3)))
    clock = FakeSeconds()
    inspector = SlowInspector(clock, 1.0)
    decision = decide(message, ON_TIME, config, inspector, budget=TimeBudget(20, clock))
    assert inspector.calls == 3 and decision.status == "accepted" and decision.flags == ()


class SlowScanner:
    """A clamd that finds every file clean, taking ``seconds`` of the fake clock per message."""

    unavailable = None

    def __init__(self, clock: FakeSeconds, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds

    def scan(self, attachments: list[bytes]) -> dict[bytes, None]:
        self.clock.now += self.seconds
        return dict.fromkeys(attachments)


def test_a_slow_scan_takes_nothing_from_the_documents_time_budget(make_project, tmp_path):
    config = make_project(UP_TO_TWENTY).config
    raw = application(attachments=pdfs(3))
    clock = FakeSeconds()
    inspector = SlowInspector(clock, 1.0)
    register = Register(config.register_path)
    try:
        intake = Intake(config, register, OutboxTransport(tmp_path / "outbox"), inspector,
                        lambda: NOW, SlowScanner(clock, 30.0), monotonic=clock)
        prepared = intake.prepare(MailItem(key="new/1", raw=raw, received_at=ON_TIME,
                                           size=len(raw), complete=True))
    finally:
        register.close()
    # 30 s of scanning, more than the whole budget (20 s), and still every document opened.
    assert prepared.decision is not None and inspector.calls == 3
    assert prepared.decision.status == "accepted" and prepared.decision.flags == ()


def test_twenty_slow_pdfs_take_one_slot_and_the_cycle_goes_on(make_project):
    """The real worker on real slow PDFs (about 15 s of text each), with a 6 s budget."""
    project = make_project(UP_TO_TWENTY, "[limits]\nmax_message_seconds = 6\n")
    slow = make_slow_text_pdf()
    project.deliver(application(attachments=pdfs(20, slow), message_id="<slow@example.net>"),
                    ON_TIME)
    project.deliver(application(sender="Bob <bob@example.net>", attachments=pdfs(1),
                                message_id="<next@example.net>"), ON_TIME.replace(minute=1))
    result = run_cli("--config", str(project.config_path), "run", "--once")
    assert result.exit_code == 0, result.output
    slow_row, next_row = rows(project)
    assert slow_row["status"] == "accepted"
    assert json.loads(slow_row["flags"]) == ["no-text", "not-inspected"]
    assert len(json.loads(slow_row["attachments"])) == 20
    assert next_row["status"] == "accepted" and project.inbox() == []
    texts = [notice.get_content() for notice in notices(project)]
    assert len(texts) == 2 and not any("not-inspected" in text or "inspect" in text
                                       for text in texts)


def test_twenty_slow_pdfs_for_a_one_pdf_vacancy_are_never_opened(project):
    project.deliver(application(attachments=pdfs(20, make_slow_text_pdf())), ON_TIME)
    summary = run_cycle(project.config, clock=lambda: NOW,
                        inspect=lambda *_, **__: (_ for _ in ()).throw(AssertionError("opened")))
    [row] = rows(project)
    assert (row["status"], json.loads(row["reasons"])) == ("rejected", ["multiple-attachments"])
    assert summary.sent == 1


class QueueWatchingLock:
    """A lock that tells, through ``queued``, when a thread has to wait for it."""

    def __init__(self, queued: threading.Event) -> None:
        self._lock = threading.Lock()
        self._queued = queued

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self._queued.set()
            self._lock.acquire()

    def __exit__(self, *_: object) -> None:
        self._lock.release()


def test_a_message_budget_counts_its_own_documents_not_a_neighbours(make_project, tmp_path):
    """Helper threads decide messages side by side, but the worker reads one document at a
    time: a message's budget must not run while it waits behind another message's."""
    config = make_project(UP_TO_TWENTY).config
    clock = FakeSeconds()
    b_here = threading.Event()  # B has started on its documents, or waits to

    def inspector(data: bytes, *, want_text: bool, **_: object) -> DocumentInfo:
        if data.endswith(b"%B"):
            b_here.set()
        else:
            # Message A holds its first document until B has come for its own: were the
            # two decided side by side, A's documents would then spend B's budget. An
            # event, not a timeout: the wait ends once B starts or queues behind A.
            assert b_here.wait(60), "message B never came"
        clock.now += 6.0  # three documents, 18 s: within one message's 20 s
        return DocumentInfo("pdf", readable=True, encrypted=False, pages=1, words=None,
                            text=LETTER if want_text else None, error=None)

    def item(marker: bytes) -> MailItem:
        raw = application(attachments=pdfs(3, blank_pdf() + marker))
        return MailItem(key=marker.decode(), raw=raw, received_at=ON_TIME, size=len(raw),
                        complete=True)

    register = Register(config.register_path)
    try:
        intake = Intake(config, register, OutboxTransport(tmp_path / "outbox"), inspector,
                        lambda: NOW, monotonic=clock)
        intake._deciding = QueueWatchingLock(b_here)  # type: ignore[assignment]
        with ThreadPoolExecutor(2) as helpers:
            first = helpers.submit(intake.prepare, item(b"%A"))
            second = helpers.submit(intake.prepare, item(b"%B"))
            decisions = [first.result().decision, second.result().decision]
    finally:
        register.close()
    assert [(d.status, d.flags) for d in decisions if d] == [("accepted", ())] * 2
