"""wrong-channel: the vacancy takes applications only through its e-recruitment system."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    return ["wrong-channel"] if application.vacancy.channel != "email" else []


RULE = Rule(
    name="channel",
    description="The vacancy takes applications by e-mail (not only through e-recruitment).",
    codes=("wrong-channel",),
    check=check,
    moots_documents=True,
    about_documents=False,
)
