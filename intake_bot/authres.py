"""Our own receiving server's verdict on the sender, from RFC 8601 Authentication-Results.

Anyone can write ``From: alice@example.net``; only the receiving server (the MX) can tell
whether example.net vouched for the message, and it says so in an Authentication-Results
header that names the server (its *authserv-id*)::

    Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.net;
        dkim=pass header.d=example.net header.s=s1; dmarc=pass header.from=example.net

A sender may add such headers too, naming any server, ours included. Only headers naming
the configured server are read, and RFC 8601 section 5 makes it the MX's duty to remove
incoming ones that name it (docs: "Answering safely"). Where two trusted results disagree
on the From domain's DMARC, the failure wins: a forged ``pass`` the MX failed to remove
cannot turn its ``fail`` around. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from intake_bot.addresses import fold_domain

#: DMARC results that give no verdict, so that SPF and DKIM decide (``none``: the domain
#: publishes no DMARC policy; ``bestguesspass``: Microsoft's guess for such a domain).
_NO_DMARC_VERDICT = ("none", "temperror", "permerror", "bestguesspass", "policy", "neutral")
#: Headers and characters read at most, whatever a message holds.
MAX_HEADERS = 50
MAX_CHARS = 10_000


@dataclass(frozen=True)
class MethodResult:
    """One ``method=result`` of a header, with its properties (``header.from`` -> domain)."""

    method: str
    result: str
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthenticationResults:
    """One Authentication-Results header: who wrote it and what it found."""

    authserv_id: str
    results: tuple[MethodResult, ...]


@dataclass(frozen=True)
class SenderVerdict:
    """Whether our server found the From domain authentic, and one line saying why."""

    authenticated: bool
    why: str


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """Read one header value, or None when it names no authserv-id.

    Comments, quoted strings, a version after the authserv-id (``mx.example.org 1``),
    ``none``, method versions (``dkim/1``) and reasons are understood; method, result and
    property names come back lower case. Values that break the grammar in the ways real
    servers write them are read as they stand (a base64 ``header.b`` with ``/`` and ``=``,
    OpenDKIM's ``mx.example.org/3A9F61C1`` job id). Microsoft 365 writes no authserv-id at
    all (``spf=pass (sender IP is ...) smtp.mailfrom=...``): None, as for a broken value.
    """
    segments = _segments(value[:MAX_CHARS])
    if not segments or not segments[0] or "=" in segments[0]:
        return None
    results = []
    for words in segments[1:]:
        pairs = _pairs(words)
        if not pairs:
            continue
        (method, result), *rest = pairs
        properties = {name.lower(): text for name, text in rest if "." in name}
        results.append(MethodResult(method.partition("/")[0].lower(), result.lower(),
                                    properties))
    return AuthenticationResults(segments[0][0], tuple(results))


def sender_verdict(header_values: Sequence[str], from_domain: str | None,
                   authserv_id: str) -> SenderVerdict:
    """Whether the From domain is authenticated, by the headers of server ``authserv_id``.

    ``header_values`` are the message's Authentication-Results values, top first. The From
    domain is authenticated when a trusted DMARC result for it is ``pass`` and none is
    ``fail``; with no DMARC verdict (none at all, ``none``, an error), when SPF passed for
    a MAIL FROM domain or DKIM for a signing domain aligned with it (the same domain, or
    one inside the other). A message without any trusted header is not authenticated.
    """
    domain = fold_domain(from_domain or "")
    if not domain:
        return SenderVerdict(False, "no From domain")
    trusted = [result for value in header_values[:MAX_HEADERS]
               if (header := parse_authentication_results(value)) is not None
               and _names_server(header.authserv_id, authserv_id)
               for result in header.results]
    if not trusted:
        return SenderVerdict(False, f"no Authentication-Results from {authserv_id}")
    dmarc = {r.result for r in trusted
             if r.method == "dmarc" and fold_domain(r.properties.get("header.from", domain)) == domain}
    if "fail" in dmarc:
        return SenderVerdict(False, f"dmarc=fail for {domain}")
    if "pass" in dmarc:
        return SenderVerdict(True, f"dmarc=pass for {domain}")
    for result in trusted:
        identity = _aligned_identity(result, domain)
        if result.result == "pass" and identity:
            return SenderVerdict(True, f"{result.method}=pass for {identity}, aligned with {domain}")
    verdict = f"dmarc={'/'.join(sorted(dmarc))}" if dmarc else "no dmarc result"
    return SenderVerdict(False, f"{verdict}, and neither SPF nor DKIM passed for {domain}")


def _names_server(written: str, configured: str) -> bool:
    """Whether an authserv-id is ours: equal but for case, or ours with a ``/job-id``."""
    written, configured = written.lower(), configured.lower()
    return written == configured or written.startswith(configured + "/")


def _aligned_identity(result: MethodResult, domain: str) -> str | None:
    """The SPF or DKIM identity of ``result`` when it is aligned with ``domain``."""
    if result.method == "spf":
        candidates: Iterable[str] = (result.properties.get("smtp.mailfrom", ""),)
    elif result.method == "dkim":
        candidates = (result.properties.get("header.d", ""), result.properties.get("header.i", ""))
    else:
        return None
    for candidate in candidates:
        identity = fold_domain(candidate.strip().strip("<>"))  # also <user@domain>, as in a path
        if identity and _aligned(identity, domain):
            return identity
    return None


def _aligned(identity: str, domain: str) -> bool:
    """Relaxed alignment without the public suffix list: the same domain, or one a
    subdomain of the other with at least two labels (never a bare top-level domain)."""
    if identity == domain:
        return True
    shorter, longer = sorted((identity, domain), key=len)
    return "." in shorter and longer.endswith("." + shorter)


def _segments(value: str) -> list[list[str]]:
    """The header value as ``;``-separated segments of words, ``=`` a word of its own.

    Comments (nested, with quoted pairs) count as white space; a quoted string is one
    word, without its quotes.
    """
    segments: list[list[str]] = [[]]
    word: list[str] = []
    depth = 0
    quoted = escaped = False

    def end_word() -> None:
        if word:
            segments[-1].append("".join(word))
            word.clear()

    for char in value:
        if escaped:
            escaped = False
            if not depth:
                word.append(char)
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            if char == '"':
                quoted = False
            else:
                word.append(char)
        elif depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
        elif char == "(":
            end_word()
            depth = 1
        elif char == '"':
            quoted = True
        elif char.isspace():
            end_word()
        elif char in ";=":
            end_word()
            if char == ";":
                segments.append([])
            else:
                segments[-1].append("=")
        else:
            word.append(char)
    end_word()
    return segments


def _pairs(words: list[str]) -> list[tuple[str, str]]:
    """``name = value`` pairs in order; stray words (a base64 value's ``=`` padding) skipped."""
    pairs = []
    index = 0
    while index < len(words):
        if (index + 2 < len(words) and words[index] != "=" and words[index + 1] == "="
                and words[index + 2] != "="):
            pairs.append((words[index], words[index + 2]))
            index += 3
        else:
            index += 1
    return pairs
