"""The IMAP mailbox: reads waiting messages from a real server and files them into folders."""

from __future__ import annotations

import logging
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from imapclient import DELETED, IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from intake_bot import netsec
from intake_bot.mailbox.base import MailboxError, MailItem
from intake_bot.signin import SignInError, TokenLogin

logger = logging.getLogger(__name__)
_T = TypeVar("_T")
# imapclient's protocol trace logs every fetched message whole at DEBUG: keep it quiet even
# under ``-v``, so that no candidate's e-mail ends up in a log (it redacts only LOGIN).
logging.getLogger("imapclient.imaplib").setLevel(logging.INFO)

DEFAULT_PORTS = {"imaps": 993, "imap": 143}

# FETCH response keys: BODY.PEEK[...] is answered as BODY[...].
_SIZE = b"RFC822.SIZE"
_DATE = b"INTERNALDATE"
_BODY = b"BODY[]"
_HEADER = b"BODY[HEADER]"


class StaleKeyError(MailboxError):
    """The folder's UIDVALIDITY changed since the message was listed: its key names nothing now."""


class ConnectionCut(MailboxError):
    """The connection broke (closed, reset, timed out) in the middle of a command."""


#: A message whose fetch is cut this many times, alone on a fresh connection, is left in
#: the inbox for the next cycle; this many such messages in a row end the cycle instead.
_CUTS_PER_MESSAGE = 2
_SKIPPED_IN_A_ROW = 3


