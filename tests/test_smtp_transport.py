"""SmtpTransport against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from intake_bot.transport import PermanentFailure, PossiblyDelivered, TemporaryFailure
from intake_bot.transport.smtp import SmtpTransport
from tests.fixtures_servers import SinkFactory
from tests.servers import SmtpSink, TestCA, free_port

pytestmark = pytest.mark.servers

BOT = "recruitment@example.org"
CANDIDATE = "jane.candidate@example.net"


def notice(subject: str = "Accusé de réception – Officer – Democratic Resilience") -> bytes:
    """A notice shaped like the pipeline's: threading and auto-reply headers."""
    return notice_message(subject).as_bytes()


def notice_message(subject: str = "Accusé de réception – Officer – Democratic Resilience"
                   ) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"NATO PA Recruitment <{BOT}>"
    message["To"] = f"Jane Candidate <{CANDIDATE}>"
    message["Subject"] = subject
    message["Message-ID"] = "<notice-1@example.org>"
    message["In-Reply-To"] = "<application-1@example.net>"
    message["References"] = "<application-1@example.net>"
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content("Thank you for your application. Your reference is DRP-0042.\n")
    return message


@pytest.fixture
def transport(smtp_sink: SmtpSink) -> Iterator[SmtpTransport]:
    sender = SmtpTransport.from_url(smtp_sink.url(), timeout_s=5)
    yield sender
    sender.close()


def test_a_notice_arrives_with_its_headers_intact(
    smtp_sink: SmtpSink, transport: SmtpTransport
) -> None:
    sent = notice_message()

    transport.send(sent.as_bytes(), BOT, [CANDIDATE])

    (received,) = smtp_sink.received
    assert (received.mail_from, received.rcpt_tos) == (BOT, [CANDIDATE])
    delivered = received.message()
    for name in (
        "From",
        "To",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
    ):
        assert delivered[name] == sent[name], name
    assert delivered.get_content().replace("\r\n", "\n") == sent.get_content()  # CRLF on the wire


def test_one_connection_serves_many_notices(smtp_sink: SmtpSink, transport: SmtpTransport) -> None:
    for number in range(20):
        transport.send(notice(f"Notice {number}"), BOT, [CANDIDATE])
    transport.close()
    transport.send(notice("Next cycle"), BOT, [CANDIDATE])

    assert len(smtp_sink.received) == 21
    assert smtp_sink.connections == 2


def test_451_is_temporary_and_the_connection_goes_on(
    smtp_sink: SmtpSink, transport: SmtpTransport
) -> None:
    smtp_sink.handler.answer_next(1, "451 4.3.0 Try again later")

    with pytest.raises(TemporaryFailure, match="451 4.3.0 Try again later"):
        transport.send(notice(), BOT, [CANDIDATE])
    transport.send(notice(), BOT, [CANDIDATE])

    assert len(smtp_sink.received) == 1
    assert smtp_sink.connections == 1


def test_550_is_permanent(smtp_sink: SmtpSink, transport: SmtpTransport) -> None:
    smtp_sink.handler.answer_next(1, "550 5.7.1 Message rejected")

    with pytest.raises(PermanentFailure, match=f"127.0.0.1:{smtp_sink.port}: 550 5.7.1"):
        transport.send(notice(), BOT, [CANDIDATE])
    assert smtp_sink.received == []


@pytest.mark.parametrize(
    ("reply", "failure"),
    [("550 5.1.1 No such user", PermanentFailure), ("450 4.2.1 Mailbox busy", TemporaryFailure)],
)
def test_a_refused_recipient(
    smtp_sink: SmtpSink, transport: SmtpTransport, reply: str, failure: type[Exception]
) -> None:
    smtp_sink.handler.refuse_recipient(CANDIDATE, reply)

    with pytest.raises(failure, match=f"{CANDIDATE}: {reply}"):
        transport.send(notice(), BOT, [CANDIDATE])
    # The others are not blocked.
    transport.send(notice(), BOT, ["someone.else@example.net"])
    assert [mail.rcpt_tos for mail in smtp_sink.received] == [["someone.else@example.net"]]


