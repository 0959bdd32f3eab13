"""not-inspected: documents left unopened because the message's time budget ran out."""

from intake_bot.rules.base import Application, Rule, always_flag


def check(application: Application) -> list[str]:
    return ["not-inspected"] if application.out_of_time else []


RULE = Rule(
    name="inspection-time",
    description="Every document was inspected within the message's time budget "
                "(max_message_seconds); documents left unopened are flagged for a recruiter, "
                "never rejected.",
    codes=("not-inspected",),
    check=check,
    policy=always_flag,
    tells_candidate=False,
)
