"""Recognise an attachment by its content alone: signatures and container structure.

:func:`sniff` never looks at a file name or a declared type, and is cheap and bounded enough
to run in the service process; parsing the document is for the inspection worker.
"""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Literal

DocumentKind = Literal["pdf", "docx", "doc", "odt", "other"]

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
#: The signature of a TNEF stream (Outlook's winmail.dat): 0x223E9F78, little-endian.
TNEF_MAGIC = b"\x78\x9f\x3e\x22"
_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# A docx or odt central directory takes a few kilobytes; refusing huge ones keeps zipfile
# from building hundreds of thousands of entries in the service process.
_ZIP_MAX_DIRECTORY = 1_000_000


def sniff(data: bytes) -> DocumentKind:
    """Return the kind of document ``data`` holds, judged by its content only.

    - ``"pdf"``: ``%PDF-`` starts within the first 1,024 bytes (whether it parses is for
      :func:`inspect_document` to say);
    - ``"docx"``: a zip package with ``[Content_Types].xml`` and ``word/document.xml``, or an
      OLE2 file holding an ``EncryptedPackage`` (a password-protected Office Open XML file);
    - ``"odt"``: a zip package whose ``mimetype`` member is
      ``application/vnd.oasis.opendocument.text``;
    - ``"doc"``: an OLE2 compound file (``D0 CF 11 E0 A1 B1 1A E1``) with a ``WordDocument``
      stream;
    - ``"other"``: anything else, a TNEF stream (Outlook's winmail.dat) included, whatever
      it holds: its files are unpacked and judged on their own, never the stream itself.
      Never raises.
    """
    if data.startswith(TNEF_MAGIC):
        return "other"
    if data.startswith(OLE_MAGIC):
        if _has_ole_stream(data, "WordDocument"):
            return "doc"
        return "docx" if _has_ole_stream(data, "EncryptedPackage") else "other"
    if data.startswith(_ZIP_MAGIC):
        return _sniff_zip(data)
    return (
        "pdf"
        if data.find(_PDF_MAGIC, 0, _PDF_HEADER_WINDOW + len(_PDF_MAGIC) - 1) >= 0
        else "other"
    )


def _has_ole_stream(data: bytes, name: str) -> bool:
    """Look for a stream's directory entry without parsing the FAT (bounded, linear)."""
    needle = name.encode("utf-16-le") + b"\0\0"
    entry_name_length = struct.pack("<H", len(needle))
    pos = data.find(needle, 512)
    while pos >= 0:
        # Directory entries are 128 bytes, aligned on sector boundaries (512 or 4096), with
        # the name's byte length at offset 64 and the object type (2 = stream) at 66.
        if pos % 128 == 0 and data[pos + 64 : pos + 67] == entry_name_length + b"\x02":
            return True
        pos = data.find(needle, pos + 1)
    return False


def _sniff_zip(data: bytes) -> DocumentKind:
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22 or data[max(0, end - 20) : end].startswith(b"PK\x06\x07"):
        return "other"  # no end record, or Zip64, which office suites never need for a letter
    if struct.unpack_from("<I", data, end + 12)[0] > _ZIP_MAX_DIRECTORY:
        return "other"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if {"[Content_Types].xml", "word/document.xml"} <= names:
                return "docx"
            if "mimetype" in names and _small_member(archive, "mimetype").strip() == _ODT_MIMETYPE:
                return "odt"
    except Exception:  # noqa: BLE001 - zipfile raises many types on damaged archives
        return "other"
    return "other"


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    # zipfile reads at most the declared size, and deflate with a bounded output; other
    # methods are not what an office suite writes for this member.
    if info.file_size > 100 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return b""
    return archive.read(info)
