"""What migration ``m009_relative_paths`` costs on a big register of absolute paths.

A benchmark, not a test. It grows a register as ``bench/register_scale.py`` does, rewrites
every file name into the absolute path an older version recorded, marks the migration
pending again, and times the first opening by the current version (which runs it), with
the process's peak RSS before and after. Prints one line and, last, one JSON object.

Usage: ``.venv/bin/python bench/path_migration.py [--submissions 300000]``
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.register_scale import grow  # noqa: E402
from intake_bot.register import Register  # noqa: E402

#: Where an older version's documents were, as its rows named them.
OLD_ROOT = "/srv/intake-bot/var/documents/"


def as_older_versions_wrote_it(path: Path) -> None:
    """Every file named by its absolute path, and migration m009 not yet applied."""
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE submissions SET raw_path = ? || raw_path, "
                   "document_path = ? || document_path, "
                   "attachments = replace(attachments, '\"path\": \"', '\"path\": \"' || ?)",
                   [OLD_ROOT] * 3)
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm009_relative_paths'")
    db.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="path-migration-") as folder:
        path = Path(folder) / "register.db"
        grow(path, args.submissions)
        as_older_versions_wrote_it(path)
        before = peak_mb()
        started = time.perf_counter()
        Register(path).close()
        seconds = time.perf_counter() - started
        after = peak_mb()
        db = sqlite3.connect(path)
        left = db.execute("SELECT COUNT(*) FROM submissions WHERE raw_path LIKE '/%' OR "
                          "document_path LIKE '/%' OR attachments LIKE '%\"/%'").fetchone()[0]
        db.close()
    print(f"m009 on {args.submissions:,} submissions: {seconds:.1f} s, peak RSS "
          f"{before:.0f} MB before, {after:.0f} MB after; absolute paths left: {left}")
    print(json.dumps({"submissions": args.submissions, "seconds": round(seconds, 2),
                      "peak_mb_before": round(before, 1), "peak_mb_after": round(after, 1),
                      "absolute_left": left}))


if __name__ == "__main__":
    main()
