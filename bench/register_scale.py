"""A big register: the recruiters' commands beside ``sqlite-utils query --csv`` on the same rows.

Grows a register of the shipped configuration to N submissions (realistic rows for the
reference vacancy DRP and a few others, and the notice each was sent, inserted with
``insert_all`` in one transaction), then runs, alternating, each recruiter command as its
own process and ``sqlite-utils query ... --csv`` selecting the same rows, and prints their
times and peak RSS side by side, with the ratio the issue bounds (at most 1.5 times
sqlite-utils' time, under 100 MB). Then ``register stats`` and the browser view's first
pages (the Applications list and a candidate card) served by the real ``intake-bot
review``.

A script, not a test: ``python bench/register_scale.py [--submissions N] [--runs K]
[--keep DIR]``. Prints a human summary and, as its last line, one JSON object. Network
only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: bench/ and tests/ import from the checkout

from sqlite_utils import Database  # noqa: E402

from intake_bot.register import Register  # noqa: E402

BIN = Path(sys.executable).parent
TARGETS = {"ratio": 1.5, "peak_rss_mb": 100.0}
FIRST = ["Alice", "Bram", "Carlos", "Chloé", "Emma", "Jeanne", "Mehmet", "Piotr", "Zofia",
         "Ana", "Lars", "Ingrid", "João", "Elif", "Dimitra", "Oskar", "Marta", "Luca"]
LAST = ["Martin", "de Vries", "Ruiz", "Dupont", "Svensson", "Yılmaz", "Nowak", "Rossi",
        "Kowalska", "Jensen", "Silva", "Papadopoulou", "Müller", "Novák", "Horváth"]
DOMAINS = ["example.net", "example.fr", "example.pl", "example.es", "example.com.tr"]
#: (status, share, reasons, flags): the outcomes of a deadline-driven vacancy.
OUTCOMES = [
    ("accepted", 0.62, [], []),
    ("accepted", 0.10, [], ["too-few-references"]),
    ("accepted", 0.03, [], ["no-text"]),
    ("rejected", 0.07, ["multiple-attachments"], []),
    ("rejected", 0.04, ["not-pdf"], []),
    ("rejected", 0.03, ["late"], []),
    ("superseded", 0.05, [], []),
    ("unmatched", 0.03, ["unknown-vacancy"], []),
    ("ignored", 0.03, ["auto-submitted"], []),
]
VACANCIES = [("DRP", 0.85), ("NASP", 0.10), ("MO-HEAD", 0.05)]


def grow(register_path: Path, count: int, seed: int = 7) -> float:
    """Fill a new register with ``count`` realistic submissions; returns the seconds taken."""
    Register(register_path).close()  # the real schema, migrations and indexes
    started = time.perf_counter()
    db = Database(str(register_path))
    with db.atomic():  # one transaction: sqlite-utils' own would commit every chunk
        db["submissions"].insert_all(_rows(count, seed), batch_size=2000)
        db["replies"].insert_all(_replies(db, seed), batch_size=2000)
    db.close()
    return time.perf_counter() - started


def _rows(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    outcomes = [o[:1] + o[2:] for o in OUTCOMES]
    weights = [o[1] for o in OUTCOMES]
    sequence: dict[str, int] = {}
    start = 1_777_000_000  # late April 2026; the DRP deadline is 12 June 2026
    for number in range(1, count + 1):
        status, reasons, flags = rng.choices(outcomes, weights)[0]
        vacancy = rng.choices([v for v, _ in VACANCIES], [w for _, w in VACANCIES])[0]
        matched = status not in ("unmatched", "ignored")
        first, last = rng.choice(FIRST), rng.choice(LAST)
        sender = f"{first.lower()}.{last.lower().replace(' ', '')}{number}@{rng.choice(DOMAINS)}"
        received = start + int(4_000_000 * (number / count) ** 0.5)  # busier towards the end
        reference = None
        if matched and status != "superseded":
            sequence[vacancy] = sequence.get(vacancy, 0) + 1
            reference = f"{vacancy}-{sequence[vacancy]:04d}"
        digest = f"{number:064x}"
        document = f"files/{digest[:2]}/{digest}.pdf"
        pages = rng.randint(2, 9)
        yield {
            "id": number, "reference": reference,
            "vacancy_seq": sequence.get(vacancy) if reference else None,
            "message_id": f"<{number}.{seed}@mail.{rng.choice(DOMAINS)}>",
            "dedup_key": f"<{number}.{seed}@mail>|{digest}", "raw_sha256": digest,
            "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(received)),
            "registered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(received + 2)),
            "sender": sender, "sender_name": f"{first} {last}", "reply_to": sender,
            "subject": "Officer – Democratic Resilience and Partnerships" if matched
            else "Application", "vacancy_id": vacancy if matched else None, "status": status,
            "reasons": json.dumps(reasons), "flags": json.dumps(flags),
            "document_path": document if matched else None, "document_sha256": digest,
            "document_bytes": rng.randint(80_000, 900_000), "document_pages": pages,
            "document_name": f"{first} {last} - application.pdf", "document_type": "pdf",
            "attachments": json.dumps([{"name": f"{first} {last} - application.pdf",
                                        "type": "pdf", "bytes": 200_000, "pages": pages,
                                        "sha256": digest, "path": document}]),
            "raw_path": f"raw/{digest[:2]}/{digest}.eml",
            "raw_bytes": rng.randint(100_000, 1_200_000),
            "mailbox_key": f"imap:1:{number}", "language": "en",
            "notice_skipped": None, "superseded_by": None, "error": None,
            "moved_to": "Processed", "purged_at": None,
        }


#: (status, share, last_error): what became of the notices.
NOTICE_OUTCOMES = [("sent", 0.985, None),
                   ("bounced", 0.01, "550 5.1.1 <x@example.net>: Recipient address rejected"),
                   ("failed", 0.005, "554 5.7.1 refused")]
NOTICE_BYTES = 3_000  # a notice as the register keeps it, both languages


def _replies(db: Database, seed: int) -> Iterator[dict[str, Any]]:
    """One notice per submission owed one, as the pipeline queues them."""
    rng = random.Random(seed)
    content = b"x" * NOTICE_BYTES
    kinds = {"accepted": "acknowledgement", "rejected": "rejection", "unmatched": "unmatched",
             "superseded": "acknowledgement"}
    for number, status, sender, registered in db.execute(
            "SELECT id, status, sender, registered_at FROM submissions ORDER BY id"):
        if status not in kinds:
            continue
        outcome, error = rng.choices([o[::2] for o in NOTICE_OUTCOMES],
                                     [o[1] for o in NOTICE_OUTCOMES])[0]
        yield {"id": number, "submission_id": number, "kind": kinds[status],
               "recipient": sender, "recipient_key": sender,
               "recipient_domain": sender.rpartition("@")[2],
               "message_id": f"<{number}.{seed}.intake@example.org>", "status": outcome,
               "attempts": 1, "last_error": error, "sent_at": registered,
               "created_at": registered, "subject": "Your application", "content": content}


@dataclass(frozen=True)
class Measure:
    """One command's run: wall seconds, peak RSS (MB) and the bytes it printed."""

    seconds: float
    peak_mb: float
    output_bytes: int


