"""The demo: deliver the shipped sample applications into the embedded Maildir."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "demo_samples"


@dataclass(frozen=True)
class Sample:
    """One sample application and when the demo pretends the server accepted it."""

    file: Path
    delivered_at: dt.datetime
    what: str


def samples() -> list[Sample]:
    """The shipped samples, in delivery order."""
    with (SAMPLES / "manifest.toml").open("rb") as handle:
        manifest = tomllib.load(handle)
    found = [Sample(SAMPLES / entry["file"], dt.datetime.fromisoformat(entry["delivered"]),
                    entry["what"]) for entry in manifest["sample"]]
    return sorted(found, key=lambda sample: sample.delivered_at)


def deliver(maildir: Path) -> list[Sample]:
    """Write every sample into ``maildir/new`` with its delivery time (idempotent).

    The delivery time is the file's modification time, as for any Maildir delivery.
    """
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    delivered = []
    for sample in samples():
        stamp = sample.delivered_at.timestamp()
        target = maildir / "new" / f"{int(stamp)}.demo-{sample.file.stem}.intake-bot"
        temporary = maildir / "tmp" / target.name
        temporary.write_bytes(sample.file.read_bytes())
        os.utime(temporary, (stamp, stamp))
        os.replace(temporary, target)
        delivered.append(sample)
    return delivered
