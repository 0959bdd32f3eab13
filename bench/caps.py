"""What the notice caps cost on a big register: the queries each notice runs, timed.

A benchmark, not a test. It fills a throw-away register with ``--notices`` notices sent over
the past ``--days`` days to ``--domains`` domains (a few big providers and many small
ones), then times, per call, the queries the caps add: the per-address count a new
submission runs while it is recorded, and the hourly caps each notice checks before it is
sent, both when there is room and when the hourly window is full. Prints one line per
figure and, last, one JSON object.

Usage: ``.venv/bin/python bench/caps.py [--notices 200000] [--days 30] [--calls 2000]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from intake_bot.addresses import fold_address, fold_domain  # noqa: E402
from intake_bot.clock import utc_text  # noqa: E402
from intake_bot.register import Register  # noqa: E402

NOW = dt.datetime(2026, 6, 12, 22, tzinfo=dt.UTC)


def fill(register: Register, notices: int, days: int, domains: int) -> list[str]:
    """``notices`` sent notices, spread over ``days`` before NOW; returns the addresses."""
    chance = random.Random(7)
    big = ["gmail.example", "outlook.example", "yahoo.example"]
    names = big + [f"d{index}.example" for index in range(domains - len(big))]
    addresses = []
    rows = []
    for index in range(notices):
        domain = chance.choice(big) if chance.random() < 0.6 else chance.choice(names)
        address = f"c{index}+tag@{domain}"
        addresses.append(address)
        sent = utc_text(NOW - dt.timedelta(seconds=chance.uniform(0, days * 86400)))
        rows.append((1, "acknowledgement", address, fold_address(address), fold_domain(address),
                     f"<n{index}@bench>", "sent", sent, sent, b""))
    with register.transaction():
        register.db.execute("INSERT INTO submissions (id, dedup_key, raw_sha256, received_at, "
                            "registered_at, status) VALUES (1, 'k', 's', 't', 't', 'accepted')")
        register.db.conn.executemany(
            "INSERT INTO replies (submission_id, kind, recipient, recipient_key, "
            "recipient_domain, message_id, status, created_at, sent_at, content) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return addresses


def per_call(calls: int, action: Callable[[int], object]) -> float:
    """Microseconds per call of ``action(index)``."""
    start = time.perf_counter()
    for index in range(calls):
        action(index)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=2000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        register = Register(Path(folder) / "register.db")
        addresses = fill(register, options.notices, options.days, options.domains)
        register.db.execute("ANALYZE")
        since = NOW - dt.timedelta(days=1)
        figures = {
            "notices": options.notices,
            "per_address_day_us": per_call(options.calls, lambda i: register._notices_to(
                fold_address(addresses[i * 97 % len(addresses)]), since)),
            "hourly_room_us": per_call(options.calls, lambda i: register.hourly_cap(
                fold_domain(addresses[i * 97 % len(addresses)]), NOW, 10**6, 10**6)),
            "hourly_full_us": per_call(options.calls, lambda i: register.hourly_cap(
                "gmail.example", NOW, 20, 500)),
        }
        register.close()
    for name, value in figures.items():
        print(f"{name}: {value:,.1f}" if isinstance(value, float) else f"{name}: {value:,}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
