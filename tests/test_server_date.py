"""A server date from the future is replaced by the bot's time and flagged (issue 17, item 6).

Once, a message the server dated 2027 superseded a candidate's real, later submission.
The cycles here run at fixed times (the injected clock), as every test's do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from intake_bot.pipeline import run_cycle
from tests.conftest import DRP_VACANCY, NOW, SG_VACANCY
from tests.mail import application, blank_pdf
from tests.readback import notices, rows

PDF = [("cv.pdf", blank_pdf(), "application/pdf")]
SG_SUBJECT = "Secretary General"  # open until 28 February 2027


def test_a_future_server_date_counts_as_the_time_the_bot_saw_it_and_is_flagged(make_project):
    project = make_project(DRP_VACANCY + SG_VACANCY)
    project.deliver(application(subject=SG_SUBJECT, attachments=PDF,
                                message_id="<wrong-clock@example.net>"),
                    dt.datetime(2027, 1, 15, 9, tzinfo=dt.UTC))
    run_cycle(project.config, clock=lambda: NOW)
    [first] = rows(project)
    assert first["received_at"] == "2026-11-23T12:00:00Z"  # the cycle's clock, not 2027
    assert (first["status"], json.loads(first["flags"])) == ("accepted", ["future-date"])
    [notice] = notices(project)
    assert "2027" not in notice.get_content() and "future" not in notice.get_content()

    # The candidate's real, later submission is the one that counts.
    later = NOW + dt.timedelta(days=1)
    project.deliver(application(subject=SG_SUBJECT, attachments=PDF,
                                message_id="<real@example.net>"), later)
    run_cycle(project.config, clock=lambda: later + dt.timedelta(minutes=1))
    first, second = rows(project)
    assert first["status"] == "superseded" and first["superseded_by"] == second["id"]
    assert second["status"] == "accepted" and json.loads(second["flags"]) == []


@pytest.mark.parametrize("ahead, flagged", [(dt.timedelta(minutes=4), False),
                                            (dt.timedelta(minutes=6), True)])
def test_a_server_clock_a_little_ahead_is_capped_but_not_flagged(make_project, ahead, flagged,
                                                                 caplog):
    project = make_project(DRP_VACANCY + SG_VACANCY)
    project.deliver(application(subject=SG_SUBJECT, attachments=PDF), NOW + ahead)
    with caplog.at_level(logging.WARNING, logger="intake_bot"):
        run_cycle(project.config, clock=lambda: NOW)
    [row] = rows(project)
    assert row["received_at"] == "2026-11-23T12:00:00Z"
    assert json.loads(row["flags"]) == (["future-date"] if flagged else [])
    # A warning only for what is flagged: not one a message for clocks a little apart.
    assert any("the server dated it" in r.getMessage() for r in caplog.records) == flagged
