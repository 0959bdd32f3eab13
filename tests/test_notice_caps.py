"""The caps on notices: one mailbox however it is spelt, per day; per domain and overall, per hour."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from intake_bot.addresses import fold_address, fold_domain
from intake_bot.register import Register, migrations


@pytest.mark.parametrize(("address", "key"), [
    ("victim@victim.example", "victim@victim.example"),
    ("Victim+1@Victim.Example", "victim@victim.example"),
    ("victim+a+b@victim.example.", "victim@victim.example"),
    ('"Victim+x"@victim.example', "victim@victim.example"),
    ("+tag@victim.example", "+tag@victim.example"),  # nothing before the tag: kept whole
    ("anna@Bücher.Example", "anna@xn--bcher-kva.example"),
    ("STRASSE@example.net", "strasse@example.net"),
    ("no-at-sign", "no-at-sign"),
])
def test_an_address_folds_to_its_mailbox(address: str, key: str) -> None:
    assert fold_address(address) == key


@pytest.mark.parametrize(("text", "domain"), [
    ("victim@Victim.Example.", "victim.example"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("a@" + "x" * 70 + ".example", "x" * 70 + ".example"),  # too long a label for IDNA: as written
])
def test_a_domain_folds_to_its_ascii_form(text: str, domain: str) -> None:
    assert fold_domain(text) == domain


def test_the_migration_folds_the_notices_already_queued(tmp_path: Path) -> None:
    """A register in the field has an older schema: its notices count towards the caps."""
    path = tmp_path / "register.db"
    older = Database(str(path))
    migrations.apply(older, stop_before="m005_notice_caps")
    older.execute("INSERT INTO submissions (id, dedup_key, raw_sha256, received_at, "
                  "registered_at, status) VALUES (1, 'k', 's', 't', 't', 'accepted')")
    older.execute("INSERT INTO replies (submission_id, kind, recipient, message_id, "
                  "created_at, content) VALUES (1, 'acknowledgement', 'Victim+1@Victim.Example', "
                  "'<m@x>', '2026-06-10T08:00:00Z', x'')")
    older.conn.commit()
    older.close()

    Register(path).close()

    db = sqlite3.connect(path)
    assert db.execute("SELECT recipient_key, recipient_domain FROM replies").fetchall() == [
        ("victim@victim.example", "victim.example")]
    plans = [db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall() for sql, params in (
        ("SELECT COUNT(*) FROM replies WHERE recipient_key = ? AND created_at > ?", ["k", "t"]),
        ("SELECT sent_at FROM replies WHERE recipient_domain = ? AND sent_at > ? "
         "ORDER BY sent_at DESC LIMIT 1 OFFSET 19", ["d", "t"]),
        ("SELECT sent_at FROM replies WHERE sent_at > ? ORDER BY sent_at DESC LIMIT 1 OFFSET 499",
         ["t"]))]
    db.close()
    assert all("USING" in str(plan) and "INDEX" in str(plan) for plan in plans), plans
    assert all("TEMP B-TREE" not in str(plan) for plan in plans), plans


def test_an_hourly_cap_says_when_a_place_frees_up(tmp_path: Path) -> None:
    register = Register(tmp_path / "register.db")
    start = dt.datetime(2026, 6, 10, 8, tzinfo=dt.UTC)
    register.db.execute("INSERT INTO submissions (id, dedup_key, raw_sha256, received_at, "
                        "registered_at, status) VALUES (1, 'k', 's', 't', 't', 'accepted')")
    for minute, domain in ((0, "a.example"), (10, "a.example"), (20, "b.example")):
        register.db.execute(
            "INSERT INTO replies (submission_id, kind, recipient, recipient_domain, message_id, "
            "status, created_at, sent_at, content) VALUES (1, 'acknowledgement', 'x', ?, 'm', "
            "'sent', 't', ?, x'')",
            [domain, (start + dt.timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")])
    at = start + dt.timedelta(minutes=30)

    assert register.hourly_cap("a.example", at, per_domain=2, overall=10) == (
        start + dt.timedelta(minutes=60), "max_per_domain_per_hour")
    assert register.hourly_cap("b.example", at, per_domain=2, overall=10) is None
    assert register.hourly_cap("b.example", at, per_domain=2, overall=3) == (
        start + dt.timedelta(minutes=60), "max_per_hour")
    assert register.hourly_cap("a.example", start + dt.timedelta(minutes=60), 2, 10) is None
    register.close()
