"""The SMTP transport: sends notices through a real mail server, one connection per cycle."""

from __future__ import annotations

import functools
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from intake_bot import netsec
from intake_bot.signin import Responder, SignInError, TokenLogin
from intake_bot.transport.base import (
    PermanentFailure,
    PossiblyDelivered,
    ServerUnavailable,
    TemporaryFailure,
    header_section,
    message_id_of,
)

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"smtps": 465, "smtp": 587}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BARE_LF = re.compile(rb"(?<!\r)\n")
# A header line starts with a field name and a colon; a folded continuation with a blank.
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:|[ \t]")
_BCC = re.compile(rb"(resent-)?bcc:", re.IGNORECASE)


class SmtpTransport:
    """Sends notices over one SMTP connection, opened on the first send and reused.

    The pipeline sends every due notice of a cycle through one transport and closes it
    at the end of the cycle. When the server has dropped the reused connection (idle
    timeout, 421), the transport reconnects once and sends again. Not thread-safe.
    Failures are sorted for the caller: :class:`TemporaryFailure` for anything worth
    retrying later (4xx replies, timeouts), its subclass :class:`ServerUnavailable` when
    the server cannot be reached, secured or logged in to (about the server or the
    configuration, not the notice) and :class:`PermanentFailure` when the server
    refused this notice for good (5xx to the sender, recipients or content).
    """

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        token_login: TokenLogin | None = None,
        implicit_tls: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        timeout_s: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        """Describe the server; nothing is connected until the first send.

        ``implicit_tls`` true means TLS from the first byte (``smtps``, port 465);
        false means STARTTLS when the server offers it (``smtp``, port 587), and a
        clear-text login only to a loopback address. The transport logs in only when
        both ``user`` and ``password`` are given, or signs in as ``user`` with a token
        from ``token_login`` (OAUTHBEARER, else XOAUTH2). ``ssl_context`` defaults to
        :func:`intake_bot.netsec.make_ssl_context`; ``timeout_s`` bounds connecting and
        every reply; ``local_hostname`` is the EHLO name (default: this host's FQDN).
        """
        self.host = host
        self.port = port or DEFAULT_PORTS["smtps" if implicit_tls else "smtp"]
        self.user = user
        self._password = password
        self._token_login = token_login
        #: Who signed in and how, once connected (shown by ``check-config --connect``).
        self.signed_in = ""
        self._implicit_tls = implicit_tls
        self._ssl_context = ssl_context or netsec.make_ssl_context()
        self._timeout_s = timeout_s
        self._local_hostname = local_hostname
        self._smtp: _Smtp | None = None
        self._warned_clear_text = False
        if password and not user:
            logger.warning(
                "SMTP %s: a password is set but the URL names no user: not logging in", host
            )

    @classmethod
    def from_url(
        cls, url: str, password: str | None = None, *, ca_file: str | None = None, **options: Any
    ) -> SmtpTransport:
        """Build a transport from ``smtps://user@host:port`` or ``smtp://user@host:port``.

        The port defaults to 465 (``smtps``) or 587 (``smtp``); the user is optional (no
        login without it or without ``password``); a user name containing ``@`` is
        written ``%40``. ``ca_file`` trusts a private CA (PEM) instead of the system's.
        Other keyword arguments are those of the constructor. Raises
        :class:`ValueError` for a malformed URL.
        """
        parsed = netsec.parse_server_url(url, DEFAULT_PORTS)
        if parsed.path:
            raise ValueError(
                f"SMTP URL {url!r} may not have a path: expected smtps://USER@HOST:PORT"
            )
        return cls(
            parsed.host,
            port=parsed.port,
            user=parsed.user,
            password=password,
            implicit_tls=parsed.implicit_tls,
            ssl_context=netsec.make_ssl_context(ca_file),
            **options,
        )

    def connect(self) -> str:
        """Connect (and sign in) now, e.g. to check a configuration; say who signed in.

        Raises :class:`ServerUnavailable`.
        """
        self._session()
        return self.signed_in

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        """Send ``message`` from ``envelope_from`` to exactly ``recipients``.

        The bytes go out as they are, with bare line feeds made CRLF. The envelope comes
        only from the arguments: To and Cc headers add no recipient. A message with a Bcc
        header (which would show its hidden recipients) or a malformed header section (a
        stray CR or LF, a line that is neither a header nor its continuation: a header
        injection?) is refused with :class:`PermanentFailure` before anything is sent.
        An address that is not ASCII asks the server for SMTPUTF8. When some recipients
        are refused and others accepted the message is delivered; the refused ones are
        logged. Raises :class:`TemporaryFailure` or :class:`PermanentFailure` as
        described on the class.
        """
        _check_envelope(envelope_from, recipients)
        message = _BARE_LF.sub(b"\r\n", message)
        _check_headers(message)
        options = () if "".join((envelope_from, *recipients)).isascii() else ("SMTPUTF8",)
        for attempt in (1, 2):
            reused = self._smtp is not None
            smtp = self._session()
            try:
                refused = smtp.sendmail(envelope_from, list(recipients), message, options)
            except smtplib.SMTPRecipientsRefused as error:
                raise _recipients_failure(self._where, error.recipients) from error
            except smtplib.SMTPResponseException as error:
                if error.smtp_code != 421:
                    raise _reply_failure(self._where, error.smtp_code, error.smtp_error) from error
                dropped: OSError = error  # 421: the server is closing the connection
            except smtplib.SMTPNotSupportedError as error:
                # E.g. a non-ASCII address to a server without SMTPUTF8: retrying will not help.
                raise PermanentFailure(f"{self._where}: {netsec.describe_error(error)}") from error
            except OSError as error:  # the connection broke or timed out: no answer came
                self._drop()
                if smtp.message_sent:
                    # The server may have queued it: another copy now could be a duplicate.
                    raise PossiblyDelivered(f"{self._where}: no answer after the message was "
                                            f"sent: {_describe(error)}") from error
                if not isinstance(error, (smtplib.SMTPServerDisconnected, ConnectionError)):
                    # A timeout or other failure mid-message: not sent again at once.
                    raise TemporaryFailure(
                        f"{self._where}: sending failed: {_describe(error)}") from error
                dropped = error
            else:
                if refused:
                    logger.warning(
                        "%s: delivered, but refused for %s",
                        self._where,
                        _describe_refusals(refused),
                    )
                logger.debug("%s: sent <%s>", self._where, message_id_of(message))
                return
            finally:
                if smtp.sock is None:  # smtplib closed it (421, or a lost connection)
                    self._smtp = None
            self._drop()
            if not (reused and attempt == 1):
                raise TemporaryFailure(
                    f"{self._where}: sending failed: {_describe(dropped)}"
                ) from dropped
            # Typically the server closed the connection while it sat idle between notices.
            logger.info(
                "%s: connection dropped (%s); reconnecting once", self._where, _describe(dropped)
            )

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open; never raises."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except OSError:
            smtp.close()

    @property
    def _where(self) -> str:
        return f"SMTP {self.host}:{self.port}"

    def _drop(self) -> None:
        """Forget a connection that can no longer be used."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _session(self) -> _Smtp:
        """Return the open connection, or open, secure and log in a new one."""
        if self._smtp is not None:
            return self._smtp
        try:
            if self._implicit_tls:
                smtp: _Smtp = _SmtpSsl(
                    self.host,
                    self.port,
                    self._local_hostname or _ehlo_name(),
                    timeout=self._timeout_s,
                    context=self._ssl_context,
                )
            else:
                smtp = _Smtp(
                    self.host, self.port, self._local_hostname or _ehlo_name(),
                    timeout=self._timeout_s,
                )
        except OSError as error:
            raise ServerUnavailable(f"{self._where}: cannot connect: {_describe(error)}") from error
        try:
            encrypted = self._start_session(smtp)
        except (netsec.CleartextRefused, SignInError) as error:
            smtp.close()
            raise ServerUnavailable(f"{self._where}: {error}") from None
        except smtplib.SMTPAuthenticationError as error:
            smtp.close()
            raise ServerUnavailable(
                f"{self._where}: login refused for user {self.user!r}: {_describe(error)}"
            ) from error
        except OSError as error:
            smtp.close()
            raise ServerUnavailable(
                f"{self._where}: cannot start a session: {_describe(error)}"
            ) from error
        logger.debug("%s: connected (%s)", self._where, "TLS" if encrypted else "clear text")
        if not encrypted:
            self._warn_clear_text(smtp)
        self._smtp = smtp
        return smtp

    def _warn_clear_text(self, smtp: _Smtp) -> None:
        """Warn once per transport, so once a cycle, when notices leave loopback unencrypted."""
        assert smtp.sock is not None
        warning = netsec.cleartext_warning(self.host, False, smtp.sock.getpeername()[0])
        if warning and not self._warned_clear_text:
            self._warned_clear_text = True
            logger.warning("SMTP %s", warning)

    def _start_session(self, smtp: _Smtp) -> bool:
        """Greet, upgrade with STARTTLS when offered, log in if configured; True when encrypted."""
        smtp.ehlo_or_helo_if_needed()
        encrypted = self._implicit_tls
        if not encrypted and smtp.has_extn("starttls"):
            smtp.starttls(context=self._ssl_context)
            smtp.ehlo()
            encrypted = True
        if self.user and (self._password or self._token_login):
            assert smtp.sock is not None
            netsec.require_encryption_or_loopback(
                self.host, encrypted, peer=smtp.sock.getpeername()[0], secure_scheme="smtps",
                credential="a password" if self._token_login is None else "an OAuth token",
            )
            if self._token_login is not None:
                self.signed_in = self._sign_in_by_token(smtp, self.user, self._token_login)
            else:
                smtp.login(self.user, self._password or "")
                self.signed_in = f"{self.user} by password"
        return encrypted

    def _sign_in_by_token(self, smtp: smtplib.SMTP, user: str, login: TokenLogin) -> str:
        """AUTH with a token for ``user``; a refused token is replaced once. Says how it went."""
        mechanism = login.mechanism(str(smtp.esmtp_features.get("auth", "")).split())
        return login.sign_in(
            user, mechanism, "SMTP",
            lambda token: smtp.auth(mechanism, Responder(mechanism, user, token),
                                    initial_response_ok=True),
            smtplib.SMTPAuthenticationError, _describe)


class _Smtp(smtplib.SMTP):
    """smtplib's client, knowing whether the end of a message went out before a failure."""

    #: True once a message's last line (CRLF "." CRLF) is handed to the network, until the
    #: next command: a connection lost then may have delivered the message.
    message_sent = False

    def send(self, s: ReadableBuffer | str) -> None:
        self.message_sent = False
        super().send(s)
        # smtplib's data() sends the whole message, ending in CRLF "." CRLF, in one call.
        self.message_sent = isinstance(s, bytes) and s.endswith(b"\r\n.\r\n")


