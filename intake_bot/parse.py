"""Turn raw message bytes into the facts the decision needs, whatever the bytes are.

The standard library's parser (``policy.default``) is used rather than mail-parser's
attachment list because a PDF without a file name, or one inside a forwarded message, is
still the candidate's document, and mail-parser does not list those; walking the MIME tree
ourselves is the only way to see every part. Nothing here raises on hostile input: broken
headers decode to what can be read, and the defects are reported.

The standard parser builds an object for every part and header, and ``policy.default``
keeps a parse tree of about 100 to 400 bytes per character of header text: a 10 MB
message of 200,000 tiny parts took the service to 1.45 GB, 200,000 one-line headers
(1.6 MB) to 840 MB, and a 300 KB subject of encoded words to 2.9 GB. So the parser works
within caps (:data:`MAX_PARTS`, :data:`MAX_HEADER_FIELDS`, :data:`MAX_HEADER_CHARS`,
:data:`MAX_LINES`), counted as it builds: past one, it stops, and the message is read for
a bounded header section only and reported ``too_many_parts``. No application comes near
them.

Mail as candidates' clients send it: header bytes that are neither ASCII nor encoded words
(an old client's raw windows-1252 subject) read as UTF-8 when they are valid UTF-8, else as
windows-1252, and so does a text part whose declared charset is unknown or wrong; contact
cards (a Thunderbird vCard) and signatures are not attachments; an opaque S/MIME signed
part is unwrapped and its content walked like any other part; an encrypted message is
marked so (see :mod:`intake_bot.smime`); a delivery-status report is read for the message
it returns (see :mod:`intake_bot.bounces`).
"""

from __future__ import annotations

import base64
import email.policy
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any
from urllib.parse import unquote

from intake_bot import bounces, smime
from intake_bot.bounces import DeliveryFailure
from intake_bot.documents.sniff import sniff

#: Parts that sign a message rather than carry a document.
SIGNATURE_TYPES = frozenset({
    "application/pkcs7-signature", "application/x-pkcs7-signature",
    "application/pgp-signature", "application/pgp-keys",
})
#: Contact cards: a vCard beside the PDF is the candidate's address book entry, not a document.
CONTACT_CARD_TYPES = frozenset({"text/vcard", "text/x-vcard", "text/directory",
                                "application/vcard"})
#: Deeper MIME nesting than this is not walked: no real mail client nests so deep.
MAX_DEPTH = 30
#: Caps on what the standard parser builds for one message (see the module's docstring):
#: parts (multiparts, leaves and attached messages); header fields and characters of header
#: text, every part's together (an Office 365 message carries about 20,000); lines once
#: the base64 runs are folded (a text body of 200,000 lines would be 4,000 pages).
MAX_PARTS = 500
MAX_HEADER_FIELDS = 2_000
MAX_HEADER_CHARS = 128_000
MAX_LINES = 200_000
#: A longer header value is cut to this before it is parsed (a 100-message thread's
#: References is about 6,000 characters).
MAX_HEADER_VALUE_CHARS = 4_000
#: The header section read from a message that is over a cap.
_HEADER_SECTION_BYTES = 64_000
_FEED_BYTES = 64 * 1024
MAX_BODY_CHARS = 20_000
MAX_NAME_CHARS = 150

