"""future-date: the receiving server dated the message later than the bot saw it arrive."""

import datetime as dt

from intake_bot.rules.base import Application, Rule, always_flag

#: Clocks a little apart are not worth a recruiter's look; the earlier time counts anyway.
TOLERANCE = dt.timedelta(minutes=5)


def check(application: Application) -> list[str]:
    server = application.server_received_at
    return ["future-date"] if server and server - application.received_at > TOLERANCE else []


RULE = Rule(
    name="server-date",
    description="The receiving server's date is not more than 5 minutes after the bot's "
                "clock when it first saw the message; a later date is replaced by the bot's "
                "time, which counts for the deadline, and flagged.",
    codes=("future-date",),
    check=check,
    policy=always_flag,
    about_documents=False,
    tells_candidate=False,
)