def test_a_partly_refused_message_is_delivered_to_the_others(
    smtp_sink: SmtpSink, transport: SmtpTransport
) -> None:
    smtp_sink.handler.refuse_recipient("gone@example.net")

    transport.send(notice(), BOT, ["gone@example.net", CANDIDATE])

    assert [mail.rcpt_tos for mail in smtp_sink.received] == [[CANDIDATE]]


def test_connection_refused_is_temporary() -> None:
    port = free_port()
    sender = SmtpTransport.from_url(f"smtp://127.0.0.1:{port}", timeout_s=2)

    with pytest.raises(
        TemporaryFailure, match=f"127.0.0.1:{port}: cannot connect: connection refused"
    ):
        sender.send(notice(), BOT, [CANDIDATE])


def test_a_dropped_connection_is_reopened_once(smtp_sink_factory: SinkFactory) -> None:
    sink = smtp_sink_factory(timeout=0.3)  # the server hangs up on idle clients
    sender = SmtpTransport.from_url(sink.url(), timeout_s=5)
    try:
        sender.send(notice("Before the pause"), BOT, [CANDIDATE])
        time.sleep(0.6)
        sender.send(notice("After the pause"), BOT, [CANDIDATE])
    finally:
        sender.close()

    assert len(sink.received) == 2
    assert sink.connections == 2


def test_a_session_cut_after_the_message_went_out_is_not_resent(
    smtp_sink: SmtpSink, transport: SmtpTransport
) -> None:
    transport.send(notice("First"), BOT, [CANDIDATE])  # a reused connection, as in a cycle
    smtp_sink.handler.drop_after_data(1)

    with pytest.raises(PossiblyDelivered, match="no answer after the message was sent"):
        transport.send(notice("Second"), BOT, [CANDIDATE])
    assert [mail.message()["Subject"] for mail in smtp_sink.received] == ["First", "Second"]

    transport.send(notice("Third"), BOT, [CANDIDATE])  # a new connection, a normal answer
    assert len(smtp_sink.received) == 3 and smtp_sink.connections == 2


def test_a_cut_before_the_message_went_out_is_retried_at_once(
    smtp_sink: SmtpSink, transport: SmtpTransport
) -> None:
    transport.send(notice("First"), BOT, [CANDIDATE])
    smtp_sink.handler.answer_next(1, "421 4.3.2 Shutting down")  # answered: nothing queued

    transport.send(notice("Second"), BOT, [CANDIDATE])

    assert [mail.message()["Subject"] for mail in smtp_sink.received] == ["First", "Second"]


def test_clear_text_on_loopback_is_not_warned_about(
    smtp_sink: SmtpSink, transport: SmtpTransport, caplog: pytest.LogCaptureFixture
) -> None:
    transport.send(notice(), BOT, [CANDIDATE])
    assert "clear text" not in caplog.text


def test_a_server_gone_for_good_is_temporary(smtp_sink: SmtpSink, transport: SmtpTransport) -> None:
    transport.send(notice(), BOT, [CANDIDATE])
    smtp_sink.stop()

    with pytest.raises(TemporaryFailure, match="connection refused"):
        transport.send(notice(), BOT, [CANDIDATE])


def test_headers_add_no_recipients(smtp_sink: SmtpSink, transport: SmtpTransport) -> None:
    message = notice_message()
    message["Cc"] = "copy@example.net"

    transport.send(message.as_bytes(), BOT, [CANDIDATE])

    (received,) = smtp_sink.received
    assert received.rcpt_tos == [CANDIDATE]


def test_a_bcc_header_is_refused(smtp_sink: SmtpSink, transport: SmtpTransport) -> None:
    message = notice_message()
    message["Bcc"] = "hidden@example.net"

    with pytest.raises(PermanentFailure, match="Bcc header"):
        transport.send(message.as_bytes(), BOT, [CANDIDATE])
    assert smtp_sink.received == []


@pytest.mark.parametrize("injected", [
    b"Subject: Your application\rBcc: attacker@example.com\n",  # a stray CR
    b"Subject: Your application\nnot a header line\n",
    b"Subject: Your application\n: no field name\n",
])
def test_a_malformed_header_section_is_refused(
    smtp_sink: SmtpSink, transport: SmtpTransport, injected: bytes
) -> None:
    message = notice().replace(b"Subject: ", injected + b"X-Was-Subject: ", 1)

    with pytest.raises(PermanentFailure, match="malformed header line"):
        transport.send(message, BOT, [CANDIDATE])
    assert smtp_sink.received == []
    assert smtp_sink.connections == 0