_ANGLE_ID = re.compile(r"<[^<>\s\"]{1,500}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_CID = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
# Bytes the parser could not decode, kept as lone surrogates (``surrogateescape``).
_UNDECODED = re.compile("[\udc80-\udcff]+")


@dataclass(frozen=True)
class Attachment:
    """One part the candidate attached, with a sanitised display name (never a path)."""

    data: bytes
    filename: str | None
    content_type: str
    declared_size: int


@dataclass(frozen=True)
class ParsedMessage:
    """What the decision core reads from one message; every string is single-line text."""

    message_id: str | None
    subject: str
    sender: str | None
    sender_name: str
    reply_to: str | None
    headers: dict[str, list[str]]  # lower-case name -> decoded single-line values
    content_type: str
    body_text: str
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...] = ()
    complete: bool = True
    parts: tuple[str, ...] = field(default=())  # content types of every part, for classify
    too_many_parts: bool = False  # over a cap of the parser: read for its headers only
    encrypted: bool = False  # S/MIME enveloped data or PGP/MIME: the content cannot be read
    delivery_failures: tuple[DeliveryFailure, ...] = ()  # what a delivery-status report says

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def thread(self) -> tuple[str, ...]:
        """The Message-IDs of the thread this message continues, oldest first: its
        ``References``, else its ``In-Reply-To`` (RFC 5322, 3.6.4), for a reply to extend."""
        for name in ("references", "in-reply-to"):
            found = tuple(_ANGLE_ID.findall(self.header(name) or ""))
            if found:
                return found
        return ()


def clean_text(value: str, limit: int | None = None) -> str:
    """One line of printable text: control characters (CR, LF, NUL...) become spaces.

    Undecoded 8-bit bytes in ``value`` are read as :func:`read_eight_bit` says.
    """
    value = " ".join(_CONTROL.sub(" ", read_eight_bit(value)).split())
    return value[:limit] if limit else value


def read_eight_bit(value: str) -> str:
    """``value`` with the bytes the parser could not decode read as UTF-8, else windows-1252.

    The parser keeps header bytes that are neither ASCII nor inside an encoded word (and the
    bytes of an encoded word in a charset no codec knows) as lone surrogates. Clients that
    send raw 8-bit headers write UTF-8 (RFC 6532) or, the old ones, the sender's Windows
    code page: UTF-8 is tried first because windows-1252 would read any byte sequence,
    and a real UTF-8 sequence almost never reads as plausible windows-1252 text anyway.
    The whole value is judged at once: one client wrote all of it.
    """
    if not _UNDECODED.search(value):
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte: not ours to read
        return value.encode("utf-8", "replace").decode("utf-8")
    except UnicodeDecodeError:
        return _UNDECODED.sub(lambda run: run.group(0).encode("utf-8", "surrogateescape")
                              .decode("cp1252", "replace"), value)


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes of text in their declared charset, else UTF-8 when valid, else windows-1252.

    A declared charset that no codec knows (``x-unknown``), that is not a text encoding
    (``base64``) or that the bytes contradict (Latin-1 text declared ``us-ascii``) falls
    back as 8-bit headers do (:func:`read_eight_bit`), so the text is read, never lost.
    """
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, ValueError):  # UnicodeDecodeError is a ValueError
            continue
    return data.decode("cp1252", "replace")


def safe_display_name(name: str | None) -> str | None:
    """A file name fit to show and store as text: no folders, no control characters."""
    if not name:
        return None
    name = clean_text(str(name))
    name = re.split(r"[\\/]", name)[-1].strip().lstrip(".").strip()
    if not name:
        return None
    if _WINDOWS_RESERVED.match(name):
        name = "_" + name
    if len(name) > MAX_NAME_CHARS:
        stem, dot, suffix = name.rpartition(".")
        suffix = suffix[:10] if dot else ""
        name = name[: MAX_NAME_CHARS - len(suffix) - 1] + ("." + suffix if suffix else "")
    return name


def parse_message(raw: bytes, *, complete: bool = True) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; ``complete=False`` means only the header section is there.

    A message over one of the parser's caps comes back with ``too_many_parts`` set, its
    headers read from a bounded header section, and no body or attachments.
    """
    defects: list[str] = []
    too_many_parts = False
    message: Message | None = None
    # The whole message with its base64 runs folded; None when only its headers are read
    # (an oversized message, or one over a cap), so there is no tree to walk.
    encoded = _EncodedRuns(raw) if complete else None
    if encoded is not None and _line_count(encoded.stand_ins) > MAX_LINES:
        too_many_parts, encoded = True, None
    if encoded is not None:
        try:
            # The parser recurses once per MIME level, so the part cap also keeps a message
            # nested thousands deep far from Python's recursion limit.
            message = _parse_bytes(encoded.stand_ins)
        except _OverCap:
            too_many_parts, encoded = True, None
            defects.append("TooManyParts")
    if message is None:
        message = BytesHeaderParser(policy=_bounded(_PARSE_ONCE)).parsebytes(
            _header_section(raw))
    headers = _decoded_headers(message)
    sender_name, sender = _first_address(message, "from")
    _, reply_to = _first_address(message, "reply-to")
    attachments: list[Attachment] = []
    body = ""
    parts: list[str] = []
    encrypted = False
    failures: tuple[DeliveryFailure, ...] = ()
    if encoded is not None:
        leaves = list(_leaves(message, defects, encoded))
        parts = [leaf.content_type for leaf in leaves]
        body = _body_text(leaves)
        attachments = _attachments(leaves, _referenced_cids(leaves), defects)
        encrypted = any(leaf.encrypted for leaf in leaves)
        failures = _delivery_failures(message, defects)
    defects += [type(defect).__name__ for defect in message.defects]
    message_id = headers.get("message-id", [None])[0]
    return ParsedMessage(
        message_id=_message_id(message_id),
        subject=headers.get("subject", [""])[0],
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to,
        headers=headers,
        content_type=_content_type(message),
        body_text=body,
        attachments=tuple(attachments),
        defects=tuple(dict.fromkeys(defects)),
        complete=complete,
        parts=tuple(parts),
        too_many_parts=too_many_parts,
        encrypted=encrypted,
        delivery_failures=failures,
    )


