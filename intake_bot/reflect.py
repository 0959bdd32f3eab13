"""Text a message chose, made fit to quote in a notice: no links, no addresses, no controls.

A notice goes out from the organisation's own address, so whatever it quotes from the
message (the sender's display name, the subject, a file name) is text an attacker may have
written for a third party to read: "Dear Please log in at http://evil.example/nato". What
reaches a notice is at most :data:`MAX_CHARS` characters of visible text, with every link
and e-mail address taken out, also when dressed up to slip past a filter (``hxxp://``,
``evil[.]example``, a fullwidth or ideographic dot, a zero-width space inside ``http``, a
bare ``evil.example/x``). Pure functions; the register keeps the text as it came.
"""

from __future__ import annotations

import re
import unicodedata

#: The most characters of the message's own text that a notice quotes in one place.
MAX_CHARS = 80
#: Only this much of a text is looked at: enough for any real subject, name or file name,
#: and it keeps the patterns' work small whatever a header holds.
MAX_SCANNED = 400

#: Characters that read as a dot, a slash or a colon; NFKC already folds the fullwidth and
#: small forms (U+FF0E, U+FE52, U+2024...) to ASCII. One character for one, so that a match
#: in the folded copy is a match at the same place in the text shown.
_LOOKALIKES = str.maketrans({
    **dict.fromkeys("\u3002\u2e31\u00b7\u0387\u0701\u0702\u06d4\u2027\u30fb\u2219\u22c5\u2022"
                    "\u16eb\u2e33\ua60e", "."),
    **dict.fromkeys("\u2215\u2044\u29f8\u2571\u29f5\u2216", "/"),
    **dict.fromkeys("\u2236\u02d0\ua789\u0589\u05c3\u16ec", ":"),
})

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
#: A dot, plain or written out to dodge a filter: ``.``, ``[.]``, ``(dot)``, `` dot ``.
_DOT = rf"(?:\s?{_OPEN}\s?(?:\.|dot)\s?{_CLOSE}\s?|\.|\s+dot\s+)"
_LABEL = r"[^\W_](?:[\w-]{0,62}[^\W_])?"
#: A host name: labels joined by dots, the last one of two or more ASCII letters and digits
#: starting with a letter, or an ``xn--`` label (``v2.0``, ``Ph.D.`` and ``官员。谢谢`` are
#: not hosts; ``j.smith`` is, and is left out too: rare in names, harmless).
_HOST = rf"(?:{_LABEL}{_DOT})+(?:xn--[a-z0-9-]+|[a-z][a-z0-9]+)\b"
_PATH = r"(?::\d{1,5})?(?:[/\\?#]\S*)?"
_LINKISH = re.compile("|".join((
    # scheme://..., also hxxp, h**p and [:] spellings, and backslashes
    rf"(?:\b[a-z][a-z0-9+.-]{{0,20}}|\bh(?:xx|\*\*)ps?)\s?(?:{_OPEN}:{_CLOSE}|:)\s?(?://|\\\\)\S*",
    r"\bh(?:xx|\*\*)ps?\b\S*",
    r"\b(?:mailto|javascript|data|file|tel|sms|callto|ftp)\s?:\S*",
    rf"\bwww\d?{_DOT}\S*",
    # an address, also ``name [at] host``: the whole word before and the host after
    rf"(?<!\S)[^\s@]*\s?(?:@|{_OPEN}\s?at\s?{_CLOSE})\s?(?:{_HOST}|\S*)",
    rf"\b\d{{1,3}}(?:{_DOT}\d{{1,3}}){{3}}\b{_PATH}",
    rf"{_HOST}{_PATH}",
)), re.IGNORECASE)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def visible_text(text: str) -> str:
    """``text`` as one line of what a reader sees: NFKC, no invisible or control characters.

    Format characters (zero-width spaces and joiners, bidirectional overrides such as the
    U+202E that turns ``fdp.exe`` around, soft hyphens) and unassigned or private ones are
    dropped; control characters and line breaks become spaces; runs of white space one.
    """
    shown = []
    for char in unicodedata.normalize("NFKC", text[:MAX_SCANNED]):
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            shown.append(" ")
        elif not category.startswith("C"):
            shown.append(char)
    return " ".join("".join(shown).split())


def holds_link(text: str) -> bool:
    """Whether ``text`` (already :func:`visible_text`) holds a link or an e-mail address."""
    return _LINKISH.search(text.translate(_LOOKALIKES)) is not None


def reflected_text(text: str | None) -> str:
    """A subject, fit to quote: each link and address taken out, at most :data:`MAX_CHARS`.

    ``"Application - verify at https://evil.example/unlock"`` gives
    ``"Application - verify at"``.
    """
    shown = visible_text(text or "")
    folded = shown.translate(_LOOKALIKES)
    kept, start = [], 0
    for match in _LINKISH.finditer(folded):
        kept.append(shown[start:match.start()])
        start = match.end()
    kept.append(shown[start:])
    return _shortened(" ".join("".join(kept).split()))


def greeting_name(name: str | None) -> str:
    """The display name to greet the candidate by, or ``""`` for the neutral greeting.

    A name that held a link or an address, or is longer than :data:`MAX_CHARS` (no one's
    name is; a sentence is), is not a name: the notice greets "Dear candidate" instead.
    """
    shown = visible_text(name or "")
    if len(shown) > MAX_CHARS or holds_link(shown):
        return ""
    return shown


def reflected_file_name(name: str | None) -> str | None:
    """A document's file name, fit to quote, or None (the notice says "unnamed file").

    The extension is the file's, not a host's top-level domain: ``CV.pdf`` stays, while
    ``evil.example.pdf`` and ``Please log in at http://evil.example/x.pdf`` give None. A
    long name keeps its extension: ``Curriculum…2026.pdf``.
    """
    shown = visible_text(name or "")
    extension = _EXTENSION.search(shown)
    suffix = extension.group(0) if extension else ""
    stem = shown[:len(shown) - len(suffix)]
    if not stem.strip(" .") or holds_link(stem):
        return None
    if len(shown) <= MAX_CHARS:
        return shown
    return _shortened(stem, MAX_CHARS - len(suffix)) + suffix


def _shortened(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was longer."""
    if len(text) <= limit:
        return text
    return text[:limit - 1].rstrip() + "…"
