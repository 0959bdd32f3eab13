"""The disk edge: content-addressed, durable, owner-only storage under ``documents``.

File names come from content hashes and the detected type, never from the e-mail, so a
hostile attachment name cannot choose where anything is written. A write that fails (a
full disk or quota, a read-only or forbidden folder) raises :class:`ArchiveError`: the
pipeline then stops the cycle and the message stays in the inbox for the next one, since
the next message would fail the same way and the message itself is not at fault.

The register names each file by where it lies under ``documents`` (``files/ab/ab12….pdf``),
never by a server folder: nothing the bot shows names one, and moving the documents folder
takes only a change of ``[register] documents``. :meth:`Archive.resolve` is the one way
back from such a name to a file, and it refuses any that leads out of the folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path, PurePosixPath

EXTENSIONS = {"pdf": "pdf", "docx": "docx", "doc": "doc", "odt": "odt"}
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def sha256(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


class ArchiveError(OSError):
    """The documents folder cannot be written; one line naming the folder and the reason."""


class OutsideDocuments(ValueError):
    """A name in the register leads out of the documents folder (hand-edited, or a link)."""


#: The folder under ``documents`` for files the virus scan found harmful: never served,
#: exported or linked, and named so that nothing opens them by their extension.
QUARANTINE_AREA = "quarantine"
#: The extensions each area gives its files (see :meth:`Archive.store_raw` and the others).
_AREA_EXTENSIONS = {"raw": {"eml"}, "files": {*EXTENSIONS.values(), "bin"},
                    QUARANTINE_AREA: {"quarantined"}}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def relative_name(recorded: str) -> str:
    """The name under ``documents`` of an absolute path the archive wrote, whatever its folder.

    ``/var/lib/intake-bot/documents/files/ab/ab12….pdf`` is ``files/ab/ab12….pdf``: the
    archive's own layout (the area, two digits of the hash, the hash with the area's
    extension) makes that certain. Any other text, a relative name included, comes back
    unchanged. For the registers that older versions filled with absolute paths.
    """
    parts = recorded.rsplit("/", 3)
    if not recorded.startswith("/") or len(parts) < 4:
        return recorded
    area, folder, name = parts[1:]
    digest, _, extension = name.partition(".")
    if (extension in _AREA_EXTENSIONS.get(area, ()) and _SHA256.fullmatch(digest)
            and folder == digest[:2]):
        return f"{area}/{folder}/{name}"
    return recorded


class Archive:
    """Raw messages under ``raw/``, documents under ``files/``, harmful files under
    ``quarantine/``, each named by its SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._made: set[Path] = set()  # folders made private already, by this instance

    def store_raw(self, raw: bytes) -> tuple[PurePosixPath, str]:
        """Durably store a raw message; returns (its name under the root, sha256). Idempotent."""
        digest = sha256(raw)
        return self._store("raw", digest, "eml", raw), digest

    def store_document(self, data: bytes, kind: str) -> tuple[PurePosixPath, str]:
        """Durably store a document under a name made of its hash and detected type;
        returns (its name under the root, sha256)."""
        digest = sha256(data)
        return self._store("files", digest, EXTENSIONS.get(kind, "bin"), data), digest

    def store_quarantined(self, data: bytes) -> tuple[PurePosixPath, str]:
        """Durably store a file kept apart from the documents (``quarantine/``); returns
        (its name under the root, sha256)."""
        digest = sha256(data)
        return self._store(QUARANTINE_AREA, digest, "quarantined", data), digest

    def resolve(self, recorded: str | PurePosixPath) -> Path:
        """The file a name in the register stands for, links followed.

        A name is relative to the root (``files/ab/ab12….pdf``); an absolute one, as older
        versions recorded, stays itself. Raises :class:`OutsideDocuments` when the file
        lies outside the root, whether by ``../``, an absolute path or a link.
        """
        path = (self.root / recorded).resolve()
        if not path.is_relative_to(self.root):
            raise OutsideDocuments(f"{recorded} is outside the documents folder")
        return path

    def is_quarantined(self, path: Path) -> bool:
        """Whether a resolved file lies where the virus scan's findings are kept apart."""
        return path.is_relative_to(self.root / QUARANTINE_AREA)

    def _store(self, area: str, digest: str, extension: str, data: bytes) -> PurePosixPath:
        name = PurePosixPath(area, digest[:2], f"{digest}.{extension}")
        try:
            self._write(self.root / name, data)
        except OSError as error:
            raise ArchiveError(f"documents folder {self.root}: cannot store in {area}/: "
                               f"{error.strerror or error}") from error
        return name

    def _write(self, path: Path, data: bytes) -> None:
        try:
            if path.stat().st_size == len(data):
                return
        except FileNotFoundError:
            pass
        folder = path.parent
        if folder not in self._made:  # a burst stores thousands of files in 256 folders
            make_private_dirs(folder)
            self._made.add(folder)
        # Helper threads may store the same document at once: each writes its own file.
        temporary = folder / f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp"
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


def make_private_dirs(folder: Path) -> None:
    """Create a folder (and its missing parents) readable by the owner only.

    ``mkdir(parents=True)`` would give the parents it creates the umask's mode (often
    0755), so each missing folder is made on its own. A folder that exists is left as it
    is, the named one too: it is the operator's (``/tmp``, a shared ``/srv/data``), and
    making it owner-only would lock out whoever else uses it.
    """
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made meanwhile by another process: theirs to set
            continue
        path.chmod(FOLDER_MODE)  # mkdir's mode passes through the umask


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