def test_folded_header_lines_are_fine(smtp_sink: SmtpSink, transport: SmtpTransport) -> None:
    message = notice_message()
    message.set_raw("X-Folded", "first part\r\n second part")

    transport.send(message.as_bytes(), BOT, [CANDIDATE])

    assert smtp_sink.received[0].message()["X-Folded"] == "first part second part"


def test_bare_line_feeds_go_out_as_crlf(smtp_sink: SmtpSink, transport: SmtpTransport) -> None:
    transport.send(notice(), BOT, [CANDIDATE])

    content = smtp_sink.received[0].content
    assert b"\r\n" in content and b"\n" not in content.replace(b"\r\n", b"")


@pytest.mark.parametrize("recipients", [[], ["jane@example.net\r\nRCPT TO:<x@example.com>"]])
def test_bad_recipients_are_refused(transport: SmtpTransport, recipients: list[str]) -> None:
    with pytest.raises(PermanentFailure, match="refusing to send"):
        transport.send(notice(), BOT, recipients)


def test_no_login_without_a_password(smtp_sink_factory: SinkFactory) -> None:
    sink = smtp_sink_factory(users={"bot": "correct-horse-battery"})
    sender = SmtpTransport.from_url(sink.url("bot"), None)
    try:
        sender.send(notice(), BOT, [CANDIDATE])
    finally:
        sender.close()
    assert sink.handler.logins == []
    assert len(sink.received) == 1


def test_clear_text_login_is_allowed_on_loopback(smtp_sink_factory: SinkFactory) -> None:
    sink = smtp_sink_factory(users={"bot": "correct-horse-battery"})
    sender = SmtpTransport.from_url(sink.url("bot"), "correct-horse-battery")
    try:
        sender.send(notice(), BOT, [CANDIDATE])
    finally:
        sender.close()
    assert sink.handler.logins == ["bot"]


# --- TLS ---------------------------------------------------------------------------


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_tls_login_and_delivery(smtp_sink_factory: SinkFactory, test_ca: TestCA, tls: str) -> None:
    # With STARTTLS, the sink offers AUTH only once the connection is encrypted.
    sink = smtp_sink_factory(tls=tls, users={"bot": "correct-horse-battery"}, ca=test_ca)
    sender = SmtpTransport.from_url(
        sink.url("bot"), "correct-horse-battery", ca_file=str(test_ca.ca_file)
    )
    try:
        sender.send(notice(), BOT, [CANDIDATE])
    finally:
        sender.close()
    assert sink.handler.logins == ["bot"]
    assert len(sink.received) == 1


def test_an_untrusted_certificate_is_temporary(
    smtp_sink_factory: SinkFactory, test_ca: TestCA
) -> None:
    sink = smtp_sink_factory(tls="implicit", ca=test_ca)
    sender = SmtpTransport.from_url(sink.url(), timeout_s=5)

    with pytest.raises(TemporaryFailure, match="TLS certificate not trusted"):
        sender.send(notice(), BOT, [CANDIDATE])
    assert sink.received == []


def test_a_refused_login_is_temporary_and_keeps_the_password_secret(
    smtp_sink_factory: SinkFactory, test_ca: TestCA
) -> None:
    sink = smtp_sink_factory(tls="starttls", users={"bot": "correct-horse-battery"}, ca=test_ca)
    wrong = "wrong-horse-battery"
    sender = SmtpTransport.from_url(sink.url("bot"), wrong, ca_file=str(test_ca.ca_file))

    with pytest.raises(TemporaryFailure) as failure:
        sender.connect()

    text = str(failure.value)
    assert "login refused for user 'bot'" in text and "535" in text
    assert wrong not in text and "\n" not in text


def test_from_url_refuses_a_path() -> None:
    with pytest.raises(ValueError, match="may not have a path"):
        SmtpTransport.from_url("smtps://relay.example.org:465/INBOX")
