"""Feed hostile messages through ``intake-bot run --once``; print peak memory and the slowest.

A benchmark, not a test. It builds a throw-away deployment on the embedded default (a
Maildir in, an outbox folder out, no network) in a temp folder, delivers ``--messages``
hostile messages (every builder of ``tests/hostile.py`` in turn: broken MIME, header
injection, hostile file names, hand-made PDF bombs, random bytes, and one 50 MB message),
runs one cycle as a separate process, and prints:

- the service's peak memory: the child's ``ru_maxrss`` (``RUSAGE_CHILDREN``);
- the slowest message: the longest gap between two consecutive per-message log lines
  (Message-ID, decision), which spans reading, archiving, parsing, inspecting, deciding,
  recording, sending and filing one message;
- the outcome counts, and whether every message was registered and left the inbox.

Usage: ``.venv/bin/python bench/hostile.py [--messages 1000] [--keep]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the message builders live with the tests

from tests import hostile  # noqa: E402
from tests.mail import blank_pdf  # noqa: E402

DELIVERED = dt.datetime(2026, 6, 10, 8, tzinfo=dt.UTC)  # before the vacancy's deadline
OVERSIZED_BYTES = 50 * 2**20
CONFIG = """\
[mailbox]
url = "maildir:mailbox"
[smtp]
url = "outbox:outbox"
from = "NATO PA Recruitment <recruitment@example.org>"
[register]
path = "register.db"
documents = "documents"
[vacancies]
path = "vacancies.toml"
[notices]
max_per_address_per_day = 5
"""
#: ``2026-11-23 13:34:43,335 INFO intake_bot.pipeline: <id> DRP-0001 accepted reasons=...``
DECISION = re.compile(r"^(\S+ \S+) (?:INFO|WARNING) intake_bot\.pipeline: (\S+) "
                      r"(?:\S+ \w+ reasons=|quarantined:)")


def builders() -> list[tuple[str, bytes]]:
    """One message per builder of tests/hostile.py, PDF bombs wrapped in applications."""
    found = [(name, build()) for name, build in hostile.MESSAGES.items()]
    found += [(f"pdf-{name}", hostile.with_pdf(name, build()))
              for name, build in hostile.PDFS.items()]
    return found


def unique(raw: bytes, serial: int) -> bytes:
    """The same hostile message as a distinct one: its own Message-ID, sender and hash."""
    raw = raw.replace(b"@hostile.example>", b".%d@hostile.example>" % serial)
    raw = raw.replace(b"candidate@example.net", b"candidate%d@example.net" % serial)
    return b"X-Bench-Serial: %d\r\n" % serial + raw


def deliver(maildir: Path, count: int) -> Counter[str]:
    """Deliver ``count`` messages: a warm-up application, one 50 MB message, then the rest."""
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    kinds: Counter[str] = Counter()
    stamp = DELIVERED.timestamp()
    pool = builders()
    for serial in range(count):
        path = maildir / "new" / f"{serial:06d}.bench"
        if serial == 0:
            kind, raw = "warm-up", unique(hostile.with_pdf("warm-up", blank_pdf()), 0)
        elif serial == 1:
            kind, raw = "oversized-50MB", b""
            hostile.write_oversized(path, OVERSIZED_BYTES, name="oversized")
        else:
            kind, raw = pool[serial % len(pool)]
            raw = hostile.random_bytes(serial) if kind == "random-bytes" else unique(raw, serial)
        if raw:
            path.write_bytes(raw)
        os.utime(path, (stamp + serial, stamp + serial))  # delivery order = file order
        kinds[kind] += 1
    return kinds


def slowest(log: str) -> tuple[float, str]:
    """The longest gap between consecutive per-message log lines, and that message."""
    moments = [(dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f"), match[2])
               for match in map(DECISION.match, log.splitlines()) if match]
    gaps = [((later - earlier).total_seconds(), message)
            for (earlier, _), (later, message) in itertools.pairwise(moments)]
    return max(gaps, default=(0.0, "(none)"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="how many (default 1000)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        (root / "intake.toml").write_text(CONFIG, encoding="utf-8")
        (root / "vacancies.toml").write_text(hostile.VACANCY, encoding="utf-8")
        kinds = deliver(root / "mailbox", max(2, options.messages))
        print(f"delivered {sum(kinds.values())} messages of {len(kinds)} kinds into {root}")
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "intake_bot", "--config",
                               str(root / "intake.toml"), "run", "--once"],
                              capture_output=True, text=True, cwd=REPO, check=False)
        elapsed = time.monotonic() - started
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        gap, message = slowest(done.stderr)
        db = sqlite3.connect(root / "register.db")
        statuses = Counter(status for (status,) in db.execute("SELECT status FROM submissions"))
        db.close()
        left = list((root / "mailbox" / "new").iterdir())
        print(f"exit status {done.returncode}; {elapsed:.1f} s for the cycle "
              f"({sum(statuses.values()) / elapsed:.0f} messages/s, start-up included)")
        print(f"peak memory of the service: {peak_mib:.0f} MiB (ru_maxrss)")
        print(f"slowest message: {gap * 1000:.0f} ms ({message})")
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
        print(f"registered {sum(statuses.values())} of {sum(kinds.values())}; "
              f"{len(left)} left in the inbox; notices written: "
              f"{len(list((root / 'outbox').glob('*.eml')))}")
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
        ok = (done.returncode == 0 and not left and "quarantined" not in statuses
              and sum(statuses.values()) == sum(kinds.values()))
        return 0 if ok else 1
    finally:
        if options.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
