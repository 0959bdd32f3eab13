"""One cycle at a time per register, across processes: an advisory lock beside the register.

The service never runs two cycles at once in one process; this lock extends that to a
``run --once`` or a ``replay`` started while the service is working. It is an ``flock``,
which the kernel releases when its process dies, even by SIGKILL, so a crash never leaves
a stale lock behind. Holding it is also what lets a cycle treat every notice still marked
``sending`` as cut short by a crash rather than being sent by someone else.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from intake_bot.archive import FILE_MODE, make_private_dirs
from intake_bot.register import RegisterError


class CycleBusy(RegisterError):
    """Another process holds the register's cycle lock (a cycle, a replay or a purge)."""


def lock_path(register_path: Path) -> Path:
    """The lock file of a register: ``register.db.lock`` beside ``register.db``."""
    return register_path.with_name(register_path.name + ".lock")


@contextmanager
def cycle_lock(register_path: Path) -> Iterator[None]:
    """Hold the register's cycle lock, or raise :class:`CycleBusy` if another holds it.

    Whatever writes the archive or deletes from it holds this lock: a cycle writes documents
    before it records them, so a purge beside it could delete a file that a submission about
    to be recorded names.
    """
    path = lock_path(register_path)
    try:
        make_private_dirs(path.parent)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as error:
        raise RegisterError(f"{path}: cannot open the lock file: {error.strerror}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CycleBusy(f"{register_path}: another intake-bot cycle is running on this "
                            "register; try again when it ends") from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
