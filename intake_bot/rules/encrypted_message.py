"""encrypted-message: the message is encrypted (S/MIME or OpenPGP), so nothing in it can be read."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    return ["encrypted-message"] if application.encrypted else []


RULE = Rule(
    name="encrypted-message",
    description="The message is not encrypted (S/MIME enveloped data or OpenPGP): "
                "an encrypted application cannot be read.",
    codes=("encrypted-message",),
    check=check,
    moots_documents=True,
    about_documents=False,
)