def _parse_bytes(data: bytes, policy: email.policy.Policy | None = None) -> Message:
    """The standard parser on ``data``, fed a slice at a time, within fresh caps.

    ``email.message_from_bytes`` would first copy the message into a str, then into a
    ``StringIO`` of four bytes a character; and fed in slices the parser stops at a cap
    having read no further than the part or header that crossed it. ``policy`` (with its
    caps) is for content found inside the message, which counts against the message's caps.
    """
    parser = BytesFeedParser(policy=policy or _bounded(_PARSE_ONCE))
    for start in range(0, len(data), _FEED_BYTES):
        parser.feed(data[start : start + _FEED_BYTES])
    return parser.close()


def _line_count(data: bytes) -> int:
    """How many lines the standard parser will see (it ends a line at CR, LF or CRLF)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _header_section(raw: bytes) -> bytes:
    """The start of the header section, cut to fit the parser's caps with room to spare.

    What a message over a cap, or one too large to fetch whole, is read for: at most
    ``_HEADER_SECTION_BYTES`` and ``MAX_HEADER_FIELDS`` fields, ending at a line's end.
    """
    head = raw[:_HEADER_SECTION_BYTES]
    ends = [found + len(blank) // 2 for blank in (b"\r\n\r\n", b"\n\n")
            if (found := head.find(blank)) >= 0]
    cut = not ends and len(raw) > len(head)
    lines = head[: min(ends, default=len(head))].splitlines(keepends=True)
    if cut and len(lines) > 1:
        lines.pop()  # a line cut short
    kept, fields = [], 0
    for line in lines:
        fields += not line[:1].isspace()
        if fields > MAX_HEADER_FIELDS:
            break
        kept.append(line)
    return b"".join(kept) + b"\r\n"


def _decoded_headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name in message.keys():  # keys() alone leaves the values unparsed
        key = clean_text(str(name)).lower()
        if key in headers:
            continue
        headers[key] = [clean_text(_header_text(value)) for value in _all_values(message, name)]
    return headers


def _all_values(message: Message, name: str) -> list[object]:
    if name.lower() in _VERBATIM:
        return [value for key, value in message.raw_items() if key.lower() == name.lower()]
    try:
        return list(message.get_all(name, []))
    except Exception:  # a header that policy.default cannot even build: keep its raw text
        return [value for key, value in message.raw_items() if key.lower() == name.lower()]


def _header_text(value: object) -> str:
    try:
        text = str(value)
        if "\ufffd" in text:
            # The policy shows bytes it could not decode (raw 8-bit, or an encoded word in
            # an unknown charset) as U+FFFD; its parse tree still holds them, for
            # read_eight_bit (in clean_text) to read.
            text = str(getattr(value, "_parse_tree", text))
        return text
    except Exception:
        return ""


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    match = re.search(r"<[^<>\s]+>", value)
    if match:
        return match.group(0)[:500]
    token = value.split()[0] if value.split() else ""
    return token[:500] or None


def _first_address(message: Message, name: str) -> tuple[str, str | None]:
    """The first usable (display name, address) of an address header."""
    for value in _all_values(message, name):
        try:
            addresses = [(a.display_name, a.addr_spec) for a in value.addresses]  # type: ignore[attr-defined]
        except Exception:
            addresses = getaddresses([_header_text(value)])
        for display, addr in addresses:
            addr = clean_text(addr or "")
            if _usable_address(addr):
                return clean_text(display or "", 200), addr
    return "", None


def _usable_address(addr: str) -> bool:
    local, at, domain = addr.rpartition("@")
    return bool(at and local and "." in domain and " " not in addr and len(addr) <= 254
                and not any(c in addr for c in "<>,;\"\\"))


#: Headers read as the message holds them, encoded words undecoded. RFC 8601's grammar has
#: none, and a receiving server that removes the incoming Authentication-Results naming it
#: (RFC 8601 section 5) leaves ``=?utf-8?q?mx.example.org=3B_dmarc=3Dpass?=`` in place:
#: decoded, that would be a verdict of ours no server wrote.
_VERBATIM = frozenset({"authentication-results"})


class _OverCap(Exception):
    """The message is over one of the parser's caps: the parser stops here."""


