"""What virus scanning costs: clamd's answer per file, and a cycle with and without ``[scan]``.

A benchmark, not a test. It starts the tests' clamd (``tests/clamav.py``: Debian's clamd
with a handful of test signatures, so the figures are the protocol's and the pipeline's
cost, not the engine's with the official database of millions of signatures) and prints:

- the median time of one INSTREAM scan over the unix socket and over TCP, for an
  application PDF and for files of 1 and 10 MB;
- messages per second of ``run_cycle`` on a Maildir of ``--messages`` applications, with
  and without ``[scan]``, alternating ``--rounds`` times.

Usage: ``.venv/bin/python bench/scan.py [--messages 300] [--rounds 2] [--scans 50]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the builders and the test clamd live with the tests

from intake_bot.pipeline import run_cycle  # noqa: E402
from intake_bot.scan import Clamd  # noqa: E402
from tests.builders import make_application_pdf  # noqa: E402
from tests.clamav import ClamdServer, find_clamd  # noqa: E402
from tests.conftest import NOW, brussels, write_project  # noqa: E402
from tests.mail import application  # noqa: E402

ON_TIME = brussels("2026-06-10T10:00:00")


def scan_times(clamd: Clamd, data: bytes, count: int) -> float:
    """The median seconds of ``count`` scans of ``data``."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        clamd.scan(data)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cycle_rate(root: Path, messages: int, address: str | None) -> float:
    """Messages per second of one cycle over ``messages`` fresh applications."""
    extra = f'\n[scan]\nclamd = "{address}"\n' if address else ""
    project = write_project(root, extra=extra)
    pdf = make_application_pdf()
    for number in range(messages):
        project.deliver(application(sender=f"c{number}@example.net",
                                    attachments=[("Application.pdf", pdf, "application/pdf")]),
                        ON_TIME)
    started = time.perf_counter()
    summary = run_cycle(project.config, clock=lambda: NOW)
    elapsed = time.perf_counter() - started
    assert summary.handled == messages and summary.unscanned == 0, summary.line()
    return messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scans", type=int, default=50)
    options = parser.parse_args()
    binary = find_clamd()
    if binary is None:
        sys.exit("clamd is not installed (as root: bash .ci/install-deps)")
    server = ClamdServer(binary, NOW - dt.timedelta(days=1), stream_max_bytes=64 * 2**20)
    server.start()
    try:
        files = {"application PDF": make_application_pdf(),
                 "1 MB": b"%PDF-1.7\n" + bytes(range(256)) * 4096,
                 "10 MB": b"%PDF-1.7\n" + bytes(range(256)) * 40960}
        for kind in ("unix", "tcp"):
            clamd = Clamd(server.address(kind), timeout_s=60)
            for name, data in files.items():
                median = scan_times(clamd, data, options.scans)
                print(f"scan over {kind:<4} {name:<16} {len(data):>10,} bytes: "
                      f"median {median * 1000:7.2f} ms ({options.scans} scans)")
        with tempfile.TemporaryDirectory(prefix="intake-bench-scan-") as folder:
            rates: dict[str, list[float]] = {"without [scan]": [], "with [scan]": []}
            for round_number in range(options.rounds):
                for label, address in (("without [scan]", None),
                                       ("with [scan]", server.address())):
                    root = Path(folder) / f"{round_number}-{len(rates[label])}-{label[:4]}"
                    rates[label].append(cycle_rate(root, options.messages, address))
            for label, values in rates.items():
                print(f"cycle of {options.messages} applications {label:<14}: "
                      + ", ".join(f"{rate:.1f}" for rate in values) + " messages/s")
    finally:
        server.close()


if __name__ == "__main__":
    main()
