"""The disk edge: content-addressed, durable, owner-only storage under ``documents``.

File names come from content hashes and the detected type, never from the e-mail, so a
hostile attachment name cannot choose where anything is written. A write that fails (a
full disk or quota, a read-only or forbidden folder) raises :class:`ArchiveError`: the
pipeline then stops the cycle and the message stays in the inbox for the next one, since
the next message would fail the same way and the message itself is not at fault.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

EXTENSIONS = {"pdf": "pdf", "docx": "docx", "doc": "doc", "odt": "odt"}
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def sha256(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


class ArchiveError(OSError):
    """The documents folder cannot be written; one line naming the folder and the reason."""


#: The folder under ``documents`` for files the virus scan found harmful: never served,
#: exported or linked, and named so that nothing opens them by their extension.
QUARANTINE_AREA = "quarantine"


class Archive:
    """Raw messages under ``raw/``, documents under ``files/``, harmful files under
    ``quarantine/``, each named by its SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._made: set[Path] = set()  # folders made private already, by this instance

    def store_raw(self, raw: bytes) -> tuple[Path, str]:
        """Durably store a raw message; returns (path, sha256). Idempotent."""
        digest = sha256(raw)
        return self._store("raw", digest, "eml", raw), digest

    def store_document(self, data: bytes, kind: str) -> tuple[Path, str]:
        """Durably store a document under a name made of its hash and detected type."""
        digest = sha256(data)
        return self._store("files", digest, EXTENSIONS.get(kind, "bin"), data), digest

    def store_quarantined(self, data: bytes) -> tuple[Path, str]:
        """Durably store a file kept apart from the documents (``quarantine/``)."""
        digest = sha256(data)
        return self._store(QUARANTINE_AREA, digest, "quarantined", data), digest

    def _store(self, area: str, digest: str, extension: str, data: bytes) -> Path:
        try:
            return self._write(area, digest, extension, data)
        except OSError as error:
            raise ArchiveError(f"documents folder {self.root}: cannot store in {area}/: "
                               f"{error.strerror or error}") from error

    def _write(self, area: str, digest: str, extension: str, data: bytes) -> Path:
        folder = self.root / area / digest[:2]
        path = folder / f"{digest}.{extension}"
        try:
            if path.stat().st_size == len(data):
                return path
        except FileNotFoundError:
            pass
        if folder not in self._made:  # a burst stores thousands of files in 256 folders
            make_private_dirs(folder)
            self._made.add(folder)
        # Helper threads may store the same document at once: each writes its own file.
        temporary = folder / f".{digest}.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                             FILE_MODE)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        fsync_dir(folder)
        return path


def make_private_dirs(folder: Path) -> None:
    """Create a folder (and its missing parents) readable by the owner only.

    ``mkdir(parents=True)`` would give the parents it creates the umask's mode (often
    0755), so each missing folder is made on its own; existing parents are left alone.
    """
    missing = [folder, *(parent for parent in folder.parents if not parent.exists())]
    for path in reversed(missing):
        path.mkdir(exist_ok=True, mode=FOLDER_MODE)
        path.chmod(FOLDER_MODE)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
