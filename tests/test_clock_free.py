"""The suite passes at any hour in any time zone: the date-bound tests run again under libfaketime.

Every command takes its time from one injected clock (``intake_bot.clock``), so no verdict
should depend on when the suite runs. This proves it the way CI meets it: the modules whose
subject is dates and deadlines run once more in a child pytest whose wall clock
libfaketime (Debian's ``faketime``, installed by ``.ci/install-deps``) sets to 02:00 UTC,
before the digest hour, and to 22:30 UTC in another time zone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.extras import missing

DATE_BOUND_MODULES = [
    "tests/test_digest.py", "tests/test_purge.py", "tests/test_recruiters.py",
    "tests/test_cli.py", "tests/test_vacancy_rules.py", "tests/test_rules.py",
    "tests/test_pipeline.py", "tests/test_loops.py", "tests/test_replay.py",
    "tests/test_signin.py",  # token expiry, judged by the test's clock only
]
#: Set in the child run, so that it does not start children of its own.
NESTED = "INTAKE_BOT_TEST_FAKETIME"


def faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        missing("faketime is not installed (as root: bash .ci/install-deps)")
    return found


@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already under faketime")
@pytest.mark.parametrize(("wall_clock", "zone", "utc_hour"), [
    ("2026-12-03 02:00:00", "UTC", "02"),                   # before the digest's 08:00
    ("2026-12-02 14:30:00", "America/Los_Angeles", "22"),  # 22:30 UTC, another zone
])
def test_date_bound_tests_pass_at_another_hour(wall_clock, zone, utc_hour):
    env = {**os.environ, "TZ": zone, NESTED: "1"}
    command = [faketime(), "-f", f"@{wall_clock}"]
    seen = subprocess.run([*command, sys.executable, "-c",
                           "import datetime as d; print(d.datetime.now(d.UTC).strftime('%H'))"],
                          env=env, capture_output=True, text=True, check=True).stdout
    assert seen.strip() == utc_hour  # the fake clock does reach Python
    run = subprocess.run(
        [*command, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-m", "not servers and not browser", *DATE_BOUND_MODULES],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
