"""What signing in with OAuth 2.0 costs: a token from the cache, a new grant, a first grant.

A benchmark, not a test. It starts the suite's local identity provider
(``tests/token_endpoint.py``: HTTPS under a throw-away CA, on 127.0.0.1) and, for each
provider the bot speaks (generic with Authlib, microsoft with MSAL, google with
google-auth), times, per call:

- a token the cache still holds (what every IMAP or SMTP login costs for most of an hour);
- a new grant, once the token is due for renewal (the clock moved 56 minutes on);
- the first grant of a new process (the provider's library set up, the cache empty).

Prints one line per figure and, last, one JSON object.

Usage: ``.venv/bin/python bench/signin.py [--calls 200] [--grants 20]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from intake_bot.signin import OAuthSettings, token_source  # noqa: E402
from tests.servers import make_test_ca  # noqa: E402
from tests.test_signin import MAILBOX, SECRET, generic, google, microsoft  # noqa: E402
from tests.token_endpoint import IdentityProvider, SteppingClock  # noqa: E402

NOW = dt.datetime(2026, 6, 12, 10, tzinfo=dt.UTC)
PROVIDERS: dict[str, Callable[[IdentityProvider, Path], OAuthSettings]] = {
    "generic": generic, "microsoft": microsoft, "google": google}


def timed(call: Callable[[], object], times: int) -> list[float]:
    """Seconds each of ``times`` calls took."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(identity: IdentityProvider, clock: SteppingClock, name: str, folder: Path,
            calls: int, grants: int) -> dict[str, float]:
    """The three figures for one provider, in milliseconds (medians)."""
    settings = PROVIDERS[name](identity, folder)
    if name == "microsoft":  # the app registration an admin makes (the others register theirs)
        identity.add_client(str(settings.client_id), secret=SECRET, mailbox=MAILBOX)
    token_source.cache_clear()
    first = timed(lambda: token_source(settings).token(MAILBOX, clock()), 1)[0]
    source = token_source(settings)
    cached = timed(lambda: source.token(MAILBOX, clock()), calls)

    def renewed() -> None:
        clock.advance(3600 - 240)  # inside the last five minutes: renew
        source.token(MAILBOX, clock())

    fresh = timed(renewed, grants)
    return {"cached_ms": statistics.median(cached) * 1e3,
            "new_grant_ms": statistics.median(fresh) * 1e3, "first_grant_ms": first * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="cached tokens timed")
    parser.add_argument("--grants", type=int, default=20, help="new grants timed")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="signin-bench-"))
    ca = make_test_ca(root)
    clock = SteppingClock(NOW)
    identity = IdentityProvider(clock, ca=ca)
    identity.start()
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca.ca_file)  # as the suite trusts its CA
    results: dict[str, dict[str, float]] = {}
    try:
        for name in PROVIDERS:
            folder = root / name
            folder.mkdir()
            figures = measure(identity, clock, name, folder, args.calls, args.grants)
            results[name] = {key: round(value, 3) for key, value in figures.items()}
            print(f"{name:<10} cached token {figures['cached_ms'] * 1e3:6.0f} µs   "
                  f"new grant {figures['new_grant_ms']:6.1f} ms   "
                  f"first grant {figures['first_grant_ms']:6.1f} ms")
    finally:
        identity.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
