"""Recognise and inspect one attachment (placeholder until the bounded inspector lands)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

DocumentKind = Literal["pdf", "docx", "doc", "odt", "other"]


@dataclass(frozen=True)
class DocumentInfo:
    kind: DocumentKind
    readable: bool
    encrypted: bool
    pages: int | None
    words: int | None
    text: str | None
    error: str | None


def sniff(data: bytes) -> DocumentKind:
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return "other"


def inspect_document(data: bytes, *, want_text: bool, timeout_s: float = 5.0) -> DocumentInfo:
    kind = sniff(data)
    if kind != "pdf":
        return DocumentInfo(kind, True, False, None, None, None, None)
    import pypdf
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return DocumentInfo(kind, False, True, None, None, None, "encrypted")
        pages = len(reader.pages)
        text = "\n".join(p.extract_text() or "" for p in reader.pages) if want_text else None
        return DocumentInfo(kind, True, False, pages, None, text, None)
    except Exception as error:  # noqa: BLE001
        return DocumentInfo(kind, False, False, None, None, None, str(error)[:200])
