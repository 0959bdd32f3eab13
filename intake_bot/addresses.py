"""Addresses compared as one mailbox: case, ``+tags`` and international domain names folded.

``Victim+1@Victim.Example`` and ``victim+2@victim.example`` reach the same person; a limit on
the notices one person may get counts them together.
"""

from __future__ import annotations


def fold_domain(text: str) -> str:
    """The domain of an address or a domain, lower case, without a final dot, in its ASCII
    (IDNA) form so that both spellings of an international name are one:
    ``user@Bücher.Example.`` -> ``xn--bcher-kva.example``."""
    domain = text.strip().rpartition("@")[2].strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:  # not a name IDNA 2003 can encode: compare it as written
        return domain


def fold_address(address: str) -> str:
    """One key per mailbox: ``"Victim+Tag"@Victim.Example`` -> ``victim@victim.example``.

    The local part loses its quotes, its case and what follows a ``+`` (sub-addressing);
    the domain is folded by :func:`fold_domain`.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().casefold()
    local = local.strip('"')
    local = local.partition("+")[0] or local
    return f"{local.casefold()}@{fold_domain(domain)}"
