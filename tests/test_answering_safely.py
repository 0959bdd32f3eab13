"""Answering safely, end to end with Dovecot and aiosmtpd: no relay, no backscatter, two
copies at most."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from intake_bot.mailbox import MailboxError
from intake_bot.mailbox.imap import ImapMailbox
from intake_bot.pipeline import run_cycle
from tests.conftest import brussels
from tests.mail import DRP_TITLE, application, blank_pdf
from tests.readback import replies, rows

pytestmark = pytest.mark.servers
ON_TIME = brussels("2026-06-10T10:00:00")
START = dt.datetime(2026, 6, 10, 9, tzinfo=dt.UTC)


def pdf_application(sender: str, **kwargs) -> bytes:
    return application(sender=sender,
                       attachments=[("Application.pdf", blank_pdf(2), "application/pdf")], **kwargs)


def configure(project, settings: str) -> None:
    """Add ``[notices]`` settings to the deployment's configuration."""
    with project.config_path.open("a", encoding="utf-8") as config:
        config.write(f"[notices]\n{settings}\n")


def copies(sink) -> Counter[str]:
    """How many copies of a notice each recipient's server holds."""
    return Counter(mail.rcpt_tos[0] for mail in sink.received)


def test_a_session_cut_after_data_sends_the_notice_again_once(served):
    project, dovecot, sink = served
    dovecot.append("INBOX", pdf_application("alice@example.net"), ON_TIME)
    dovecot.append("INBOX", pdf_application("bob@example.net"), ON_TIME)
    sink.handler.drop_after_data(1)  # Alice's notice is queued, the "250" never comes

    first = run_cycle(project.config, clock=lambda: START)
    assert copies(sink) == {"alice@example.net": 1, "bob@example.net": 1}
    alice, bob = replies(project)
    assert (alice["status"], alice["interrupted"]) == ("pending", 1)
    assert "it may have arrived: sent again once at most" in alice["last_error"]
    assert bob["status"] == "sent"
    assert "1 notice sent, 1 to be retried" in first.line()

    run_cycle(project.config, clock=lambda: START + dt.timedelta(minutes=1))
    assert copies(sink)["alice@example.net"] == 1  # not at once: after its back-off
    run_cycle(project.config, clock=lambda: START + dt.timedelta(hours=1))
    assert copies(sink) == {"alice@example.net": 2, "bob@example.net": 1}
    assert replies(project)[0]["status"] == "sent"


def test_a_notice_in_doubt_waits_for_its_back_off_even_when_its_message_is_met_again(
        served, monkeypatch):
    project, dovecot, sink = served
    dovecot.append("INBOX", pdf_application("alice@example.net"), ON_TIME)
    sink.handler.drop_after_data(1)

    with monkeypatch.context() as patch:  # the move fails: the message stays in the inbox
        patch.setattr(ImapMailbox, "move_many", lambda self, keys, folder: (_ for _ in ()).throw(
            MailboxError("move refused")))
        run_cycle(project.config, clock=lambda: START)
    assert len(dovecot.uids("INBOX")) == 1 and len(sink.received) == 1

    again = run_cycle(project.config, clock=lambda: START + dt.timedelta(minutes=1))
    assert again.already_registered == 1 and dovecot.uids("INBOX") == []
    assert len(sink.received) == 1  # met again, but still in its back-off
    run_cycle(project.config, clock=lambda: START + dt.timedelta(hours=1))
    assert len(sink.received) == 2 and replies(project)[0]["status"] == "sent"


def test_persistent_cuts_after_data_never_give_a_candidate_more_than_two_copies(served):
    project, dovecot, sink = served
    for name in ("alice", "bob", "carol"):
        dovecot.append("INBOX", pdf_application(f"{name}@example.net"), ON_TIME)
    sink.handler.drop_after_data(None)

    lines = [run_cycle(project.config, clock=lambda hours=hours: START + dt.timedelta(hours=hours)
                       ).line() for hours in range(0, 60, 6)]

    assert copies(sink) == {f"{name}@example.net": 2 for name in ("alice", "bob", "carol")}
    assert all(r["status"] == "failed" and r["interrupted"] == 2 for r in replies(project))
    assert all("cut short twice, it may have arrived: check before retrying" in r["last_error"]
               for r in replies(project))
    assert "0 notices sent, 3 to be retried" in lines[0]
    assert "0 notices sent, 3 failed (not retried; see `replies retry`)" in lines[1]
    assert [r["status"] for r in rows(project)] == ["accepted"] * 3


@pytest.mark.parametrize(("reply", "said"), [
    ("550 5.7.1 Message rejected", "0 notices sent, 1 failed (not retried"),
    ("451 4.3.0 Try again later", "0 notices sent, 1 to be retried"),
])
def test_the_cycle_line_says_what_is_retried(served, reply: str, said: str):
    project, dovecot, sink = served
    dovecot.append("INBOX", pdf_application("alice@example.net"), ON_TIME)
    sink.handler.answer_next(1, reply)
    assert said in run_cycle(project.config, clock=lambda: START).line()


LINK = "http://evil.example/nato"


