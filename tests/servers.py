"""Real mail servers on 127.0.0.1 for tests and benchmarks: Dovecot for IMAP, aiosmtpd for SMTP.

No pytest here, so that ``bench/`` starts the very servers the test fixtures start
(``tests/fixtures_servers.py`` wraps them in fixtures).
"""

from __future__ import annotations

import base64
import grp
import ipaddress
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient

HOST = "127.0.0.1"
INSTALL_HINT = (
    "Dovecot is not installed: install it with "
    "`apt-get install -y --no-install-recommends dovecot-imapd` (as root), or run `.ci/run`"
)


class ServerError(RuntimeError):
    """A test server did not start."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- TLS -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TestCA:
    """A throw-away CA and a server certificate it signed for 127.0.0.1 and localhost."""

    __test__ = False  # not a test class, whatever its name says

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """A TLS context for a test server presenting the certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_test_ca(folder: Path) -> TestCA:
    """Write a CA certificate and a server certificate and key signed by it into ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intake-bot test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca = TestCA(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.ca_file.write_bytes(ca_cert.public_bytes(pem))
    ca.cert_file.write_bytes(cert.public_bytes(pem))
    ca.key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca


# --- Dovecot -------------------------------------------------------------------------

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {host}
login_greeting = {greeting}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
# Refused logins answer at once (see also anvil-auth-penalty below).
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
mail_fsync = never
{oauth_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
protocol imap {{
  mail_max_userip_connections = 1000
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
  {chroot}
}}
service anvil {{
  {chroot}
  # No growing delay for this IP after a refused login: it would slow the next tests.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

# Tokens are checked by asking the test's introspection endpoint (RFC 7662), first; the
# password passdb after it still serves PLAIN and LOGIN (the fixtures seed mail with it).
_OAUTH_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf
}}
"""

_OAUTH_CONFIG = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""

_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")