class ImapMailbox:
    """One folder of an IMAP account, read through one connection opened on demand.

    The connection is opened, logged in and the folder selected on first use, kept for
    later calls, and reopened on the next call after it was lost, so one object can
    serve a long-running service. Every failure (connection refused, timeout, TLS,
    refused login, lost connection) is raised as :class:`MailboxError` with a one-line
    message naming the server and the problem, never the password. Not thread-safe: one
    thread at a time (the service's single job).
    """

    def __init__(
        self,
        host: str,
        user: str,
        password: str | None,
        *,
        token_login: TokenLogin | None = None,
        port: int | None = None,
        folder: str = "INBOX",
        implicit_tls: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        timeout_s: float = 60.0,
        max_fetch_bytes: int = 25_000_000,
        batch_size: int = 50,
        batch_bytes: int = 32 * 2**20,
        use_move: bool = True,
        use_idle: bool = True,
        idle_renew_s: float = 600.0,
    ) -> None:
        """Describe the account; nothing is connected until first use.

        The account signs in with ``password``, or with ``token_login`` by a token
        (OAUTHBEARER, else XOAUTH2, whichever the server offers first); ``user`` is then
        the mailbox signed in to, a shared mailbox's own address included.

        ``implicit_tls`` true means TLS from the first byte (``imaps``, port 993);
        false means STARTTLS when the server offers it, and a clear-text login only to
        a loopback address (``imap``, port 143). ``ssl_context`` defaults to
        :func:`intake_bot.netsec.make_ssl_context`. ``timeout_s`` bounds connecting
        and every read. A message larger than ``max_fetch_bytes`` is yielded with its
        header only. :meth:`pending` fetches at most ``batch_size`` messages and about
        ``batch_bytes`` bytes per command. ``use_move=False`` forces COPY + STORE
        \\Deleted + UID EXPUNGE even when the server offers MOVE; ``use_idle=False``
        makes :meth:`wait_for_mail` sleep instead of using IDLE. ``idle_renew_s`` is how
        often an IDLE is re-issued; servers may end one after 29 minutes (RFC 2177).
        """
        self.host = host
        self.port = port or DEFAULT_PORTS["imaps" if implicit_tls else "imap"]
        self.user = user
        self.folder = folder
        self._password = password
        self._token_login = token_login
        #: Who signed in and how, after the first login (shown by ``check-config --connect``).
        self.signed_in = ""
        self._implicit_tls = implicit_tls
        self._ssl_context = ssl_context or netsec.make_ssl_context()
        self._timeout_s = timeout_s
        self._max_fetch_bytes = max_fetch_bytes
        self._batch_size = max(1, batch_size)
        self._batch_bytes = batch_bytes
        self._use_move = use_move
        self._use_idle = use_idle
        self._idle_renew_s = idle_renew_s
        self._client: IMAPClient | None = None
        # (UIDVALIDITY, UIDNEXT) of the current selection, and as they were at the last listing.
        self._selection: tuple[int, int | None] | None = None
        self._listed: tuple[int, int | None] | None = None

    @classmethod
    def from_url(
        cls, url: str, password: str | None, *, ca_file: str | None = None, **options: Any
    ) -> ImapMailbox:
        """Build a mailbox from ``imaps://user@host:port/FOLDER`` or ``imap://...``.

        The port defaults to 993 (``imaps``) or 143 (``imap``), the folder to INBOX; a
        user name containing ``@`` is written ``%40``. ``ca_file`` trusts a private CA
        (PEM) instead of the system's. Other keyword arguments are those of the
        constructor. Raises :class:`ValueError` for a malformed URL.
        """
        parsed = netsec.parse_server_url(url, DEFAULT_PORTS)
        if parsed.user is None:
            raise ValueError(f"IMAP URL {url!r} names no user: expected imaps://USER@HOST/FOLDER")
        return cls(
            parsed.host,
            parsed.user,
            password,
            port=parsed.port,
            folder=parsed.path or "INBOX",
            implicit_tls=parsed.implicit_tls,
            ssl_context=netsec.make_ssl_context(ca_file),
            **options,
        )

    @property
    def supports_idle(self) -> bool:
        """True when :meth:`wait_for_mail` uses IDLE; connects first if needed."""
        if not self._use_idle:
            return False
        with self._errors("connecting"):
            return bool(self._selected().has_capability("IDLE"))

    def connect(self) -> str:
        """Connect, log in and select the folder now; say who signed in and how.

        Meant to check a configuration: the answer reads ``applications@example.org by
        XOAUTH2 (microsoft token valid until 2026-11-23T13:00:00Z)``.
        """
        with self._errors("connecting"):
            self._selected()
        return self.signed_in

    def pending(self) -> Iterator[MailItem]:
        """Yield every message waiting in the folder, in arrival (UID) order.

        The UIDs are listed first; then INTERNALDATE and RFC822.SIZE, then the messages
        themselves with ``BODY.PEEK[]`` (which leaves ``\\Seen`` alone) are fetched a
        batch at a time, so memory stays flat however many are waiting. Messages larger
        than ``max_fetch_bytes`` come with ``complete=False`` and only their header
        section (``BODY.PEEK[HEADER]``). Messages flagged ``\\Deleted`` are on their way
        out (a move by COPY that was not expunged yet) and are skipped, as are messages
        that vanish between the listing and their batch.
        """
        with self._errors("listing messages"):
            client = self._selected(reselect=True)
            assert self._selection is not None
            self._listed = self._selection
            uidvalidity = self._selection[0]
            uids = sorted(client.search(["UNDELETED"]))
        logger.debug("IMAP %s: %d message(s) waiting in %s", self.host, len(uids), self.folder)
        for chunk in _chunks(uids, self._batch_size):
            meta = self._again_after_a_cut(self._fetch_meta, chunk, uidvalidity)
            # A UID missing here vanished since the listing (moved or expunged elsewhere).
            listed = [
                (uid, meta[uid]) for uid in chunk if {_DATE, _SIZE} <= meta.get(uid, {}).keys()
            ]
            yield from self._fetch_listed(deque(listed), uidvalidity)

    def _fetch_meta(self, chunk: list[int], uidvalidity: int) -> dict[int, dict[bytes, Any]]:
        with self._errors("fetching messages"):
            meta = self._selected(uidvalidity, reselect=True).fetch(chunk, [_DATE, _SIZE])
        return meta  # type: ignore[no-any-return]

    def _fetch_listed(
        self, waiting: deque[tuple[int, dict[bytes, Any]]], uidvalidity: int
    ) -> Iterator[MailItem]:
        """Fetch the listed messages a group at a time, groups shrinking after each cut.

        A link that cuts every connection after so many bytes would otherwise cut the same
        32 MB group again and again, and no message would ever come through. After a cut
        the group is split, and later groups are no larger, down to one message on a fresh
        connection; a message cut even then (twice) is left in the inbox with a warning.
        """
        cuts: dict[int, int] = {}
        skipped = 0
        while waiting:
            group = _next_group(waiting, self._batch_size, self._batch_bytes,
                                self._max_fetch_bytes)
            try:
                items = self._fetch_group(group, uidvalidity)
            except ConnectionCut as cut:
                if len(group) > 1:
                    self._shrink(group, cut)
                    waiting.extendleft(reversed(group))
                    continue
                uid = group[0][0]
                cuts[uid] = cuts.get(uid, 0) + 1
                if cuts[uid] < _CUTS_PER_MESSAGE:
                    waiting.appendleft(group[0])
                    continue
                skipped += 1
                if skipped >= _SKIPPED_IN_A_ROW:
                    raise
                logger.warning("IMAP %s:%d: UID %d (%d bytes) stays in the inbox: the "
                               "connection was cut each of the %d times it was fetched alone",
                               self.host, self.port, uid, group[0][1][_SIZE], _CUTS_PER_MESSAGE)
                continue
            skipped = 0
            yield from items

    def _shrink(self, group: Sequence[tuple[int, dict[bytes, Any]]], cut: ConnectionCut) -> None:
        """Make later fetches at most half the size of ``group``, which was cut."""
        fetched = sum(min(int(meta[_SIZE]), self._max_fetch_bytes) for _, meta in group)
        self._batch_size = max(1, len(group) // 2)
        self._batch_bytes = max(1, fetched // 2)
        logger.warning("%s; fetching at most %d message(s), about %d bytes, at a time from "
                       "now on", cut, self._batch_size, self._batch_bytes)

    def _again_after_a_cut(self, operation: Callable[..., _T], *args: Any) -> _T:
        """Run ``operation(*args)``; once more, on a fresh connection, after a cut.

        For what is safe to repeat (listing, fetching, moving: a UID already moved is no
        error) and small: what a cut link lets through on a fresh connection.
        """
        try:
            return operation(*args)
        except ConnectionCut as cut:
            logger.info("%s; trying once more on a new connection", cut)
            return operation(*args)

    def _fetch_group(
        self, group: Sequence[tuple[int, dict[bytes, Any]]], uidvalidity: int
    ) -> list[MailItem]:
        """Fetch one group of messages (whole, or header only when too large)."""
        whole = [uid for uid, meta in group if meta[_SIZE] <= self._max_fetch_bytes]
        partial = [uid for uid, meta in group if meta[_SIZE] > self._max_fetch_bytes]
        with self._errors("fetching messages"):
            client = self._selected(uidvalidity)
            bodies = client.fetch(whole, ["BODY.PEEK[]"])
            headers = client.fetch(partial, ["BODY.PEEK[HEADER]"])
        items = []
        for uid, meta in group:
            complete = _BODY in bodies.get(uid, {})
            raw = bodies[uid][_BODY] if complete else headers.get(uid, {}).get(_HEADER)
            if raw is None:
                logger.debug("IMAP %s: UID %d vanished before it was fetched", self.host, uid)
                continue
            items.append(
                MailItem(
                    key=f"imap:{uidvalidity}:{uid}",
                    raw=bytes(raw),
                    received_at=_as_utc(meta[_DATE]),
                    size=meta[_SIZE],
                    complete=complete,
                )
            )
        return items

    def move(self, key: str, folder: str) -> None:
        """Move the message ``key`` (from :meth:`pending`) into ``folder``.

        Uses MOVE when the server offers it, else COPY, STORE ``\\Deleted`` and, with
        UIDPLUS, UID EXPUNGE of that message only (without UIDPLUS it stays flagged:
        a plain EXPUNGE would also remove messages someone else flagged). The folder is
        created when the server answers ``[TRYCREATE]`` or it does not exist. Raises
        :class:`StaleKeyError` (a :class:`MailboxError`) instead of moving anything when
        the folder's UIDVALIDITY is no longer the one in ``key``: the UID may now name
        another message. A message that is already gone is not an error.
        """
        self.move_many([key], folder)

    def move_many(self, keys: Sequence[str], folder: str) -> None:
        """Move the messages ``keys`` into ``folder`` with one command, as :meth:`move` does.

        One SELECT and one UID MOVE (or COPY, STORE and UID EXPUNGE) for the lot: moving a
        burst one message at a time costs Dovecot a SELECT and a MOVE each, slower the
        fuller the inbox. Keys of another UIDVALIDITY than the folder's raise
        :class:`StaleKeyError` before anything moves.
        """
        if not keys:
            return
        parsed = [_parse_key(key) for key in keys]
        uidvalidities = {uidvalidity for uidvalidity, _ in parsed}
        if len(uidvalidities) != 1:
            raise ValueError(f"keys from several listings of the folder: {sorted(keys)}")
        uids, uidvalidity = [uid for _, uid in parsed], uidvalidities.pop()
        self._again_after_a_cut(self._move_uids, uids, uidvalidity, folder)
        logger.debug("IMAP %s: moved %s to %s", self.host, ", ".join(keys), folder)

    def _move_uids(self, uids: list[int], uidvalidity: int, folder: str) -> None:
        with self._errors(f"moving {_describe_uids(uids)} to {folder!r}"):
            # A fresh SELECT: a session that stays selected does not notice the folder
            # being deleted and recreated (Dovecot then moves whatever has that UID now).
            client = self._selected(uidvalidity, reselect=True)
            try:
                self._transfer(client, uids, folder)
            except IMAPClientAbortError:
                raise
            except IMAPClientError as error:
                if "TRYCREATE" not in str(error).upper() and client.folder_exists(folder):
                    raise
                self._create_folder(client, folder)
                self._transfer(client, uids, folder)

    def _transfer(self, client: IMAPClient, uids: list[int], folder: str) -> None:
        """Move messages, by MOVE or by its COPY fallback."""
        if self._use_move and client.has_capability("MOVE"):
            client.move(uids, folder)
            return
        client.copy(uids, folder)
        client.add_flags(uids, [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)

    def _create_folder(self, client: IMAPClient, folder: str) -> None:
        """Create ``folder``, tolerating another client creating it at the same moment."""
        logger.info("IMAP %s: creating folder %r", self.host, folder)
        try:
            client.create_folder(folder)
        except IMAPClientAbortError:
            raise
        except IMAPClientError:
            if not client.folder_exists(folder):
                raise

    def wait_for_mail(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` seconds for new mail; True when some arrived.

        With IDLE (RFC 2177) the server announces a new message within about a second;
        the IDLE is re-issued every ``idle_renew_s`` seconds, well before servers drop
        it. Mail that arrived since the last :meth:`pending` listing counts too, even
        across a reconnection. Without IDLE (not offered, or ``use_idle=False``) this
        just sleeps ``timeout_s`` and returns False, leaving the pace to polling.
        """
        deadline = time.monotonic() + timeout_s
        if not self.supports_idle:
            time.sleep(max(0.0, timeout_s))
            return False
        with self._errors("waiting for new mail"):
            client = self._selected(reselect=True)
            if self._arrived_since_listing():
                return True
            # From here on the server reports what arrives (it syncs the selection when
            # the IDLE starts), so this line tells a watcher that no arrival can be missed.
            logger.debug("IMAP %s: waiting for new mail in %s (IDLE)", self.host, self.folder)
            while (left := deadline - time.monotonic()) > 0:
                if self._idle_round(client, min(left, self._idle_renew_s)):
                    return True
        return False

    def _arrived_since_listing(self) -> bool:
        """Compare a fresh selection with the last listing: new UIDs or a new UIDVALIDITY."""
        if self._listed is None or self._selection is None:
            return False
        (listed_validity, listed_next), (validity, uidnext) = self._listed, self._selection
        if validity != listed_validity:
            return True
        return listed_next is not None and uidnext is not None and uidnext > listed_next

    def _idle_round(self, client: IMAPClient, seconds: float) -> bool:
        """Run one IDLE command for at most ``seconds``; True when the server announced mail."""
        end = time.monotonic() + seconds
        responses: list[tuple[Any, ...]] = []
        client.idle()
        try:
            while (left := end - time.monotonic()) > 0:
                responses = client.idle_check(timeout=left)
                if _announces_mail(responses):
                    break
                if not responses:
                    # A timeout, or a wake-up with nothing readable, which is how a closed
                    # connection looks: ending the IDLE (DONE) settles which it was.
                    break
        except BaseException:
            # The connection is mid-IDLE: abandon it rather than guess its state.
            self._drop()
            raise
        _, final = client.idle_done()
        return _announces_mail(responses) or _announces_mail(final)

    def close(self) -> None:
        """Log out and close the connection; a later call reconnects."""
        client, self._client = self._client, None
        self._selection = None
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError):
            _shutdown(client)

    def _drop(self) -> None:
        """Forget a connection whose state is unknown, closing its socket."""
        client, self._client = self._client, None
        self._selection = None
        if client is not None:
            _shutdown(client)

    def _selected(
        self, expected_uidvalidity: int | None = None, *, reselect: bool = False
    ) -> IMAPClient:
        """Return the connection with the folder selected, connecting when needed.

        ``reselect`` issues a fresh SELECT to learn the folder's current UIDVALIDITY and
        UIDNEXT, which a long-selected session may not be told about.
        Raises :class:`StaleKeyError` when ``expected_uidvalidity`` is not the folder's.
        """
        fresh = self._client is None
        client = self._client = self._client or self._connect()
        if fresh or reselect:
            info = client.select_folder(self.folder)
            self._selection = (info[b"UIDVALIDITY"], info.get(b"UIDNEXT"))
        assert self._selection is not None
        if expected_uidvalidity is not None and expected_uidvalidity != self._selection[0]:
            raise StaleKeyError(
                f"IMAP {self.host}:{self.port}: {self.folder} UIDVALIDITY changed from "
                f"{expected_uidvalidity} to {self._selection[0]}; its messages must be listed again"
            )
        return client

    def _connect(self) -> IMAPClient:
        """Open a connection, secure it and log in; raise MailboxError on any failure."""
        try:
            client = IMAPClient(
                self.host,
                port=self.port,
                ssl=self._implicit_tls,
                ssl_context=self._ssl_context,
                timeout=self._timeout_s,
            )
        except (IMAPClientError, OSError) as error:
            raise self._error("cannot connect", error) from error
        step = "cannot log in"
        try:
            # Aware datetimes: INTERNALDATE must not be read in this machine's time zone.
            client.normalise_times = False
            encrypted = self._implicit_tls
            if not encrypted and client.has_capability("STARTTLS"):
                step = "STARTTLS failed"
                client.starttls(self._ssl_context)
                encrypted = True
                step = "cannot log in"
            netsec.require_encryption_or_loopback(
                self.host, encrypted, peer=client.socket().getpeername()[0], secure_scheme="imaps",
                credential="a password" if self._token_login is None else "an OAuth token",
            )
            how = self._sign_in(client)
        except netsec.CleartextRefused as error:
            _shutdown(client)
            raise MailboxError(f"IMAP {self.host}:{self.port}: {error}") from None
        except SignInError as error:
            _shutdown(client)
            raise MailboxError(f"IMAP {self.host}:{self.port}: {error}") from None
        except LoginError as error:
            _shutdown(client)
            raise self._error(f"login refused for user {self.user!r}", error) from error
        except (IMAPClientError, OSError) as error:
            _shutdown(client)
            raise self._error(step, error) from error
        self.signed_in = how
        logger.info(
            "IMAP %s:%d: signed in as %s (%s)",
            self.host,
            self.port,
            self.signed_in,
            "TLS" if encrypted else "clear text on loopback",
        )
        return client

    def _sign_in(self, client: IMAPClient) -> str:
        """Log in with the password, or with a token; say who signed in and how."""
        if self._token_login is None:
            client.login(self.user, self._password or "")
            return f"{self.user} by password"
        login = self._token_login
        mechanism = login.mechanism(
            cap.decode()[5:] for cap in client.capabilities() if cap.startswith(b"AUTH="))

        def present(token: str) -> object:
            if mechanism == "XOAUTH2":
                return client.oauth2_login(self.user, token)
            return client.oauthbearer_login(self.user, token)

        return login.sign_in(self.user, mechanism, "IMAP", present, LoginError,
                             netsec.describe_error)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn protocol and network errors into MailboxError and drop the connection.

        A connection that broke mid-command (closed, reset, timed out) is a
        :class:`ConnectionCut`; an error the server answered is a plain MailboxError.
        """
        try:
            yield
        except (IMAPClientAbortError, OSError) as error:
            self._drop()
            raise self._error(f"{action} failed", error, ConnectionCut) from error
        except IMAPClientError as error:
            self._drop()
            raise self._error(f"{action} failed", error) from error

    def _error(self, what: str, exc: BaseException,
               kind: type[MailboxError] = MailboxError) -> MailboxError:
        """Build the one-line MailboxError for ``exc``, never containing the password."""
        detail = netsec.describe_error(exc)
        if self._password:
            detail = detail.replace(self._password, "***")
        return kind(f"IMAP {self.host}:{self.port}: {what}: {detail}")


def _shutdown(client: IMAPClient) -> None:
    """Close a connection's socket, ignoring errors: it is being abandoned."""
    try:
        client.shutdown()
    except (IMAPClientError, OSError):
        pass


def _parse_key(key: str) -> tuple[int, int]:
    """Split ``imap:<uidvalidity>:<uid>`` into its numbers."""
    kind, _, rest = key.partition(":")
    uidvalidity, _, uid = rest.partition(":")
    if kind != "imap" or not uidvalidity.isdigit() or not uid.isdigit():
        raise ValueError(f"not an IMAP message key: {key!r}")
    return int(uidvalidity), int(uid)


def _describe_uids(uids: Sequence[int]) -> str:
    """``UID 7``, or ``50 messages (UID 7 to 60)`` for error messages."""
    if len(uids) == 1:
        return f"UID {uids[0]}"
    return f"{len(uids)} messages (UID {min(uids)} to {max(uids)})"


def _as_utc(value: datetime) -> datetime:
    """INTERNALDATE as aware UTC (imapclient gives the server's offset when not normalising)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _announces_mail(responses: Sequence[tuple[Any, ...]]) -> bool:
    """True when IDLE responses include ``* n EXISTS``, sent when a message arrives."""
    return any(len(response) > 1 and response[1] == b"EXISTS" for response in responses)


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    """Split ``items`` into consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _next_group(
    waiting: deque[tuple[int, dict[bytes, Any]]], max_count: int, max_bytes: int,
    max_fetch_bytes: int,
) -> list[tuple[int, dict[bytes, Any]]]:
    """Take the next messages from ``waiting``: at most ``max_count``, about ``max_bytes``.

    A message counts for at most ``max_fetch_bytes`` (beyond it only its header is
    fetched); a message larger than ``max_bytes`` on its own forms its own group.
    """
    group: list[tuple[int, dict[bytes, Any]]] = []
    total = 0
    while waiting and len(group) < max_count:
        size = min(int(waiting[0][1].get(_SIZE, 0)), max_fetch_bytes)
        if group and total + size > max_bytes:
            break
        group.append(waiting.popleft())
        total += size
    return group
