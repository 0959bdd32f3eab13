"""missing-nationality: the CV states the candidate's nationality."""

from intake_bot.documents.content import stated_nationalities
from intake_bot.rules.base import Application, Rule, check_policy


def check(application: Application) -> list[str]:
    text = application.text
    return ["missing-nationality"] if text.strip() and not stated_nationalities(text) else []


RULE = Rule(
    name="nationality",
    description="The CV states a nationality (country names and demonyms, English and French).",
    codes=("missing-nationality",),
    check=check,
    policy=check_policy("nationality"),
    needs_text=True,
)
