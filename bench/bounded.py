"""Bounded work per message: the bot's peak memory and cycle time on messages built to exhaust them.

A benchmark, not a test. Against deadline_night's real servers (Dovecot and an aiosmtpd
sink on 127.0.0.1), each scenario loads one hostile message and, behind it, an ordinary
application, runs ``intake-bot run --once`` as its own process, and prints the bot's peak
RSS (``VmHWM``, sampled every 50 ms; the inspection worker apart), the cycle's seconds,
the outcome, and whether the application behind was answered:

- ``parts``: a 10 MB message of 200,000 tiny MIME parts;
- ``headers``: 200,000 one-line header fields (1.6 MB);
- ``subject``: a 300 KB subject of encoded words;
- ``slow-pdfs``: 20 PDFs of about 15 s of text extraction each, to a vacancy that takes one
  PDF (``tests/hostile.py``'s, as for the three above): the count rule rejects them;
- ``slow-pdfs-allowed``: the same to a vacancy that takes up to 20 documents, with a
  content check on: the time budget bounds it.

``--checkout PATH`` runs the bot of another checkout (a folder holding an ``intake_bot``
package, its ``templates`` and ``config``), to compare versions in one session.

``python bench/bounded.py [--only NAME ...] [--checkout PATH]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: bench/ and tests/ import from the checkout

from bench.deadline_night import running_bench  # noqa: E402
from tests import hostile  # noqa: E402
from tests.builders import make_slow_text_pdf  # noqa: E402
from tests.mail import application, blank_pdf  # noqa: E402

DRP = "Officer – Democratic Resilience and Partnerships"


def slow_pdfs() -> bytes:
    slow = make_slow_text_pdf()
    return application(subject=DRP, sender="Slow <slow@example.net>", attachments=[
        (f"part{index}.pdf", slow, "application/pdf") for index in range(20)])


#: name -> (the hostile message, the vacancies file)
SCENARIOS: dict[str, tuple[Callable[[], bytes], str]] = {
    "parts": (lambda: hostile.many_parts(200_000, filler=15), hostile.VACANCY),
    "headers": (lambda: hostile.header_flood(200_000), hostile.VACANCY),
    "subject": (lambda: hostile.long_subject(20_000), hostile.VACANCY),
    "slow-pdfs": (slow_pdfs, hostile.VACANCY),
    "slow-pdfs-allowed": (slow_pdfs, hostile.UP_TO_TWENTY_VACANCY),
}
#: Before the vacancy's deadline, as the server accepted them.
RECEIVED = dt.datetime(2026, 6, 10, 8, tzinfo=dt.UTC)


def outcomes(config: Path) -> list[str]:
    db = sqlite3.connect(config.parent / "var" / "register.db")
    try:
        return [f"{status} {reasons} {flags}" for status, reasons, flags in db.execute(
            "SELECT status, reasons, flags FROM submissions ORDER BY id")]
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--checkout", type=Path, default=None,
                        help="run the bot of this checkout (default: this one)")
    args = parser.parse_args(argv)
    behind = application(subject=DRP, sender="Next <next@example.net>",
                         attachments=[("cv.pdf", blank_pdf(), "application/pdf")])
    with running_bench("intake-bounded-") as bench:
        for name in args.only:
            build, vacancies = SCENARIOS[name]
            bench.dovecot.reset()
            raw = build()
            bench.dovecot.append("INBOX", raw, RECEIVED)
            bench.dovecot.append("INBOX", behind, RECEIVED)
            bench.handler.count = 0
            config = bench.deployment()
            (config.parent / "vacancies.toml").write_text(vacancies, encoding="utf-8")
            checkout = args.checkout.resolve() if args.checkout else None
            run = bench.bot(config, "run", "--once", checkout=checkout).finish()
            count = bench.handler.count
            answered = "answered" if count == 2 else f"{count} notices"
            print(f"{name}: {len(raw) / 1e6:.1f} MB message; exit {run.exit_code}; "
                  f"{run.seconds:.1f} s; bot peak {run.peak_rss_mb:.0f} MB, worker peak "
                  f"{run.worker_rss_mb:.0f} MB; {answered}; "
                  f"{' | '.join(outcomes(config)) or 'nothing registered'}", flush=True)
            if run.exit_code != 0:
                print(run.log[-1500:], file=sys.stderr)
            shutil.rmtree(config.parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
