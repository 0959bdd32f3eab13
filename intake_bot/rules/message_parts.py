"""too-many-parts: the message is made of more parts than the parser builds for one message."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    return ["too-many-parts"] if application.too_many_parts else []


RULE = Rule(
    name="message-parts",
    description="The message is within the parser's limits: at most 500 MIME parts "
                "(and 2,000 header fields, 200,000 lines).",
    codes=("too-many-parts",),
    check=check,
    moots_documents=True,
    about_documents=False,
)