class _Caps:
    """What the parser has built of one message so far, against the caps."""

    def __init__(self) -> None:
        self.parts = self.fields = self.chars = 0

    def new_part(self, policy: email.policy.Policy) -> EmailMessage:
        """The policy's ``message_factory``: called once for every part the parser makes."""
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise _OverCap(f"more than {MAX_PARTS} parts")
        return EmailMessage(policy=policy)

    def header(self, value: str) -> str:
        """Count one header field; its value, cut to ``MAX_HEADER_VALUE_CHARS``."""
        self.fields += 1
        self.chars += min(len(value), MAX_HEADER_VALUE_CHARS)
        if self.fields > MAX_HEADER_FIELDS or self.chars > MAX_HEADER_CHARS:
            raise _OverCap(f"more than {MAX_HEADER_FIELDS} header fields or "
                           f"{MAX_HEADER_CHARS} characters of headers")
        return value[:MAX_HEADER_VALUE_CHARS]


class _Bounded(email.policy.EmailPolicy):
    """``policy.default`` within the caps of one :class:`_Caps` (fresh per message)."""

    caps: _Caps | None = None

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, Any]:
        name, value = super().header_source_parse(sourcelines)
        return name, value if self.caps is None else self.caps.header(value)


def _bounded(policy: _Bounded) -> _Bounded:
    """``policy`` with fresh caps, for parsing one message."""
    caps = _Caps()
    return policy.clone(caps=caps, message_factory=caps.new_part)  # type: ignore[call-arg]


class _ParseOnce(_Bounded):
    """``policy.default``, with each header parsed once, as it is read from the message.

    ``policy.default`` parses a header again on every access, and finding a part's type,
    disposition, file name and charset reads its Content-Type up to five times. A header
    the policy cannot build stays text, so reading it fails, and is handled, as before.
    A header read verbatim (:data:`_VERBATIM`) stays the text it came as.
    """

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, Any]:
        name, value = super().header_source_parse(sourcelines)
        if name.lower() in _VERBATIM:
            return name, value
        try:
            return name, self.header_fetch_parse(name, value)
        except Exception:  # noqa: BLE001 - left for the readers' own fallbacks
            return name, value


