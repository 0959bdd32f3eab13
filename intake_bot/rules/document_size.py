"""too-large (document): no document is larger than the vacancy allows."""

from intake_bot.rules.base import Application, Rule


def check(application: Application) -> list[str]:
    limit = application.vacancy.attachments.max_bytes
    return ["too-large"] if any(d.size > limit for d in application.documents) else []


RULE = Rule(
    name="document-size",
    description="No document is larger than the vacancy's max_bytes.",
    codes=("too-large",),
    check=check,
)
