"""Pytest fixtures running real mail servers on 127.0.0.1: Dovecot for IMAP, aiosmtpd for SMTP.

Fixtures: ``dovecot`` (session), ``fresh_dovecot`` (emptied for each test),
``dovecot_tls`` (session, TLS and STARTTLS with a test CA), ``test_ca``,
``smtp_sink`` and ``smtp_sink_factory``; for OAuth 2.0, ``identity`` (the local token
and introspection endpoint, reset for each test), ``fresh_dovecot_oauth`` (a Dovecot
that checks tokens with it) and ``token_sink`` (an SMTP sink that does too); ``clamd``
(session) and ``running_clamd`` (started again if a test stopped it). Without a
``dovecot`` or ``clamd`` binary their fixtures skip with instructions, or fail when
``CI=true``. The servers themselves live in ``tests/servers.py`` and ``tests/clamav.py``,
which the benchmark in ``bench/`` starts too.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from intake_bot.signin import token_source
from tests.clamav import INSTALL_HINT as CLAMD_INSTALL_HINT
from tests.clamav import ClamdServer, find_clamd
from tests.servers import (
    INSTALL_HINT,
    DovecotServer,
    SmtpSink,
    TestCA,
    TokenSinkHandler,
    find_dovecot,
    make_test_ca,
    start_sink,
)
from tests.token_endpoint import IdentityProvider, SteppingClock


@pytest.fixture(scope="session")
def test_ca() -> Iterator[TestCA]:
    """A test CA and a server certificate for 127.0.0.1 (readable by Dovecot's users)."""
    folder = Path(tempfile.mkdtemp(prefix="intake-ca-"))
    folder.chmod(0o755)
    yield make_test_ca(folder)
    shutil.rmtree(folder, ignore_errors=True)


# --- Dovecot -------------------------------------------------------------------------


def _dovecot_binary() -> str:
    """Find ``dovecot``, or skip, or fail in CI."""
    binary = find_dovecot()
    if binary:
        return binary
    if os.environ.get("CI") == "true":
        pytest.fail(f"{INSTALL_HINT}; the server tests may not be skipped in CI")
    pytest.skip(INSTALL_HINT)


def _running_dovecot(ca: TestCA | None = None, **options: Any) -> Iterator[DovecotServer]:
    server = DovecotServer(_dovecot_binary(), ca=ca, **options)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One real Dovecot (plain IMAP on loopback, no STARTTLS) for the whole session."""
    yield from _running_dovecot()


@pytest.fixture
def fresh_dovecot(dovecot: DovecotServer) -> DovecotServer:
    """The session's Dovecot, running and with every folder empty."""
    dovecot.reset()
    return dovecot


@pytest.fixture(scope="session")
def dovecot_tls(test_ca: TestCA) -> Iterator[DovecotServer]:
    """A second Dovecot offering implicit TLS on ``tls_port`` and STARTTLS on ``port``."""
    yield from _running_dovecot(test_ca)


# --- OAuth 2.0 -----------------------------------------------------------------------

SinkFactory = Callable[..., SmtpSink]


@pytest.fixture(scope="session")
def identity_server(test_ca: TestCA) -> Iterator[IdentityProvider]:
    """The local identity provider, over HTTP and HTTPS (test CA), for the whole session."""
    from tests.conftest import NOW

    server = IdentityProvider(SteppingClock(NOW), ca=test_ca)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def identity(identity_server: IdentityProvider, test_ca: TestCA,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityProvider]:
    """The identity provider with nothing registered and its own clock at ``NOW``.

    requests (under MSAL, google-auth and Authlib) trusts the test CA through
    ``REQUESTS_CA_BUNDLE``, and the process forgets its token sources, as a new process would.
    """
    from tests.conftest import NOW

    identity_server.reset()
    identity_server.clock = SteppingClock(NOW)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(test_ca.ca_file))
    token_source.cache_clear()
    yield identity_server
    token_source.cache_clear()


@pytest.fixture(scope="session")
def dovecot_oauth(identity_server: IdentityProvider) -> Iterator[DovecotServer]:
    """A Dovecot whose mailbox is ``applications@example.org`` and that takes tokens too."""
    yield from _running_dovecot(introspection_url=identity_server.introspection_url,
                                user="applications@example.org")


@pytest.fixture
def fresh_dovecot_oauth(dovecot_oauth: DovecotServer) -> DovecotServer:
    """The token-taking Dovecot, running and with every folder empty."""
    dovecot_oauth.reset()
    return dovecot_oauth


@pytest.fixture
def token_sink(identity: IdentityProvider, smtp_sink_factory: SinkFactory) -> SmtpSink:
    """An SMTP sink offering XOAUTH2 and OAUTHBEARER, checking tokens with ``identity``."""
    return smtp_sink_factory(handler=TokenSinkHandler(identity.owner_of))


# --- SMTP ----------------------------------------------------------------------------


@pytest.fixture
def smtp_sink_factory() -> Iterator[SinkFactory]:
    """Start SMTP sinks: ``factory(tls=None|"starttls"|"implicit", users={}, ca=None, timeout=300)``.

    The arguments are those of :func:`tests.servers.start_sink`; every sink started is
    stopped after the test.
    """
    started: list[SmtpSink] = []

    def factory(**options: Any) -> SmtpSink:
        sink = start_sink(**options)
        started.append(sink)
        return sink

    yield factory
    for sink in started:
        sink.stop()


@pytest.fixture
def smtp_sink(smtp_sink_factory: SinkFactory) -> SmtpSink:
    """A plain SMTP sink on 127.0.0.1 without AUTH, keeping every message."""
    return smtp_sink_factory()


# --- ClamAV --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def clamd() -> Iterator[ClamdServer]:
    """One real clamd with the test signatures, published a day before the tests' ``NOW``."""
    from tests.conftest import NOW

    binary = find_clamd()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CLAMD_INSTALL_HINT}; the scanning tests may not be skipped in CI")
        pytest.skip(CLAMD_INSTALL_HINT)
    server = ClamdServer(binary, published=NOW - dt.timedelta(days=1))
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def running_clamd(clamd: ClamdServer) -> Iterator[ClamdServer]:
    """The session's clamd, running; started again after a test that stopped or paused it."""
    clamd.start()
    yield clamd
    if clamd.running:
        clamd.resume()
    clamd.start()