def measure(command: Sequence[str], cwd: Path) -> Measure:
    """Run ``command`` to its end, its output counted and dropped; its own peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    size = 0
    assert process.stdout is not None
    while chunk := process.stdout.read(1 << 16):
        size += len(chunk)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    error = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {error.strip()}")
    return Measure(seconds, usage.ru_maxrss / 1024, size)


@dataclass(frozen=True)
class Pair:
    """A recruiter command and the sqlite-utils query that selects the same rows."""

    name: str
    ours: list[str]
    theirs: str


def pairs(config: Path, register: Path) -> list[Pair]:
    bot = [str(BIN / "intake-bot"), "--config", str(config)]
    return [
        Pair("register list (accepted, csv)",
             [*bot, "register", "list", "--vacancy", "DRP", "--status", "accepted",
              "--format", "csv"],
             "SELECT * FROM submissions WHERE vacancy_id = 'DRP' AND status = 'accepted' "
             "ORDER BY id"),
        Pair("register export --history (csv)",
             [*bot, "register", "export", "--vacancy", "DRP", "--history", "--output", "-"],
             "SELECT * FROM submissions WHERE vacancy_id = 'DRP' ORDER BY received_at, id"),
        Pair("register export (csv)",
             [*bot, "register", "export", "--vacancy", "DRP", "--output", "-"],
             "SELECT * FROM submissions WHERE vacancy_id = 'DRP' ORDER BY received_at, id"),
    ]


def sqlite_utils(register: Path, sql: str) -> list[str]:
    return [str(BIN / "sqlite-utils"), "query", str(register), sql, "--csv"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def browse(config: Path, cwd: Path, paths: Sequence[str]) -> dict[str, float]:
    """Seconds for each page, served by the real ``intake-bot review`` (second load: warm)."""
    port = free_port()
    server = subprocess.Popen([str(BIN / "intake-bot"), "--config", str(config), "review",
                               "--port", str(port)], cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("intake-bot review did not start") from None
                time.sleep(0.1)
        times = {}
        for path in paths:
            urllib.request.urlopen(base + path, timeout=120).read()  # warm the page cache
            started = time.perf_counter()
            urllib.request.urlopen(base + path, timeout=120).read()
            times[path] = time.perf_counter() - started
        return times
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each pair")
    parser.add_argument("--keep", type=Path, help="build the project here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="register-scale-"))
    try:
        if not (root / "config").exists():
            shutil.copytree(REPO / "config", root / "config")
        config = root / "config" / "intake.toml"
        register = root / "var" / "register.db"
        if not register.exists():
            seconds = grow(register, args.submissions)
            print(f"grew {args.submissions:,} submissions and their notices in {seconds:.1f} s "
                  f"({register.stat().st_size / 1e6:,.0f} MB)")
        results: dict[str, Any] = {"submissions": args.submissions, "pairs": {}}
        print(f"\n{'command':<34} {'ours s':>7} {'MB':>6}   {'sqlite-utils s':>14} {'MB':>6}"
              f"   {'ratio':>5}")
        for pair in pairs(config, register):
            ours, theirs = [], []
            for _ in range(args.runs):  # alternating, so that both see the same machine
                ours.append(measure(pair.ours, root))
                theirs.append(measure(sqlite_utils(register, pair.theirs), root))
            mine = statistics.median(m.seconds for m in ours)
            other = statistics.median(m.seconds for m in theirs)
            peak, other_peak = max(m.peak_mb for m in ours), max(m.peak_mb for m in theirs)
            ratio = mine / other
            print(f"{pair.name:<34} {mine:7.2f} {peak:6.0f}   {other:14.2f} {other_peak:6.0f}"
                  f"   {ratio:5.2f}{'' if ratio <= TARGETS['ratio'] else '  over 1.5'}"
                  f"{'' if peak < TARGETS['peak_rss_mb'] else '  over 100 MB'}")
            results["pairs"][pair.name] = {"seconds": round(mine, 3), "peak_mb": round(peak, 1),
                                           "sqlite_utils_seconds": round(other, 3),
                                           "sqlite_utils_peak_mb": round(other_peak, 1),
                                           "ratio": round(ratio, 3),
                                           "rows_bytes": ours[0].output_bytes}
        stats = [measure([str(BIN / "intake-bot"), "--config", str(config), "register", "stats"],
                         root) for _ in range(args.runs)]
        results["stats_seconds"] = round(statistics.median(m.seconds for m in stats), 3)
        results["stats_peak_mb"] = round(max(m.peak_mb for m in stats), 1)
        print(f"\nregister stats: {results['stats_seconds']:.2f} s, "
              f"{results['stats_peak_mb']:.0f} MB")
        pages = browse(config, root, ["/register/applications", "/register/submissions/150000"
                                      if args.submissions >= 150_000 else "/register/submissions/1"])
        results["pages_seconds"] = {path: round(seconds, 3) for path, seconds in pages.items()}
        for path, seconds in pages.items():
            print(f"browser view {path}: {seconds:.2f} s")
        print(json.dumps(results))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
