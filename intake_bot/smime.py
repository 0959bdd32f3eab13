"""Open S/MIME containers (RFC 8551) far enough to judge what a candidate sent.

A signed message is judged on its content: the signature proves nothing the intake needs,
and is never checked. Opaque signed data (``application/pkcs7-mime``, ``smime-type=
signed-data``: the content lives inside the CMS structure) is unwrapped to the MIME entity
it carries. Enveloped (encrypted) data cannot be read at all: the message is rejected with
``encrypted-message``. The CMS structure is read with asn1crypto, a pure-Python ASN.1
reader that only ever reads the bytes it is given (a length cannot claim more than there
is), from a part no larger than the message; any failure to read it leaves the part as an
ordinary attachment, never an exception.
"""

from __future__ import annotations

from typing import Literal

from asn1crypto import cms

#: The declared types of CMS parts (the ``x-`` forms are what Outlook sends).
PKCS7_MIME_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
#: The CMS content types that mean the content is encrypted for someone else.
_ENCRYPTED = frozenset({"enveloped_data", "authenticated_enveloped_data", "encrypted_data",
                        "signed_and_enveloped_data"})
#: A signed entity larger than this is not unwrapped (the message cap is far lower anyway).
MAX_SIGNED_BYTES = 50_000_000

SmimeKind = Literal["signed", "encrypted", "other"]


def smime_kind(declared_type: str | None, data: bytes) -> SmimeKind:
    """What a ``application/pkcs7-mime`` part holds: signed data, encrypted data, or other.

    ``declared_type`` is the ``smime-type`` parameter (``signed-data``, ``enveloped-data``,
    ``authEnveloped-data``, ``compressed-data``, ``certs-only``), which decides when present;
    without it (older clients omit it) the CMS content type inside the bytes decides.
    """
    declared = (declared_type or "").strip().lower()
    if declared in ("enveloped-data", "authenveloped-data"):
        return "encrypted"
    if declared == "signed-data":
        return "signed"
    if declared:
        return "other"  # compressed-data, certs-only: nothing a candidate attaches
    content_type = _content_type(data)
    if content_type in _ENCRYPTED:
        return "encrypted"
    return "signed" if content_type == "signed_data" else "other"


def signed_content(data: bytes) -> bytes | None:
    """The MIME entity that opaque signed data carries, or None when there is none to read.

    None for detached signatures (no content inside), for other CMS types and for bytes
    that are not CMS at all (garbage, truncated or nested too deep).
    """
    if len(data) > MAX_SIGNED_BYTES:
        return None
    try:
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "signed_data":
            return None
        content = info["content"]["encap_content_info"]["content"].native
    except Exception:  # noqa: BLE001 - hostile DER: asn1crypto raises many types, all mean "no"
        return None
    return content if isinstance(content, bytes) and content else None


def _content_type(data: bytes) -> str | None:
    try:
        return str(cms.ContentInfo.load(data)["content_type"].native)
    except Exception:  # noqa: BLE001 - not CMS: no type
        return None