_PARSE_ONCE = _ParseOnce()


class _EncodedRuns:
    """The message with each long run of base64 lines folded into one stand-in line.

    The standard parser reads a body line by line, and a 200 KiB attachment is 2,700 lines
    of base64: most of the parser's time. A line made only of base64 characters can be
    neither a header (no colon) nor a boundary (no hyphen), so the parser treats a
    stand-in line of such characters exactly as it treats the run it replaces, and builds
    the very same tree, just faster (measured: docs/performance.md).
    :meth:`restore` then gives a part back its exact original payload, so decoding sees
    the message's own text, whatever its transfer encoding.
    """

    _RUN = re.compile(rb"^[A-Za-z0-9+/]{40,998}(?:\r?\n[A-Za-z0-9+/]{40,998}){15,}(?=\r?\n)",
                      re.MULTILINE)

    def __init__(self, raw: bytes) -> None:
        # A token per message, so that no text a candidate sends can pass for a stand-in.
        self._token = "Zz" + secrets.token_hex(12)
        self._runs: dict[str, str] = {}
        self.stand_ins = self._RUN.sub(self._stand_in, raw)

    def _stand_in(self, match: re.Match[bytes]) -> bytes:
        name = f"{self._token}{len(self._runs):08d}"
        self._runs[name] = match.group(0).decode("ascii")
        return name.encode("ascii")

    def restore(self, part: Message) -> None:
        """Put the original runs back into ``part``'s payload (a leaf's text), in place."""
        # The text as parsed: get_payload() would decode 8-bit bytes it holds, and the
        # restored payload must be the message's own.
        payload = part._payload  # type: ignore[attr-defined]
        if self._runs and isinstance(payload, str) and self._token in payload:
            part.set_payload(re.sub(f"{self._token}\\d{{8}}",
                                    lambda match: self._runs[match.group(0)], payload))


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


@dataclass(frozen=True)
class _Leaf:
    """A non-multipart part, with the header facts the walk needs, each read once.

    ``policy.default`` parses a header anew on every access, and the walk asks for a part's
    type, disposition and file name several times over: reading them once takes about a
    third off the walk of a typical application.
    """

    part: Message
    related: bool  # it lives in a multipart/related
    content_type: str
    filename: str | None  # sanitised for display
    body_text: bool  # the message's own text, not an attachment
    encrypted: bool = False  # content encrypted for its recipient: nobody else can read it
    signature: bool = False  # the second part of a multipart/signed (RFC 1847)


def _leaf(part: Message, related: bool, signature: bool) -> _Leaf:
    content_type = _content_type(part)
    filename = _filename(part)
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    body_text = (content_type in ("text/plain", "text/html")
                 and disposition != "attachment" and filename is None
                 and not _is_document(_decoded(part)))
    return _Leaf(part, related, content_type, filename, body_text,
                 _is_encrypted(part, content_type), signature)


def _is_document(data: bytes) -> bool:
    """Whether a text part's bytes are in fact a document: a PDF sent as ``text/plain``.

    A document is recognised by its content, whatever type it was declared; a text that
    merely mentions ``%PDF-`` somewhere in its first lines is still text.
    """
    kind = sniff(data)
    return kind != "other" and (kind != "pdf" or data.lstrip()[:5] == b"%PDF-")


def _is_encrypted(part: Message, content_type: str) -> bool:
    """S/MIME enveloped data, or an OpenPGP message (PGP/MIME or an ``.asc`` attachment)."""
    if content_type in smime.PKCS7_MIME_TYPES:
        return _smime_kind(part) == "encrypted"
    if content_type == "application/pgp-encrypted":
        return True
    return (content_type in ("application/octet-stream", "text/plain")
            and _decoded(part).lstrip()[:27] == b"-----BEGIN PGP MESSAGE-----")


def _smime_kind(part: Message) -> smime.SmimeKind:
    try:
        declared = part.get_param("smime-type")
    except Exception:
        declared = None
    return smime.smime_kind(declared if isinstance(declared, str) else None, _decoded(part))


