"""Turn raw message bytes into the facts the decision needs, whatever the bytes are.

The standard library's parser (``policy.default``) is used rather than mail-parser's
attachment list because a PDF without a file name, or one inside a forwarded message, is
still the candidate's document, and mail-parser does not list those; walking the MIME tree
ourselves is the only way to see every part. Nothing here raises on hostile input: broken
headers decode to what can be read, and the defects are reported.
"""

from __future__ import annotations

import email
import email.policy
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

#: Parts that sign a message rather than carry a document.
SIGNATURE_TYPES = frozenset({
    "application/pkcs7-signature", "application/x-pkcs7-signature",
    "application/pgp-signature", "application/pgp-keys",
})
#: Deeper MIME nesting than this is not walked: no real mail client nests so deep.
MAX_DEPTH = 30
MAX_PARTS = 500
MAX_BODY_CHARS = 20_000
MAX_NAME_CHARS = 150

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_CID = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


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

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


def clean_text(value: str, limit: int | None = None) -> str:
    """One line of printable text: control characters (CR, LF, NUL...) become spaces."""
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    value = " ".join(_CONTROL.sub(" ", value).split())
    return value[:limit] if limit else value


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
    """Parse raw RFC 5322 bytes; ``complete=False`` means only the header section is there."""
    defects: list[str] = []
    # The whole message with its base64 runs folded; None when only its headers are read
    # (an oversized message, or one nested too deep), so there is no tree to walk.
    encoded = _EncodedRuns(raw) if complete else None
    try:
        message = (email.message_from_bytes(encoded.stand_ins, policy=_PARSE_ONCE)
                   if encoded is not None
                   else BytesHeaderParser(policy=_PARSE_ONCE).parsebytes(raw))
    except RecursionError:
        # The standard parser recurses once per MIME level: a message nested about a
        # thousand deep is read for its headers only, like one nested past MAX_DEPTH.
        message = BytesHeaderParser(policy=_PARSE_ONCE).parsebytes(raw)
        defects.append("NestingTooDeep")
        encoded = None
    headers = _decoded_headers(message)
    sender_name, sender = _first_address(message, "from")
    _, reply_to = _first_address(message, "reply-to")
    attachments: list[Attachment] = []
    body = ""
    parts: list[str] = []
    if encoded is not None:
        leaves = list(_leaves(message, defects, encoded))
        parts = [leaf.content_type for leaf in leaves]
        body = _body_text(leaves)
        attachments = _attachments(leaves, _referenced_cids(leaves), defects)
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
    )


def _decoded_headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name in message.keys():  # keys() alone leaves the values unparsed
        key = clean_text(str(name)).lower()
        if key in headers:
            continue
        headers[key] = [clean_text(_header_text(value)) for value in _all_values(message, name)]
    return headers


def _all_values(message: Message, name: str) -> list[object]:
    try:
        return list(message.get_all(name, []))
    except Exception:  # a header that policy.default cannot even build: keep its raw text
        return [value for key, value in message.raw_items() if key.lower() == name.lower()]


def _header_text(value: object) -> str:
    try:
        return str(value)
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


class _ParseOnce(email.policy.EmailPolicy):
    """``policy.default``, with each header parsed once, as it is read from the message.

    ``policy.default`` parses a header again on every access, and finding a part's type,
    disposition, file name and charset reads its Content-Type up to five times. A header
    the policy cannot build stays text, so reading it fails, and is handled, as before.
    """

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, Any]:
        name, value = super().header_source_parse(sourcelines)
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


def _leaf(part: Message, related: bool) -> _Leaf:
    content_type = _content_type(part)
    filename = _filename(part)
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    body_text = (content_type in ("text/plain", "text/html")
                 and disposition != "attachment" and filename is None)
    return _Leaf(part, related, content_type, filename, body_text)


def _leaves(message: Message, defects: list[str], encoded: _EncodedRuns) -> Iterator[_Leaf]:
    """Every non-multipart part with whether it lives in a multipart/related, bounded.

    Each comes with its payload restored to the message's own text (see :class:`_EncodedRuns`).
    """
    count = 0
    stack: list[tuple[Message, int, bool]] = [(message, 0, False)]
    while stack:
        part, depth, related = stack.pop()
        count += 1
        if count > MAX_PARTS:
            defects.append("TooManyParts")
            return
        if depth > MAX_DEPTH:
            defects.append("NestingTooDeep")
            continue
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            in_related = related or _content_type(part) == "multipart/related"
            stack.extend((child, depth + 1, in_related) for child in reversed(payload)
                         if isinstance(child, Message))
        else:
            encoded.restore(part)
            yield _leaf(part, related)


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
    return safe_display_name(name)


def _text_of(part: Message) -> str:
    data = _decoded(part)
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
        return data.decode(charset, "replace")
    except (LookupError, ValueError):
        return data.decode("utf-8", "replace")


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
            cids |= {cid.strip().lower() for cid in _CID.findall(_text_of(leaf.part))}
    return cids


def _content_id(part: Message) -> str | None:
    value = part.get("content-id")
    if value is None:
        return None
    return clean_text(str(value)).strip("<> ").lower() or None


def _attachments(leaves: list[_Leaf], cids: set[str], defects: list[str]) -> list[Attachment]:
    found = []
    for leaf in leaves:
        if leaf.body_text or leaf.content_type in SIGNATURE_TYPES:
            continue
        data = _decoded(leaf.part)
        if _is_shown_inline(leaf, data, cids):
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
