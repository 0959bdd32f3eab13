"""ImapMailbox against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from intake_bot.mailbox.base import MailboxError
from intake_bot.mailbox.imap import ImapMailbox, StaleKeyError
from tests.servers import DovecotServer, free_port

pytestmark = pytest.mark.servers

BRUSSELS = ZoneInfo("Europe/Brussels")


def message(subject: str, body: str = "Please find my application attached.") -> bytes:
    """A small RFC 5322 message with CRLF line ends, as a server stores it."""
    return (
        f"From: Jane Candidate <jane@example.org>\r\nTo: applications@example.org\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@example.org>\r\n"
        f"\r\n{body}\r\n"
    ).encode()


def open_mailbox(server: DovecotServer, folder: str = "INBOX", /, **options: object) -> ImapMailbox:
    options.setdefault("timeout_s", 5.0)
    return ImapMailbox.from_url(server.url(folder), server.password, **options)  # type: ignore[arg-type]


@pytest.fixture
def mailbox(fresh_dovecot: DovecotServer) -> Iterator[ImapMailbox]:
    box = open_mailbox(fresh_dovecot)
    yield box
    box.close()


def uidvalidity(server: DovecotServer, folder: str = "INBOX") -> int:
    with server.client() as client:
        return int(client.select_folder(folder, readonly=True)[b"UIDVALIDITY"])


def test_pending_yields_every_message_in_arrival_order(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    # The second message's INTERNALDATE is older: arrival (UID) order still rules.
    times = [datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 5, 1, 9, tzinfo=UTC)]
    raws = [message("First"), message("Second"), message("Third")]
    uids = [fresh_dovecot.append("INBOX", raw, when) for raw, when in zip(raws, [*times, None], strict=True)]

    items = list(mailbox.pending())

    validity = uidvalidity(fresh_dovecot)
    assert [item.key for item in items] == [f"imap:{validity}:{uid}" for uid in uids]
    assert [item.raw for item in items] == raws
    assert [item.size for item in items] == [len(raw) for raw in raws]
    assert all(item.complete for item in items)


def test_received_at_is_the_internaldate_in_utc(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    accepted = datetime(2026, 6, 12, 23, 59, 30, tzinfo=BRUSSELS)
    fresh_dovecot.append("INBOX", message("On time"), accepted)

    (item,) = mailbox.pending()

    assert item.received_at == accepted
    assert item.received_at.tzinfo == UTC
    assert item.received_at.hour == 21  # 23:59 CEST


def test_fetching_does_not_mark_messages_seen(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    uid = fresh_dovecot.append("INBOX", message("Unread"))

    assert len(list(mailbox.pending())) == 1

    with fresh_dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert b"\\Seen" not in client.get_flags([uid])[uid]


def test_many_messages_come_in_several_batches_in_order(fresh_dovecot: DovecotServer) -> None:
    raws = [message(f"Application {n}") for n in range(120)]
    fresh_dovecot.append_many("INBOX", ((raw, None) for raw in raws))
    box = open_mailbox(fresh_dovecot, batch_size=50)
    try:
        assert [item.raw for item in box.pending()] == raws
    finally:
        box.close()


@pytest.mark.parametrize(
    ("options", "yielded_before_failure"),
    [({"batch_size": 2}, 2), ({"batch_size": 50, "batch_bytes": 1}, 1)],
    ids=["by-count", "by-bytes"],
)
def test_messages_are_fetched_lazily_batch_by_batch(
    fresh_dovecot: DovecotServer, options: dict[str, int], yielded_before_failure: int
) -> None:
    fresh_dovecot.append_many("INBOX", ((message(f"Batch {n}"), None) for n in range(5)))
    box = open_mailbox(fresh_dovecot, **options)
    items = box.pending()
    next(items)
    # Once the server is gone, only what the current batch already fetched still comes.
    fresh_dovecot.stop()
    try:
        for _ in range(yielded_before_failure - 1):
            next(items)
        # The cut fetch is tried once more, on a new connection, which is refused.
        with pytest.raises(MailboxError, match=f"IMAP 127.0.0.1:{fresh_dovecot.port}: "
                                               "(fetching|cannot connect)"):
            next(items)
    finally:
        box.close()
        fresh_dovecot.start()


def test_an_oversized_message_comes_with_its_header_only(fresh_dovecot: DovecotServer) -> None:
    big = message("Huge scan", body="x" * 5000)
    small = message("Small")
    fresh_dovecot.append_many("INBOX", [(big, None), (small, None)])
    box = open_mailbox(fresh_dovecot, max_fetch_bytes=1000)
    try:
        large_item, small_item = box.pending()
    finally:
        box.close()

    assert not large_item.complete
    assert large_item.raw == big[: big.index(b"\r\n\r\n") + 4]
    assert large_item.size == len(big)
    assert small_item.complete and small_item.raw == small


@pytest.mark.parametrize("use_move", [True, False], ids=["MOVE", "COPY-EXPUNGE"])
def test_move_creates_a_missing_folder(fresh_dovecot: DovecotServer, use_move: bool) -> None:
    fresh_dovecot.append("INBOX", message("To file"))
    keep = fresh_dovecot.append("INBOX", message("To keep"))
    box = open_mailbox(fresh_dovecot, use_move=use_move)
    try:
        first, _ = box.pending()
        box.move(first.key, "Processed")
        box.move(first.key, "Processed")  # already gone: not an error
    finally:
        box.close()

    # Expunged, not merely flagged \Deleted, and only that message.
    assert fresh_dovecot.uids("INBOX") == [keep]
    assert len(fresh_dovecot.uids("Processed")) == 1


@pytest.mark.parametrize("use_move", [True, False], ids=["MOVE", "COPY-EXPUNGE"])
def test_move_many_files_a_batch_and_leaves_the_rest(
    fresh_dovecot: DovecotServer, use_move: bool
) -> None:
    for index in range(4):
        fresh_dovecot.append("INBOX", message(f"To file {index}"))
    keep = fresh_dovecot.append("INBOX", message("To keep"))
    box = open_mailbox(fresh_dovecot, use_move=use_move)
    try:
        *batch, _ = box.pending()
        box.move_many([item.key for item in batch], "Processed")
        box.move_many([item.key for item in batch], "Processed")  # already gone: not an error
    finally:
        box.close()

    assert fresh_dovecot.uids("INBOX") == [keep]
    assert len(fresh_dovecot.uids("Processed")) == 4


def test_move_refuses_a_key_from_another_uidvalidity(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    uid = fresh_dovecot.append("INBOX", message("Stay"))
    list(mailbox.pending())

    with pytest.raises(StaleKeyError, match="UIDVALIDITY changed"):
        mailbox.move(f"imap:{uidvalidity(fresh_dovecot) + 1}:{uid}", "Processed")

    assert fresh_dovecot.uids("INBOX") == [uid]
    assert fresh_dovecot.uids("Processed") == []


def test_a_recreated_folder_does_not_get_the_wrong_message_moved(
    fresh_dovecot: DovecotServer,
) -> None:
    fresh_dovecot.append("Applications", message("Listed"))
    box = open_mailbox(fresh_dovecot, "Applications")
    try:
        (listed,) = box.pending()
        # Someone recreates the folder: a different message now has the same UID.
        with fresh_dovecot.client() as client:
            client.delete_folder("Applications")
        newcomer = fresh_dovecot.append("Applications", message("Newcomer"))
        assert listed.key.endswith(f":{newcomer}")

        # A session that stays selected would move the newcomer (Dovecot does).
        with pytest.raises(StaleKeyError):
            box.move(listed.key, "Processed")
    finally:
        box.close()

    assert fresh_dovecot.uids("Applications") == [newcomer]
    assert fresh_dovecot.uids("Processed") == []


def test_a_refused_login_names_the_server_but_not_the_password(
    fresh_dovecot: DovecotServer,
) -> None:
    wrong = "not-the-password-4711"
    box = ImapMailbox.from_url(fresh_dovecot.url(), wrong, timeout_s=5)

    with pytest.raises(MailboxError) as error:
        list(box.pending())

    text = str(error.value)
    assert f"127.0.0.1:{fresh_dovecot.port}" in text and "login refused" in text
    assert wrong not in text and "\n" not in text


def test_a_closed_port_is_a_mailbox_error() -> None:
    port = free_port()
    box = ImapMailbox.from_url(
        f"imap://someone@127.0.0.1:{port}/INBOX", "secret-password", timeout_s=2
    )

    with pytest.raises(MailboxError, match=f"127.0.0.1:{port}: cannot connect: connection refused"):
        box.connect()


def test_a_stopped_server_is_a_mailbox_error_and_the_mailbox_recovers(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    fresh_dovecot.append("INBOX", message("Before"))
    assert len(list(mailbox.pending())) == 1

    fresh_dovecot.stop()
    try:
        with pytest.raises(MailboxError, match=f"127.0.0.1:{fresh_dovecot.port}"):
            list(mailbox.pending())
        with pytest.raises(MailboxError, match="connection refused"):
            list(mailbox.pending())
    finally:
        fresh_dovecot.start()

    assert len(list(mailbox.pending())) == 1


def test_idle_wakes_up_when_another_connection_appends(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    assert list(mailbox.pending()) == []
    assert mailbox.supports_idle
    appended_at: list[float] = []

    def deliver() -> None:
        fresh_dovecot.append("INBOX", message("Fresh"))
        appended_at.append(time.monotonic())

    timer = threading.Timer(0.3, deliver)
    timer.start()
    try:
        assert mailbox.wait_for_mail(10.0)
        woke = time.monotonic()
    finally:
        timer.join()
    # Dovecot announces new mail about 0.5 s after it arrives.
    assert woke - appended_at[0] < 2.0
    assert [item.raw for item in mailbox.pending()] == [message("Fresh")]


def test_idle_returns_at_once_for_mail_that_came_before_the_wait(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    list(mailbox.pending())
    fresh_dovecot.append("INBOX", message("Meanwhile"))
    mailbox.close()  # even across a reconnection

    started = time.monotonic()
    assert mailbox.wait_for_mail(5.0)
    assert time.monotonic() - started < 1.0


def test_idle_times_out_after_renewing(fresh_dovecot: DovecotServer) -> None:
    box = open_mailbox(fresh_dovecot, idle_renew_s=0.2)
    try:
        list(box.pending())
        started = time.monotonic()
        assert not box.wait_for_mail(0.7)
        assert 0.7 <= time.monotonic() - started < 2.0
        fresh_dovecot.append("INBOX", message("After the wait"))
        assert len(list(box.pending())) == 1  # the connection is still usable
    finally:
        box.close()


def test_idle_reports_a_server_that_goes_away(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox
) -> None:
    list(mailbox.pending())
    timer = threading.Timer(0.3, fresh_dovecot.stop)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(MailboxError, match="waiting for new mail"):
            mailbox.wait_for_mail(10.0)
    finally:
        timer.join()
        fresh_dovecot.start()
    assert time.monotonic() - started < 3.0


def test_without_idle_waiting_just_sleeps(fresh_dovecot: DovecotServer) -> None:
    box = open_mailbox(fresh_dovecot, use_idle=False)
    assert not box.supports_idle
    started = time.monotonic()
    assert not box.wait_for_mail(0.2)
    assert time.monotonic() - started >= 0.2


def test_from_url_needs_a_user() -> None:
    with pytest.raises(ValueError, match="names no user"):
        ImapMailbox.from_url("imaps://mail.example.org/INBOX", "secret-password")


def test_a_malformed_key_is_a_programming_error(mailbox: ImapMailbox) -> None:
    with pytest.raises(ValueError, match="not an IMAP message key"):
        mailbox.move("maildir:1234", "Processed")


# --- TLS ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["imaps", "imap"], ids=["implicit-TLS", "STARTTLS"])
def test_tls_with_the_operators_ca(dovecot_tls: DovecotServer, scheme: str) -> None:
    dovecot_tls.append("INBOX", message(f"Over {scheme}"))
    box = ImapMailbox.from_url(
        dovecot_tls.url(scheme=scheme), dovecot_tls.password, ca_file=str(dovecot_tls.ca_file)
    )
    try:
        assert message(f"Over {scheme}") in [item.raw for item in box.pending()]
    finally:
        box.close()


@pytest.mark.parametrize(
    ("scheme", "step"), [("imaps", "cannot connect"), ("imap", "STARTTLS failed")]
)
def test_tls_refuses_an_untrusted_certificate(
    dovecot_tls: DovecotServer, scheme: str, step: str
) -> None:
    box = ImapMailbox.from_url(dovecot_tls.url(scheme=scheme), dovecot_tls.password, timeout_s=5)

    with pytest.raises(MailboxError, match=f"{step}: TLS certificate not trusted"):
        box.connect()


def test_time_zone_of_the_client_machine_does_not_matter(
    fresh_dovecot: DovecotServer, mailbox: ImapMailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        accepted = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
        fresh_dovecot.append("INBOX", message("Far west"), accepted)
        (item,) = mailbox.pending()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert item.received_at == accepted