def _signed_content(part: Message, content_type: str, defects: list[str]) -> Message | None:
    """The MIME entity inside an opaque S/MIME signed part, parsed; None for any other part.

    Parsed with the part's own policy, so that its parts and headers count against the
    message's caps, and walked like any other child. Content over a cap is not walked.
    """
    if content_type not in smime.PKCS7_MIME_TYPES or _smime_kind(part) != "signed":
        return None
    content = smime.signed_content(_decoded(part))
    if content is None:
        defects.append("UnreadableSignedData")
        return None
    try:
        return _parse_bytes(content, part.policy)
    except _OverCap:
        defects.append("TooManyParts")
        return None


def _base64_message(part: Message, payload: object, encoded: _EncodedRuns,
                    defects: list[str]) -> Message | None:
    """The message inside a ``message/rfc822`` part sent base64-encoded, parsed; else None.

    RFC 2046 (5.2.1) allows only 7bit, 8bit or binary there, but some clients encode it all
    the same (Python's ``add_attachment`` of a message's bytes does), and the standard
    parser then reads the base64 text as a message with no header: the application
    forwarded inside would be lost. Parsed like opaque signed content: within the caps.
    """
    if _content_type(part) not in ("message/rfc822", "message/global"):
        return None
    try:
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    except Exception:
        return None
    if cte != "base64" or not isinstance(payload, list) or len(payload) != 1 \
            or not isinstance(payload[0], Message):
        return None
    text = payload[0]
    encoded.restore(text)
    body = text.get_payload()
    if text.keys() or not isinstance(body, str):  # a header: the message was not encoded
        return None
    try:
        return _parse_bytes(base64.b64decode(body.encode("ascii", "ignore")), part.policy)
    except _OverCap:
        defects.append("TooManyParts")
    except ValueError:  # not base64 after all
        defects.append("UndecodableForwardedMessage")
    return None


def _leaves(message: Message, defects: list[str], encoded: _EncodedRuns) -> Iterator[_Leaf]:
    """Every non-multipart part with whether it lives in a multipart/related, bounded.

    Each comes with its payload restored to the message's own text (see :class:`_EncodedRuns`).
    """
    stack: list[tuple[Message, int, bool]] = [(message, 0, False)]
    signatures: set[int] = set()  # the parts that sign a multipart/signed, by identity
    while stack:
        part, depth, related = stack.pop()
        if depth > MAX_DEPTH:
            defects.append("NestingTooDeep")
            continue
        payload = part.get_payload() if part.is_multipart() else None
        forwarded = _base64_message(part, payload, encoded, defects)
        if forwarded is not None:  # a forwarded message its client base64-encoded
            stack.append((forwarded, depth + 1, related))
            continue
        if isinstance(payload, list):
            in_related = related or _content_type(part) == "multipart/related"
            if _content_type(part) == "multipart/signed" and len(payload) == 2:
                signatures.add(id(payload[1]))
            stack.extend((child, depth + 1, in_related) for child in reversed(payload)
                         if isinstance(child, Message))
        else:
            encoded.restore(part)
            content = _signed_content(part, _content_type(part), defects)
            if content is not None:  # opaque S/MIME: judged on the content it signs
                stack.append((content, depth + 1, related))
                continue
            yield _leaf(part, related, id(part) in signatures)