def test_ten_hostile_applications_reach_the_victim_five_times_without_a_link(served):
    project, dovecot, sink = served
    for number in range(1, 11):
        subject = (f"{DRP_TITLE} - verify at https://evil.example/unlock" if number % 2
                   else "Job - verify your account at https://evil.example/unlock")
        dovecot.append("INBOX", application(
            sender=f'"Please log in at {LINK}" <attacker{number}@evil.example>',
            subject=subject, headers={"Reply-To": f"victim+{number}@victim.example"},
            attachments=[(f"Log in at {LINK} now.pdf", blank_pdf(1), "application/pdf")]),
            ON_TIME)

    summary = run_cycle(project.config, clock=lambda: START)

    assert sorted(mail.rcpt_tos[0] for mail in sink.received) == [
        f"victim+{number}@victim.example" for number in range(1, 6)]
    for mail in sink.received:
        text = mail.message().get_body(("plain",)).get_content()
        assert "evil" not in text and "http" not in text and "log in" not in text.lower()
        assert "Dear candidate," in text
    assert [r["notice_skipped"] for r in rows(project)] == [None] * 5 + ["cap"] * 5
    assert "not answered: cap 5" in summary.line()


def from_example_net(results: list[str], **kwargs) -> bytes:
    """Alice's application with these Authentication-Results headers on top, as servers
    prepend them (the first one the last added)."""
    added = "".join(f"Authentication-Results: {value}\n" for value in results)
    return added.encode() + pdf_application("Alice <alice@example.net>", **kwargs)


OUR_FAIL = "mx.example.org; spf=fail smtp.mailfrom=example.net; dmarc=fail header.from=example.net"
OUR_PASS = "mx.example.org; spf=pass smtp.mailfrom=example.net; dmarc=pass header.from=example.net"
THEIR_PASS = "mx.evil.example; dkim=pass header.d=example.net; dmarc=pass header.from=example.net"
THEIR_FAIL = "mx.evil.example; dmarc=fail header.from=example.net"
OUR_NO_VERDICT = "mx.example.org; spf=softfail smtp.mailfrom=example.net; dmarc=none"
#: A pass naming our server inside an encoded word: an MX that removes incoming headers
#: naming it (RFC 8601 section 5) reads no authserv-id there and leaves it in place.
FORGED_ENCODED = "=?utf-8?q?mx.example.org=3B_dmarc=3Dpass_header.from=3Dexample.net?="
OUR_PASS_FOLDED = OUR_PASS.replace("; ", ";\n\t")


@pytest.mark.parametrize(("results", "answered"), [
    ([OUR_FAIL], False),
    ([OUR_FAIL, THEIR_PASS], False),  # a forged pass from another server changes nothing
    ([THEIR_PASS], False),  # nothing from our server: not authenticated
    ([OUR_FAIL, OUR_PASS.replace("spf=pass smtp.mailfrom=example.net; ", "")], False),
    ([OUR_PASS], True),
    ([OUR_PASS, THEIR_FAIL], True),
    ([OUR_NO_VERDICT, FORGED_ENCODED], False),  # encoded words are not decoded here
    ([FORGED_ENCODED], False),
    ([OUR_PASS_FOLDED], True),  # folded over lines, as servers write long ones
])
def test_only_a_from_our_server_authenticated_is_answered(served, results, answered):
    project, dovecot, sink = served
    configure(project, 'authserv_id = "mx.example.org"')
    dovecot.append("INBOX", from_example_net(
        results, headers={"Reply-To": "alice@home.example"}), ON_TIME)

    summary = run_cycle(project.config, clock=lambda: START)

    [row] = rows(project)
    assert row["status"] == "accepted" and row["reference"] == "DRP-0001"  # decided as usual
    assert dovecot.uids("INBOX") == []
    if answered:
        assert [mail.rcpt_tos for mail in sink.received] == [["alice@home.example"]]
        assert row["notice_skipped"] is None and row["reply_to"] == "alice@home.example"
    else:
        assert sink.received == [] and replies(project) == []
        assert row["notice_skipped"] == "unauthenticated"
        assert row["reply_to"] == "alice@example.net"  # Reply-To is not followed
        assert "not answered: unauthenticated 1" in summary.line()


def test_without_authserv_id_the_headers_change_nothing(served):
    project, dovecot, sink = served
    dovecot.append("INBOX", from_example_net([OUR_FAIL]), ON_TIME)
    run_cycle(project.config, clock=lambda: START)
    assert [mail.rcpt_tos for mail in sink.received] == [["alice@example.net"]]


def test_over_an_hourly_cap_a_notice_waits_and_then_goes(served):
    project, dovecot, sink = served
    configure(project, "max_per_domain_per_hour = 2\nmax_per_hour = 3")
    for name in ("alice", "bob", "carol"):
        dovecot.append("INBOX", pdf_application(f"{name}@example.net"), ON_TIME)
    for name in ("dan", "erin"):
        dovecot.append("INBOX", pdf_application(f"{name}@example.com"), ON_TIME)

    first = run_cycle(project.config, clock=lambda: START)

    assert sorted(copies(sink)) == ["alice@example.net", "bob@example.net", "dan@example.com"]
    assert "3 notices sent, 2 waiting for an hourly cap" in first.line()
    waiting = {r["recipient"]: r for r in replies(project) if r["status"] == "pending"}
    assert waiting["carol@example.net"]["next_attempt_at"] == "2026-06-10T10:00:00Z"
    assert "max_per_domain_per_hour" in waiting["carol@example.net"]["last_error"]
    assert "max_per_hour" in waiting["erin@example.com"]["last_error"]

    later = run_cycle(project.config, clock=lambda: START + dt.timedelta(minutes=30))
    assert len(sink.received) == 3 and "0 notices sent" in later.line()
    run_cycle(project.config, clock=lambda: START + dt.timedelta(hours=1))
    assert len(sink.received) == 5 and all(r["status"] == "sent" for r in replies(project))
