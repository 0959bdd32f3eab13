"""A/B: the bot's ``run --once`` on the same burst, for two or more checkouts, alternating.

Timings on a shared machine drift by a third within an hour, so a change is judged by
alternating runs of each version in one session, not by figures taken apart. Each
checkout is a folder holding an ``intake_bot`` package (``git worktree add ../b HEAD``,
then change it); the bot runs from it, so ``python -m intake_bot`` imports its code. The
servers are deadline_night's: Dovecot and an aiosmtpd sink on 127.0.0.1.

``python bench/ab.py [--messages 600] [--rounds 3] CHECKOUT CHECKOUT...``

Prints each run (messages/s and the bot's CPU a message) and, last, each checkout's median.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: bench/ and tests/ import from the checkout

from bench.deadline_night import QUICK, Report, check_run, running_bench  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path, metavar="CHECKOUT")
    parser.add_argument("--messages", type=int, default=600, help="waiting messages a run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each checkout")
    args = parser.parse_args(argv)
    for checkout in args.checkouts:
        if not (checkout / "intake_bot" / "__init__.py").is_file():
            parser.error(f"{checkout} holds no intake_bot package")
    rates: dict[Path, list[float]] = {checkout: [] for checkout in args.checkouts}
    with running_bench("intake-ab-") as bench:
        report, handler = Report(QUICK), bench.handler
        for round_ in range(args.rounds):
            for number, checkout in enumerate(args.checkouts):
                answered, _ = bench.load(args.messages, f"r{round_}c{number}")
                handler.count = 0
                config = bench.deployment()
                run = bench.bot(config, "run", "--once", checkout=checkout.resolve()).finish()
                check_run(run, config, bench, len(answered), report)
                rates[checkout].append(args.messages / run.seconds)
                print(f"{checkout}: {rates[checkout][-1]:.1f} messages/s, "
                      f"{run.cpu_seconds / args.messages * 1000:.1f} ms of CPU a message",
                      flush=True)
                shutil.rmtree(config.parent)
    for checkout, values in rates.items():
        print(f"{checkout}: median {statistics.median(values):.1f} messages/s over "
              f"{', '.join(f'{value:.1f}' for value in values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