def _decoded(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return b""
    if isinstance(data, bytes):
        return data
    return b""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name and "\ufffd" in name:  # bytes the policy could not decode: read them as sent
        name = (_parameter_as_sent(part, "content-disposition", "filename")
                or _parameter_as_sent(part, "content-type", "name") or name)
    return safe_display_name(name)


def _parameter_as_sent(part: Message, header: str, parameter: str) -> str | None:
    """A parameter with its undecoded bytes kept (for :func:`read_eight_bit`), or None.

    The policy's header object replaces them with U+FFFD; its parse tree keeps them.
    """
    try:
        tree = getattr(part.get(header), "_parse_tree", None)
        return next((str(value) for name, value in getattr(tree, "params", ())
                     if str(name).lower() == parameter), None)
    except Exception:
        return None


def _text_of(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:  # a Content-Type the policy cannot read: no declared charset
        charset = None
    return decode_text(_decoded(part), charset)


def _body_text(leaves: list[_Leaf]) -> str:
    texts = [leaf for leaf in leaves if leaf.body_text]
    plain = next((leaf for leaf in texts if leaf.content_type == "text/plain"), None)
    chosen = plain or (texts[0] if texts else None)
    if chosen is None:
        return ""
    text = _text_of(chosen.part)[: MAX_BODY_CHARS * 4]
    if chosen.content_type == "text/html":
        text = _TAGS.sub(" ", text)
    return text[:MAX_BODY_CHARS]


def _referenced_cids(leaves: list[_Leaf]) -> set[str]:
    cids: set[str] = set()
    for leaf in leaves:
        if leaf.content_type == "text/html" and leaf.body_text:
            # A cid: URL is the Content-ID %-encoded (RFC 2392): "cid:logo%40example.org".
            cids |= {unquote(cid).strip().lower() for cid in _CID.findall(_text_of(leaf.part))}
    return cids


def _content_id(part: Message) -> str | None:
    value = part.get("content-id")
    if value is None:
        return None
    return clean_text(str(value)).strip("<> ").lower() or None


def _attachments(leaves: list[_Leaf], cids: set[str], defects: list[str]) -> list[Attachment]:
    found = []
    for leaf in leaves:
        if leaf.body_text or leaf.content_type in SIGNATURE_TYPES or leaf.encrypted:
            continue
        if leaf.content_type in smime.PKCS7_MIME_TYPES and _smime_kind(leaf.part) == "other":
            continue  # certificates only, or compressed data: no document of the candidate's
        data = _decoded(leaf.part)
        if (_is_shown_inline(leaf, data, cids) or _is_contact_card(leaf, data)
                or (leaf.signature and sniff(data) == "other")):
            # A multipart/signed's second part is its signature whatever its declared type
            # (a gateway may relabel smime.p7s application/octet-stream); a document there
            # would still be one.
            continue
        if not data and not leaf.filename:
            defects.append("EmptyPart")
            continue
        found.append(Attachment(data=data, filename=leaf.filename,
                                content_type=leaf.content_type, declared_size=len(data)))
    return found


def _is_shown_inline(leaf: _Leaf, data: bytes, cids: set[str]) -> bool:
    """An image the HTML body shows (a signature logo) is not an attachment.

    A document is judged by its content: a PDF referenced by ``cid:`` is still attached.
    """
    if b"%PDF-" in data[:1024]:
        return False
    cid = _content_id(leaf.part)
    is_image = leaf.content_type.startswith("image/") or _looks_like_image(data)
    return is_image and cid is not None and (cid in cids or leaf.related)


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _is_contact_card(leaf: _Leaf, data: bytes) -> bool:
    """A vCard (Thunderbird and Outlook attach the sender's own) is not an attachment.

    Recognised by its type, its ``.vcf`` name or its ``BEGIN:VCARD`` content; a document
    that merely carries such a name or type is still a document.
    """
    if sniff(data) != "other":
        return False
    name = (leaf.filename or "").lower()
    return (leaf.content_type in CONTACT_CARD_TYPES or name.endswith((".vcf", ".vcard"))
            or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:11].upper() == b"BEGIN:VCARD")


def _delivery_failures(message: Message, defects: list[str]) -> tuple[DeliveryFailure, ...]:
    """What a delivery-status report says about the message it returns (see :mod:`bounces`)."""
    try:
        return bounces.read_report(message) or bounces.returned_without_report(message)
    except Exception:  # noqa: BLE001 - a broken report is still a bounce, just not tied to a notice
        defects.append("UnreadableDeliveryReport")
        return ()
