"""too-large (message): the message was too large to be fetched and inspected at all."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    return [] if application.complete else ["too-large"]


RULE = Rule(
    name="message-size",
    description="The whole message is within the service's size limit.",
    codes=("too-large",),
    check=check,
    moots_documents=True,
    about_documents=False,
)
