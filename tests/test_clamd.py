"""The clamd client against a real clamd (tests/clamav.py): verdicts, versions, failures."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest

from intake_bot.scan.clamd import (
    CHUNK,
    MAX_REPLY,
    Clamd,
    ClamdRefused,
    ClamdUnavailable,
    ClamdVersion,
    parse_address,
    parse_version,
)
from tests.builders import make_application_pdf, make_marked_pdf
from tests.clamav import (
    DATABASE_VERSION,
    EICAR,
    EICAR_SIGNATURE,
    MARKER,
    MARKER_SIGNATURE,
    STREAM_MAX_BYTES,
)
from tests.servers import HOST, free_port

pytestmark = pytest.mark.servers


@pytest.fixture(params=["unix", "tcp"])
def client(request, running_clamd) -> Clamd:
    """A client of the test clamd, over its unix socket and over TCP."""
    return Clamd(running_clamd.address(request.param), timeout_s=30)


def test_ping_and_version(client, running_clamd):
    client.ping()
    version = client.version()
    assert version.engine.startswith("ClamAV ")
    assert version.signatures == DATABASE_VERSION
    assert version.published == running_clamd.published.replace(microsecond=0)


def test_a_clean_application_passes(client):
    assert client.scan(make_application_pdf()) is None


def test_the_eicar_file_is_found_by_its_hash(client):
    assert client.scan(EICAR) == EICAR_SIGNATURE


def test_a_valid_pdf_carrying_the_marker_is_found(client):
    assert client.scan(make_marked_pdf(MARKER)) == MARKER_SIGNATURE


def test_a_marker_beyond_the_first_chunks_is_found(client):
    data = make_application_pdf() + b"\n%" + b"x" * (3 * CHUNK) + b"\n%" + MARKER + b"\n"
    assert len(data) < STREAM_MAX_BYTES
    assert client.scan(data) == MARKER_SIGNATURE


def test_an_empty_file_is_clean(client):
    assert client.scan(b"") is None


def test_a_document_over_clamds_stream_limit_is_refused_not_passed(client):
    with pytest.raises(ClamdRefused, match="StreamMaxLength"):
        client.scan(b"%PDF-1.7\n" + b" " * STREAM_MAX_BYTES)


def test_a_stopped_clamd_is_unavailable(running_clamd):
    client = Clamd(running_clamd.address(), timeout_s=5)
    running_clamd.stop()
    with pytest.raises(ClamdUnavailable, match="cannot connect: Connection refused"):
        client.scan(make_application_pdf())


def test_a_missing_socket_is_unavailable(tmp_path):
    client = Clamd(f"unix:{tmp_path}/clamd.ctl", timeout_s=5)
    with pytest.raises(ClamdUnavailable, match="cannot connect: No such file"):
        client.ping()


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_a_hung_clamd_times_out_and_that_is_no_pass(running_clamd, kind):
    client = Clamd(running_clamd.address(kind), timeout_s=0.5)
    running_clamd.pause()
    try:
        with pytest.raises(ClamdUnavailable, match=r"timed out after 0\.5 s"):
            client.scan(make_marked_pdf(MARKER))
    finally:
        running_clamd.resume()
    assert client.scan(make_marked_pdf(MARKER)) == MARKER_SIGNATURE


def _endpoint(reply: bytes) -> str:
    """A local TCP endpoint that reads a command, answers ``reply`` and hangs up."""
    server = socket.create_server((HOST, free_port()))

    def serve() -> None:
        with server:
            connection, _ = server.accept()
            with connection:
                # Read the whole command, up to INSTREAM's zero-length end chunk: closing
                # with bytes unread sends a reset, which the client rightly reports as
                # "connection broken" instead of the answer under test.
                received = b""
                while not received.endswith(b"\0\0\0\0") and (chunk := connection.recv(65536)):
                    received += chunk
                connection.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://{HOST}:{server.getsockname()[1]}"


@pytest.mark.parametrize("reply, problem", [
    (b"", "connection closed before the answer"),
    (b"stream: OK", "connection closed before the answer"),  # no NUL: cut short
    (b"x" * (MAX_REPLY + 10), "reply longer than"),
    (b"stream: Can't allocate memory ERROR\0", "Can't allocate memory ERROR"),
    (b"UNKNOWN COMMAND\0", "UNKNOWN COMMAND"),
])
def test_replies_that_are_no_verdict(reply, problem):
    with pytest.raises(ClamdUnavailable, match=problem):
        Clamd(_endpoint(reply), timeout_s=5).scan(b"%PDF-1.7\n")


@pytest.mark.parametrize("address, expected", [
    ("unix:/run/clamav/clamd.ctl", (socket.AF_UNIX, "/run/clamav/clamd.ctl")),
    ("tcp://127.0.0.1:3310", (socket.AF_INET, ("127.0.0.1", 3310))),
    ("tcp://[::1]:3310", (socket.AF_INET6, ("::1", 3310))),
    ("tcp://clamav.internal:3310/", (socket.AF_INET, ("clamav.internal", 3310))),
])
def test_addresses(address, expected):
    assert parse_address(address) == expected


@pytest.mark.parametrize("address", ["unix:run/clamd.ctl", "tcp://127.0.0.1", "tcp://:3310",
                                     "tcp://host:99999", "/run/clamav/clamd.ctl",
                                     "http://127.0.0.1:3310"])
def test_bad_addresses_are_one_line(address):
    with pytest.raises(ValueError, match="expected|absolute"):
        parse_address(address)


@pytest.mark.parametrize("reply, expected", [
    ("ClamAV 1.0.7/27464/Tue Nov 26 09:37:22 2024",
     ClamdVersion("ClamAV 1.0.7", 27464, dt.datetime(2024, 11, 26, 9, 37, 22, tzinfo=dt.UTC))),
    ("ClamAV 1.4.6/27500/Sun Nov  1 09:37:00 2026",
     ClamdVersion("ClamAV 1.4.6", 27500, dt.datetime(2026, 11, 1, 9, 37, tzinfo=dt.UTC))),
    ("ClamAV 1.4.6", ClamdVersion("ClamAV 1.4.6", None, None)),  # local signatures only
])
def test_versions(reply, expected):
    assert parse_version(reply) == expected


@pytest.mark.parametrize("reply", ["PONG", "ClamAV 1.4.6/27500/yesterday", ""])
def test_replies_that_are_no_version(reply):
    with pytest.raises(ValueError):
        parse_version(reply)


def test_age_in_whole_days():
    version = parse_version("ClamAV 1.0.7/27464/Tue Nov 26 09:37:22 2024")
    assert version.age_days(dt.datetime(2024, 12, 3, 9, 37, 21, tzinfo=dt.UTC)) == 6
    assert version.age_days(dt.datetime(2024, 12, 3, 9, 37, 22, tzinfo=dt.UTC)) == 7
    assert ClamdVersion("ClamAV 1.4.6", None, None).age_days(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) is None