class _SmtpSsl(_Smtp, smtplib.SMTP_SSL):
    """The same over implicit TLS."""


@functools.cache
def _ehlo_name() -> str:
    """This host's FQDN for EHLO, looked up once per process.

    smtplib looks it up for every connection, a reverse DNS query that can take seconds
    where DNS is slow, and the service opens a connection every cycle.
    """
    return socket.getfqdn()


def _check_envelope(envelope_from: str, recipients: Sequence[str]) -> None:
    """Refuse an empty recipient list and addresses carrying control characters."""
    if isinstance(recipients, str) or not recipients:
        raise PermanentFailure("refusing to send: recipients must be a non-empty list of addresses")
    for address in (envelope_from, *recipients):
        if _CONTROL.search(address):
            raise PermanentFailure(f"refusing to send: control character in address {address!r}")


def _check_headers(message: bytes) -> None:
    """Refuse a malformed header section, or one with a Bcc header (see ``send``)."""
    for line in header_section(message).split(b"\r\n"):
        # Every LF is part of a CRLF by now, so a CR left in a line is a stray one.
        if b"\r" in line or not _HEADER_LINE.match(line):
            raise PermanentFailure(
                f"refusing to send: malformed header line {line[:80]!r} (header injection?)"
            )
        if _BCC.match(line):
            raise PermanentFailure("refusing to send: a Bcc header would show its recipients")


def _reply_failure(where: str, code: int, text: bytes | str) -> TemporaryFailure | PermanentFailure:
    """Classify one SMTP reply: 5xx is permanent, anything else worth retrying."""
    kind = PermanentFailure if 500 <= code < 600 else TemporaryFailure
    return kind(f"{where}: {code} {_text(text)}")


def _recipients_failure(
    where: str, refused: Mapping[str, tuple[int, bytes]]
) -> TemporaryFailure | PermanentFailure:
    """Classify a refusal of every recipient: temporary if any of them may succeed later."""
    if not refused:
        return PermanentFailure(f"{where}: no recipient accepted")
    temporary = any(not 500 <= code < 600 for code, _ in refused.values())
    kind = TemporaryFailure if temporary else PermanentFailure
    return kind(f"{where}: recipient refused: {_describe_refusals(refused)}")


def _describe_refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address}: {code} {_text(text)}" for address, (code, text) in refused.items()
    )


def _describe(exc: BaseException) -> str:
    """One line for an smtplib or network error (smtplib keeps code and text apart)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return netsec.describe_error(exc)


def _text(text: bytes | str) -> str:
    """A server reply's text on one line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(text.split())
