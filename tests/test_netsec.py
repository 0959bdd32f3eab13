"""The clear-text rule, server URL parsing and TLS contexts, without any server."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest

from intake_bot import netsec
from tests.servers import TestCA


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.45.6.7", "::1", "[::1]", "::ffff:127.0.0.1", "localhost"],
)
def test_loopback_hosts(host: str) -> None:
    assert netsec.is_loopback(host)


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "192.0.2.1", "0.0.0.0", "128.0.0.1", "::2", "::", "[2001:db8::1]"]
)
def test_non_loopback_addresses(host: str) -> None:
    assert not netsec.is_loopback(host)


def _fake_resolver(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    """Make name lookups return ``addresses`` (or fail when none): no DNS traffic in tests."""

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_is_loopback_only_when_all_its_addresses_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_resolver(monkeypatch, "127.0.0.1", "127.0.1.1")
    assert netsec.is_loopback("tunnel.example.org")
    _fake_resolver(monkeypatch, "127.0.0.1", "192.0.2.7")
    assert not netsec.is_loopback("mixed.example.org")
    _fake_resolver(monkeypatch)
    assert not netsec.is_loopback("unknown.example.org")


def test_addresses_are_judged_without_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("looked up a name")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    assert not netsec.is_loopback("192.0.2.1")
    # With the connected peer address given, the host name is not looked up again.
    netsec.require_encryption_or_loopback("mail.example.org", False, peer="127.0.0.1")
    with pytest.raises(netsec.CleartextRefused):
        netsec.require_encryption_or_loopback("localhost", False, peer="192.0.2.1")


def test_clear_text_to_a_remote_host_is_refused_with_a_one_line_reason() -> None:
    with pytest.raises(netsec.CleartextRefused) as refused:
        netsec.require_encryption_or_loopback("192.0.2.10", False, secure_scheme="smtps")
    message = str(refused.value)
    assert "\n" not in message
    assert "192.0.2.10" in message and "clear text" in message and "smtps://" in message
    assert message.startswith("refusing to send a password ")


def test_the_refusal_names_the_credential_at_stake() -> None:
    with pytest.raises(netsec.CleartextRefused, match="^refusing to send an OAuth token in clear"):
        netsec.require_encryption_or_loopback("192.0.2.10", False, credential="an OAuth token")


@pytest.mark.parametrize(
    ("host", "encrypted"), [("192.0.2.10", True), ("127.0.0.1", False), ("::1", False)]
)
def test_encrypted_or_loopback_connections_may_log_in(host: str, encrypted: bool) -> None:
    netsec.require_encryption_or_loopback(host, encrypted)


IMAP_PORTS = {"imaps": 993, "imap": 143}


def test_parse_url_with_defaults() -> None:
    url = netsec.parse_server_url("imaps://applications@mail.example.org/INBOX", IMAP_PORTS)
    assert url == netsec.ServerUrl("imaps", "mail.example.org", 993, "applications", "INBOX")
    assert url.implicit_tls


def test_parse_url_with_port_encoded_user_ipv6_and_folder() -> None:
    url = netsec.parse_server_url("imap://jane%40example.org@[::1]:10143/Job%20offers", IMAP_PORTS)
    assert (url.scheme, url.host, url.port) == ("imap", "::1", 10143)
    assert url.user == "jane@example.org"
    assert url.path == "Job offers"
    assert not url.implicit_tls


def test_parse_url_with_an_unencoded_address_as_user() -> None:
    """A hosted (or shared) mailbox's address, '@' and all: the last '@' ends the user."""
    url = netsec.parse_server_url(
        "imaps://applications@example.org@outlook.office365.com/INBOX", IMAP_PORTS)
    assert (url.user, url.host, url.port, url.path) == (
        "applications@example.org", "outlook.office365.com", 993, "INBOX")


def test_parse_url_without_user_or_path() -> None:
    url = netsec.parse_server_url("smtp://relay.example.org:2525", {"smtp": 587})
    assert (url.user, url.port, url.path) == (None, 2525, "")


def test_a_password_in_the_url_is_refused_and_not_repeated() -> None:
    with pytest.raises(ValueError) as error:
        netsec.parse_server_url("imaps://jane:hunter2secret@mail.example.org/INBOX", IMAP_PORTS)
    assert "hunter2secret" not in str(error.value)
    assert "password_env" in str(error.value)


@pytest.mark.parametrize(
    "url",
    [
        "pop3://mail.example.org",
        "imaps:///INBOX",
        "imaps://mail.example.org:99999",
        "imap://h/INBOX?x=1",
    ],
)
def test_malformed_urls(url: str) -> None:
    with pytest.raises(ValueError):
        netsec.parse_server_url(url, IMAP_PORTS)


def test_ssl_context_verifies_certificates_and_host_names() -> None:
    context = netsec.make_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_ssl_context_trusts_a_private_ca(test_ca: TestCA) -> None:
    context = netsec.make_ssl_context(test_ca.ca_file)
    assert [cert["subject"] for cert in context.get_ca_certs()] == [
        ((("commonName", "intake-bot test CA"),),)
    ]


def test_describe_error_is_short_and_on_one_line() -> None:
    assert netsec.describe_error(ConnectionRefusedError(111, "Connection refused")) == (
        "connection refused"
    )
    assert netsec.describe_error(TimeoutError()) == "timed out"
    assert netsec.describe_error(RuntimeError("two\nlines")) == "two lines"


@pytest.mark.parametrize(("host", "encrypted", "peer", "warning"), [
    ("mail.example.org", False, "192.0.2.10",
     "mail.example.org (192.0.2.10) offers no STARTTLS: notices go to it in clear text"),
    ("192.0.2.10", False, "192.0.2.10", "192.0.2.10 offers no STARTTLS"),
    ("mail.example.org", True, "192.0.2.10", None),
    ("localhost", False, "127.0.0.1", None),
    ("localhost", False, "::1", None),
])
def test_clear_text_off_loopback_is_warned_about(host: str, encrypted: bool, peer: str,
                                                 warning: str | None) -> None:
    found = netsec.cleartext_warning(host, encrypted, peer)
    if warning is None:
        assert found is None
    else:
        assert found is not None and found.startswith(warning) and "\n" not in found