class DovecotServer:
    """A real Dovecot on 127.0.0.1 and a free port, configured in its own temp folder.

    Attributes: ``host``, ``port`` (plain IMAP; it offers STARTTLS when started with a
    CA), ``tls_port`` (implicit TLS, or None), ``user``, ``password``, ``maildir`` (the
    user's Maildir), ``ca_file`` (None without TLS). With ``introspection_url`` it also
    takes XOAUTH2 and OAUTHBEARER, asking that URL whether a token is active and whose it
    is (Dovecot's ``oauth2`` passdb); ``user`` may then be an address, as hosted mailboxes'
    are (``applications@example.org``).
    """

    def __init__(self, binary: str, *, ca: TestCA | None = None,
                 introspection_url: str | None = None, user: str = "applications") -> None:
        self.root = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
        # Dovecot's own users must read the config and password file (mkdtemp is 0700).
        self.root.chmod(0o755)
        self.host = HOST
        self.port = free_port()
        self.tls_port = free_port() if ca else None
        self.ca_file = ca.ca_file if ca else None
        self.user = user
        self.password = secrets.token_urlsafe(16)
        self.maildir = self.root / "mail" / self.user
        self._binary = binary
        self._greeting = f"intake-bot-test-{secrets.token_hex(8)}"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config(ca, introspection_url)

    def _write_config(self, ca: TestCA | None, introspection_url: str | None) -> None:
        if os.geteuid() == 0:
            # As root, Dovecot refuses to run its login and internal processes, or to
            # store mail, as uid 0: hand them to its own unprivileged users.
            login_user, internal_user = "dovenull", "dovecot"
            owner = pwd.getpwnam("dovecot")
            chroot = ""
        else:
            # Unprivileged, everything runs as this user, and chroot is impossible.
            owner = pwd.getpwuid(os.geteuid())
            login_user = internal_user = owner.pw_name
            chroot = "chroot ="
        ssl_settings = (
            f"ssl = yes\nssl_cert = <{ca.cert_file}\nssl_key = <{ca.key_file}" if ca else "ssl = no"
        )
        (self.root / "dovecot.conf").write_text(
            _CONFIG.format(
                root=self.root,
                host=self.host,
                greeting=self._greeting,
                ssl=ssl_settings,
                login_user=login_user,
                internal_user=internal_user,
                internal_group=grp.getgrgid(owner.pw_gid).gr_name,
                uid=owner.pw_uid,
                gid=owner.pw_gid,
                port=self.port,
                tls_port=self.tls_port or 0,
                chroot=chroot,
                oauth_mechanisms=" xoauth2 oauthbearer" if introspection_url else "",
                oauth_passdb=_OAUTH_PASSDB.format(root=self.root) if introspection_url else "",
            )
        )
        if introspection_url:
            (self.root / "oauth2.conf").write_text(_OAUTH_CONFIG.format(url=introspection_url))
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        for folder in (self.root / "mail", self.root / "home"):
            folder.mkdir()
            os.chown(folder, owner.pw_uid, owner.pw_gid)

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def url(self, folder: str = "INBOX", *, scheme: str = "imap") -> str:
        """The mailbox URL for the test user, e.g. ``imap://applications@127.0.0.1:PORT/INBOX``."""
        port = self.tls_port if scheme == "imaps" else self.port
        return f"{scheme}://{self.user}@{self.host}:{port}/{folder}"

    def start(self) -> None:
        """Start the server in its own process group and wait for its greeting."""
        if self.running:
            return
        log = (self.root / "stderr.log").open("ab")
        self._process = subprocess.Popen(
            [self._binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        self._wait_for_greeting()

    def _wait_for_greeting(self, timeout_s: float = 10.0) -> None:
        # The port accepts a little before logins work; the greeting means ready, and
        # the unique greeting means it is our server, not another one on a reused port.
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise ServerError(f"Dovecot exited at start-up:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                    if self._greeting.encode() in sock.recv(4096):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise ServerError(f"Dovecot did not greet within {timeout_s} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Kill the server and every process it started, like a crash or a power cut."""
        # Connected clients keep their imap processes alive after the master exits.
        kill_process_group(self._process)
        self._process = None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of Dovecot's logs, for failure messages."""
        return logs_tail(self.root, ("stderr.log", "dovecot.log"), lines)

    def client(self) -> IMAPClient:
        """A new logged-in IMAPClient over plain IMAP (loopback), times as aware datetimes."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.normalise_times = False
        client.login(self.user, self.password)
        return client

    def append(
        self, folder: str, raw: bytes, msg_time: datetime | None = None, flags: Iterable[bytes] = ()
    ) -> int:
        """Append one message (INTERNALDATE ``msg_time``), creating the folder; return its UID."""
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=tuple(flags), msg_time=msg_time)
        match = _APPENDUID.search(response)
        assert match, response
        return int(match.group(1))

    def append_many(
        self, folder: str, messages: Iterable[tuple[bytes, datetime | None]], chunk: int = 50
    ) -> None:
        """Append many messages with MULTIAPPEND, ``chunk`` per command, in order."""
        batch: list[dict[str, Any]] = []
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw, msg_time in messages:
                batch.append({"msg": raw, "date": msg_time} if msg_time else {"msg": raw})
                if len(batch) == chunk:
                    client.multiappend(folder, batch)
                    batch = []
            if batch:
                client.multiappend(folder, batch)

    def uids(self, folder: str = "INBOX") -> list[int]:
        """The UIDs in ``folder`` (empty when it does not exist)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search(["ALL"]))

    def reset(self) -> None:
        """Start the server if it was stopped, delete every folder but INBOX, empty INBOX."""
        self.start()
        with self.client() as client:
            names = [name for _, _, name in client.list_folders() if name.upper() != "INBOX"]
            # Children first: a folder with children cannot be deleted.
            for name in sorted(names, key=len, reverse=True):
                client.delete_folder(name)
            client.select_folder("INBOX")
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def kill_process_group(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a server started with ``start_new_session`` and all it started; reap it."""
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def logs_tail(folder: Path, names: Iterable[str], lines: int) -> str:
    """The last ``lines`` lines of the named log files in ``folder``, for failure messages."""
    text = ""
    for name in names:
        path = folder / name
        if path.exists():
            text += path.read_text(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def find_dovecot() -> str | None:
    """The ``dovecot`` binary (often in /usr/sbin, off an unprivileged PATH), or None."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


# --- SMTP ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message the sink accepted: the envelope and the bytes as transmitted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    def message(self) -> EmailMessage:
        """The content parsed with the modern e-mail policy."""
        parsed = BytesParser(policy=policy.default).parsebytes(self.content)
        assert isinstance(parsed, EmailMessage)
        return parsed


class SinkHandler:
    """An aiosmtpd handler that keeps every message and can be told to refuse some."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.received: list[ReceivedMail] = []
        self.connections = 0
        self.logins: list[str] = []
        self._users = users or {}
        self._data_replies: deque[str] = deque()
        self._drops_after_data: int | None = 0
        self._refused: dict[str, str] = {}

    def answer_next(self, count: int, reply: str) -> None:
        """Answer the next ``count`` messages' DATA with ``reply``, e.g. ``"451 4.3.0 Later"``."""
        self._data_replies.extend([reply] * count)

    def drop_after_data(self, count: int | None = 1) -> None:
        """Keep the next ``count`` messages (every one from now on when None), then close the
        connection without answering: the client never hears the ``250`` (a link cut after
        the message went out). ``count=0`` answers normally again."""
        self._drops_after_data = count

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        """Answer RCPT TO ``address`` with ``reply`` from now on."""
        self._refused[address.lower()] = reply

    def accept_recipient(self, address: str) -> None:
        """Accept ``address`` again after :meth:`refuse_recipient`."""
        self._refused.pop(address.lower(), None)

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        """Accept a recipient unless told to refuse it."""
        refusal = self._refused.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        """Keep the message, or answer with the next reply queued by :meth:`answer_next`."""
        if self._data_replies:
            return self._data_replies.popleft()
        content = envelope.original_content or b""
        self.received.append(
            ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), content)
        )
        if self._drops_after_data != 0:
            if self._drops_after_data is not None:
                self._drops_after_data -= 1
            # Closed before the reply is written: asyncio drops the "250" aiosmtpd sends.
            server.transport.close()
        return "250 OK"

    def authenticate(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """aiosmtpd authenticator: accept the configured users' passwords."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        if self._users.get(user) != password:
            return AuthResult(success=False, handled=False)
        self.logins.append(user)
        return AuthResult(success=True)


class TokenSinkHandler(SinkHandler):
    """A sink that takes SASL XOAUTH2 and OAUTHBEARER (RFC 7628), checking each token.

    ``owner_of(token)`` names the mailbox a token is good for, or None when it is not
    active (the test's identity provider answers that, as Dovecot asks it). A token for
    another mailbox than the one named is refused too, with ``refusal`` (Microsoft says
    ``535 5.7.3 Authentication unsuccessful``). ``mechanisms`` records what each login used.
    """

    def __init__(self, owner_of: Callable[[str], str | None],
                 refusal: str = "535 5.7.8 Authentication credentials invalid") -> None:
        super().__init__()
        self.owner_of = owner_of
        self.refusal = refusal
        self.mechanisms: list[str] = []

    async def auth_XOAUTH2(self, server: SMTPServer, args: list[str]) -> AuthResult:
        """``user=U^Aauth=Bearer T^A^A``; a refusal is a 334 error challenge, then the reply."""
        fields = await _initial_response(server, args)
        user, token = _sasl_fields(fields, b"\x01user=", b"\x01auth=Bearer ")
        return await self._verdict(server, "XOAUTH2", user, token)

    async def auth_OAUTHBEARER(self, server: SMTPServer, args: list[str]) -> AuthResult:
        """``n,a=U,^Aauth=Bearer T^A^A`` (RFC 7628 3.1)."""
        fields = await _initial_response(server, args)
        gs2, _, rest = fields.partition(b"\x01")
        user = next((part[2:] for part in gs2.split(b",") if part.startswith(b"a=")), b"")
        _, token = _sasl_fields(b"\x01" + rest, b"\x01user=", b"\x01auth=Bearer ")
        return await self._verdict(server, "OAUTHBEARER", user.decode(errors="replace"), token)

    async def _verdict(self, server: SMTPServer, mechanism: str, user: str,
                       token: str) -> AuthResult:
        if token and user and self.owner_of(token) == user:
            self.logins.append(user)
            self.mechanisms.append(mechanism)
            return AuthResult(success=True, auth_data=user, handled=False)
        # Both mechanisms answer a bad token with an error challenge the client must
        # acknowledge (an empty line, or ^A) before the final reply.
        error = json.dumps({"status": "invalid_token", "schemes": "bearer"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False, message=self.refusal)


async def _initial_response(server: SMTPServer, args: list[str]) -> bytes:
    """The client's first SASL message: in the AUTH command, or after an empty challenge."""
    if len(args) > 1:
        return base64.b64decode(args[1])
    answer = await server.challenge_auth("")
    return answer if isinstance(answer, bytes) else b""


def _sasl_fields(fields: bytes, user_key: bytes, token_key: bytes) -> tuple[str, str]:
    """The user and bearer token of an XOAUTH2-style key/value list."""
    text = b"\x01" + fields
    user = text.split(user_key, 1)[1].split(b"\x01", 1)[0] if user_key in text else b""
    token = text.split(token_key, 1)[1].split(b"\x01", 1)[0] if token_key in text else b""
    return user.decode(errors="replace"), token.decode(errors="replace")


class _CountingController(Controller):
    """A Controller that counts the connections the server accepts."""

    def factory(self) -> SMTPServer:
        """Called by asyncio once per accepted connection."""
        self.handler.connections += 1
        server: SMTPServer = super().factory()  # type: ignore[no-untyped-call]
        return server


class SmtpSink:
    """A running aiosmtpd on 127.0.0.1: ``host``, ``port``, ``handler`` and shortcuts."""

    def __init__(self, controller: _CountingController, handler: SinkHandler, scheme: str) -> None:
        self.host = HOST
        self.port = int(controller.port)
        self.handler = handler
        self.scheme = scheme
        self._controller: _CountingController | None = controller

    @property
    def received(self) -> list[ReceivedMail]:
        """Every message accepted so far."""
        return self.handler.received

    @property
    def connections(self) -> int:
        """How many connections the server has accepted."""
        return self.handler.connections

    def url(self, user: str | None = None) -> str:
        """The transport URL, e.g. ``smtp://127.0.0.1:PORT`` or ``smtps://user@127.0.0.1:PORT``."""
        return f"{self.scheme}://{user + '@' if user else ''}{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop listening (connections still open are closed); later calls do nothing."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()


def start_sink(
    handler: SinkHandler | None = None,
    *,
    tls: str | None = None,
    users: dict[str, str] | None = None,
    ca: TestCA | None = None,
    timeout: float = 300,
    exclude: Iterable[str] = (),
    smtputf8: bool = False,
) -> SmtpSink:
    """Start an aiosmtpd sink on 127.0.0.1 and a free port; stop it with :meth:`SmtpSink.stop`.

    ``handler`` defaults to a :class:`SinkHandler` knowing ``users``, which enables AUTH
    (PLAIN, LOGIN) for those user/password pairs; with STARTTLS, AUTH is only offered once
    the connection is encrypted. ``tls`` is None, ``"starttls"`` or ``"implicit"`` and
    needs ``ca`` (a :class:`TestCA`). ``timeout`` is the server's idle timeout in seconds.
    A :class:`TokenSinkHandler` turns on its token mechanisms; ``exclude`` names
    mechanisms not to offer (Microsoft 365 offers XOAUTH2 but not OAUTHBEARER).
    ``smtputf8`` offers SMTPUTF8 (RFC 6531), for internationalised addresses.
    """
    handler = handler or SinkHandler(users)
    options: dict[str, Any] = {"server_hostname": "localhost", "timeout": timeout,
                               "enable_SMTPUTF8": smtputf8}
    if isinstance(handler, TokenSinkHandler):
        options.update(auth_require_tls=tls == "starttls",
                       auth_exclude_mechanism=["PLAIN", "LOGIN", *exclude])
    elif users:
        # aiosmtpd only knows about STARTTLS; with implicit TLS every session is encrypted.
        options.update(authenticator=handler.authenticate, auth_require_tls=tls == "starttls")
    if tls == "starttls":
        assert ca is not None
        options["tls_context"] = ca.server_context()
    elif tls == "implicit":
        assert ca is not None
        options["ssl_context"] = ca.server_context()
    # Controller probes the port it is given: choose a free one rather than 0.
    controller = _CountingController(handler, hostname=HOST, port=free_port(), **options)
    controller.start()
    handler.connections = 0  # start() itself connected once to check the server is up
    return SmtpSink(controller, handler, "smtps" if tls == "implicit" else "smtp")
