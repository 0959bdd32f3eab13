"""late: received after the deadline, judged on the receiving server's time."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    return [] if application.vacancy.is_open(application.received_at) else ["late"]


RULE = Rule(
    name="deadline",
    description="The receiving server accepted the message before the deadline "
                "(the whole deadline minute counts).",
    codes=("late",),
    check=check,
    about_documents=False,
)
